"""The one ``AsyncWebClient`` a Penny process talks to Slack with, and the Bolt middleware that dedups events.

The client waits out 429s (``Retry-After``, up to five times) and retries connection errors once; everything else
reaches the caller as ``SlackApiError`` or a transport error, to be handled where the meaning is known. Replies
are shown through a second client without retry handlers (``build_delivery_client``): delivery decides itself.
"""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.observability import DUPLICATE_EVENTS
from bot.slack.event_claims import ClaimStatus, EventClaims
from bot.slack.rate_limits import CountingRateLimitHandler, RateLimitCounter

log = structlog.get_logger(__name__)


def build_slack_client(settings: Settings) -> AsyncWebClient:
    assert settings.slack_bot_token is not None
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        retry_handlers=[AsyncConnectionErrorRetryHandler(), CountingRateLimitHandler(max_retry_count=5)],
    )


def build_delivery_client(settings: Settings) -> AsyncWebClient:
    """The client replies are shown with: it retries nothing, because ``delivery/calls.py`` owns every wait (a
    progress edit is skipped at once on a 429, a final edit waits it out, a post is looked up before a retry); its
    one handler only counts 429s."""
    assert settings.slack_bot_token is not None
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        retry_handlers=[RateLimitCounter()],
    )


def dedup_middleware(claims: EventClaims) -> Any:
    """A global middleware: claim every Events API delivery; drop duplicates with a 200 so Slack stops retrying."""

    async def claim_event(body: dict[str, Any], context: dict[str, Any], next: Any) -> BoltResponse | None:
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if body.get("type") != "event_callback" or not event_id:
            return await next()  # type: ignore[no-any-return]
        claim = await claims.claim(str(body.get("team_id", "")), str(event_id))
        if not claim.status.should_process:
            DUPLICATE_EVENTS.labels(reason=claim.status.value).inc()
            log.info("event.duplicate", event_id=event_id, status=claim.status.value)
            return BoltResponse(status=200, body="")
        if claim.status is ClaimStatus.TAKEOVER:
            log.info("event.takeover", event_id=event_id)
        context["event_claim"] = claim
        return await next()  # type: ignore[no-any-return]

    return claim_event
