"""Reading pins through the real slack_sdk client against the Slack emulator: shapes, names, caching, failures."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from structlog.testing import capture_logs

from bot.pins.board import PinBoard, parse_pin
from bot.pins.selection import PinSelector, PinSettings
from bot.request import PinChange
from handlers.pins import parse_message_edit, parse_pin_event
from tests.conftest import EVAL_DIR
from tests.harness.slack_emulator import SlackEmulator

POLICY = "Expense policy: receipts are required for anything over 25 EUR, ask <@{bob}> for exceptions."


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _client(slack: SlackEmulator) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)


def _setup(slack: SlackEmulator) -> tuple[str, str, str]:
    alice = slack.add_user("alice", display_name="Alice")
    bob = slack.add_user("bob", display_name="Bobby")
    channel = slack.add_channel("finance", members=[alice.id, bob.id]).id
    message = slack.post_user_message(channel, alice.id, POLICY.format(bob=bob.id))
    slack.pin(channel, message.ts, by=alice.id)
    return channel, message.ts, alice.id


async def test_pinned_message_is_read_with_names_and_its_edit_version(slack: SlackEmulator) -> None:
    channel, ts, _ = _setup(slack)
    board = PinBoard(_client(slack))
    [item] = await board.items(slack.team_id, channel)
    assert (item.pin_id, item.kind, item.message_ts, item.version) == (ts, "message", ts, ts)
    assert item.author == "Alice" and "ask @Bobby for exceptions" in item.text
    assert item.label == "message by Alice"

    slack.edit_event(channel, ts, "Expense policy: receipts over 50 EUR.")
    await board.on_change(PinChange(slack.team_id, channel, message_ts=ts))
    [edited] = await board.items(slack.team_id, channel)
    assert edited.text == "Expense policy: receipts over 50 EUR." and edited.version != ts
    assert edited.version == slack.message(channel, ts).edited["ts"]  # type: ignore[index]


async def test_pins_are_cached_for_the_ttl_and_dropped_on_pin_events(slack: SlackEmulator) -> None:
    channel, ts, alice = _setup(slack)
    clock = Clock()
    board = PinBoard(_client(slack), ttl_s=60, clock=clock)
    await board.items(slack.team_id, channel)
    await board.items(slack.team_id, channel)
    assert len(slack.calls("pins.list")) == 1

    other = slack.post_user_message(channel, alice, "not pinned")
    await board.on_change(PinChange(slack.team_id, channel, message_ts=other.ts))
    await board.items(slack.team_id, channel)
    assert len(slack.calls("pins.list")) == 1, "an edit of an unpinned message keeps the cache"

    slack.pin_event(channel, ts, alice, removed=True)
    await board.on_change(PinChange(slack.team_id, channel))
    assert await board.items(slack.team_id, channel) == []
    assert len(slack.calls("pins.list")) == 2

    slack.pin(channel, ts, by=alice)
    assert await board.items(slack.team_id, channel) == [], "still within the TTL"
    clock.now += 61
    assert len(await board.items(slack.team_id, channel)) == 1, "the TTL bounds how long a missed event lasts"


async def test_concurrent_questions_share_one_pins_list_call(slack: SlackEmulator) -> None:
    channel, ts, _ = _setup(slack)
    slack.set_latency("pins.list", 0.2)
    board = PinBoard(_client(slack))
    results = await asyncio.gather(*(board.items(slack.team_id, channel) for _ in range(10)))
    assert all([item.pin_id for item in items] == [ts] for items in results)
    assert len(slack.calls("pins.list")) == 1, "pins.list is Tier 2: a burst of questions must not spend it"


class SlowSnapshotClient:
    """Answers pins.list with the pins as they were when the call was made, after ``release`` is set: the race
    where Slack has answered but the answer has not arrived yet, which the emulator cannot stage."""

    def __init__(self) -> None:
        self.pinned = [{"type": "message", "message": {"ts": "1.000001", "text": "policy", "user": "B1"}}]
        self.release = asyncio.Event()
        self.calls = 0

    async def pins_list(self, channel: str) -> dict[str, Any]:
        self.calls += 1
        snapshot = list(self.pinned)
        await self.release.wait()
        return {"ok": True, "items": snapshot}


async def test_an_unpin_during_a_read_is_not_overwritten_by_that_read() -> None:
    client = SlowSnapshotClient()
    board = PinBoard(client)  # type: ignore[arg-type]
    started = asyncio.ensure_future(board.items("T1", "C1"))
    await asyncio.sleep(0.01)
    client.pinned = []
    await board.on_change(PinChange("T1", "C1"))
    client.release.set()
    assert [item.pin_id for item in await started] == ["1.000001"], "that waiter gets what Slack said then"
    assert await board.items("T1", "C1") == [], "the read that began before the unpin is not kept"
    assert client.calls == 2


async def test_a_failure_is_remembered_briefly_then_retried(slack: SlackEmulator) -> None:
    channel, _, _ = _setup(slack)
    clock = Clock()
    board = PinBoard(_client(slack), ttl_s=300, failure_ttl_s=30, clock=clock)
    slack.fail_next("pins.list", "missing_scope")
    assert await board.items(slack.team_id, channel) == []
    clock.now += 20
    assert await board.items(slack.team_id, channel) == [] and len(slack.calls("pins.list")) == 1
    clock.now += 11
    assert len(await board.items(slack.team_id, channel)) == 1, "the scope was granted: pins come back"


@pytest.mark.parametrize("error", ["missing_scope", "not_in_channel", "channel_not_found"])
async def test_pins_list_errors_mean_no_pins_logged_without_text(slack: SlackEmulator, error: str) -> None:
    channel, _, _ = _setup(slack)
    slack.fail_next("pins.list", error)
    with capture_logs() as logs:
        items = await PinBoard(_client(slack)).items(slack.team_id, channel)
    assert items == []
    [entry] = [e for e in logs if e["event"] == "pins.unavailable"]
    assert entry["log_level"] == "info" and entry["error"] == error
    assert "receipts" not in json.dumps(logs, default=str)


async def test_bot_outside_the_channel_gets_no_pins(slack: SlackEmulator) -> None:
    alice = slack.add_user("alice")
    outside = slack.add_channel("random", members=[alice.id], bot_member=False).id
    assert await PinBoard(_client(slack)).items(slack.team_id, outside) == []
    assert slack.calls("pins.list")[0].error == "not_in_channel"


async def test_a_rate_limited_pins_list_does_not_hold_the_answer(slack: SlackEmulator) -> None:
    from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

    channel, _, _ = _setup(slack)
    client = AsyncWebClient(
        token=slack.bot_token,
        base_url=slack.base_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=5)],
    )
    slack.force_rate_limit("pins.list", times=5, retry_after=30)
    started = time.monotonic()
    with capture_logs() as logs:
        items = await PinBoard(client, timeout_s=0.5).items(slack.team_id, channel)
    assert items == [] and time.monotonic() - started < 3
    assert any(e["event"] == "pins.unavailable" and e["error"] == "timeout" for e in logs)


async def test_selector_reads_the_emulators_pins_for_an_explicit_question(slack: SlackEmulator) -> None:
    channel, ts, _ = _setup(slack)
    selector = PinSelector(PinBoard(_client(slack)), settings=PinSettings(), vectors=None)
    selection = await selector.select(slack.team_id, channel, "what does the pinned policy say?", None)
    assert [p.item.pin_id for p in selection.pins] == [ts] and selection.version


def _sample(name: str) -> dict[str, Any]:
    path = EVAL_DIR / "slack" / "java-slack-sdk_samples"
    if not path.is_dir():
        pytest.skip("Slack samples not found")
    data: dict[str, Any] = json.loads((path / "events" / f"{name}.json").read_text())
    return data


def test_file_pins_use_title_and_plain_text_preview() -> None:
    # The fields pins.list gives for a pinned file (java-slack-sdk json-logs/samples/api/pins.list.json).
    item = {
        "type": "file",
        "created": 1700000000,
        "created_by": "U1",
        "file": {
            "id": "F0RUNBOOK",
            "title": "Runbook",
            "name": "runbook.txt",
            "updated": 1700000500,
            "user": "U1",
            "preview": "<b>Step 1</b>",
            "plain_text": "Step 1: page the on-call.",
            "url_private": "https://files.slack.com/x",
        },
    }
    pin = parse_pin(item)
    assert pin is not None and (pin.pin_id, pin.kind, pin.title, pin.version) == (
        "F0RUNBOOK",
        "file",
        "Runbook",
        "1700000500",
    )
    assert pin.text == "Step 1: page the on-call." and pin.label == "Runbook"
    attached = parse_pin(
        {
            "type": "message",
            "message": {
                "ts": "1.000001",
                "user": "U1",
                "text": "see the attached",
                "files": [{"id": "F1", "title": "Budget.csv", "preview_plain_text": "team,amount"}],
            },
        }
    )
    assert attached is not None and attached.title == "Budget.csv"
    assert attached.text == "see the attached\n[file: Budget.csv]\nteam,amount"
    assert parse_pin({"type": "file", "file": {"id": "F2"}}) is None, "nothing to show without downloading"


def test_pin_and_edit_events_name_the_channel(slack: SlackEmulator) -> None:
    for name in ("PinAddedPayload", "PinRemovedPayload"):
        body = _sample(name)
        body["team_id"], body["event"]["channel_id"] = "T1", "C1"
        assert parse_pin_event(body) == PinChange("T1", "C1")
    channel, ts, alice = _setup(slack)
    event = slack.envelope(slack.pin_event(channel, ts, alice, removed=True))
    assert parse_pin_event(event) == PinChange(slack.team_id, channel)
    edit = slack.envelope(slack.edit_event(channel, ts, "new text"))
    assert parse_message_edit(edit) == PinChange(slack.team_id, channel, message_ts=ts)
