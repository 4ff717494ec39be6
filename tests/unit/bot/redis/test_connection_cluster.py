"""The cluster client: chosen by ``PENNY_REDIS_CLUSTER`` or a ``redis+cluster://`` URL, and working on a real
three-master cluster, where a command across hash slots is refused (which is what makes the cluster re-runs of the
Redis tests able to fail)."""

from __future__ import annotations

import pytest
import redis
import redis.asyncio as aioredis
import redis.cluster
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot
from redis.exceptions import RedisClusterException

from bot.config import ConfigError, Settings, is_cluster_url, load_settings
from bot.redis.connection import connect_redis, plain_url, redis_client, sync_client
from bot.redis.keys import LEDGER_TEAMS_KEY, ledger_seen_key, ledger_stream_key
from tests.harness.redis_cluster import LocalRedisCluster, slot_ranges


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_the_flag_or_the_url_scheme_picks_the_cluster_client() -> None:
    flagged = redis_client("redis://10.0.0.1:7000", _settings(redis_url="redis://10.0.0.1:7000", redis_cluster=True))
    assert isinstance(flagged, RedisCluster)
    by_url = redis_client("redis+cluster://10.0.0.1:7000", _settings(redis_url="redis+cluster://10.0.0.1:7000"))
    assert isinstance(by_url, RedisCluster)
    single = redis_client("redis://10.0.0.1:6379/0", _settings(redis_url="redis://10.0.0.1:6379/0"))
    assert isinstance(single, aioredis.Redis) and not isinstance(single, RedisCluster)
    assert _settings(redis_url="rediss+cluster://h:1").redis_cluster_mode
    assert not _settings(redis_url="redis://h:1").redis_cluster_mode


def test_cluster_urls_become_urls_redis_py_parses() -> None:
    assert is_cluster_url("redis+cluster://h:7000") and is_cluster_url("rediss+cluster://u:p@h:7000")
    assert not is_cluster_url("redis://h:6379/0")
    assert plain_url("redis+cluster://h:7000") == "redis://h:7000"
    assert plain_url("rediss+cluster://u:p@h:7000") == "rediss://u:p@h:7000"
    assert type(sync_client("redis://h:6379/0")) is redis.Redis


def test_cluster_mode_without_a_url_is_refused_at_start_up() -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(_env_file=None, redis_cluster=True)
    assert str(refused.value) == (
        "PENNY_REDIS_CLUSTER is invalid: Value error, it needs PENNY_REDIS_URL, any node of the cluster "
        "(the embedded Redis is one server)"
    )


def test_the_cluster_has_three_masters_sharing_every_slot(redis_cluster: LocalRedisCluster) -> None:
    client = sync_client(redis_cluster.url)
    try:
        assert isinstance(client, redis.cluster.RedisCluster)
        assert len(client.get_primaries()) == 3
        ranges = client.cluster_slots(target_nodes=redis.cluster.RedisCluster.RANDOM)
        covered = sorted(slot for start, end in ranges for slot in range(start, end + 1))
        assert covered == list(range(16384))
    finally:
        client.close()


async def test_penny_connects_to_the_cluster_and_a_workspace_stays_in_one_slot(cluster_url: str) -> None:
    handle = await connect_redis(_settings(redis_url=cluster_url))
    client = handle.client
    try:
        assert isinstance(client, RedisCluster)
        assert len({key_slot(k.encode()) for k in (ledger_stream_key("T9"), ledger_seen_key("T9", "r1"))}) == 1
        teams = [next(f"T{n}" for n in range(10_000) if key_slot(f"T{n}".encode()) in r) for r in slot_ranges(3)]
        for team in teams:  # one workspace on each node
            await client.xadd(ledger_stream_key(team), {"n": "1"})
        await client.sadd(LEDGER_TEAMS_KEY, *teams)
        found = [k async for k in client.scan_iter(match="penny:{*}:ledger", _type="STREAM")]
        assert sorted(found) == sorted(ledger_stream_key(t).encode() for t in teams), "a scan walks every node"
        with pytest.raises(RedisClusterException, match=r"same key slot|same slot"):
            await client.eval("return 1", 2, ledger_stream_key(teams[0]), ledger_stream_key(teams[1]))
    finally:
        await handle.close()
