"""Text guards: each one must refuse its trap and let the harmless variation through."""

from __future__ import annotations

import pytest

from cache.verification.guards import text_guards

REFUSED = [
    ("Cancel my subscription", "Don't cancel my subscription", "negation"),
    ("Which items can be recycled?", "Which items can't be recycled?", "negation"),
    ("Is the deposit refundable?", "Is the deposit non-refundable?", "negation"),
    ("Is ibuprofen safe with alcohol?", "Is ibuprofen unsafe with alcohol?", "negation"),
    ("How do I mute the channel?", "How do I unmute the channel?", "negation"),
    ("Is the office open on Fridays?", "Is the office closed on Fridays?", "antonym"),
    ("How do I add a user to the workspace?", "How do I remove a user from the workspace?", "antonym"),
    ("Which features are included in the free tier?", "Which features are excluded from the free tier?", "antonym"),
    ("How do I increase the quota?", "How do I decrease the quota?", "antonym"),
    ("Can I return it after 14 days?", "Can I return it after 40 days?", "number"),
    ("Is the 9:15 train on time?", "Is the 9:45 train on time?", "number"),
    ("What's 15% of 200?", "What's 50% of 200?", "number"),
    ("How much is the Pro plan for 5 users?", "How much is the Pro plan for 50 users?", "number"),
    ("Is there a call-out at 2pm?", "Is there a call-out at 2am?", "number"),
    ("Are you open on Saturday?", "Are you open on Sunday?", "number"),
    ("What was the bill in January?", "What was the bill in June?", "number"),
    ("What's the stamp duty on a £250,000 house?", "What's the stamp duty on a £600,000 house?", "number"),
    ("Does the Pixel support wireless charging?", "Does the Kindle support wireless charging?", "entity"),
    ("Who approved PR 1432?", "Who approved PR 1433?", "number"),
    ("What's the status of JIRA-112?", "What's the status of JIRA-113?", "entity"),
    ("What did <@U123> decide?", "What did <@U456> decide?", "entity"),
    ("How do I migrate from MySQL to Postgres?", "How do I migrate from Postgres to MySQL?", "direction"),
    ("Can I cancel within the trial period?", "Can I cancel after the trial period?", "relation"),
    ("When is the deploy window?", "Where is the deploy window?", "question_word"),
    ("What documents does she need?", "What documents do I need?", "person"),
]


@pytest.mark.parametrize(("query", "candidate", "reason"), REFUSED)
def test_text_guards_refuse_traps(query: str, candidate: str, reason: str) -> None:
    verdict = text_guards(query, candidate)
    assert not verdict.ok
    assert verdict.reason == reason
    assert not text_guards(candidate, query).ok  # symmetric


PASSED = [
    ("How do I change the email address on my account?", "How do I chnage the email adress on my acount?"),
    ("What are your delivery options to Northern Ireland?", "WHAT ARE YOUR DELIVERY OPTIONS TO NORTHERN IRELAND?"),
    ("I can't log in to my online banking", "I cannot log in to my online banking"),
    ("Can I return it after 14 days?", "Can I still send it back after two weeks?"),
    ("What's the interest rate on a 2-year fix?", "What's the interest rate on a two-year fix?"),
    ("How do I claim a refund for a delayed train?", "For a delayed train, how do I claim a refund?"),
    ("What time does check-in close?", "When does check-in close?"),
]


@pytest.mark.parametrize(("query", "candidate"), PASSED)
def test_text_guards_let_harmless_variation_through(query: str, candidate: str) -> None:
    assert text_guards(query, candidate).ok


def test_misspelt_day_is_a_date_not_a_name() -> None:
    assert text_guards(
        "What time does the leisure centre open on Mondays?", "What time does the leisure center open on Mondys?"
    ).ok
    assert not text_guards("Is the gym open on Mondys?", "Is the gym open on Fridays?").ok
