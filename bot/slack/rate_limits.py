"""Slack's 429s, counted where every response passes: slack_sdk's retry handlers.

slack_sdk waits out a 429 (``Retry-After``) inside its retry handler, so a rate limit never reaches the caller and
would never show on a dashboard; ``CountingRateLimitHandler`` counts every 429 response it sees, including the last
one it no longer retries, before doing exactly what slack_sdk's own handler does. The delivery client retries
nothing itself (``bot/slack/delivery/calls.py`` owns its waits), so it gets ``RateLimitCounter``: counts, never
retries.
"""

from __future__ import annotations

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.observability import SLACK_RATE_LIMITED, slack_method


def _count(request: HttpRequest, response: HttpResponse | None) -> None:
    if response is not None and response.status_code == 429:
        SLACK_RATE_LIMITED.labels(method=slack_method(request.url)).inc()


class RateLimitCounter(AsyncRetryHandler):
    """Counts a 429 and leaves the retry to the caller."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        _count(request, response)
        return False


class CountingRateLimitHandler(AsyncRateLimitErrorRetryHandler):
    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        _count(request, response)
        return await super().can_retry_async(state=state, request=request, response=response, error=error)
