"""``IndexSet``: which scopes' FAISS indexes this process holds, within a memory budget.

Every replica used to hold every scope's index (about 151 MiB per 100k entries), so a large organisation outgrew
one process long before it outgrew Redis. Now a scope's index is loaded from its Redis entries on first use
(replica.py reads them) and the least recently used indexes are dropped once their estimated size passes the
budget; the next lookup there loads it again. Only the scopes in use right now (pinned by a lookup) are never
dropped, so a budget smaller than one scope still serves, for the length of that lookup.

A change (add, remove, unshare) for a scope that is not held needs nothing: the next load reads Redis, where the
change already is. A change for a scope being loaded goes to that load's journal and is replayed on top of what
the load read, so an entry removed during the load is not resurrected and one added during it is not lost (ids
are never reused, and adds and removals are idempotent, so replaying what the load already saw is harmless).

Synchronous and single-threaded apart from the indexes themselves: every method runs on the event loop.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import structlog

from cache.index import ScopeIndex

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = structlog.get_logger(__name__)


@dataclass
class Journal:
    """The changes that reached a scope while it was being loaded, in arrival order."""

    ops: list[tuple[str, int, NDArray[np.float32] | None]] = field(default_factory=list)


@dataclass(frozen=True)
class IndexStats:
    loaded_scopes: int
    memory_bytes: int
    budget_bytes: int | None
    evictions: int


class IndexSet:
    """The held scopes' indexes, keyed by the index key from ``cache.entry``, least recently used first.

    ``budget_bytes`` None means no bound (every scope used stays loaded).
    """

    def __init__(self, *, ann_switch_size: int = 20_000, nprobe: int = 64, budget_bytes: int | None = None) -> None:
        self._ann_switch_size = ann_switch_size
        self._nprobe = nprobe
        self.budget_bytes = budget_bytes
        self._indexes: OrderedDict[str, ScopeIndex] = OrderedDict()
        self._loading: dict[str, Journal] = {}
        self._pinned: Counter[str] = Counter()
        self._evictions = 0
        self._total: int | None = None  # the held indexes' estimate, recomputed after a change (None)

    # ---------------------------------------------------------------- reads

    def get(self, key: str) -> ScopeIndex | None:
        """The held index, if any, without counting it as a use."""
        return self._indexes.get(key)

    def use(self, key: str) -> ScopeIndex | None:
        """The held index, if any, now the most recently used."""
        index = self._indexes.get(key)
        if index is not None:
            self._indexes.move_to_end(key)
        return index

    def items(self) -> list[tuple[str, ScopeIndex]]:
        return list(self._indexes.items())

    def loading(self, key: str) -> bool:
        return key in self._loading

    def stats(self) -> IndexStats:
        return IndexStats(len(self._indexes), self.memory_bytes(), self.budget_bytes, self._evictions)

    def memory_bytes(self) -> int:
        if self._total is None:
            self._total = sum(index.memory_bytes() for index in self._indexes.values())
        return self._total

    # ---------------------------------------------------------------- changes

    def add(self, vector_id: int, keys: Sequence[str], vector: NDArray[np.float32]) -> None:
        """Apply an add to each held index, journal it for scopes being loaded; other scopes need nothing."""
        for key in keys:
            index = self._indexes.get(key)
            if index is not None:
                index.add(vector_id, vector)
                self._total = None
            elif (journal := self._loading.get(key)) is not None:
                journal.ops.append(("add", vector_id, vector))

    def remove_everywhere(self, vector_id: int, keys: Iterable[str]) -> None:
        for key in keys:
            index = self._indexes.get(key)
            if index is not None:
                index.remove(vector_id)
                self._total = None
            elif (journal := self._loading.get(key)) is not None:
                journal.ops.append(("remove", vector_id, None))

    # ---------------------------------------------------------------- loads

    def new_index(self) -> ScopeIndex:
        return ScopeIndex(ann_switch_size=self._ann_switch_size, nprobe=self._nprobe)

    def begin_load(self, key: str) -> Journal:
        """Start journaling the scope's changes; call before the load reads Redis."""
        journal = Journal()
        self._loading[key] = journal
        return journal

    def finish_load(self, key: str, journal: Journal, index: ScopeIndex) -> ScopeIndex:
        """Replay the journal onto what the load read and hold the result (most recently used).

        If the set was cleared meanwhile (a stream gap), the result still answers the waiting lookups but is not
        held: the next lookup loads afresh.
        """
        for op, vector_id, vector in journal.ops:
            if op == "add" and vector is not None:
                index.add(vector_id, vector)
            else:
                index.remove(vector_id)
        if self._loading.get(key) is journal:
            del self._loading[key]
            self._indexes[key] = index
            self._indexes.move_to_end(key)
            self._total = None
        return index

    def abort_load(self, key: str, journal: Journal) -> None:
        if self._loading.get(key) is journal:
            del self._loading[key]

    def clear(self) -> None:
        """Forget every held index and every load in progress (a stream gap: nothing held can be trusted)."""
        self._indexes.clear()
        self._loading.clear()
        self._total = None

    # ---------------------------------------------------------------- budget

    def pin(self, keys: Iterable[str]) -> None:
        self._pinned.update(keys)

    def unpin(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._pinned[key] -= 1
            if self._pinned[key] <= 0:
                del self._pinned[key]

    def resized(self) -> None:
        """An index changed shape outside this set (an IVF switch): recompute the estimate next time."""
        self._total = None

    def enforce_budget(self) -> list[str]:
        """Drop least recently used indexes, never a pinned one, until the estimate is within the budget."""
        total = self.memory_bytes()
        if self.budget_bytes is None or total <= self.budget_bytes:
            return []
        dropped: list[str] = []
        for key in list(self._indexes):
            if total <= self.budget_bytes:
                break
            if self._pinned[key] > 0:
                continue
            total -= self._indexes.pop(key).memory_bytes()
            dropped.append(key)
        self._total = total
        if dropped:
            self._evictions += len(dropped)
            log.debug("cache.indexes_dropped", count=len(dropped), memory_bytes=total)
        return dropped
