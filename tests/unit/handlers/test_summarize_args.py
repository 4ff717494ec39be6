"""``/summarize`` argument parsing: every accepted form, and every malformed one named back to the user."""

from __future__ import annotations

import pytest

from bot.replies import usage_error
from bot.request import DEFAULT_WINDOW_S, SummarizeArgs, TargetKind, UsageError
from handlers.summarize_args import parse_permalink, parse_summarize_args

HERE = "C0HERE"


def test_no_arguments_is_the_current_channel_for_the_default_window() -> None:
    assert parse_summarize_args("", HERE) == SummarizeArgs(TargetKind.CURRENT_CHANNEL, HERE)
    assert parse_summarize_args("   ", HERE) == SummarizeArgs(TargetKind.CURRENT_CHANNEL, HERE)
    assert DEFAULT_WINDOW_S == 24 * 3600


@pytest.mark.parametrize(
    ("token", "seconds", "label"),
    [
        ("30m", 1800, "30 minutes"),
        ("1h", 3600, "1 hour"),
        ("24h", 86400, "24 hours"),
        ("7d", 7 * 86400, "7 days"),
        ("2w", 14 * 86400, "2 weeks"),
        ("7D", 7 * 86400, "7 days"),
    ],
)
def test_windows(token: str, seconds: int, label: str) -> None:
    assert parse_summarize_args(token, HERE) == SummarizeArgs(
        TargetKind.CURRENT_CHANNEL, HERE, window_s=seconds, window_label=label
    )


def test_channel_reference_with_and_without_name_and_with_a_window() -> None:
    assert parse_summarize_args("<#C0OTHER|launch>", HERE) == SummarizeArgs(TargetKind.CHANNEL, "C0OTHER")
    assert parse_summarize_args("<#C0OTHER>", HERE) == SummarizeArgs(TargetKind.CHANNEL, "C0OTHER")
    assert parse_summarize_args("<#C0OTHER|launch> 3d", HERE) == SummarizeArgs(
        TargetKind.CHANNEL, "C0OTHER", window_s=3 * 86400, window_label="3 days"
    )
    assert parse_summarize_args("3d <#C0OTHER|launch>", HERE) == parse_summarize_args("<#C0OTHER|launch> 3d", HERE)


def test_permalinks_of_a_top_level_message_and_of_a_reply() -> None:
    top = "https://acme.slack.com/archives/C0123ABC/p1700000000123456"
    reply = "https://acme.slack.com/archives/C0123ABC/p1700000099000001?thread_ts=1700000000.123456&cid=C0123ABC"
    expected = SummarizeArgs(TargetKind.THREAD, "C0123ABC", thread_ts="1700000000.123456")
    assert parse_summarize_args(top, HERE) == expected
    assert parse_summarize_args(reply, HERE) == expected
    assert parse_summarize_args(f"<{top}>", HERE) == expected  # Slack escapes links when asked to
    assert parse_summarize_args(f"<{reply}|link>", HERE) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://acme.slack.com/archives/C0123ABC/p1700000000123456",  # not https
        "https://evil.example.com/archives/C0123ABC/p1700000000123456",  # not Slack
        "https://acme.slack.com/archives/C0123ABC",  # no message
        "https://acme.slack.com/archives/C0123ABC/p17000000001234",  # short ts
        "https://acme.slack.com/archives/C0123ABC/p1700000000123456?thread_ts=bogus",
    ],
)
def test_things_that_are_not_permalinks(url: str) -> None:
    assert parse_permalink(url) is None
    assert isinstance(parse_summarize_args(url, HERE), UsageError)


@pytest.mark.parametrize("text", ["help", "HELP", "--help", "?"])
def test_help_is_a_usage_request_without_a_problem(text: str) -> None:
    assert parse_summarize_args(text, HERE) == UsageError(None)


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("yesterday", "`yesterday`"),
        ("#general", "`#general`"),
        ("7d 24h", "one time window"),
        ("<#C01|a> <#C02|b>", "not several"),
        ("0d", "out of range"),
        ("100d", "out of range"),
        ("https://acme.slack.com/archives/C0123ABC/p1700000000123456 7d", "thread link"),
        ("7days", "`7days`"),
    ],
)
def test_malformed_arguments_name_the_problem(text: str, mentions: str) -> None:
    result = parse_summarize_args(text, HERE)
    assert isinstance(result, UsageError)
    assert result.problem is not None and mentions in usage_error(result)
