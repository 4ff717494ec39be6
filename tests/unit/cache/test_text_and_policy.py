"""Question traits and keying policy: what is personal, time-relative, non-English, and how keys are built."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cache import policy
from cache.entry import Entry
from cache.text import is_personal, is_time_relative, looks_english, normalize_for_exact
from cache.values import CacheQuery, CacheScope
from vocabulary import TaskKind, Tier, Visibility


@pytest.mark.parametrize(
    "text", ["How many PTO days do I have left?", "What's my expense limit?", "Am I on call?", "Show me my tickets"]
)
def test_personal(text: str) -> None:
    assert is_personal(text)


@pytest.mark.parametrize(
    "text",
    [
        "How do I request PTO?",
        "Can I bring a guest to the offsite?",
        "Where is the expense policy?",
        "What is our PTO policy?",
    ],
)
def test_not_personal(text: str) -> None:
    assert not is_personal(text)


@pytest.mark.parametrize(
    "text",
    ["Who is on call today?", "What shipped this week?", "Is prod down right now?", "What did we decide yesterday?"],
)
def test_time_relative(text: str) -> None:
    assert is_time_relative(text)


def test_not_time_relative() -> None:
    assert not is_time_relative("What is the release process?")


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("How do I reset my VPN token?", True),
        ("VPN token reset", True),
        ("¿Dónde está la política de gastos?", False),
        ("Wo ist die Reisekostenrichtlinie?", False),
        ("Comment réinitialiser mon mot de passe ?", False),
        ("経費精算はどうやるの？", False),
    ],
)
def test_english_gate(text: str, english: bool) -> None:
    assert looks_english(text) is english


def test_exact_normalisation_ignores_case_space_and_trailing_punctuation() -> None:
    assert normalize_for_exact("  How do I  reset my VPN?? ") == normalize_for_exact("how do i reset my vpn")
    assert normalize_for_exact("Reset VPN") != normalize_for_exact("Reset VPN token")


def _q(text: str, task: str = "qa", visibility: str = "public", user: str = "U1") -> CacheQuery:
    return CacheQuery(CacheScope("T1", "C1", visibility), task, text, user)  # type: ignore[arg-type]


def test_plan_per_task() -> None:
    assert not policy.plan(_q("Draft a note", "draft"), share_public=True).cacheable
    summary = policy.plan(_q("summarize", "summarize"), share_public=True)
    assert summary.cacheable and not summary.semantic and not summary.shareable
    qa = policy.plan(_q("Where is the wiki?"), share_public=True)
    assert qa.semantic and qa.shareable
    assert not policy.plan(_q("Where is the wiki?", visibility="private"), share_public=True).shareable
    assert not policy.plan(_q("Where is the wiki?"), share_public=False).shareable


def test_personal_key_depends_on_user_and_time_relative_key_on_day() -> None:
    a = policy.plan(_q("How many PTO days do I have?", user="U1"), share_public=False)
    b = policy.plan(_q("How many PTO days do I have?", user="U2"), share_public=False)
    assert a.exact_digest != b.exact_digest and a.personal_user == "U1"
    day1 = policy.plan(_q("Who is on call today?"), share_public=False, now=86_400 * 10 + 5)
    day1_later = policy.plan(_q("Who is on call today?"), share_public=False, now=86_400 * 10 + 80_000)
    day2 = policy.plan(_q("Who is on call today?"), share_public=False, now=86_400 * 11 + 5)
    assert day1.exact_digest == day1_later.exact_digest != day2.exact_digest
    assert not day1.semantic


def _entry(**changes: object) -> Entry:
    entry = Entry(
        vector_id=1,
        team_id="T1",
        channel_id="C1",
        visibility=Visibility.PUBLIC,
        task=TaskKind.QA,
        question="Where is the wiki?",
        answer="Confluence.",
        model="m",
        tier=Tier.ECONOMY,
        created=0.0,
        expires=100.0,
        exact_digest="d",
        semantic=True,
        shared=True,
    )
    return replace(entry, **changes)  # type: ignore[arg-type]


def test_reuse_needs_the_same_team_a_fresh_entry_and_a_shared_public_source_elsewhere() -> None:
    q, other_channel = _q("Where is the wiki?"), CacheQuery(CacheScope("T1", "C2", "public"), "qa", "Where?", "U1")
    plan = policy.plan(q, share_public=True, now=0)
    assert policy.may_reuse(_entry(), q, plan, 50.0, share_public=True, same_channel_only=True)
    assert not policy.may_reuse(_entry(), q, plan, 100.0, share_public=True, same_channel_only=True)  # expired
    assert not policy.may_reuse(_entry(team_id="T2"), q, plan, 50.0, share_public=True, same_channel_only=False)
    assert policy.may_reuse(_entry(), other_channel, plan, 50.0, share_public=True, same_channel_only=False)
    assert not policy.may_reuse(_entry(), other_channel, plan, 50.0, share_public=True, same_channel_only=True)
    assert not policy.may_reuse(_entry(), other_channel, plan, 50.0, share_public=False, same_channel_only=False)
    assert not policy.may_reuse(
        _entry(),
        other_channel,
        plan,
        50.0,
        share_public=True,
        same_channel_only=False,
        channel_visibility=Visibility.PRIVATE,
    )


def test_a_time_relative_answer_expires_with_its_utc_day() -> None:
    day = 86_400.0
    assert policy.expires_at(10 * day + 5, 7 * day, policy.plan(_q("Where is the wiki?"), share_public=False)) == (
        17 * day + 5
    )
    today = policy.plan(_q("Who is on call today?"), share_public=False, now=10 * day + 5)
    assert policy.expires_at(10 * day + 5, 7 * day, today) == 11 * day
