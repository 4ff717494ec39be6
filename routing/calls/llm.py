"""The OpenAI-compatible client: one streamed completion from one model.

The SDK's own retries are off (``max_retries=0``): retries, backoff, fallbacks and health live in one place
(``routing/calls/generate.py``), never stacked inside the SDK where they would multiply waits and hide failures.
This module turns a stream into text deltas plus a final ``Usage``, refuses to call an empty answer a success,
and translates SDK/transport exceptions into ``LLMError`` kinds the retry loop can act on.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import openai

from routing.calls.control_tokens import ControlTokenFilter
from routing.catalog import Catalog, ModelSpec, Provider
from routing.chat import ChatMessage
from routing.spend.cost import Usage


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class StreamEnd:
    """The stream finished: why, and what it cost (``usage`` is None when the provider sent none)."""

    finish_reason: str | None
    usage: Usage | None


@dataclass(frozen=True)
class ControlToken:
    """A chat-template marker removed from the text at this point (``control_tokens.py``): never shown, but the
    quality check (``routing/calls/quality.py``) counts them — many, or a made-up turn, mean a degenerate answer."""

    marker: str


StreamEvent = TextDelta | ControlToken | StreamEnd


class ErrorKind(StrEnum):
    """Why a call failed, by meaning: the retry loop decides per kind (wait, retry, fall back, resume)."""

    RATE_LIMITED = "rate_limited"  # 429 with a chance of success later (honour Retry-After)
    SERVER = "server_error"  # 5xx / 408 / 409 or an error event inside the stream
    TIMEOUT = "timeout"  # transport timeout, or the loop's first-token / idle / overall deadline
    CONNECTION = "connection"  # could not connect
    CUT = "cut"  # the stream broke, or ended without a finish_reason
    EMPTY = "empty"  # an empty or whitespace-only completion
    REJECTED = "rejected"  # other 4xx (bad request, auth, quota, unknown model): this model will not answer
    MISSING_KEY = "missing_key"


class LLMError(Exception):
    """A model call failed in a way the caller may retry or fall back from."""

    def __init__(
        self,
        message: str,
        *,
        model: str,
        retryable: bool = True,
        kind: ErrorKind = ErrorKind.SERVER,
        retry_after_s: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.model = model
        self.retryable = retryable
        self.kind = kind
        self.retry_after_s = retry_after_s
        self.status = status


class EmptyCompletion(LLMError):
    """The model answered with nothing (or only whitespace): never shown to a user as an answer."""

    def __init__(self, message: str, *, model: str) -> None:
        super().__init__(message, model=model, retryable=False, kind=ErrorKind.EMPTY)


class TruncatedStream(LLMError):
    """The stream broke or ended without a finish_reason: whatever text came is only part of an answer."""

    def __init__(self, message: str, *, model: str) -> None:
        super().__init__(message, model=model, retryable=True, kind=ErrorKind.CUT)


class MissingApiKey(LLMError):
    """The provider's key variable is not set; retrying cannot help."""

    def __init__(self, message: str, *, model: str, retryable: bool = False) -> None:
        super().__init__(message, model=model, retryable=retryable, kind=ErrorKind.MISSING_KEY)


def parse_retry_after(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date); None if absent."""
    if not headers:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000.0, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError):
        return None
    return max(when - (time.time() if now is None else now), 0.0)


def classify_api_error(exc: Exception, model: str) -> LLMError:
    """Translate an SDK/transport exception into an ``LLMError`` whose kind the retry loop understands."""
    if isinstance(exc, LLMError):
        return exc
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        code = getattr(exc, "code", None)
        if status == 429 and code != "insufficient_quota":
            retry_after = parse_retry_after(exc.response.headers)
            return LLMError(
                "rate limited (429)", model=model, kind=ErrorKind.RATE_LIMITED, retry_after_s=retry_after, status=status
            )
        if status >= 500 or status in (408, 409):
            retry_after = parse_retry_after(exc.response.headers)
            return LLMError(
                f"server error ({status})", model=model, kind=ErrorKind.SERVER, retry_after_s=retry_after, status=status
            )
        return LLMError(
            f"request rejected ({status}, {code or 'no code'})",
            model=model,
            kind=ErrorKind.REJECTED,
            retryable=False,
            status=status,
        )
    if isinstance(exc, openai.APITimeoutError):
        return LLMError("transport timeout", model=model, kind=ErrorKind.TIMEOUT)
    if isinstance(exc, openai.APIConnectionError):
        return LLMError("connection failed", model=model, kind=ErrorKind.CONNECTION)
    if isinstance(exc, openai.APIError):
        # An SSE error event in the middle of a stream.
        return LLMError(f"error event in stream: {type(exc).__name__}", model=model, kind=ErrorKind.SERVER)
    return TruncatedStream(f"stream broke: {type(exc).__name__}", model=model)


def classify_stream_error(exc: Exception, model: str) -> LLMError:
    """Like ``classify_api_error``, for failures after the stream opened: a broken transport is a cut stream."""
    if isinstance(exc, openai.APIConnectionError | openai.APITimeoutError):
        return TruncatedStream(f"stream broke: {type(exc).__name__}", model=model)
    return classify_api_error(exc, model)


def cached_prompt_tokens(usage: Any) -> int:
    """Prompt tokens the provider served from its prefix cache, 0 when it says nothing.

    OpenAI and most compatible servers report ``prompt_tokens_details.cached_tokens``; DeepSeek's own API
    reports ``prompt_cache_hit_tokens`` (an extra field the SDK keeps). Never more than the prompt itself.
    """
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) if details is not None else None
    if cached is None:
        cached = (getattr(usage, "model_extra", None) or {}).get("prompt_cache_hit_tokens")
    try:
        return max(0, min(int(cached or 0), int(usage.prompt_tokens or 0)))
    except (TypeError, ValueError):
        return 0


def reported_usage(usage: Any) -> Usage:
    """The SDK's usage object as our ``Usage`` (cached prompt tokens included)."""
    return Usage(usage.prompt_tokens, usage.completion_tokens, cached_tokens=cached_prompt_tokens(usage))


@dataclass(frozen=True)
class Timeouts:
    connect_s: float = 5.0
    read_s: float = 60.0


class LLMClient:
    """Streams chat completions from any provider in the catalog, one ``AsyncOpenAI`` client per provider."""

    def __init__(self, catalog: Catalog, *, timeouts: Timeouts | None = None) -> None:
        self._catalog = catalog
        self._timeouts = timeouts or Timeouts()
        self._clients: dict[str, openai.AsyncOpenAI] = {}

    def _client_for(self, model: ModelSpec) -> openai.AsyncOpenAI:
        client = self._clients.get(model.provider)
        if client is None:
            provider: Provider = self._catalog.provider_of(model)
            api_key = provider.api_key()
            if api_key is None:
                raise MissingApiKey(
                    f"{provider.api_key_env} is not set for provider '{model.provider}'",
                    model=model.id,
                    retryable=False,
                )
            client = openai.AsyncOpenAI(
                base_url=provider.base_url,
                api_key=api_key,
                max_retries=0,
                timeout=openai.Timeout(self._timeouts.read_s, connect=self._timeouts.connect_s),
            )
            self._clients[model.provider] = client
        return client

    async def stream(
        self, model: ModelSpec, messages: Sequence[ChatMessage], *, max_tokens: int | None = None
    ) -> AsyncIterator[StreamEvent]:
        """Yield ``TextDelta``s then exactly one ``StreamEnd``; every failure is raised as an ``LLMError``.

        Usage is requested with ``include_usage`` so cost comes from the provider, not from a guess. Leaked
        chat-template control tokens (``routing/calls/control_tokens.py``) are removed before anything else (each one is
        reported as a ``ControlToken`` where it stood, for the quality check). Leading
        whitespace is held back until real text arrives, so a whitespace-only answer never reaches a user;
        it raises ``EmptyCompletion``. A stream that breaks, or ends without a ``finish_reason``, raises
        ``TruncatedStream`` (its ``partial_usage`` is None: a cut stream never reports usage).
        """
        client = self._client_for(model)
        try:
            stream: Any = await client.chat.completions.create(  # type: ignore[call-overload]
                model=model.id,
                messages=list(messages),  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
                max_tokens=max_tokens or model.max_output_tokens,
            )
        except Exception as exc:  # translated by meaning; the caller decides what to do with each kind
            raise classify_api_error(exc, model.id) from exc
        finish_reason: str | None = None
        usage: Usage | None = None
        produced_text = False
        held = ""
        tokens = ControlTokenFilter()
        try:
            async for chunk in stream:
                if chunk.usage is not None:
                    usage = reported_usage(chunk.usage)
                for choice in chunk.choices:
                    parts = tokens.feed_parts(choice.delta.content or "") if choice.delta else []
                    for text, marker in parts:
                        if text:
                            if not produced_text and not text.strip():
                                held += text
                            else:
                                produced_text = True
                                yield TextDelta(held + text)
                                held = ""
                        if marker:
                            yield ControlToken(marker)
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
        except Exception as exc:
            raise classify_stream_error(exc, model.id) from exc
        finally:
            await stream.close()
        for text, marker in tokens.finish_parts():
            if text and (produced_text or text.strip()):
                produced_text = True
                yield TextDelta(held + text)
                held = ""
            if marker:
                yield ControlToken(marker)
        if not produced_text:
            raise EmptyCompletion("the model returned an empty completion", model=model.id)
        if finish_reason is None:
            raise TruncatedStream("the stream ended without a finish_reason", model=model.id)
        yield StreamEnd(finish_reason=finish_reason, usage=usage)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
