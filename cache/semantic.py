"""``SemanticCache``: the cache the assistant talks to — exact layer, semantic layer, verification, eviction.

A lookup goes: key plan (policy.py) → exact key in the query's channel → semantic search in the channel's FAISS
index (and the team's shared public index when allowed) → every candidate re-checked against its Redis entry
(policy.may_reuse: exists, not expired, same scope or still-public shared, same task, fingerprint, thread, user) →
verification (verification/verifier.py: guards, then the learned scorer) → hit. A wrong hit is worse than a miss,
so each step only ever says no.

Every write goes through here: a store, and every way an entry goes (feedback, a deleted source message, the
per-channel cap, a channel turning private, archived or deleted, the expiry sweep), each applied to Redis and this
process's indexes at once. The other replicas' indexes follow through the change stream (replica.py).

Privacy under change: a channel's visibility record in Redis only goes back to public after a quarantine
(store.py), so a replica with stale channel info cannot re-share a channel that turned private, nor store new
shared answers from it; an entry once unshared is never shared again. A shared entry from another channel is
served only after its source channel's visibility is checked again (``source_visibility``, injected by the bot:
a short-lived ``conversations.info`` answer, unknown meaning private).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import structlog

from cache import policy
from cache.entry import SHARED_CHANNEL, Entry, index_key, parse_entry_id
from cache.replica import IndexReplica
from cache.resident import IndexSet, IndexStats
from cache.store import EntryStore
from cache.values import CacheHit, CacheQuery, CacheSettings, HitKind
from cache.verification.verifier import Verifier
from vocabulary import Tier, Visibility

if TYPE_CHECKING:
    import redis.asyncio as aioredis
    from numpy.typing import NDArray

log = structlog.get_logger(__name__)


DELETED_SOURCE_TTL_S = 3600  # longer than any answer takes to generate and deliver


class EmbedderLike(Protocol):
    async def aembed(self, text: str) -> NDArray[np.float32]: ...


SourceVisibility = Callable[[str, str], Awaitable[Visibility]]
"""(team_id, channel_id) -> who can read the channel now; anything short of sure is ``PRIVATE``."""


class SemanticCache:
    """Scoped exact + semantic answer cache over Redis and per-process FAISS indexes.

    ``clock`` is injected so tests can move time (TTL) without sleeping; every public method also takes ``now``.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        embedder: EmbedderLike,
        settings: CacheSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
        source_visibility: SourceVisibility | None = None,
    ) -> None:
        self.settings = settings or CacheSettings()
        self._source_visibility = source_visibility
        self._store = EntryStore(redis, stream_maxlen=self.settings.stream_maxlen)
        self._embedder = embedder
        self._clock = clock
        budget = self.settings.index_memory_mb
        self._indexes = IndexSet(
            ann_switch_size=self.settings.ann_switch_size,
            nprobe=self.settings.ann_nprobe,
            budget_bytes=None if budget is None else int(budget * 1024 * 1024),
        )
        self._replica = IndexReplica(self._store, self._indexes, tail_block_seconds=self.settings.tail_block_seconds)
        self.verifier = Verifier(threshold=self.settings.verifier_threshold)
        self._sweep_task: asyncio.Task[None] | None = None
        self._closing = False

    # ---------------------------------------------------------------- lifecycle

    async def start(self, *, background_sweep: bool = True) -> None:
        """Rebuild the indexes from Redis, then follow the change stream (``/readyz`` waits for this to return)."""
        await self._replica.start()
        if background_sweep:
            self._sweep_task = asyncio.create_task(self._sweep_forever(), name="penny-cache-sweep")

    async def close(self) -> None:
        self._closing = True
        tasks = self._replica.stop()
        if self._sweep_task is not None:
            self._sweep_task.cancel()
            tasks.append(self._sweep_task)
        # Never wait forever: a cancellation swallowed inside redis-py ends the tail within one block interval.
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        self._sweep_task = None

    def index_stats(self) -> IndexStats:
        """How many scopes' indexes this process holds and their estimated memory (the Prometheus gauges)."""
        return self._indexes.stats()

    # ---------------------------------------------------------------- lookup

    async def lookup(self, query: CacheQuery, *, now: float | None = None) -> CacheHit | None:
        now = self._clock() if now is None else now
        plan = policy.plan(query, share_public=self.settings.share_public_workspace_wide, now=now)
        if not plan.cacheable:
            return None
        if self.settings.share_public_workspace_wide:
            # Every lookup reports its channel's visibility (from conversations.info), so a channel that
            # turned private stops sharing even if no conversion event ever reached Penny.
            await self._note_visibility(query.scope.team_id, query.scope.channel_id, query.scope.visibility)
        # Without the caller's vector, the embedding (milliseconds, on the embedding worker) starts now and
        # overlaps the exact-key round trip; an exact hit leaves its result unused.
        embedding = None
        if plan.semantic and query.vector is None:
            embedding = asyncio.ensure_future(self._embedder.aembed(query.question))
            embedding.add_done_callback(_consume_error)
        exact = await self._store.resolve_exact(query.scope.team_id, plan.exact_digest)
        if exact is not None and policy.may_reuse(
            exact, query, plan, now, share_public=self.settings.share_public_workspace_wide, same_channel_only=True
        ):
            await self._store.touch(exact, now)
            return _hit(exact, 1.0, "exact")
        if not plan.semantic:
            return None
        vector = query.vector if embedding is None else await embedding
        assert vector is not None
        return await self._semantic(query, plan, vector, now)

    async def _semantic(
        self, query: CacheQuery, plan: policy.KeyPlan, vector: NDArray[np.float32], now: float
    ) -> CacheHit | None:
        team = query.scope.team_id
        keys = [index_key(team, query.scope.channel_id)]
        if policy.may_read_shared(query, share_public=self.settings.share_public_workspace_wide):
            keys.append(index_key(team, SHARED_CHANNEL))
        found: dict[int, float] = {}
        # A candidate below the scorer's minimum cosine would be refused after its Redis round trip: skip it here.
        floor = max(self.settings.similarity_threshold, self.verifier.min_cosine)
        for index in await self._replica.indexes_for(keys):  # loads a scope not held (replica.py)
            for cand in index.search(vector, self.settings.candidates):
                if cand.similarity >= floor:
                    found[cand.vector_id] = max(found.get(cand.vector_id, -1.0), cand.similarity)
        if not found:
            return None
        ranked = sorted(found.items(), key=lambda kv: -kv[1])
        entries = await self._store.get_many(team, [vid for vid, _ in ranked])
        # Only entries shared from other channels need their channel's current visibility (policy.may_reuse).
        others = {e.channel_id for e in entries if e is not None and e.channel_id != query.scope.channel_id}
        current = await self._store.visibilities(team, others) if others else {}
        for (vector_id, similarity), entry in zip(ranked, entries, strict=True):
            if entry is None:
                # Removed in Redis but still in this index: the stream will catch up; never serve it.
                log.debug("cache.ghost_candidate", vector_id=vector_id)
                continue
            if not policy.may_reuse(
                entry,
                query,
                plan,
                now,
                share_public=self.settings.share_public_workspace_wide,
                same_channel_only=False,
                channel_visibility=current.get(entry.channel_id),
            ):
                continue
            if entry.channel_id != query.scope.channel_id and not await self._still_public(team, entry.channel_id):
                continue
            verdict = self.verifier.verify(query.question, entry.question, similarity)
            if not verdict.ok:
                log.info(
                    "cache.candidate_refused",
                    reason=verdict.reason,
                    similarity=round(similarity, 3),
                    score=round(verdict.score, 3),
                )
                continue
            await self._store.touch(entry, now)
            return _hit(entry, similarity, "semantic", verdict.score)
        return None

    # ---------------------------------------------------------------- store and evict

    async def store(
        self,
        query: CacheQuery,
        answer: str,
        *,
        model: str,
        tier: Tier,
        source_ts: Sequence[str] = (),
        now: float | None = None,
    ) -> str | None:
        """Cache an answer; returns its entry id, or ``None`` when policy says this must not be cached."""
        now = self._clock() if now is None else now
        plan = policy.plan(query, share_public=self.settings.share_public_workspace_wide, now=now)
        if not plan.cacheable or not answer.strip():
            return None
        vector = b""
        if plan.semantic:
            vec = query.vector if query.vector is not None else await self._embedder.aembed(query.question)
            vector = np.ascontiguousarray(vec, dtype=np.float32).tobytes()
        team, channel = query.scope.team_id, query.scope.channel_id
        # What Redis records wins over what this replica saw: a channel that turned private is not shared again.
        visibility = await self._note_visibility(team, channel, query.scope.visibility)
        entry = Entry(
            vector_id=await self._store.next_vector_id(),
            team_id=team,
            channel_id=channel,
            visibility=visibility,
            task=query.task,
            question=query.question,
            answer=answer,
            model=model,
            tier=tier,
            created=now,
            expires=policy.expires_at(now, self.settings.ttl_seconds, plan),
            exact_digest=plan.exact_digest,
            fingerprint=query.context_fingerprint,
            thread_ts=query.thread_ts or "",
            user_id=plan.personal_user,
            semantic=plan.semantic,
            shared=plan.shareable and visibility is Visibility.PUBLIC,
            sources=list(source_ts),
            vector=vector,
        )
        replaced = await self._store.resolve_exact(team, plan.exact_digest)
        await self._store.add(entry)
        self._replica.add(entry.vector_id, entry.index_keys(), entry.vector)
        if replaced is not None:
            await self._remove(replaced)  # the Fresh answer button replaces the entry
        await self._enforce_cap(team, channel)
        self._replica.schedule_ann_builds()
        self._indexes.enforce_budget()
        if await self._store.any_deleted(team, channel, entry.sources):
            await self._remove(entry)  # a source went while the answer was being written: its deletion found nothing
            log.info("cache.store_dropped_deleted_source", entry_id=entry.entry_id)
            return None
        log.info(
            "cache.stored", entry_id=entry.entry_id, task=query.task, semantic=plan.semantic, shared=plan.shareable
        )
        return entry.entry_id

    async def evict(self, entry_id: str) -> None:
        """Remove one entry everywhere (👎 feedback, the Fresh answer button)."""
        team, vector_id = parse_entry_id(entry_id)
        entry = await self._store.get(team, vector_id)
        if entry is not None:
            await self._remove(entry)

    async def evict_by_source(self, team_id: str, channel_id: str, ts: str) -> int:
        """A source message was deleted: every answer built from it goes, including one stored in the next
        ``DELETED_SOURCE_TTL_S`` (its generation was under way; the mark is set before the eviction, and the store
        checks it after writing, so either order ends with the entry gone)."""
        await self._store.mark_deleted(team_id, channel_id, ts, DELETED_SOURCE_TTL_S)
        removed = 0
        for vector_id in await self._store.by_source(team_id, channel_id, ts):
            entry = await self._store.get(team_id, vector_id)
            if entry is not None:
                await self._remove(entry)
                removed += 1
        return removed

    async def on_visibility_change(self, team_id: str, channel_id: str, visibility: Visibility) -> None:
        """A channel changed visibility (e.g. public → private): its entries stop being served elsewhere, now.

        Visibility is compared by value throughout: a caller may pass the plain string ("public").
        """
        await self._note_visibility(team_id, channel_id, visibility, unshare_always=True)

    async def drop_channel(self, team_id: str, channel_id: str) -> int:
        """A channel was archived or deleted: every answer cached from it goes; returns how many."""
        removed = 0
        for vector_id in await self._store.in_channel(team_id, channel_id):
            entry = await self._store.get(team_id, vector_id)
            if entry is not None:
                await self._remove(entry)
                removed += 1
        log.info("cache.channel_dropped", channel_id=channel_id, removed=removed)
        return removed

    async def _note_visibility(
        self, team_id: str, channel_id: str, visibility: Visibility, *, unshare_always: bool = False
    ) -> Visibility:
        """Record what was seen; returns the visibility Redis now records (which a stale "public" cannot raise)."""
        previous, recorded = await self._store.set_visibility(
            team_id, channel_id, visibility, quarantine_s=self.settings.visibility_quarantine_s
        )
        if recorded != Visibility.PUBLIC and (unshare_always or previous != recorded):
            await self._unshare_channel(team_id, channel_id)
        return recorded

    async def _still_public(self, team_id: str, channel_id: str) -> bool:
        """Ask again before serving a shared entry elsewhere; a channel that is not public any more is unshared."""
        if self._source_visibility is None:
            return True  # no way to ask: the Redis record (already checked by may_reuse) decides
        visibility = await self._source_visibility(team_id, channel_id)
        if visibility is Visibility.PUBLIC:
            return True
        await self._note_visibility(team_id, channel_id, visibility, unshare_always=True)
        return False

    async def sweep_expired(self, *, now: float | None = None) -> int:
        """Remove entries past their TTL (and their vectors). Runs periodically; tests call it with ``now``."""
        now = self._clock() if now is None else now
        removed = 0
        for team in await self._store.teams():
            for vector_id in await self._store.expired(team, now):
                entry = await self._store.get(team, vector_id)
                if entry is not None:
                    await self._remove(entry)
                    removed += 1
        return removed

    async def _sweep_forever(self) -> None:
        while not self._closing:
            await asyncio.sleep(self.settings.sweep_interval_seconds)
            try:
                await self.sweep_expired()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("cache.sweep_error", error=type(exc).__name__)

    async def _enforce_cap(self, team_id: str, channel_id: str) -> None:
        excess = await self._store.scope_size(team_id, channel_id) - self.settings.max_entries_per_scope
        if excess <= 0:
            return
        for vector_id in await self._store.least_recently_used(team_id, channel_id, excess):
            entry = await self._store.get(team_id, vector_id)
            if entry is not None:
                await self._remove(entry)

    async def _unshare_channel(self, team_id: str, channel_id: str) -> None:
        for vector_id in await self._store.in_channel(team_id, channel_id):
            entry = await self._store.get(team_id, vector_id)
            if entry is not None and entry.shared:
                await self._store.unshare(entry)
                self._indexes.remove_everywhere(vector_id, [index_key(team_id, SHARED_CHANNEL)])

    async def _remove(self, entry: Entry) -> None:
        await self._store.remove(entry)
        self._indexes.remove_everywhere(entry.vector_id, entry.index_keys())


def _consume_error(future: asyncio.Future[Any]) -> None:
    """An embedding nobody awaited (the exact layer answered) must not log "exception never retrieved"."""
    if not future.cancelled():
        future.exception()


def _hit(entry: Entry, similarity: float, kind: HitKind, confidence: float = 1.0) -> CacheHit:
    return CacheHit(
        entry_id=entry.entry_id,
        answer=entry.answer,
        model=entry.model,
        tier=entry.tier,
        created_at=entry.created,
        similarity=similarity,
        kind=kind,
        confidence=confidence,
    )
