"""Where a summary appears: streamed into a message others can see, or ephemeral for the requester alone.

The choice is the summarizer's (never widen a conversation's audience); the two shapes behave alike to it. An
ephemeral reply cannot stream (a ``response_url`` takes only five posts), so it shows one "working" note and
then the result. A ``Replies`` is one request's way back to its requester: short answers (``tell``: a refusal,
the usage text) and the summary itself (``open``). ``/summarize`` decides per source (``summarizer.py``); the
"Summarize this thread" shortcut is always private (``PrivateReplies``); the assistant pane answers in its own
thread, which only the requester sees (``ThreadReplies``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog
from slack_sdk.errors import SlackApiError

from bot import replies
from bot.slack.formatting import to_mrkdwn
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
            text=to_mrkdwn(f"{text}\n\n_{replies.SUMMARIZE_PRIVATE_NOTE}_"),
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


class Replies(Protocol):
    async def tell(self, text: str) -> None:
        """A short reply only the requester needs (usage, refusal, nothing to summarize)."""
        ...

    async def open(self, what: str) -> SummaryOutput:
        """Where the summary of ``what`` ("this channel", "#launch") is shown."""
        ...


class PrivateReplies:
    """Everything through the ``response_url``: only the requester sees it, wherever they asked."""

    def __init__(self, respond: RespondFn) -> None:
        self._respond = respond

    async def tell(self, text: str) -> None:
        await tell(self._respond, text)

    async def open(self, what: str) -> SummaryOutput:
        await tell(self._respond, replies.SUMMARIZE_STARTED_PRIVATE_TEXT.format(what=what))
        return EphemeralOutput(self._respond)


StreamerFactory = Callable[[], MessageStreamer]
PostFn = Callable[[str], Awaitable[object]]


class ThreadReplies:
    """Everything in one thread, streamed: the assistant pane's thread, which is the requester's own DM."""

    def __init__(self, post: PostFn, streamer: StreamerFactory, channel: str) -> None:
        self._post = post
        self._streamer = streamer
        self._channel = channel

    async def tell(self, text: str) -> None:
        try:
            await self._post(text)
        except SlackApiError:
            log.warning("summarizer.thread_reply_failed", exc_info=True)

    async def open(self, what: str) -> SummaryOutput:
        streamer = self._streamer()
        await streamer.open(replies.PLACEHOLDER_TEXT)
        return ChannelOutput(streamer, self._channel)
