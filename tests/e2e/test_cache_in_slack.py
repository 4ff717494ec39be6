"""The semantic cache as a Slack user meets it: labelled cached answers, the Fresh answer button, privacy."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.e2e.conftest import PennyFactory
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator, signed_headers

pytestmark = pytest.mark.slow

FIRST = "Our PTO policy gives everyone 25 days a year, plus public holidays."
SECOND = "Updated: 27 days a year since the October policy change."


def _wait_final(slack: SlackEmulator, channel: str, thread_ts: str, contains: str, timeout: float = 60.0) -> Any:
    def done() -> Any:
        replies = slack.bot_replies(channel, thread_ts)
        return replies[0] if replies and contains in replies[0].text and slack.is_finished(replies[0]) else None

    return slack.wait_for(done, timeout=timeout, what=f"reply containing {contains!r}")


def _click(slack: SlackEmulator, url: str, *, channel: str, user: str, message: Any) -> int:
    """Send a signed ``block_actions`` payload, as Slack does when someone clicks a button."""
    button = next(
        element for block in message.blocks or [] if block["type"] == "actions" for element in block["elements"]
    )
    payload = {
        "type": "block_actions",
        "team": {"id": slack.team_id, "domain": slack.team_domain},
        "user": {"id": user, "team_id": slack.team_id},
        "api_app_id": slack.app_id,
        "token": "legacy",
        "trigger_id": "1111.2222.abcd",
        "channel": {"id": channel, "name": "general"},
        "container": {"type": "message", "message_ts": message.ts, "channel_id": channel, "is_ephemeral": False},
        "message": {"ts": message.ts, "text": message.text, "thread_ts": message.thread_ts},
        "actions": [{**button, "block_id": "b1", "action_ts": str(time.time())}],
    }
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **signed_headers(slack.signing_secret, int(time.time()), body),
    }
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        return int(response.status)


def test_repeat_question_is_served_from_cache_and_fresh_answer_replaces_it(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    alice = slack.add_user("alice")
    bob = slack.add_user("bob")
    general = slack.add_channel("general", members=[alice.id, bob.id])
    llm.set_answer(ANY_MODEL, FIRST)
    penny = start_penny(PENNY_CACHE_ENABLED="true")

    first = slack.mention(general.id, alice.id, "How many PTO days do we get per year?")
    _wait_final(slack, general.id, first.ts or "", "25 days")
    calls_after_first = len(llm.chat_requests())

    second = slack.mention(general.id, bob.id, "how many PTO days do we get per year")
    cached = _wait_final(slack, general.id, second.ts or "", "from cache")
    assert FIRST.split(",")[0] in cached.text
    assert len(llm.chat_requests()) == calls_after_first, "a cache hit calls no model"
    assert any(b["type"] == "actions" for b in cached.blocks or []), "the Fresh answer button is there"

    llm.set_answer(ANY_MODEL, SECOND)
    assert _click(slack, penny.events_url, channel=general.id, user=bob.id, message=cached) == 200
    refreshed = _wait_final(slack, general.id, second.ts or "", "27 days")
    assert "from cache" not in refreshed.text
    assert not any(b["type"] == "actions" for b in refreshed.blocks or []), "the button goes with the cached text"
    assert len(slack.bot_replies(general.id, second.ts or "")) == 1, "edited in place, no second message"

    third = slack.mention(general.id, alice.id, "How many PTO days do we get per year?")
    replaced = _wait_final(slack, general.id, third.ts or "", "27 days")
    assert "from cache" in replaced.text, "the fresh answer replaced the cache entry"


def test_private_channel_answer_is_not_served_elsewhere(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    alice = slack.add_user("alice")
    secret = slack.add_channel("secret-project", kind="private", members=[alice.id])
    general = slack.add_channel("general", members=[alice.id])
    llm.set_answer(ANY_MODEL, "The codename is BLUEBIRD.")
    start_penny(PENNY_CACHE_ENABLED="true", PENNY_CACHE_SHARE_PUBLIC="true")

    first = slack.mention(secret.id, alice.id, "What is the project codename?")
    _wait_final(slack, secret.id, first.ts or "", "BLUEBIRD")
    llm.set_answer(ANY_MODEL, "I don't know of a codename.")
    elsewhere = slack.mention(general.id, alice.id, "What is the project codename?")
    reply = _wait_final(slack, general.id, elsewhere.ts or "", "codename")
    assert "BLUEBIRD" not in reply.text and "from cache" not in reply.text


def test_deleting_the_source_message_evicts_its_cached_answer(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    llm.set_answer(ANY_MODEL, "The office wifi password rotates every Monday.")
    start_penny(PENNY_CACHE_ENABLED="true")

    first = slack.mention(general.id, alice.id, "When does the office wifi password change?")
    _wait_final(slack, general.id, first.ts or "", "rotates")
    delivery = slack.deliver_event(slack.delete_event(general.id, first.ts or ""))
    assert delivery.final.status == 200
    time.sleep(1.0)
    calls_before = len(llm.chat_requests())
    again = slack.mention(general.id, alice.id, "When does the office wifi password change?")
    reply = _wait_final(slack, general.id, again.ts or "", "rotates")
    assert "from cache" not in reply.text
    assert len(llm.chat_requests()) == calls_before + 1, "the entry died with its source message"
