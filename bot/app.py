"""The composition root: build the Bolt ``AsyncApp``, its clients and the orchestrators, and wire the handlers.

Everything stateful is created here and passed down, so handlers stay thin and tests can build the very same app
against local emulators by changing settings only. What a deployment switches off is replaced here by a null
object (``NoCachedAnswers``, ``NoEmbedder``, ``NoPins``), so no orchestrator asks "is there a cache?". The
embedder is created once and shared by the cache, the router's learned nudge, pin relevance and feedback
signatures, so one loaded model serves everything.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import structlog
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.assistant.cached_answers import AnswerCache, CachedAnswers, NoCachedAnswers
from bot.assistant.context import ContextGatherer, NoEmbedder, NoPins, PinChooser, QuestionEmbedder
from bot.assistant.drafts import Drafts
from bot.assistant.fresh_answers import FreshAnswers
from bot.assistant.joined_threads import JoinedThreads
from bot.assistant.manners import FollowUps
from bot.assistant.orchestrator import Assistant, AssistantParts
from bot.bookkeeping.keeper import LedgerKeeper
from bot.bookkeeping.retention import LedgerRetention
from bot.bookkeeping.spool import FileSpool
from bot.config import ConfigError, Settings
from bot.digest.daily import DailyFigures
from bot.digest.poster import build_digest_poster
from bot.digest.report import DigestReader
from bot.digest.scheduler import DigestScheduler
from bot.feedback.answer_map import AnswerMap
from bot.feedback.deleted_messages import DeletedMessages
from bot.feedback.votes import Feedback
from bot.home.publisher import HomePublisher
from bot.ledger import Ledger
from bot.lifecycle import Lifecycle
from bot.observability import observe_budget, watch_cache_indexes
from bot.pane.service import PaneService
from bot.pins.board import PinBoard
from bot.pins.selection import PinSelector, PinSettings, PinVectors
from bot.redis.connection import RedisHandle
from bot.request import PinChange
from bot.slack.channels import ChannelDirectory
from bot.slack.client import build_delivery_client, build_slack_client, dedup_middleware
from bot.slack.conversations import ConversationReader
from bot.slack.event_claims import EventClaims
from bot.slack.pane import PaneApi
from bot.slack.people import PeopleDirectory
from bot.slack.self_events import IgnoringSelfEventsButDeletions
from bot.slack.streamer import Streamers, StreamMode, StreamSettings
from bot.slack.update_budget import APPEND, START, STOP, UPDATE, UpdateBudget
from bot.summarize.mapreduce import MapReduceSettings
from bot.summarize.partials import NoPartials, PartialStore, PartialSummaries
from bot.summarize.summarizer import Summarizer, SummarizerParts, SummarizerSettings
from cache.embedder import Embedder
from cache.semantic import SemanticCache
from cache.values import CacheSettings
from handlers import (
    actions,
    assistant_pane,
    commands,
    deletions,
    dms,
    fallback,
    home,
    mentions,
    pins,
    reactions,
    shortcuts,
    threads,
    visibility,
)
from routing.calls.llm import LLMClient, Timeouts
from routing.catalog import Catalog, load_catalog
from routing.factory import Routing, build_routing
from routing.learned.config import ScorerConfig
from routing.learned.feedback_log import FeedbackLog
from routing.learned.sync import ScorerSync
from routing.learned.workspaces import WorkspaceScorers
from vocabulary import Visibility

log = structlog.get_logger(__name__)


@dataclass
class Penny:
    """Everything one running Penny process holds."""

    settings: Settings
    app: AsyncApp
    slack: AsyncWebClient
    redis: RedisHandle
    routing: Routing
    assistant: Assistant
    cache: SemanticCache | None = None
    embedder: Embedder | None = None
    digest: DigestScheduler | None = None
    keeper: LedgerKeeper | None = None
    background: list[asyncio.Task[None]] = field(default_factory=list)
    services: list[asyncio.Task[None]] = field(default_factory=list)  # run until close, unlike ``background``

    async def start(self) -> None:
        """Start following the cache's change streams (indexes load per scope on use) and warm the embedding model
        after the server is up (``/readyz`` waits); keep the ledger (flush what a previous run left in the spool,
        trim past the retention age)."""
        if self.keeper is not None:
            self.services.append(asyncio.create_task(self.keeper.run(), name="penny-ledger-keeper"))
        if self.cache is not None:
            self.background.append(asyncio.create_task(self.cache.start()))
        if self.embedder is not None:
            self.background.append(asyncio.create_task(self.embedder.warm_up()))
        if self.digest is not None:
            self.digest.start()

    def ready(self) -> bool:
        return all(task.done() and not task.cancelled() and task.exception() is None for task in self.background)

    async def close(self) -> None:
        if self.digest is not None:
            self.digest.shutdown()
        for task in (*self.background, *self.services):
            task.cancel()
        if self.cache is not None:
            await self.cache.close()
        if self.embedder is not None:
            self.embedder.close()
        client = self.routing.client
        if isinstance(client, LLMClient):
            await client.close()
        await self.redis.close()


def check_provider_keys(catalog: Catalog) -> None:
    """Fail start-up naming the first provider key that is missing, instead of failing every request later."""
    for name in sorted({model.provider for model in catalog.models}):
        provider = catalog.providers[name]
        if provider.api_key() is None:
            raise ConfigError(f"{provider.api_key_env} is not set (API key for provider '{name}' in the catalog)")


def validate_startup(settings: Settings) -> Catalog:
    """Everything that can be checked before touching the network; raises ``ConfigError``/``CatalogError``."""
    settings.require_runnable()
    catalog = load_catalog(settings.catalog)
    check_provider_keys(catalog)
    return catalog


def build_digest_scheduler(
    settings: Settings, slack: AsyncWebClient, redis: RedisHandle, catalog: Catalog
) -> DigestScheduler | None:
    """The weekly digest, when ``PENNY_DIGEST_CHANNEL`` is set (every replica schedules it; one posts)."""
    if settings.digest_channel is None:
        log.info("digest.disabled", reason="PENNY_DIGEST_CHANNEL is not set")
        return None
    poster = build_digest_poster(
        slack, redis.client, channel=settings.digest_channel, tz=settings.digest_tz, baseline_model=catalog.baseline
    )
    return DigestScheduler(poster, cron=settings.digest_cron, tz=settings.digest_tz)


def build_ledger(settings: Settings, redis: RedisHandle) -> tuple[Ledger, LedgerKeeper]:
    """The ledger with its spool under ``PENNY_DATA_DIR``, and the keeper that flushes and trims it."""
    spool = FileSpool(settings.data_dir / "ledger-spool")
    ledger = Ledger(redis.client, spool=spool)
    retention = LedgerRetention(
        redis.client,
        ledger,
        DailyFigures(redis.client, tz=settings.digest_tz.key),
        keep_days=settings.ledger_retention_days,
        tz=settings.digest_tz,
    )
    return ledger, LedgerKeeper(redis.client, ledger, spool, retention)


def build_cache(
    settings: Settings, redis: RedisHandle, embedder: Embedder, channels: ChannelDirectory
) -> SemanticCache:
    async def source_visibility(team_id: str, channel_id: str) -> Visibility:
        return await channels.current_visibility(team_id, channel_id, max_age_s=settings.cache_share_check_ttl_s)

    return SemanticCache(
        redis.client,
        embedder,
        CacheSettings(
            ttl_seconds=settings.cache_ttl_days * 86400,
            max_entries_per_scope=settings.cache_max_entries_per_channel,
            index_memory_mb=settings.cache_index_memory_mb or None,
            share_public_workspace_wide=settings.cache_share_public,
            # Longer than any replica keeps conversations.info: none can write a stale "public" back.
            visibility_quarantine_s=2 * settings.channel_info_ttl_s + 60,
        ),
        source_visibility=source_visibility,
    )


def build_partials(settings: Settings, redis: RedisHandle) -> PartialSummaries:
    """Reusable partial summaries for ``/summarize``, unless ``PENNY_SUMMARY_PARTIAL_TTL_DAYS=0``."""
    ttl_s = round(settings.summary_partial_ttl_days * 86400)
    return PartialStore(redis.client, ttl_s=ttl_s) if ttl_s > 0 else NoPartials()


def build_pins(settings: Settings, board: PinBoard, embedder: Embedder | None) -> PinChooser:
    if settings.pins_max_tokens <= 0:
        return NoPins()
    vectors = PinVectors(embedder.aembed_many) if embedder is not None else None
    return PinSelector(board, settings=PinSettings(max_tokens=settings.pins_max_tokens), vectors=vectors)


async def build_penny(settings: Settings, catalog: Catalog, redis: RedisHandle) -> Penny:
    slack = build_slack_client(settings)
    app = AsyncApp(
        client=slack,
        signing_secret=settings.signing_secret,
        request_verification_enabled=not settings.socket_mode,
        process_before_response=False,
        ignoring_self_events_enabled=False,  # replaced by the one below, which lets Penny see its replies deleted
    )
    app.use(IgnoringSelfEventsButDeletions())
    app.use(
        dedup_middleware(
            EventClaims(redis.client, lease_s=settings.event_lease_s, record_ttl_s=settings.event_record_ttl_s)
        )
    )
    llm = LLMClient(
        catalog, timeouts=Timeouts(connect_s=settings.llm_connect_timeout_s, read_s=settings.llm_read_timeout_s)
    )
    # The learned scorer escalates prompts that resemble badly rated ones, once a workspace has enough 👍/👎
    # votes (the catalog's ``learned.min_votes``); every replica follows the shared feedback log in Redis.
    scorers = WorkspaceScorers(ScorerConfig(min_votes=catalog.policy.learned.min_votes))
    routing = build_routing(catalog, redis.client, client=llm, escalator=scorers, budget_observer=observe_budget)
    channels = ChannelDirectory(slack, ttl_s=settings.channel_info_ttl_s)
    # One model serves every user of question vectors: the cache, the learned router, pins and vote signatures.
    # PENNY_CACHE_ENABLED=false means no semantic cache, even when learned routing loads the model anyway.
    # The ONNX export of the packaged model is written once under PENNY_DATA_DIR (cache/onnx_encoder.py).
    embedder = (
        Embedder(onnx_dir=settings.data_dir / "models")
        if settings.cache_enabled or catalog.policy.learned.enabled
        else None
    )
    cache = (
        build_cache(settings, redis, embedder, channels) if embedder is not None and settings.cache_enabled else None
    )
    answers: AnswerCache = NoCachedAnswers()
    if cache is not None:
        answers = CachedAnswers(cache, channels)
        watch_cache_indexes(cache.index_stats)

        async def on_visibility_change(team_id: str, channel_id: str, visibility: Visibility) -> None:
            await cache.on_visibility_change(team_id, channel_id, visibility)

        channels.on_change(on_visibility_change)
        channels.on_gone(cache.drop_channel)
    votes = FeedbackLog(redis.client)
    answer_map = AnswerMap(redis.client)
    feedback = Feedback(
        answers=answer_map,
        votes=votes,
        scorer_sync=ScorerSync(votes, scorers),
        signature=scorers.signature,
        evict=answers.evict,
    )
    people = PeopleDirectory(slack)  # one name cache for thread context, summaries and pins
    pin_board = PinBoard(slack, ttl_s=settings.pins_cache_ttl_s, people=people)
    ledger, keeper = build_ledger(settings, redis)
    lifecycle = Lifecycle(
        ledger=ledger,
        routing=routing,
        feedback=feedback,
        streamers=Streamers(
            build_delivery_client(settings),
            StreamSettings(
                settings.stream_update_interval_s, settings.max_message_chars, mode=StreamMode(settings.stream_mode)
            ),
            budget=UpdateBudget(
                redis.client,
                per_minute={
                    UPDATE: settings.slack_updates_per_minute,
                    APPEND: settings.slack_appends_per_minute,
                    START: settings.slack_stream_starts_per_minute,
                    STOP: settings.slack_stream_starts_per_minute,
                },
            ),
        ),
    )
    reader = ConversationReader(slack)
    question_embedder: QuestionEmbedder = embedder if embedder is not None else NoEmbedder()
    pane_api = PaneApi(slack)
    drafts = Drafts(redis.client, slack)
    assistant = Assistant(
        AssistantParts(
            slack=slack,
            lifecycle=lifecycle,
            answers=answers,
            routing=routing,
            threads=JoinedThreads(redis.client),
            baseline_model=catalog.baseline_model,
            drafts=drafts,
            fresh=FreshAnswers(redis.client),
            pane=pane_api,
            follow_ups=FollowUps(settings.follow_ups),
            context=ContextGatherer(
                reader=reader,
                people=people,
                embedder=question_embedder,
                pins=build_pins(settings, pin_board, embedder),
                thread_messages=settings.thread_context_messages,
            ),
        )
    )
    partials = build_partials(settings, redis)
    summarizer = Summarizer(
        SummarizerParts(
            lifecycle=lifecycle,
            reader=reader,
            channels=channels,
            people=people,
            routing=routing,
            catalog=catalog,
            slack=slack,
            partials=partials,
        ),
        SummarizerSettings(map_reduce=MapReduceSettings(chunk_tokens=settings.summary_chunk_tokens)),
    )

    # An edited or deleted message: whatever was built from it goes — cached answers (deletions), the channel's
    # cached pins (edits) and the partial summaries that contain it (both).
    deleted = DeletedMessages(answer_map, evict_by_source=answers.evict_by_source, evict=answers.evict)

    async def on_deleted(team_id: str, channel_id: str, ts: str) -> int:
        removed = await deleted.on_deleted(team_id, channel_id, ts)
        await partials.forget_message(team_id, channel_id, ts)
        return removed

    async def on_pin_or_edit(change: PinChange) -> None:
        await pin_board.on_change(change)
        if change.message_ts is not None:
            await partials.forget_message(change.team_id, change.channel_id, change.message_ts)

    pane = PaneService(redis.client, pane_api, assistant, summarizer)
    home_tab = HomePublisher(
        slack,
        ledger,
        DigestReader(ledger, votes, tz=settings.digest_tz, baseline_model=catalog.baseline),
        tz=settings.digest_tz,
    )
    # Order matters: Bolt runs the first listener that matches, and the fallback must come last.
    assistant_pane.register(app, started=pane.started, context_changed=pane.context_changed, message=pane.message)
    mentions.register(app, assistant.answer, allowed_bots=settings.allowed_bots)
    dms.register(app, assistant.direct)
    visibility.register(app, channels.apply)
    threads.register(app, assistant.follow_up)
    actions.register(app, fresh_answer=assistant.refresh, post_draft=drafts.post)
    shortcuts.register(app, summarizer.summarize_privately)
    home.register(app, home_tab.publish)
    deletions.register(app, on_deleted)
    reactions.register(app, feedback.on_reaction)
    pins.register(app, on_pin_or_edit)
    commands.register(app, summarizer.summarize)
    fallback.register(app)
    return Penny(
        settings=settings,
        app=app,
        slack=slack,
        redis=redis,
        routing=routing,
        assistant=assistant,
        cache=cache,
        embedder=embedder,
        digest=build_digest_scheduler(settings, slack, redis, catalog),
        keeper=keeper,
    )
