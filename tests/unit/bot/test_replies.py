"""Every sentence Penny shows, worded from the reasons other packages return: one emoji each, the numbers in."""

import pytest

from bot import replies
from bot.request import UsageError, UsageProblem
from routing.plan import NoteKind, PlanNote, Refusal, RefusalReason


def test_cache_label_says_how_old_the_answer_is() -> None:
    assert replies.cache_label(1000.0, now=1000.0 + 3 * 86400 + 5) == "⚡ from cache · asked 3 days ago"
    assert replies.humanize_age(30) == "just now"
    assert replies.humanize_age(60) == "1 minute ago"
    assert replies.humanize_age(7200) == "2 hours ago"


def test_notes_are_appended_quietly() -> None:
    assert replies.with_notes("Answer.", []) == "Answer."
    assert replies.with_notes("Answer.", ["Budget soft limit reached."]) == "Answer.\n\n_Budget soft limit reached._"


@pytest.mark.parametrize(
    ("refusal", "words"),
    [
        (Refusal(RefusalReason.CHANNEL_NOT_ALLOWED), "not enabled in this channel"),
        (Refusal(RefusalReason.USER_LIMIT, limit=2, window="hour"), "limit of 2 requests per hour"),
        (Refusal(RefusalReason.BUDGET_HARD, budget_period="monthly"), "monthly AI budget, so I can't ask a model"),
        (Refusal(RefusalReason.BUDGET_HARD, budget_period="daily"), "resets tomorrow (UTC)"),
        (Refusal(RefusalReason.BUDGET_HARD), "reached its AI budget"),
        (Refusal(RefusalReason.TOO_LONG), "too long for any of my models"),
    ],
)
def test_every_refusal_reason_is_worded_once_with_one_emoji(refusal: Refusal, words: str) -> None:
    text = replies.refusal(refusal)
    assert words in text
    assert text.count(":no_entry:") == 1 and ":warning:" not in text


def test_plan_notes_carry_their_numbers() -> None:
    assert replies.plan_note(PlanNote(NoteKind.TRIMMED, kept=40, dropped=12)) == (
        "This thread is long, so I only read the most recent 40 messages (12 older ones left out)."
    )
    assert "cheaper model" in replies.plan_note(PlanNote(NoteKind.SOFT_BUDGET))


@pytest.mark.parametrize("problem", list(UsageProblem))
def test_every_usage_problem_is_worded_and_followed_by_the_usage(problem: UsageProblem) -> None:
    text = replies.usage_error(UsageError(problem, "#nope"))
    assert text.startswith(":grey_question: ") and text.endswith(replies.SUMMARIZE_USAGE_TEXT)
    assert replies.usage_error(UsageError()) == replies.SUMMARIZE_USAGE_TEXT


def test_failure_sentences_show_one_warning_each() -> None:
    for text in (
        replies.MODEL_FAILED_TEXT,
        replies.MODEL_FAILED_PARTIAL_TEXT,
        replies.UNEXPECTED_TEXT,
        replies.SUMMARIZE_CANT_READ_TEXT,
        replies.SUMMARIZE_READ_FAILED_TEXT,
    ):
        assert text.count(":warning:") == 1
