"""The quality checks and their gate on a corpus of real degenerate answers, and clean ones that must pass.

Each answer is streamed through the provider edge's marker filter in word-sized pieces (as the test server and
most providers send them) into a ``QualityGate``; the test asserts the verdict and what a user would have seen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from routing.calls.control_tokens import ControlTokenFilter, split_control_tokens, strip_control_tokens
from routing.calls.gate import QualityGate
from routing.calls.quality import Degeneracy, exact_loop, leaked_tokens, ngram_loop, refusal, repetition
from routing.policy import QualityPolicy
from tests.harness.openai_server import split_tokens

CORPUS: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "quality_corpus.yaml").read_text("utf-8"))
POLICY = QualityPolicy()


def stream_through(text: str, *, grounded: bool, policy: QualityPolicy = POLICY) -> tuple[QualityGate, str]:
    """What a user sees of ``text`` streamed through the marker filter and the gate (word-sized pieces)."""
    gate, flt, shown = QualityGate(policy, grounded=grounded), ControlTokenFilter(), ""
    for piece in split_tokens(text):
        for part, marker in flt.feed_parts(piece):
            shown += gate.feed(part) if part else ""
            shown += gate.marker(marker) if marker else ""
    for part, marker in flt.finish_parts():
        shown += gate.feed(part) if part else ""
        shown += gate.marker(marker) if marker else ""
    return gate, shown + gate.finish()


def by_expectation(expect: str) -> list[Any]:
    return [pytest.param(e, id=e["name"]) for e in CORPUS if e["expect"] == expect]


def test_corpus_is_varied() -> None:
    counts = {kind: len(by_expectation(kind)) for kind in ("repetition", "leaked_tokens", "refusal", "clean")}
    assert counts["repetition"] >= 10 and counts["leaked_tokens"] >= 5 and counts["refusal"] >= 5
    assert counts["clean"] >= 15, counts


@pytest.mark.parametrize("entry", by_expectation("clean"))
def test_clean_answers_pass_whole(entry: dict[str, Any]) -> None:
    gate, shown = stream_through(entry["text"], grounded=entry.get("grounded", False))
    assert gate.finding is None
    assert shown == strip_control_tokens(entry["text"]), "a clean answer is shown whole, markers removed"


@pytest.mark.parametrize("entry", by_expectation("repetition"))
def test_loops_are_caught_and_never_shown_repeating(entry: dict[str, Any]) -> None:
    gate, shown = stream_through(entry["text"], grounded=True)
    assert gate.finding is not None and gate.finding.kind is Degeneracy.REPETITION
    assert repetition(shown, POLICY) is None, f"what the user saw is itself no loop: {shown!r}"
    assert len(shown) < len(entry["text"])


@pytest.mark.parametrize("entry", by_expectation("leaked_tokens"))
def test_leaks_are_caught_and_the_made_up_turn_never_shown(entry: dict[str, Any]) -> None:
    gate, shown = stream_through(entry["text"], grounded=True)
    assert gate.finding is not None and gate.finding.kind is Degeneracy.LEAKED_TOKENS
    answer = split_control_tokens(entry["text"])[0][0]  # the text before the first marker
    assert answer.startswith(shown), f"only the answer before the first marker may show: {shown!r}"


@pytest.mark.parametrize("entry", by_expectation("refusal"))
def test_grounded_refusals_are_caught_before_anything_shows(entry: dict[str, Any]) -> None:
    gate, shown = stream_through(entry["text"], grounded=True)
    assert gate.finding is not None and gate.finding.kind is Degeneracy.REFUSAL
    assert shown == ""


@pytest.mark.parametrize("entry", by_expectation("refusal"))
def test_refusals_without_context_are_honest_answers(entry: dict[str, Any]) -> None:
    gate, shown = stream_through(entry["text"], grounded=False)
    assert gate.finding is None and shown == entry["text"]


def test_a_loop_in_the_first_phrase_shows_nothing() -> None:
    gate, shown = stream_through("Hello! " * 40, grounded=False)
    assert gate.finding is not None and shown == ""


def test_a_late_loop_keeps_the_clean_part_and_at_most_one_copy() -> None:
    intro = (
        "The incident review covered three topics: the alert that fired late, the runbook that pointed at the wrong "
        "dashboard, and the missing owner for the billing queue. "
    )
    unit = "The team will fix the alert threshold this week. "
    gate, shown = stream_through(intro + unit * 12, grounded=False)
    assert gate.finding is not None and shown.startswith(intro)
    assert shown.count(unit.strip()) <= 1, shown


def test_exact_loop_keeps_the_first_copy() -> None:
    text = "Intro. " + "abc " * 60
    found = exact_loop(text, POLICY)
    assert found is not None and text[: found.clean_chars].rstrip() == "Intro. abc"


def test_ngram_loop_needs_a_full_window() -> None:
    assert ngram_loop("one two three four " * 5, POLICY) is None  # 20 words: too few to judge
    assert ngram_loop("step 1 do the thing now " * 30, POLICY) is not None


def test_leaked_tokens_rules() -> None:
    assert leaked_tokens([(0, "<|im_start|>assistant\n")], POLICY) is None  # a leading header only
    assert leaked_tokens([(10, "<|im_end|>")] * 4, POLICY) is None  # a few at the end
    found = leaked_tokens([(10, "<|im_end|>")] * 5, POLICY)
    assert found is not None and found.clean_chars == 10
    assert leaked_tokens([(10, "<|im_end|>"), (11, "<|im_start|>user\n")], POLICY) is not None


def test_refusal_needs_a_short_answer_without_substance() -> None:
    assert refusal("I don't know.", POLICY) is not None
    assert refusal("I don't know who owns it, but Alice wrote the runbook.", POLICY) is None
    assert refusal("I don't know. " + "x" * 400, POLICY) is None


def test_thresholds_come_from_the_policy() -> None:
    looped = "Hello! " * 40
    assert stream_through(looped, grounded=False, policy=QualityPolicy(enabled=False))[1] == looped
    lenient = QualityPolicy(loop_min_chars=10_000, ngram_window_words=10_000)
    assert stream_through(looped, grounded=False, policy=lenient)[0].finding is None


def test_the_gate_holds_the_first_phrase_then_lags() -> None:
    gate = QualityGate(POLICY, grounded=False)
    first = gate.feed("".join(f"item{i} " for i in range(20)))  # 130 characters: short of the hold
    assert first == "" and not gate.opened
    text = "".join(f"word{i} " for i in range(20, 120))
    released = gate.feed(text)
    assert gate.opened and 0 < len(released) <= POLICY.hold_chars + len(text) - POLICY.lag_chars
