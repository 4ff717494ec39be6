"""The OpenAI-compatible client: one streamed completion from one model.

The SDK's own retries are off (``max_retries=0``): retries, backoff, fallbacks and health live in one place
(the router's generation loop), never stacked inside the SDK where they would multiply waits and hide failures.
This module turns a stream into text deltas plus a final ``Usage`` and refuses to call an empty answer a success.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import openai

from routing.catalog import Catalog, ModelSpec, Provider

ChatMessage = dict[str, str]


@dataclass(frozen=True)
class Usage:
    """Token counts for one call; ``estimated`` when the provider did not report them."""

    prompt_tokens: int
    completion_tokens: int
    estimated: bool = False


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class StreamEnd:
    """The stream finished: why, and what it cost (``usage`` is None when the provider sent none)."""

    finish_reason: str | None
    usage: Usage | None


StreamEvent = TextDelta | StreamEnd


class LLMError(Exception):
    """A model call failed in a way the caller may retry or fall back from."""

    def __init__(self, message: str, *, model: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.model = model
        self.retryable = retryable


class EmptyCompletion(LLMError):
    """The model answered with nothing (or only whitespace): never shown to a user as an answer."""


class MissingApiKey(LLMError):
    """The provider's key variable is not set; retrying cannot help."""


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
                    model=model.id, retryable=False,
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
        """Yield ``TextDelta``s then exactly one ``StreamEnd``; raise ``EmptyCompletion`` for a blank answer.

        Usage is requested with ``include_usage`` so cost comes from the provider, not from a guess.
        """
        client = self._client_for(model)
        stream: Any = await client.chat.completions.create(
            model=model.id,
            messages=list(messages),  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
            max_tokens=max_tokens or model.max_output_tokens,
        )
        finish_reason: str | None = None
        usage: Usage | None = None
        produced_text = False
        try:
            async for chunk in stream:
                if chunk.usage is not None:
                    usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices:
                    text = choice.delta.content if choice.delta else None
                    if text:
                        produced_text = produced_text or bool(text.strip())
                        yield TextDelta(text)
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
        finally:
            await stream.close()
        if not produced_text:
            raise EmptyCompletion("the model returned an empty completion", model=model.id)
        yield StreamEnd(finish_reason=finish_reason, usage=usage)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
