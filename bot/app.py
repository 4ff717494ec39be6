"""The composition root: build the Bolt ``AsyncApp``, its clients and the assistant, and wire the handlers.

Everything stateful is created here and passed down, so handlers stay thin and tests can build the very same app
against local emulators by changing settings only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.assistant import Assistant, AssistantSettings
from bot.config import ConfigError, Settings
from bot.event_claims import EventClaims
from bot.ledger import Ledger
from bot.observability import DUPLICATE_EVENTS
from bot.state import RedisHandle
from handlers import mentions
from routing.catalog import Catalog, load_catalog
from routing.llm import LLMClient, Timeouts

log = structlog.get_logger(__name__)


@dataclass
class Penny:
    """Everything one running Penny process holds."""

    settings: Settings
    app: AsyncApp
    slack: AsyncWebClient
    redis: RedisHandle
    llm: LLMClient
    assistant: Assistant

    async def close(self) -> None:
        await self.llm.close()
        await self.redis.close()


def check_provider_keys(catalog: Catalog) -> None:
    """Fail start-up naming the first provider key that is missing, instead of failing every request later."""
    for name in sorted({model.provider for model in catalog.models}):
        provider = catalog.providers[name]
        if provider.api_key() is None:
            raise ConfigError(f"{provider.api_key_env} is not set (API key for provider '{name}' in the catalog)")


def build_slack_client(settings: Settings) -> AsyncWebClient:
    assert settings.slack_bot_token is not None
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        retry_handlers=[AsyncConnectionErrorRetryHandler(), AsyncRateLimitErrorRetryHandler(max_retry_count=5)],
    )


def dedup_middleware(claims: EventClaims) -> Any:
    """A global middleware: claim every Events API delivery; drop duplicates with a 200 so Slack stops retrying."""

    async def claim_event(body: dict[str, Any], context: dict[str, Any], next: Any) -> BoltResponse | None:
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if body.get("type") != "event_callback" or not event_id:
            return await next()  # type: ignore[no-any-return]
        claim = await claims.claim(str(body.get("team_id", "")), str(event_id))
        if not claim.outcome.should_process:
            DUPLICATE_EVENTS.labels(reason=claim.outcome.value).inc()
            log.info("event.duplicate", event_id=event_id, status=claim.outcome.value)
            return BoltResponse(status=200, body="")
        if claim.outcome.value == "takeover":
            log.info("event.takeover", event_id=event_id)
        context["event_claim"] = claim
        return await next()  # type: ignore[no-any-return]

    return claim_event


def validate_startup(settings: Settings) -> Catalog:
    """Everything that can be checked before touching the network; raises ``ConfigError``/``CatalogError``."""
    settings.require_runnable()
    catalog = load_catalog(settings.catalog)
    check_provider_keys(catalog)
    return catalog


async def build_penny(settings: Settings, catalog: Catalog, redis: RedisHandle) -> Penny:
    slack = build_slack_client(settings)
    app = AsyncApp(
        client=slack,
        signing_secret=settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else "",
        request_verification_enabled=not settings.socket_mode,
        process_before_response=False,
    )
    claims = EventClaims(redis.client, lease_s=settings.event_lease_s, record_ttl_s=settings.event_record_ttl_s)
    app.use(dedup_middleware(claims))
    llm = LLMClient(
        catalog, timeouts=Timeouts(connect_s=settings.llm_connect_timeout_s, read_s=settings.llm_read_timeout_s)
    )
    assistant = Assistant(
        slack=slack,
        llm=llm,
        catalog=catalog,
        ledger=Ledger(redis.client),
        settings=AssistantSettings(
            stream_interval_s=settings.stream_update_interval_s,
            max_message_chars=settings.max_message_chars,
            context_messages=settings.thread_context_messages,
        ),
    )
    mentions.register(app, assistant.answer)
    return Penny(settings=settings, app=app, slack=slack, redis=redis, llm=llm, assistant=assistant)
