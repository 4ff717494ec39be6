"""Classification rules, and what one classification costs."""

from __future__ import annotations

import pytest

from routing.classify import classify
from routing.policy import Complexity
from vocabulary import TaskKind


@pytest.mark.parametrize(
    ("text", "command", "task"),
    [
        ("", "/summarize", TaskKind.SUMMARIZE),
        ("can you summarize this thread?", None, TaskKind.SUMMARIZE),
        ("tl;dr please", None, TaskKind.SUMMARIZE),
        ("draft an announcement for the launch", None, TaskKind.DRAFT),
        ("write a reply to Sam saying we agree", None, TaskKind.DRAFT),
        ("what did we decide about pricing?", None, TaskKind.QA),
        ("when is the offsite", None, TaskKind.QA),
        ("thanks!", None, TaskKind.CHAT),
        ("nice work everyone", None, TaskKind.CHAT),
    ],
)
def test_task_kind(text: str, command: str | None, task: TaskKind) -> None:
    assert classify(text, command=command).task is task


def test_command_wins_over_words() -> None:
    assert classify("write me a summary", command="/draft").task is TaskKind.DRAFT


def test_small_talk_is_simple() -> None:
    assert classify("hi there").complexity is Complexity.SIMPLE


def test_short_question_is_simple() -> None:
    assert classify("when is the standup?").complexity is Complexity.SIMPLE


def test_context_size_drives_complexity() -> None:
    assert classify("", command="/summarize", context_tokens=500).complexity is Complexity.SIMPLE
    assert classify("", command="/summarize", context_tokens=5_000).complexity is Complexity.MEDIUM
    assert classify("", command="/summarize", context_tokens=40_000).complexity is Complexity.COMPLEX


def test_reasoning_and_code_make_it_complex() -> None:
    text = "Analyze the trade-offs of this migration and find the root cause: ```def f(x): return x / 0```"
    result = classify(text)
    assert result.complexity is Complexity.COMPLEX
    assert "code" in result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Write a C++ program to find the nth Fibonacci number using recursion.",
        "Implement a function to find the median of two sorted arrays with O(1) space complexity.",
        "Here is a Python function that should dedupe a list. Can you identify any bug?",
        "Given that f(x) = 4x^3 - 9x - 14, find the value of f(2).",
        "When rolling two dice, what is the probability that you roll a total number that is at least 3?",
    ],
)
def test_code_and_maths_asks_are_not_simple(text: str) -> None:
    """Where cheap models fall furthest behind (MT-Bench coding and maths), the rules ask for a better tier."""
    assert classify(text).complexity is not Complexity.SIMPLE


@pytest.mark.parametrize(
    "text",
    [
        "what's the code for the office door?",
        "when is the program review?",
        "how many PTO days do we get?",
        "what is the area of the new office?",
        "can you fix the wifi in room 4?",
    ],
)
def test_workplace_words_that_look_technical_stay_simple(text: str) -> None:
    assert classify(text).complexity is Complexity.SIMPLE
