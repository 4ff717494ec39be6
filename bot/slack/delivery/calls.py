"""Slack Web API calls for showing replies: one attempt that never raises, and the retries a call that must land gets.

Every failure is sorted once into what it means for delivery (``Failure``): wait and try again (``RATE_LIMITED``
with Slack's ``Retry-After``; ``TRANSIENT`` for ``internal_error``, ``fatal_error``, HTTP 5xx, a dropped connection
or a slow answer), the message is ``GONE`` (``message_not_found``, ``cant_update_message``…: post the answer as a new
message instead), or ``REJECTED`` (Slack will not take this call as it is). A transient failure is *ambiguous* —
Slack may have done what was asked before it failed — so a post is tagged with a delivery id in its message
metadata and looked up before it is retried: a reply is never posted twice.

The client passed in must not retry on its own (``build_delivery_client`` gives it only a 429 counter): this
module owns waiting, so a progress edit can be skipped at once while a final edit waits ``Retry-After`` out.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = structlog.get_logger(__name__)


class Failure(StrEnum):
    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"
    GONE = "gone"
    REJECTED = "rejected"


_GONE = frozenset(
    {
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "message_not_in_streaming_state",
        "stopped_by_user",
        "message_not_owned_by_app",
    }
)
_TRANSIENT = frozenset(
    {
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "update_failed",
        "messaging_processing_failed",
        "team_added_to_org",
        "http_error",
        "connection_error",
        "timeout",
    }
)


@dataclass(frozen=True)
class CallResult:
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    status: int = 200
    retry_after_s: float | None = None
    exception: SlackApiError | None = None

    @property
    def failure(self) -> Failure | None:
        if self.ok:
            return None
        if self.status == 429 or self.error in ("ratelimited", "rate_limited"):
            return Failure.RATE_LIMITED
        if self.error in _GONE:
            return Failure.GONE
        if self.error in _TRANSIENT or self.status >= 500:
            return Failure.TRANSIENT
        return Failure.REJECTED

    @property
    def ts(self) -> str | None:
        value = self.data.get("ts")
        return str(value) if value else None

    def raise_for_failure(self) -> None:
        if self.exception is not None:
            raise self.exception
        if not self.ok:
            raise RuntimeError(f"slack call failed: {self.error}")


@dataclass(frozen=True)
class DeliveryRetry:
    """How hard a call that must land is tried: attempts, backoff, and the longest ``Retry-After`` honoured."""

    attempts: int = 6  # calls per transient failure streak (a 5xx, a time-out, ``internal_error``)
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    max_retry_after_s: float = 60.0
    # 429s are Slack saying "later", not failing: a call waits them out up to this long in all. Twenty answers
    # finishing at once in one channel (one post a second) need about twenty Retry-Afters, not six attempts.
    rate_limited_s: float = 120.0


@dataclass
class _Tries:
    """One must-land call's tries so far: transient failures, and seconds waited for rate limits."""

    failures: int = 0
    rate_limited_s: float = 0.0


class SlackCalls:
    """The delivery calls of one process, over one ``AsyncWebClient`` (without retry handlers)."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        retry: DeliveryRetry | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self._retry = retry or DeliveryRetry()
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()

    async def once(self, method: str, **kwargs: Any) -> CallResult:
        """One attempt; every outcome, failures included, comes back as a ``CallResult``."""
        call = getattr(self._client, method.replace(".", "_"))
        try:
            response = await call(**kwargs)
            return CallResult(ok=True, data=dict(response.data) if isinstance(response.data, dict) else {})
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            status = int(exc.response.status_code or 0)
            error = str(data.get("error") or (f"http_{status}" if status != 200 else "http_error"))
            retry_after = _retry_after(exc.response.headers)
            log.info("slack.call_failed", method=method, error=error, status=status, retry_after_s=retry_after)
            return CallResult(False, dict(data), error, status, retry_after, exc)
        except TimeoutError:
            log.info("slack.call_failed", method=method, error="timeout")
            return CallResult(False, error="timeout", status=599)
        except (aiohttp.ClientError, OSError) as exc:
            log.info("slack.call_failed", method=method, error="connection_error", detail=type(exc).__name__)
            return CallResult(False, error="connection_error", status=599)
        except Exception as exc:  # a bug or an SDK-side refusal: never let it escape delivery
            log.warning("slack.call_failed", method=method, error=type(exc).__name__, exc_info=True)
            return CallResult(False, error=type(exc).__name__, status=0)

    def ts_ago(self, seconds: float) -> str:
        """A Slack ts ``seconds`` before now, for ``oldest=`` look-ups."""
        return f"{self._wall_clock() - seconds:.6f}"

    async def must(
        self,
        method: str,
        *,
        before: Callable[[], Awaitable[object]] | None = None,
        retry_transient: bool = True,
        **kwargs: Any,
    ) -> CallResult:
        """Retry rate limits (after ``Retry-After``) and, unless told not to, transient failures.

        ``before`` runs ahead of every attempt (it takes a budget slot). Transient retries are only for calls that
        are safe to repeat (an edit); an append is not — a post goes through ``post`` instead.
        """
        tries = _Tries()
        while True:
            if before is not None:
                await before()
            result = await self.once(method, **kwargs)
            if result.ok or (result.failure is Failure.TRANSIENT and not retry_transient):
                return result
            if not await self._wait_before_retry(result, tries):
                return result

    async def post(
        self, channel: str, thread_ts: str | None, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> CallResult:
        """``chat.postMessage`` that lands at most once: an ambiguous failure is looked up before the retry."""
        key = uuid.uuid4().hex
        since = self.ts_ago(120)
        kwargs: dict[str, Any] = {
            "channel": channel,
            "text": text,
            "unfurl_links": False,
            "metadata": {"event_type": "penny_reply", "event_payload": {"delivery": key}},
        }
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        if blocks is not None:
            kwargs["blocks"] = blocks
        tries = _Tries()
        while True:
            result = await self.once("chat.postMessage", **kwargs)
            if result.ok:
                return result
            if result.failure is Failure.TRANSIENT:
                found = await self.find_own(channel, thread_ts, since, lambda m: _delivery_key(m) == key)
                if found is not None:
                    log.info("slack.post_found_after_failure", error=result.error)
                    return CallResult(True, {"ok": True, "channel": channel, "ts": found})
            if not await self._wait_before_retry(result, tries):
                return result

    async def find_own(
        self, channel: str, thread_ts: str | None, since: str, match: Callable[[dict[str, Any]], bool]
    ) -> str | None:
        """The ts of a message in the thread (or channel) since ``since`` that ``match``es, if one can be seen."""
        if thread_ts:
            found = await self.must(
                "conversations.replies", channel=channel, ts=thread_ts, oldest=since, include_all_metadata=True
            )
        else:
            found = await self.must("conversations.history", channel=channel, oldest=since, include_all_metadata=True)
        for message in found.data.get("messages", []) if found.ok else []:
            if isinstance(message, dict) and match(message):
                return str(message.get("ts"))
        return None

    async def _wait_before_retry(self, result: CallResult, tries: _Tries) -> bool:
        """Sleep before the next attempt; False when this failure is not worth another one."""
        failure = result.failure
        if failure is Failure.RATE_LIMITED:
            wait = min(result.retry_after_s if result.retry_after_s is not None else 1.0, self._retry.max_retry_after_s)
            wait += self._rng.uniform(0, 0.25)  # never earlier than asked; jitter spreads replies that waited together
            if tries.rate_limited_s + wait > self._retry.rate_limited_s:
                return False
            tries.rate_limited_s += wait
        elif failure is Failure.TRANSIENT:
            tries.failures += 1
            if tries.failures >= self._retry.attempts:
                return False
            ceiling = min(self._retry.backoff_max_s, self._retry.backoff_base_s * 2 ** (tries.failures - 1))
            wait = ceiling / 2 + self._rng.uniform(0, ceiling / 2)
        else:
            return False
        await self._sleep(wait)
        return True


def _retry_after(headers: Any) -> float | None:
    try:
        value = headers.get("Retry-After") if headers is not None else None
        return float(value) if value is not None else None
    except (TypeError, ValueError, AttributeError):
        return None


def _delivery_key(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata")
    if not isinstance(metadata, dict):
        return None
    payload = metadata.get("event_payload")
    return str(payload.get("delivery")) if isinstance(payload, dict) and payload.get("delivery") else None
