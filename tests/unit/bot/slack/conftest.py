"""A Slack room for the delivery tests: the emulator, one member, one question to answer in its thread."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.delivery.calls import DeliveryRetry, SlackCalls
from bot.slack.streamer import MessageStreamer, Streamers, StreamMode, StreamSettings
from bot.slack.update_budget import UpdateBudget
from tests.harness.slack_emulator import Message, SlackEmulator

FAST_RETRY = DeliveryRetry(backoff_base_s=0.01, backoff_max_s=0.05)


@dataclass
class Room:
    slack: SlackEmulator
    user: str
    channel: str
    question_ts: str

    def client(self) -> AsyncWebClient:
        return AsyncWebClient(token=self.slack.bot_token, base_url=self.slack.base_url, retry_handlers=[])

    def calls(self) -> SlackCalls:
        return SlackCalls(self.client(), retry=FAST_RETRY)

    def streamers(
        self,
        *,
        mode: StreamMode = StreamMode.EDIT,
        interval_s: float = 0.05,
        max_chars: int = 3900,
        budget: UpdateBudget | None = None,
    ) -> Streamers:
        return Streamers(
            self.client(), StreamSettings(interval_s, max_chars, mode=mode), budget=budget, calls=self.calls()
        )

    def streamer(
        self,
        *,
        mode: StreamMode = StreamMode.EDIT,
        interval_s: float = 0.05,
        max_chars: int = 3900,
        budget: UpdateBudget | None = None,
        thread: bool = True,
        streamers: Streamers | None = None,
    ) -> MessageStreamer:
        made = streamers or self.streamers(mode=mode, interval_s=interval_s, max_chars=max_chars, budget=budget)
        return made.new(
            self.slack.team_id, self.channel, self.question_ts if thread else None, recipient_user_id=self.user
        )

    def replies(self) -> list[Message]:
        return self.slack.bot_replies(self.channel, self.question_ts)

    def texts(self) -> list[str]:
        return [m.text for m in self.replies()]


@pytest.fixture
def room() -> Iterator[Room]:
    with SlackEmulator() as slack:
        alice = slack.add_user("alice")
        channel = slack.add_channel("general", members=[alice.id]).id
        question = slack.post_user_message(channel, alice.id, "<@U0PENNY> a question")
        yield Room(slack, alice.id, channel, question.ts)
