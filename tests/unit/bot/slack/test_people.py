"""People's names: one cached directory for thread context, summaries and pins; ids stay when names are unknown."""

from __future__ import annotations

import asyncio

from slack_sdk.web.async_client import AsyncWebClient

from bot.assistant.prompts import chat_messages
from bot.slack.conversations import SlackMessage
from bot.slack.people import PeopleDirectory, mentioned_ids, with_names
from tests.harness.slack_emulator import SlackEmulator


def test_mentions_become_names_or_slacks_label_or_the_id() -> None:
    text = "ask <@U1>, <@U2|bob> or <@U3>"
    assert mentioned_ids([text, "and <@W9>"]) == {"U1", "U2", "U3", "W9"}
    assert with_names(text, {"U1": "Alice"}) == "ask @Alice, @bob or @U3"


def test_thread_context_shows_people_by_name() -> None:
    context = [
        SlackMessage("U1", "<@U2> can you own the FAQ?", "100.1", False),
        SlackMessage("B1", "Noted.", "100.2", True),
        SlackMessage("U2", "yes, by Wednesday", "100.3", False),
    ]
    messages = chat_messages("what did Bob agree to?", context, current_ts="100.4", names={"U1": "Alice", "U2": "Bob"})
    assert [m["content"] for m in messages[1:]] == [
        "Alice: @Bob can you own the FAQ?",
        "Noted.",
        "Bob: yes, by Wednesday",
        "what did Bob agree to?",
    ]
    unnamed = chat_messages("q?", context[:1], current_ts="100.4")
    assert unnamed[1]["content"] == "U1: @U2 can you own the FAQ?", "without names the ids stay"


async def test_directory_looks_up_once_concurrently_and_caches() -> None:
    with SlackEmulator() as slack:
        people = [slack.add_user(f"user{i}", display_name=f"Person {i}") for i in range(5)]
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
        now = [0.0]
        directory = PeopleDirectory(client, ttl_s=60.0, clock=lambda: now[0])
        ids = [p.id for p in people]
        found = await directory.names([*ids, "U_NOPE"], max_lookups=10)
        assert found == {p.id: f"Person {i}" for i, p in enumerate(people)}
        assert len(slack.calls("users.info")) == 6
        again = await asyncio.gather(*(directory.names(ids) for _ in range(3)))
        assert all(names == found for names in again) and len(slack.calls("users.info")) == 6, "cached"
        now[0] = 61.0
        await directory.names(ids[:1])
        assert len(slack.calls("users.info")) == 7, "looked up again after the TTL"
        capped = PeopleDirectory(client)
        assert len(await capped.names(ids, max_lookups=2)) == 2, "at most max_lookups calls"
