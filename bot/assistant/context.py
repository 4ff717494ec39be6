"""Step 2 of an answer: everything the model will read besides the question — the thread, the people in it by
name, the pinned documents that matter — and the question's one embedding.

The thread is read first; names are looked up while the question is embedded (the embedding worker and Slack
work in parallel); pins are chosen with the same vector the cache and the router use. A thread that cannot be read
does not stop the answer: it is answered from the user's own words, with a note that says why the thread is
missing (``bot/replies.py``), and the log gets the error code, never the text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from bot import replies
from bot.assistant.prompts import before, chat_messages
from bot.pins.selection import PinSelection
from bot.request import Request
from bot.slack.conversations import ConversationReader, ConversationUnavailable, SlackMessage
from bot.slack.people import PeopleDirectory, people_in
from routing.chat import ChatMessage
from vocabulary import TaskKind, Vector

log = structlog.get_logger(__name__)

CONTEXT_NAME_LOOKUPS = 20  # users.info calls for one request's thread at most (cached an hour afterwards)
# A summary of the thread is about the thread: pins join it only when the request names them ("the pinned doc").
PIN_TASKS = frozenset({TaskKind.QA, TaskKind.DRAFT, TaskKind.CHAT})


class QuestionEmbedder(Protocol):
    """``cache.embedder.Embedder`` in production; ``NoEmbedder`` when no model is loaded."""

    async def aembed(self, text: str) -> Vector | None: ...


class NoEmbedder:
    """No embedding model: no vector, so no semantic cache, no learned nudge, pins only when named."""

    async def aembed(self, text: str) -> Vector | None:
        return None


class PinChooser(Protocol):
    """``bot.pins.selection.PinSelector`` in production; ``NoPins`` when pins are off."""

    async def select(
        self,
        team_id: str,
        channel_id: str,
        question: str,
        question_vector: Vector | None,
        *,
        explicit_only: bool = False,
    ) -> PinSelection: ...


class NoPins:
    """Pins switched off (``PENNY_PINS_MAX_TOKENS=0``)."""

    async def select(
        self,
        team_id: str,
        channel_id: str,
        question: str,
        question_vector: Vector | None,
        *,
        explicit_only: bool = False,
    ) -> PinSelection:
        return PinSelection()


@dataclass(frozen=True)
class Gathered:
    """What one request's prompt is made of."""

    messages: list[ChatMessage]  # the whole prompt: system, pins, earlier turns, question
    thread: list[SlackMessage]  # the thread as read ([] when it could not be)
    vector: Vector | None
    pins: PinSelection
    thread_read: bool = True  # False: the thread could not be read, so the answer must not be cached
    notes: list[str] = field(default_factory=list)  # sentences for the user about what was missing

    @property
    def source_ts(self) -> list[str]:
        """Every message the answer was built from: deleting any of them evicts the cached answer."""
        return [m.ts for m in self.thread] + self.pins.message_ts

    def grounded(self, current_ts: str) -> bool:
        """The prompt carries something to answer from (earlier messages, pins): "I don't know" is then a failure."""
        return bool(self.pins.pins) or bool(self.earlier(current_ts))

    def earlier(self, current_ts: str) -> Sequence[SlackMessage]:
        return before(self.thread, current_ts)


class ContextGatherer:
    def __init__(
        self,
        *,
        reader: ConversationReader,
        people: PeopleDirectory,
        embedder: QuestionEmbedder,
        pins: PinChooser,
        thread_messages: int,
    ) -> None:
        self._reader = reader
        self._people = people
        self._embedder = embedder
        self._pins = pins
        self._thread_messages = thread_messages

    async def gather(self, request: Request, task: TaskKind) -> Gathered:
        thread, notes, read = await self._thread(request)
        earlier = before(thread, request.message_ts)
        names = asyncio.create_task(self._people.names(people_in(earlier), max_lookups=CONTEXT_NAME_LOOKUPS))
        vector = await self._embedder.aembed(request.text)
        pins = await self._pins.select(
            request.scope.team_id, request.scope.channel_id, request.text, vector, explicit_only=task not in PIN_TASKS
        )
        messages = chat_messages(request.text, thread, current_ts=request.message_ts, pins=pins.pins, names=await names)
        return Gathered(messages, thread, vector, pins, read, notes)

    async def _thread(self, request: Request) -> tuple[list[SlackMessage], list[str], bool]:
        try:
            found = await self._reader.thread(request.scope.channel_id, request.thread_ts, limit=self._thread_messages)
        except ConversationUnavailable as exc:
            log.warning(
                "assistant.context_unavailable",
                error=exc.reason,
                permission=exc.permission,
                request_id=request.request_id,
            )
            note = (
                replies.CONTEXT_NO_ACCESS_NOTE.format(reason=exc.reason)
                if exc.permission
                else replies.CONTEXT_READ_FAILED_NOTE
            )
            return [], [note], False
        return found.messages, [], True
