"""Fixtures for routing tests: a small catalog with test-sized timeouts, an async Redis client, a fake clock."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.redis.connection import plain_client
from routing.catalog import Catalog

BASE_CATALOG: dict[str, Any] = {
    "baseline": "gpt-4o",
    "providers": {"local": {"base_url": "http://127.0.0.1:9/v1", "api_key_env": "PENNY_TEST_LLM_KEY"}},
    "models": [
        {
            "id": "glm-4-plus",
            "provider": "local",
            "tier": "economy",
            "family": "glm",
            "price_in_per_mtok": 0.20,
            "price_out_per_mtok": 0.80,
            "context_window": 128000,
        },
        {
            "id": "deepseek-v4-flash",
            "provider": "local",
            "tier": "standard",
            "family": "deepseek",
            "price_in_per_mtok": 0.27,
            "price_out_per_mtok": 1.10,
            "context_window": 128000,
        },
        {
            "id": "qwen3-32b",
            "provider": "local",
            "tier": "standard",
            "family": "qwen",
            "price_in_per_mtok": 0.30,
            "price_out_per_mtok": 1.20,
            "context_window": 32000,
        },
        {
            "id": "deepseek-v4-pro",
            "provider": "local",
            "tier": "premium",
            "family": "deepseek",
            "price_in_per_mtok": 0.55,
            "price_out_per_mtok": 2.20,
            "context_window": 200000,
            "ttft_threshold_s": 4.0,
        },
        {
            "id": "gpt-4o",
            "provider": "local",
            "tier": "premium",
            "family": "openai",
            "price_in_per_mtok": 2.50,
            "price_out_per_mtok": 10.00,
            "context_window": 128000,
        },
    ],
    "policy": {
        "retry": {
            "attempts_per_model": 2,
            "backoff_base_s": 0.01,
            "backoff_max_s": 0.05,
            "max_retry_after_s": 5,
            "ttft_timeout_s": 0.6,
            "idle_timeout_s": 0.6,
            "overall_timeout_s": 15,
        },
        "user_limits": {"per_hour": None, "per_day": None},
        "budgets": {"daily": {}, "monthly": {}},
    },
}


def catalog_data(**policy: Any) -> dict[str, Any]:
    """The test catalog as a dict, with ``policy`` sections replaced (one level deep)."""
    data = copy.deepcopy(BASE_CATALOG)
    data["policy"].update(policy)
    return data


def make_catalog(**policy: Any) -> Catalog:
    return Catalog.model_validate(catalog_data(**policy))


class FakeClock:
    """Wall-clock stand-in: tests move time explicitly."""

    def __init__(self, start: float = 1_795_000_000.0) -> None:  # 2026-11-18, a fixed UTC day
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def catalog() -> Catalog:
    return make_catalog()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = plain_client(redis_url)  # a cluster client for a redis+cluster:// URL
    yield client
    await client.aclose()
