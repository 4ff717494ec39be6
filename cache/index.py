"""In-memory FAISS indexes, one per scope, with removal on every path.

Small scopes use an exact ``IndexIDMap2(IndexFlatIP)`` (vectors are normalised, so inner product is cosine).
Flat search is linear (about 15 ms at 100k here), so a scope that grows past ``ann_switch_size`` moves to
IVF-Flat: it keeps ``remove_ids`` (HNSW does not, and would need tombstones and rebuilds), and with a hash-table
direct map it can also ``reconstruct``. Training the IVF quantiser takes seconds, so the switch is built from a
snapshot off the event loop while the flat index keeps serving; operations that land meanwhile are replayed.

Indexes hold no truth: Redis does. A search result is only a candidate until re-checked against its entry.
Which scopes are held in memory at all, within the memory budget, is resident.py's business.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import faiss as _faiss
import numpy as np

from cache.embedder import EMBEDDING_DIM

if TYPE_CHECKING:
    from numpy.typing import NDArray

faiss: Any = _faiss  # the SWIG stubs mistype remove_ids and miss DirectMap

# What one vector costs besides its floats: the int64 id (FAISS), the id map's reverse-map node, and the int in
# the Python id set. Measured by RSS growth: 1,677 bytes per entry in all at 100k entries (141 over the vectors),
# 811 KiB for a 500-entry scope; so the estimate is a little high for small scopes, never low.
PER_ENTRY_OVERHEAD_BYTES = 144
PER_INDEX_OVERHEAD_BYTES = 4096  # an empty index and its bookkeeping: so even empty scopes count towards the budget


@dataclass(frozen=True)
class Candidate:
    vector_id: int
    similarity: float


def _single_threaded_faiss() -> None:
    """One OpenMP thread for FAISS.

    Penny searches one query at a time, where threads buy nothing; worse, idle OpenMP workers spin after each
    search and steal the second core from the next embedding (measured: p50 of embed + flat search at 10k went
    from ~10 ms to ~36 ms). The k-means of an ANN build is the only bulk work, and it runs in the background.
    """
    if faiss.omp_get_max_threads() != 1:
        faiss.omp_set_num_threads(1)


class ScopeIndex:
    """One scope's vectors. Thread-safe: searches run on the event loop, the ANN build in a worker thread."""

    def __init__(self, *, ann_switch_size: int = 20_000, nprobe: int = 64, dim: int = EMBEDDING_DIM) -> None:
        _single_threaded_faiss()
        self.dim = dim
        self.ann_switch_size = ann_switch_size
        self.nprobe = nprobe
        self._index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._ids: set[int] = set()
        self._lock = threading.RLock()
        self._journal: list[tuple[str, int, NDArray[np.float32] | None]] | None = None

    @property
    def approximate(self) -> bool:
        return isinstance(self._index, faiss.IndexIVFFlat)

    def __len__(self) -> int:
        return len(self._ids)

    def add_many(self, vector_ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> None:
        """Bulk add for a load from Redis (ids not yet present). Blocking for big scopes: run it off the loop."""
        if not len(vector_ids):
            return
        with self._lock:
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim), vector_ids)
            self._ids.update(int(i) for i in vector_ids)

    def memory_bytes(self) -> int:
        """An estimate of what this index holds in memory: its vectors, per-entry bookkeeping, IVF centroids."""
        with self._lock:
            size = PER_INDEX_OVERHEAD_BYTES + len(self._ids) * (self.dim * 4 + PER_ENTRY_OVERHEAD_BYTES)
            if self.approximate:
                size += self._index.nlist * self.dim * 4
            return size

    def add(self, vector_id: int, vector: NDArray[np.float32]) -> bool:
        """Add (idempotent: replicas see their own writes again on the change stream). True if it was new."""
        vec = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, self.dim)
        with self._lock:
            if vector_id in self._ids:
                return False
            self._index.add_with_ids(vec, np.array([vector_id], dtype=np.int64))
            self._ids.add(vector_id)
            if self._journal is not None:
                self._journal.append(("add", vector_id, vec[0].copy()))
            return True

    def remove(self, vector_id: int) -> bool:
        with self._lock:
            if vector_id not in self._ids:
                return False
            self._index.remove_ids(np.array([vector_id], dtype=np.int64))
            self._ids.discard(vector_id)
            if self._journal is not None:
                self._journal.append(("remove", vector_id, None))
            return True

    def search(self, vector: NDArray[np.float32], k: int) -> list[Candidate]:
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, self.dim)
        with self._lock:
            if not self._ids:
                return []
            scores, ids = self._index.search(query, min(k, len(self._ids)))
        return [Candidate(int(i), float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]

    def needs_ann(self) -> bool:
        return not self.approximate and self._journal is None and len(self._ids) > self.ann_switch_size

    def build_ann(self) -> None:
        """Move to IVF-Flat. Blocking (seconds): call from a worker thread, never on the event loop."""
        with self._lock:
            if self.approximate or self._journal is not None:
                return
            ids = np.fromiter(self._ids, dtype=np.int64, count=len(self._ids))
            vectors = np.vstack([self._index.reconstruct(int(i)) for i in ids]).astype(np.float32)
            self._journal = []
        try:
            ivf = _train_ivf(vectors, self.dim, self.nprobe)
            ivf.add_with_ids(vectors, ids)
            with self._lock:
                journal, self._journal = self._journal, None
                for op, vector_id, vec in journal or []:
                    selector = np.array([vector_id], dtype=np.int64)
                    if op == "add" and vec is not None:
                        ivf.remove_ids(selector)
                        ivf.add_with_ids(vec.reshape(1, self.dim), selector)
                    else:
                        ivf.remove_ids(selector)
                self._index = ivf
        finally:
            with self._lock:
                self._journal = None


def _train_ivf(vectors: NDArray[np.float32], dim: int, nprobe: int) -> Any:
    count = len(vectors)
    # About 4·sqrt(n) lists, but never fewer than ~39 training points per list (FAISS' own minimum).
    nlist = max(8, min(int(4 * math.sqrt(count)), count // 39))
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.niter = 10
    ivf.cp.max_points_per_centroid = 64
    rng = np.random.default_rng(0)
    sample = vectors[rng.choice(count, size=min(count, nlist * 64), replace=False)]
    ivf.train(sample)
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
    ivf.nprobe = nprobe
    return ivf
