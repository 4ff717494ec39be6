"""Slack's 429s, counted: the Web API client's rate-limit retry handler, with a Prometheus counter.

slack_sdk waits out a 429 (``Retry-After``) inside its retry handler, so a rate limit never reaches the caller and
would never show on a dashboard; this handler counts every 429 response it sees, including the last one it no
longer retries, before doing exactly what slack_sdk's own handler does.
"""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.observability import SLACK_RATE_LIMITED, slack_method


class CountingRateLimitHandler(AsyncRateLimitErrorRetryHandler):
    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            SLACK_RATE_LIMITED.labels(method=slack_method(request.url)).inc()
        return await super().can_retry_async(state=state, request=request, response=response, error=error)
