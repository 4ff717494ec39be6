"""The composition root honours the switches the README documents."""

from __future__ import annotations

from pathlib import Path

from bot.app import build_penny
from bot.config import Settings
from bot.redis.connection import RedisHandle, plain_client
from routing.catalog import load_catalog
from tests.e2e.conftest import LLM_KEY, LLM_KEY_ENV, write_test_catalog


async def _penny(tmp_path: Path, redis_url: str, monkeypatch, *, cache: bool, learned: bool):  # type: ignore[no-untyped-def]
    monkeypatch.setenv(LLM_KEY_ENV, LLM_KEY)
    catalog_path = write_test_catalog(tmp_path / "catalog.yaml", "http://127.0.0.1:9/v1", learned=learned)
    settings = Settings(
        slack_bot_token="xoxb-test",
        slack_signing_secret="secret",  # type: ignore[arg-type]
        slack_api_url="http://127.0.0.1:9/api/",
        cache_enabled=cache,
        catalog=catalog_path,
    )
    return await build_penny(settings, load_catalog(catalog_path), RedisHandle(plain_client(redis_url)))


async def test_cache_disabled_means_no_cache_even_when_learned_routing_loads_the_model(
    tmp_path: Path, redis_url: str, monkeypatch
) -> None:
    penny = await _penny(tmp_path, redis_url, monkeypatch, cache=False, learned=True)
    try:
        assert penny.embedder is not None, "learned routing still needs prompt vectors"
        assert penny.cache is None
    finally:
        await penny.close()


async def test_cache_enabled_builds_the_cache(tmp_path: Path, redis_url: str, monkeypatch) -> None:
    penny = await _penny(tmp_path, redis_url, monkeypatch, cache=True, learned=False)
    try:
        assert penny.cache is not None and penny.embedder is not None
    finally:
        await penny.close()


async def test_no_cache_and_no_learned_routing_loads_no_model(tmp_path: Path, redis_url: str, monkeypatch) -> None:
    penny = await _penny(tmp_path, redis_url, monkeypatch, cache=False, learned=False)
    try:
        assert penny.embedder is None and penny.cache is None
    finally:
        await penny.close()
