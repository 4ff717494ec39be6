"""Where an answer is shown: streamed into the thread for everyone (``MessageStreamer``), or, for a draft asked
in a channel, privately to its asker (``DraftOutput``).

The orchestrator talks to either through the few methods of ``ReplyOutput`` and picks one per request before
any work (``choose``), the way ``bot/summarize/outputs.py`` picks a summary's. A draft asked in a DM or the
assistant pane is already private, so it streams like any other answer there.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot import replies
from bot.assistant.drafts import Draft, Drafts
from bot.request import Request, Surface
from bot.slack.blocks import CacheNote
from vocabulary import TaskKind


class ReplyOutput(Protocol):
    """The part of ``bot.slack.streamer.MessageStreamer`` the orchestrator uses after opening it."""

    @property
    def message_ts(self) -> list[str]: ...

    @property
    def text(self) -> str: ...

    @property
    def delivered(self) -> bool:
        """The final text is visible (``finish`` never raises; this says whether it got through)."""
        ...

    def append(self, delta: str) -> None: ...

    async def finish(self, final_text: str | None = None, *, note: CacheNote | None = None) -> Any: ...

    async def fail(self, message: str) -> Any: ...


def private_draft(request: Request, task: TaskKind) -> bool:
    """A draft asked where others would see the answer: it goes to its asker alone."""
    return task is TaskKind.DRAFT and request.surface in (Surface.MENTION, Surface.THREAD)


class DraftOutput:
    """Collects the draft while it is generated (an ephemeral message cannot be edited), then shows it once."""

    def __init__(self, drafts: Drafts, request: Request) -> None:
        self._drafts = drafts
        self._request = request
        self._raw = ""
        self._delivered = False

    @property
    def message_ts(self) -> list[str]:
        return []  # nothing others can react to

    @property
    def delivered(self) -> bool:
        return self._delivered

    @property
    def text(self) -> str:
        return self._raw

    async def open(self) -> None:
        request = self._request
        await self._drafts.tell(request.scope.channel_id, request.user_id, request.thread_ts, replies.DRAFTING_TEXT)

    def append(self, delta: str) -> None:
        self._raw += delta

    async def finish(self, final_text: str | None = None, *, note: CacheNote | None = None) -> None:
        request = self._request
        # The draft is what the model wrote; notes (budget, unreadable thread) are for the asker, not the thread.
        draft = Draft(request.scope.channel_id, request.thread_ts, request.user_id, self._raw or final_text or "")
        await self._drafts.show(request.scope.team_id, draft)
        self._delivered = True

    async def fail(self, message: str) -> None:
        request = self._request
        await self._drafts.tell(request.scope.channel_id, request.user_id, request.thread_ts, message)
