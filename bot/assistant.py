"""The one orchestrator: a ``Request`` in, a streamed Slack reply and exactly one ledger row out.

Order matters for perceived speed and for correctness: the placeholder goes up before any CPU or model work; the
ledger row is written in ``finally`` so failures are counted too; the event claim is finished last, so a crash
anywhere before leaves the event retryable (and the placeholder is reused by the retry, never doubled).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.event_claims import EventClaim
from bot.ledger import Ledger, LedgerEntry
from bot.prompts import chat_messages
from bot.request import Request
from bot.slack_context import ContextUnavailable, thread_messages
from bot.streamer import MessageStreamer
from routing.catalog import Catalog, Tier
from routing.llm import EmptyCompletion, LLMClient, StreamEnd, TextDelta

log = structlog.get_logger(__name__)

HELP_TEXT = (
    "Hi, I'm Penny :wave: Mention me with a question, e.g. `@Penny what did we decide about the launch date?`, "
    "or ask me to summarize or draft a reply in a thread. I answer in the thread."
)
EMPTY_ANSWER_TEXT = (
    ":warning: Sorry, I couldn't produce an answer this time (the model returned nothing). "
    "Please try again in a moment."
)
MODEL_FAILED_TEXT = (
    ":warning: Sorry, I can't reach a language model right now, so I couldn't answer. "
    "Please try again in a few minutes."
)
CONTEXT_FAILED_TEXT = (
    ":warning: I can't read this conversation (`{reason}`). Invite me to the channel with `/invite @Penny` "
    "and ask again."
)


@dataclass(frozen=True)
class AssistantSettings:
    stream_interval_s: float = 1.0
    max_message_chars: int = 3900
    context_messages: int = 50


class Assistant:
    """Answers requests; owns no Slack payload parsing (handlers) and no provider logic (routing)."""

    def __init__(
        self,
        *,
        slack: AsyncWebClient,
        llm: LLMClient,
        catalog: Catalog,
        ledger: Ledger,
        settings: AssistantSettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._slack = slack
        self._llm = llm
        self._catalog = catalog
        self._ledger = ledger
        self._settings = settings
        self._clock = clock

    async def answer(self, request: Request, claim: EventClaim | None = None) -> None:
        started = self._clock()
        entry = LedgerEntry(
            request_id=request.request_id, team_id=request.scope.team_id, channel_id=request.scope.channel_id,
            user_id=request.user_id, surface=request.surface.value, task="chat", outcome="failed",
        )
        if claim is not None:
            claim.start_heartbeat()
        try:
            entry = await self._answer(request, claim, entry)
        except SlackApiError as exc:
            log.warning("assistant.slack_error", error=exc.response.get("error"), request_id=request.request_id)
        except Exception:
            log.exception("assistant.unexpected_error", request_id=request.request_id)
            raise
        finally:
            entry = replace(entry, latency_ms=int((self._clock() - started) * 1000))
            await self._ledger.record(entry)
            if claim is not None:
                await claim.finish()

    async def _answer(self, request: Request, claim: EventClaim | None, entry: LedgerEntry) -> LedgerEntry:
        channel = request.scope.channel_id
        streamer = MessageStreamer(
            self._slack, channel, request.thread_ts,
            interval_s=self._settings.stream_interval_s, max_chars=self._settings.max_message_chars,
            clock=self._clock,
        )
        reuse_ts = claim.previous_reply_ts if claim is not None else None
        if request.is_empty:
            if reuse_ts:
                await self._slack.chat_update(channel=channel, ts=reuse_ts, text=HELP_TEXT)
            else:
                await self._slack.chat_postMessage(channel=channel, thread_ts=request.thread_ts, text=HELP_TEXT)
            return replace(entry, outcome="help")

        placeholder_ts = await streamer.open(reuse_ts=reuse_ts)
        if claim is not None and reuse_ts is None:
            await claim.remember_reply(channel, placeholder_ts)

        try:
            context = await thread_messages(
                self._slack, channel, request.thread_ts, limit=self._settings.context_messages
            )
        except ContextUnavailable as exc:
            await streamer.fail(CONTEXT_FAILED_TEXT.format(reason=exc.reason))
            return entry
        messages = chat_messages(request.text, context, current_ts=request.message_ts)

        model = self._catalog.models_in_tier(Tier.ECONOMY)[0]
        entry = replace(entry, model=model.id, tier=model.tier.value, attempts=1)
        try:
            async for event in self._llm.stream(model, messages):
                if isinstance(event, TextDelta):
                    streamer.append(event.text)
                elif isinstance(event, StreamEnd) and event.usage is not None:
                    entry = replace(
                        entry, prompt_tokens=event.usage.prompt_tokens,
                        completion_tokens=event.usage.completion_tokens,
                    )
        except EmptyCompletion:
            log.warning("assistant.empty_completion", model=model.id, request_id=request.request_id)
            await streamer.fail(EMPTY_ANSWER_TEXT)
            return entry
        except Exception as exc:  # any provider failure ends in one clear sentence; the log keeps the type
            log.warning("assistant.model_failed", model=model.id, error=type(exc).__name__)
            await streamer.fail(MODEL_FAILED_TEXT)
            return entry
        await streamer.finish()
        return replace(entry, outcome="answered")
