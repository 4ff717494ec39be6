"""Socket Mode: with an app token Penny connects out over a WebSocket, acks envelopes and answers; no events route."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from tests.e2e.conftest import PennyFactory
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator


def test_socket_mode_answers_a_mention_and_redelivery_is_deduplicated(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    llm.set_answer(ANY_MODEL, "Hello over Socket Mode.")
    penny = start_penny(PENNY_SLACK_APP_TOKEN=slack.app_token, PENNY_SLACK_SIGNING_SECRET="")
    slack.wait_for(lambda: slack.socket_mode.connected, timeout=20, what="socket connection")

    event = slack.mention_event(general.id, alice.id, "are you connected?")
    event_id = slack.next_event_id()
    envelope = slack.socket_event(event, event_id=event_id)
    slack.wait_for(lambda: slack.socket_mode.acked(envelope), timeout=5, what="envelope ack")
    slack.wait_for(
        lambda: any(r.text == "Hello over Socket Mode." for r in slack.bot_replies(general.id, event["ts"])),
        timeout=20,
        what="answer",
    )
    again = slack.socket_event(event, event_id=event_id, retry_attempt=1)
    slack.wait_for(lambda: slack.socket_mode.acked(again), timeout=5, what="retry ack")
    assert len(slack.bot_replies(general.id, event["ts"])) == 1
    assert len(llm.chat_requests()) == 1

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(penny.events_url, data=b"{}", method="POST"), timeout=5)
    assert refused.value.code in (404, 405), "no unsigned events route in Socket Mode"
