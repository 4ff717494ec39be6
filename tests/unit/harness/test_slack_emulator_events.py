"""Contract tests for what the emulator sends to the bot: signed events, re-deliveries, slash commands.

A tiny aiohttp receiver stands in for the bot; it verifies signatures with slack_sdk's own
`SignatureVerifier`, so a signing bug on our side fails here, not in a confusing e2e test.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.harness.slack_emulator import SlackEmulator, sign
from tests.unit.harness.test_slack_emulator import assert_shape


@dataclass
class Receiver:
    """A stand-in bot endpoint: verifies, records, and sleeps `delays[i]` before answering attempt i."""

    secret: str
    delays: list[float] = field(default_factory=list)
    requests: list[tuple[dict[str, str], str]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        headers = dict(request.headers)
        self.requests.append((headers, body))
        attempt = len(self.requests) - 1
        if attempt < len(self.delays):
            await asyncio.sleep(self.delays[attempt])
        if not SignatureVerifier(self.secret).is_valid_request(body, headers):
            return web.Response(status=401, text="invalid signature")
        return web.Response(text="")


@pytest.fixture
async def receiver(emu: SlackEmulator) -> AsyncIterator[Receiver]:
    recv = Receiver(secret=emu.signing_secret)
    app = web.Application()
    app.router.add_post("/slack/events", recv.handle)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    recv.url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    emu.events_url = recv.url
    yield recv
    await runner.cleanup()


def _events_sample(slack_eval: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((slack_eval / "java-slack-sdk_samples" / "events" / f"{name}.json").read_text())
    return data


# ----------------------------------------------------------------- signing
def test_signing_reproduces_slacks_documented_example(slack_eval: Path) -> None:
    example = json.loads((slack_eval / "signature" / "slack_docs_signature_example.json").read_text())
    assert sign(example["signing_secret"], example["timestamp"], example["body"]) == example["expected_signature"]
    assert sign(example["signing_secret"], example["timestamp"], example["body"] + " ") != example["expected_signature"]


async def test_signed_event_verifies_with_slack_sdk(emu: SlackEmulator, receiver: Receiver) -> None:
    alice = emu.add_user("alice")
    channel = emu.add_channel("general", members=[alice.id])
    delivery = await emu.amention(channel.id, alice.id, "hello")
    assert delivery.status == 200 and len(delivery.attempts) == 1
    headers, body = receiver.requests[0]
    assert headers["Content-Type"] == "application/json"
    assert SignatureVerifier(emu.signing_secret).is_valid_request(body, headers)
    assert "X-Slack-Retry-Num" not in headers


async def test_bad_signature_and_stale_timestamp_are_refused(emu: SlackEmulator, receiver: Receiver) -> None:
    alice = emu.add_user("alice")
    channel = emu.add_channel("general", members=[alice.id])
    forged = await emu.amention(channel.id, alice.id, "forged", bad_signature=True, redeliver=False)
    stale = await emu.amention(channel.id, alice.id, "stale", stale_timestamp=True, redeliver=False)
    assert (forged.status, stale.status) == (401, 401)
    fresh_ts, stale_ts = (int(headers["X-Slack-Request-Timestamp"]) for headers, _ in receiver.requests)
    assert fresh_ts - stale_ts >= 590


async def test_explicit_event_id_and_retry_headers(emu: SlackEmulator, receiver: Receiver) -> None:
    alice = emu.add_user("alice")
    channel = emu.add_channel("general", members=[alice.id])
    event = emu.mention_event(channel.id, alice.id, "again")
    await emu.adeliver_event(event, event_id="Ev0TEST0001")
    await emu.adeliver_event(event, event_id="Ev0TEST0001", retry_num=2, retry_reason="http_error")
    (_, first_body), (second_headers, second_body) = receiver.requests
    assert json.loads(first_body)["event_id"] == json.loads(second_body)["event_id"] == "Ev0TEST0001"
    assert (second_headers["X-Slack-Retry-Num"], second_headers["X-Slack-Retry-Reason"]) == ("2", "http_error")


# ----------------------------------------------------------------- re-delivery
async def test_slow_ack_is_redelivered_after_three_seconds(emu: SlackEmulator, receiver: Receiver) -> None:
    """Slack's real timeout (3 s) by default: the first attempt times out, the retry carries Retry-Num 1."""
    assert emu.delivery_policy.ack_timeout == 3.0
    receiver.delays = [3.4]
    alice = emu.add_user("alice")
    channel = emu.add_channel("general", members=[alice.id])
    delivery = await emu.amention(channel.id, alice.id, "slow")
    timed_out, retried = delivery.attempts
    assert timed_out.timed_out and timed_out.status is None and 2.9 <= timed_out.elapsed < 3.4
    assert retried.acked and retried.retry_num == 1
    assert receiver.requests[1][0]["X-Slack-Retry-Num"] == "1"
    assert receiver.requests[1][0]["X-Slack-Retry-Reason"] == "http_timeout"
    assert receiver.requests[0][1] == receiver.requests[1][1], "a re-delivery carries the same payload"
    assert [d.event_id for d in emu.deliveries()] == [delivery.event_id]


async def test_retries_stop_after_three(emu: SlackEmulator, receiver: Receiver) -> None:
    emu.delivery_policy.ack_timeout = 0.2
    receiver.delays = [0.5] * 5
    alice = emu.add_user("alice")
    channel = emu.add_channel("general", members=[alice.id])
    delivery = await emu.amention(channel.id, alice.id, "never acked")
    assert [a.retry_num for a in delivery.attempts] == [0, 1, 2, 3]
    assert not delivery.acked and all(a.timed_out for a in delivery.attempts)


async def test_http_error_is_redelivered_with_reason(emu: SlackEmulator, receiver: Receiver) -> None:
    alice = emu.add_user("alice")
    channel = emu.add_channel("general", members=[alice.id])
    delivery = await emu.amention(channel.id, alice.id, "x", bad_signature=True)
    assert [a.status for a in delivery.attempts] == [401, 401, 401, 401]
    assert receiver.requests[-1][0]["X-Slack-Retry-Reason"] == "http_error"


# ----------------------------------------------------------------- payload helpers
async def test_mention_puts_the_message_in_state_and_payload_has_slack_shape(
    emu: SlackEmulator, receiver: Receiver, client: AsyncWebClient, slack_eval: Path
) -> None:
    alice = emu.add_user("alice")
    channel = emu.add_channel("general", members=[alice.id])
    parent = emu.post_user_message(channel.id, alice.id, "earlier")
    delivery = await emu.amention(channel.id, alice.id, "summarize please", thread_ts=parent.ts)
    payload = json.loads(receiver.requests[0][1])
    assert_shape(
        payload,
        _events_sample(slack_eval, "AppMentionPayload"),
        extra=frozenset({"context_team_id", "context_enterprise_id"}),
    )
    event = payload["event"]
    assert payload["type"] == "event_callback" and re.fullmatch(r"Ev[0-9A-Z]{8,}", payload["event_id"])
    assert payload["authorizations"][0]["user_id"] == "U0PENNY" and payload["team_id"] == "T0001"
    assert event["text"] == "<@U0PENNY> summarize please" and event["thread_ts"] == parent.ts
    assert event["ts"] == delivery.ts
    replies = await client.conversations_replies(channel=channel.id, ts=parent.ts)
    assert [m["text"] for m in replies["messages"]] == ["earlier", "<@U0PENNY> summarize please"]


async def test_thread_message_reaction_edit_and_delete_events(
    emu: SlackEmulator, receiver: Receiver, slack_eval: Path
) -> None:
    alice = emu.add_user("alice")
    channel = emu.add_channel("general", members=[alice.id], is_ext_shared=True)
    parent = emu.post_user_message(channel.id, alice.id, "topic")
    await emu.adeliver_event(emu.message_event(channel.id, alice.id, "follow-up", thread_ts=parent.ts))
    follow_up = emu.thread(channel.id, parent.ts)[-1]
    await emu.adeliver_event(emu.reaction_event(channel.id, parent.ts, alice.id, "+1"))
    await emu.adeliver_event(emu.edit_event(channel.id, follow_up.ts, "follow-up, edited"))
    await emu.adeliver_event(emu.delete_event(channel.id, follow_up.ts))
    message, reaction, changed, deleted = (json.loads(body) for _, body in receiver.requests)

    extra = frozenset({"context_team_id", "context_enterprise_id", "reactions", "reply_users", "root"})
    assert_shape(message, _events_sample(slack_eval, "MessagePayload"), extra=extra)
    assert message["event"]["thread_ts"] == parent.ts and message["event"]["channel_type"] == "channel"
    assert message["is_ext_shared_channel"] is True
    assert_shape(reaction, _events_sample(slack_eval, "ReactionAddedPayload"))
    assert reaction["event"]["item"] == {"type": "message", "channel": channel.id, "ts": parent.ts}
    assert reaction["event"]["item_user"] == alice.id
    assert_shape(changed, _events_sample(slack_eval, "MessageChangedPayload"), extra=extra)
    assert changed["event"]["message"]["text"] == "follow-up, edited"
    assert changed["event"]["previous_message"]["text"] == "follow-up"
    assert changed["event"]["message"]["edited"]["user"] == alice.id
    assert_shape(deleted, _events_sample(slack_eval, "MessageDeletedPayload"), extra=extra)
    assert deleted["event"]["deleted_ts"] == follow_up.ts
    assert [m.text for m in emu.thread(channel.id, parent.ts)] == ["topic"]
    assert [r.text for r in emu.edit_history(channel.id, follow_up.ts)] == ["follow-up", "follow-up, edited"]


async def test_reaction_removed_event_matches_slack_and_updates_the_message(
    emu: SlackEmulator, receiver: Receiver, slack_eval: Path
) -> None:
    alice = emu.add_user("alice")
    channel = emu.add_channel("general", members=[alice.id])
    parent = emu.post_user_message(channel.id, alice.id, "topic")
    await emu.adeliver_event(emu.reaction_event(channel.id, parent.ts, alice.id, "-1"))
    assert emu.message(channel.id, parent.ts).reactions == {"-1": [alice.id]}
    await emu.adeliver_event(emu.reaction_removed_event(channel.id, parent.ts, alice.id, "-1"))
    removed = json.loads(receiver.requests[-1][1])
    assert_shape(removed, _events_sample(slack_eval, "ReactionRemovedPayload"))
    assert removed["event"]["type"] == "reaction_removed" and removed["event"]["reaction"] == "-1"
    assert emu.message(channel.id, parent.ts).reactions == {}


async def test_slash_command_form_and_response_url(emu: SlackEmulator, receiver: Receiver, slack_eval: Path) -> None:
    alice = emu.add_user("alice")
    channel = emu.add_channel("general", members=[alice.id])
    delivery = await emu.adeliver_command("/summarize", "last week", channel=channel.id, user=alice.id)
    assert delivery.status == 200 and delivery.kind == "command"
    headers, body = receiver.requests[0]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
    sample = json.loads(
        (slack_eval / "java-slack-sdk_samples/app-backend/slash-commands/SlashCommandPayload.json").read_text()
    )
    assert set(form) <= set(sample) and {
        "command",
        "text",
        "channel_id",
        "user_id",
        "team_id",
        "response_url",
        "trigger_id",
    } <= set(form)
    assert (form["command"], form["text"], form["channel_id"], form["user_id"]) == (
        "/summarize",
        "last week",
        channel.id,
        alice.id,
    )
    assert form["response_url"].startswith(emu.origin + "/commands/")

    async with aiohttp.ClientSession() as session:
        async with session.post(form["response_url"], json={"response_type": "ephemeral", "text": "working"}):
            pass
        async with session.post(form["response_url"], json={"response_type": "in_channel", "text": "Summary"}):
            pass
    assert [p.payload["text"] for p in emu.response_url_posts()] == ["working", "Summary"]
    assert [m.text for m in emu.bot_messages(channel.id)] == ["Summary"]


async def test_pin_events_match_slack_and_update_pins(
    emu: SlackEmulator, receiver: Receiver, slack_eval: Path, client: AsyncWebClient
) -> None:
    alice = emu.add_user("alice")
    channel = emu.add_channel("general", members=[alice.id])
    rule = emu.post_user_message(channel.id, alice.id, "Rule 1: be kind")
    await emu.adeliver_event(emu.pin_event(channel.id, rule.ts, alice.id))
    added = json.loads(receiver.requests[-1][1])
    extra = frozenset({"blocks", "client_msg_id", "context_team_id", "context_enterprise_id"})
    assert_shape(added, _events_sample(slack_eval, "PinAddedPayload"), extra=extra)
    assert added["event"]["channel_id"] == channel.id and added["event"]["item"]["message"]["ts"] == rule.ts
    assert len((await client.pins_list(channel=channel.id))["items"]) == 1

    await emu.adeliver_event(emu.pin_event(channel.id, rule.ts, alice.id, removed=True))
    removed = json.loads(receiver.requests[-1][1])
    assert_shape(removed, _events_sample(slack_eval, "PinRemovedPayload"), extra=extra)
    assert removed["event"]["type"] == "pin_removed" and removed["event"]["has_pins"] is False
    assert (await client.pins_list(channel=channel.id))["items"] == []
    with pytest.raises(SlackApiError) as raised:
        await client.pins_remove(channel=channel.id, timestamp=rule.ts)
    assert raised.value.response["error"] == "no_pin"
    await client.pins_add(channel=channel.id, timestamp=rule.ts)
    await client.pins_remove(channel=channel.id, timestamp=rule.ts)
    assert emu.calls("pins.remove")[-1].ok


async def test_channel_change_events_match_slack_and_change_what_conversations_info_says(
    emu: SlackEmulator, receiver: Receiver, slack_eval: Path, client: AsyncWebClient
) -> None:
    alice = emu.add_user("alice")
    general = emu.add_channel("general", members=[alice.id])
    secret = emu.add_channel("secret", kind="private", members=[alice.id])
    for event in (
        emu.share_event(general.id),
        emu.share_event(general.id, shared=False),
        emu.archive_event(general.id, alice.id),
        emu.archive_event(general.id, alice.id, undo=True),
        emu.archive_event(secret.id, alice.id),
        emu.archive_event(secret.id, alice.id, undo=True),
    ):
        await emu.adeliver_event(event)
    sent = [json.loads(body) for _, body in receiver.requests]
    extra = frozenset({"context_team_id", "context_enterprise_id"})
    for payload, sample in zip(
        sent,
        [
            "ChannelSharedPayload",
            "ChannelUnsharedPayload",
            "ChannelArchivePayload",
            "ChannelUnarchivePayload",
            "GroupArchivePayload",
            "GroupUnarchivePayload",
        ],
        strict=True,
    ):
        assert_shape(payload, _events_sample(slack_eval, sample), extra=extra)
        assert payload["event"]["type"] == _events_sample(slack_eval, sample)["event"]["type"]
        assert payload["event"]["channel"] in (general.id, secret.id)
    assert sent[0]["event"]["connected_team_id"] == "T9EXT0001" and sent[1]["event"]["is_ext_shared"] is False

    await emu.adeliver_event(emu.share_event(general.id))
    assert (await client.conversations_info(channel=general.id))["channel"]["is_ext_shared"] is True
    await emu.adeliver_event(emu.share_event(general.id, shared=False))
    await emu.adeliver_event(emu.convert_event(general.id, alice.id))
    converted = json.loads(receiver.requests[-1][1])["event"]
    # No sample ships for it: the fields of Slack's documented example, exactly.
    assert set(converted) == {"subtype", "user", "text", "type", "ts", "channel", "event_ts", "channel_type"}
    assert (converted["type"], converted["subtype"], converted["channel_type"]) == (
        "message",
        "channel_convert_to_private",
        "group",
    )
    assert (await client.conversations_info(channel=general.id))["channel"]["is_private"] is True
    assert emu.history(general.id)[-1].subtype == "channel_convert_to_private"
    await emu.adeliver_event(emu.convert_event(general.id, alice.id, private=False))
    assert json.loads(receiver.requests[-1][1])["event"]["subtype"] == "channel_convert_to_public"
    assert (await client.conversations_info(channel=general.id))["channel"]["is_private"] is False

    await emu.adeliver_event(emu.delete_channel_event(general.id, alice.id))
    await emu.adeliver_event(emu.delete_channel_event(secret.id, alice.id))
    deleted, group_deleted = (json.loads(body) for _, body in receiver.requests[-2:])
    assert_shape(deleted, _events_sample(slack_eval, "ChannelDeletedPayload"), extra=extra)
    assert_shape(group_deleted, _events_sample(slack_eval, "GroupDeletedPayload"), extra=extra)
    assert (deleted["event"]["type"], group_deleted["event"]["type"]) == ("channel_deleted", "group_deleted")
    with pytest.raises(SlackApiError) as raised:
        await client.conversations_info(channel=general.id)
    assert raised.value.response["error"] == "channel_not_found"
