"""``IndexReplica``: keeps this process's FAISS indexes in step with the entries in Redis, on every replica.

Replicas stay in sync through the change stream in Redis: ``start`` records the stream positions and tails the
stream from there. Indexes are loaded per scope on first use (``indexes_for``): the scope's vectors are read from
Redis in batches and the index is built in a worker thread, while changes that arrive meanwhile are journaled and
replayed (resident.py); concurrent lookups of a scope being loaded wait for that one load. The least recently used
indexes are dropped past the memory budget. A process applies its own writes at once and sees them again on the
stream; index adds and removals are idempotent. A scope that grows past the flat-index size is moved to IVF-Flat
in a worker thread (index.py), scheduled from here.

The replica only reads Redis; every write (store, evict, expiry) is ``SemanticCache``'s, through ``EntryStore``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import structlog

from cache.entry import parse_index_key
from cache.index import ScopeIndex
from cache.resident import IndexSet
from cache.store import Change, EntryStore

log = structlog.get_logger(__name__)

# On a Redis Cluster the change streams cannot be read in one blocking XREAD (they span slots), so the tail polls:
# one pipelined read per node this often (a change reaches other replicas within it).
CLUSTER_POLL_SECONDS = 0.2


class IndexReplica:
    """Rebuilds ``indexes`` from Redis, then follows the change stream until stopped.

    ``indexes`` is shared with the ``SemanticCache`` that searches them and removes its own evictions at once.
    """

    def __init__(self, store: EntryStore, indexes: IndexSet, *, tail_block_seconds: float) -> None:
        self._store = store
        self._indexes = indexes
        self._tail_block_seconds = tail_block_seconds
        self._pause_seconds = (
            tail_block_seconds if store.blocking_reads else min(tail_block_seconds, CLUSTER_POLL_SECONDS)
        )
        self._positions: dict[str, tuple[str, int]] = {}  # team -> (last stream id, last sequence number)
        self._teams_position = "0-0"  # last team announcement read
        self._tail_task: asyncio.Task[None] | None = None
        self._ann_builds: set[asyncio.Task[None]] = set()
        self._loads: dict[str, asyncio.Future[ScopeIndex]] = {}
        self._closing = False

    async def start(self) -> None:
        """Record where the change streams stand, then follow them in the background (indexes load on use)."""
        await self._rebuild()
        self._tail_task = asyncio.create_task(self._tail(), name="penny-cache-tail")

    def stop(self) -> list[asyncio.Future[Any]]:
        """Stop tailing and cancel pending ANN builds; returns the cancelled tasks for the caller to wait on.

        A cancellation that lands inside redis-py's reconnect logic can be swallowed; the tail loop then exits on
        ``_closing`` within one block interval, so the caller should wait with a timeout, never forever.
        """
        self._closing = True
        tasks: list[asyncio.Future[Any]] = [
            t for t in (self._tail_task, *self._ann_builds, *self._loads.values()) if t is not None
        ]
        for task in tasks:
            task.cancel()
        self._tail_task = None
        return tasks

    async def _rebuild(self) -> None:
        # Positions first: a change made after them is then replayed by the tail (idempotently); the announcement
        # position before the team list, so a team that appears in between is announced to us. Dropping every
        # index (and load in progress) means the next lookup of a scope reads it afresh from Redis.
        self._teams_position = await self._store.new_teams_position()
        self._positions = await self._store.stream_positions(await self._store.teams())
        self._indexes.clear()
        log.info("cache.following", teams=len(self._positions))

    # ---------------------------------------------------------------- lazy loads

    async def indexes_for(self, keys: Sequence[str]) -> list[ScopeIndex]:
        """The indexes of ``keys``, loading those not held; none of them is dropped while this call waits."""
        self._indexes.pin(keys)
        try:
            indexes = [self._indexes.use(key) for key in keys]
            missing = [key for key, index in zip(keys, indexes, strict=True) if index is None]
            if missing:
                loaded = dict(zip(missing, await asyncio.gather(*(self._load(k) for k in missing)), strict=True))
                indexes = [loaded.get(key, index) for key, index in zip(keys, indexes, strict=True)]
            self._indexes.enforce_budget()
            return [index for index in indexes if index is not None]
        finally:
            self._indexes.unpin(keys)

    async def _load(self, key: str) -> ScopeIndex:
        """Load one scope, once however many lookups ask at the same time (a cancelled lookup leaves it running)."""
        future = self._loads.get(key)
        if future is None:
            future = asyncio.ensure_future(self._read_scope(key))
            self._loads[key] = future
            future.add_done_callback(lambda done: self._loads.pop(key, None) if self._loads.get(key) is done else None)
        return await asyncio.shield(future)

    async def _read_scope(self, key: str) -> ScopeIndex:
        journal = self._indexes.begin_load(key)  # before reading: every change from now on is replayed
        try:
            team_id, channel_id = parse_index_key(key)
            rows = await self._store.scope_vectors(team_id, channel_id)
            index = self._indexes.new_index()
            if rows:
                await asyncio.to_thread(_fill, index, rows)  # megabytes of copying for a big scope: off the loop
        except BaseException:
            self._indexes.abort_load(key, journal)
            raise
        index = self._indexes.finish_load(key, journal, index)
        log.debug("cache.scope_loaded", entries=len(index), replayed=len(journal.ops))
        self.schedule_ann_builds()
        return index

    async def _tail(self) -> None:
        """Follow every team's change stream, and the announcements of new teams, until closed.

        One blocking ``XREAD`` covers both, so an idle process makes about one Redis call per block interval,
        with or without teams (a fresh install has none). An iteration that read nothing still lasts at least
        one block interval: a Redis (or proxy) that answers at once must not turn this loop into a busy spin
        that starves the model server on the same machine. On a Redis Cluster the read does not block, and the
        pause is ``CLUSTER_POLL_SECONDS``.
        """
        backoff = 0.1
        while not self._closing:
            began = time.monotonic()
            applied = 0
            try:
                applied = await self._tail_once()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restart or network blip: keep the indexes, retry
                log.warning("cache.tail_error", error=type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if not applied:
                await asyncio.sleep(max(0.0, began + self._pause_seconds - time.monotonic()))

    async def _tail_once(self) -> int:
        """Read and apply one batch of changes and team announcements; returns how many there were."""
        batch = await self._store.read_changes(
            {team: pos for team, (pos, _seq) in self._positions.items()},
            new_teams_after=self._teams_position,
            block_ms=int(self._tail_block_seconds * 1000),
        )
        for team in batch.new_teams:
            self._positions.setdefault(team, ("0-0", 0))  # a new team: replay its stream from the start
        self._teams_position = batch.teams_position
        changes = batch.changes
        for change in changes:
            _pos, last_seq = self._positions[change.team_id]
            if change.seq > last_seq + 1:
                # The capped stream dropped changes this process never saw: only a rebuild is safe.
                log.warning("cache.stream_gap", team=change.team_id, expected=last_seq + 1, got=change.seq)
                await self._rebuild()
                return len(changes)
            self._apply_change(change)
            self._positions[change.team_id] = (change.stream_id, max(last_seq, change.seq))
        if changes:
            self.schedule_ann_builds()
            self._indexes.enforce_budget()
        return len(changes) + len(batch.new_teams)

    def _apply_change(self, change: Change) -> None:
        if change.op == "add":
            self.add(change.vector_id, change.index_keys, change.vector)
        else:
            self._indexes.remove_everywhere(change.vector_id, change.index_keys)

    def add(self, vector_id: int, keys: Sequence[str], vector: bytes) -> None:
        """Put a vector in each of its held (or loading) indexes, idempotently; an exact-only entry has none."""
        if not vector:
            return
        self._indexes.add(vector_id, keys, np.frombuffer(vector, dtype=np.float32))

    def schedule_ann_builds(self) -> None:
        """Start an IVF build, off the event loop, for every index that has grown past the flat size."""
        for _key, index in self._indexes.items():
            if index.needs_ann():
                task = asyncio.create_task(asyncio.to_thread(index.build_ann))
                self._ann_builds.add(task)
                task.add_done_callback(self._ann_builds.discard)
                task.add_done_callback(lambda _done: self._indexes.resized())  # the IVF centroids count too


def _fill(index: ScopeIndex, rows: list[tuple[int, bytes]]) -> None:
    ids = np.fromiter((vector_id for vector_id, _ in rows), dtype=np.int64, count=len(rows))
    index.add_many(ids, np.frombuffer(b"".join(vector for _, vector in rows), dtype=np.float32))
