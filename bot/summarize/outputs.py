"""Where a summary appears: streamed into a message others can see, or ephemeral for the requester alone.

The choice is the summarizer's (never widen a conversation's audience); the two shapes behave alike to it. An
ephemeral reply cannot stream (a ``response_url`` takes only five posts), so it shows one "working" note and
then the result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog

from bot import replies
from bot.slack.mrkdwn import to_slack
from bot.slack.streamer import MessageStreamer

log = structlog.get_logger(__name__)

RespondFn = Callable[..., Awaitable[Any]]
"""Bolt's ``respond``: posts to the command's ``response_url`` (works even where Penny is not a member)."""


class SummaryOutput(Protocol):
    async def progress(self, status: str) -> None: ...

    def append(self, delta: str) -> None: ...

    async def finish(self, text: str) -> None: ...

    async def fail(self, text: str) -> None: ...

    def posted(self) -> tuple[str, list[str]] | None:
        """(channel, message ts) of a summary others can see and react to; None for an ephemeral one."""
        ...


class ChannelOutput:
    def __init__(self, streamer: MessageStreamer, channel: str) -> None:
        self._streamer = streamer
        self._channel = channel

    def posted(self) -> tuple[str, list[str]] | None:
        return self._channel, self._streamer.message_ts

    async def progress(self, status: str) -> None:
        await self._streamer.show_status(status)

    def append(self, delta: str) -> None:
        self._streamer.append(delta)

    async def finish(self, text: str) -> None:
        await self._streamer.finish(text)

    async def fail(self, text: str) -> None:
        await self._streamer.fail(text)


class EphemeralOutput:
    def __init__(self, respond: RespondFn) -> None:
        self._respond = respond

    def posted(self) -> tuple[str, list[str]] | None:
        return None

    async def progress(self, status: str) -> None:
        return None

    def append(self, delta: str) -> None:
        return None

    async def finish(self, text: str) -> None:
        await self._respond(
            text=to_slack(text) + f"\n\n_{replies.SUMMARIZE_PRIVATE_NOTE}_",
            response_type="ephemeral",
            replace_original=True,
        )

    async def fail(self, text: str) -> None:
        await self._respond(text=text, response_type="ephemeral", replace_original=True)


async def tell(respond: RespondFn, text: str) -> None:
    """An ephemeral reply to the requester only; a failure here is logged, never raised over the ledger row."""
    try:
        await respond(text=text, response_type="ephemeral")
    except Exception:
        log.warning("summarizer.respond_failed", exc_info=True)
