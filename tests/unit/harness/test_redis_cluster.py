"""The loopback cluster's slot split: every slot owned once, in contiguous ranges, one per node."""

from __future__ import annotations

from tests.harness.redis_cluster import BUS_OFFSET, SLOTS, cluster_port, slot_ranges


def test_slots_are_split_into_one_contiguous_range_per_node() -> None:
    for nodes in (1, 3, 5):
        ranges = slot_ranges(nodes)
        assert len(ranges) == nodes
        assert [slot for r in ranges for slot in r] == list(range(SLOTS))
        assert max(len(r) for r in ranges) - min(len(r) for r in ranges) <= 1


def test_a_node_port_leaves_room_for_its_cluster_bus() -> None:
    assert all(cluster_port() + BUS_OFFSET <= 65535 for _ in range(20))
