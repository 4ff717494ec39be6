"""``parse_pane_thread`` on the assistant events as Slack documents them (no sample ships in the shared data).

Shape from docs.slack.dev/reference/events/assistant_thread_started and .../assistant_thread_context_changed:
``assistant_thread`` holds ``user_id``, ``channel_id`` (the DM), ``thread_ts`` and ``context`` (the viewed
channel's ``channel_id``, ``team_id``, ``enterprise_id``).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.request import PaneThread
from handlers.assistant_pane import parse_pane_thread
from tests.harness.slack_emulator import payloads


def _event(kind: str, context: dict[str, Any]) -> dict[str, Any]:
    event = payloads.assistant_thread_event(
        kind,
        user="U123ABC456",
        channel="D123ABC456",
        thread_ts="1729999327.187299",
        context=context,
        event_ts="1715873754.429808",
    )
    return {"type": "event_callback", "team_id": "T123ABC456", "event": event, "event_id": "Ev123ABC456"}


@pytest.mark.parametrize("kind", ["assistant_thread_started", "assistant_thread_context_changed"])
def test_the_thread_and_the_channel_being_viewed(kind: str) -> None:
    body = _event(kind, {"channel_id": "C123ABC456", "team_id": "T123ABC456", "enterprise_id": None})
    assert parse_pane_thread(body) == PaneThread(
        team_id="T123ABC456",
        channel_id="D123ABC456",
        thread_ts="1729999327.187299",
        user_id="U123ABC456",
        context_channel_id="C123ABC456",
    )


def test_a_pane_opened_outside_any_channel_has_no_context() -> None:
    thread = parse_pane_thread(_event("assistant_thread_started", {}))
    assert thread is not None and thread.context_channel_id is None


def test_payloads_without_a_thread_are_ignored() -> None:
    assert parse_pane_thread({"event": {"type": "assistant_thread_started"}}) is None
    assert parse_pane_thread({}) is None
