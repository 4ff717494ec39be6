"""ScopeIndex: exact and approximate paths both add, find and truly remove vectors."""

from __future__ import annotations

import numpy as np

from cache.index import ScopeIndex
from tests.unit.cache.conftest import random_unit


def _filled(count: int, switch: int) -> ScopeIndex:
    index = ScopeIndex(ann_switch_size=switch, nprobe=16)
    for i in range(count):
        index.add(i, random_unit(i))
    return index


def test_flat_add_search_remove() -> None:
    index = _filled(50, switch=1000)
    assert not index.approximate and not index.needs_ann()
    top = index.search(random_unit(7), 3)
    assert top[0].vector_id == 7 and top[0].similarity > 0.99
    assert index.remove(7) and not index.remove(7)
    assert all(c.vector_id != 7 for c in index.search(random_unit(7), 10))
    assert not index.add(8, random_unit(8))  # idempotent


def test_switch_to_ivf_keeps_removal_and_replays_concurrent_changes() -> None:
    index = _filled(400, switch=300)
    assert index.needs_ann()
    index.build_ann()
    assert index.approximate and len(index._ids) == 400
    assert index.search(random_unit(123), 1)[0].vector_id == 123
    assert index.remove(123)
    assert all(c.vector_id != 123 for c in index.search(random_unit(123), 20))
    index.add(1000, random_unit(1000))
    assert index.search(random_unit(1000), 1)[0].vector_id == 1000
    assert len(index._ids) == 400


def test_search_on_empty_index() -> None:
    assert ScopeIndex().search(np.ones(384, dtype=np.float32) / np.sqrt(384), 5) == []
