"""The example catalogs in ``routing/catalogs/`` load, validate and route: one per provider a team already has.

Each is loaded with the production loader, must fill every tier with a model and keep its baseline on the
premium tier, and routes a simple question to economy and a hard one higher through the real router against
real Redis. The README's catalog table names each file; a new example must be added there too.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from bot.redis.connection import plain_client
from routing.catalog import load_catalog
from routing.factory import build_routing
from routing.plan import RoutePlan
from routing.router import RouteRequest
from tests.conftest import REPO_ROOT
from vocabulary import Tier

CATALOGS = sorted((REPO_ROOT / "routing" / "catalogs").glob("*.yaml"))
KEY_ENVS = {
    "openai": {"OPENAI_API_KEY"},
    "openrouter": {"OPENROUTER_API_KEY"},
    "local": {"OLLAMA_API_KEY", "VLLM_API_KEY"},
}


def test_there_is_one_example_per_kind_of_provider() -> None:
    assert [p.stem for p in CATALOGS] == ["local", "openai", "openrouter"]


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.stem)
def test_each_example_fills_every_tier_and_names_its_key(path: Path) -> None:
    catalog = load_catalog(path)
    tiers = {model.tier for model in catalog.models}
    assert tiers == {Tier.ECONOMY, Tier.STANDARD, Tier.PREMIUM}
    assert catalog.baseline_model.tier is Tier.PREMIUM
    assert {p.api_key_env for p in catalog.providers.values()} == KEY_ENVS[path.stem]
    prices = [m.price_in_per_mtok + m.price_out_per_mtok for m in catalog.models]
    if path.stem == "local":
        assert set(prices) == {Decimal(0)}, "self-hosted models cost no money per token"
    else:
        assert min(prices) > 0 and catalog.baseline_model.price_out_per_mtok == max(
            m.price_out_per_mtok for m in catalog.models
        ), "the baseline is the most expensive model, so savings are measured against the top"
        economy = [m for m in catalog.models if m.tier is Tier.ECONOMY]
        assert all(m.price_out_per_mtok * 10 <= catalog.baseline_model.price_out_per_mtok for m in economy)
    if path.stem != "local":
        assert re.search(r"\b20\d\d-\d\d-\d\d\b", path.read_text("utf-8")), "prices carry the date they were checked"


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.stem)
async def test_each_example_routes_through_the_real_router(
    path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = load_catalog(path)
    for env in KEY_ENVS[path.stem]:
        monkeypatch.setenv(env, "test-key")
    redis = plain_client(redis_url)
    routing = build_routing(catalog, redis)

    async def tier_of(text: str) -> Tier:
        messages = [{"role": "system", "content": "You are Penny."}, {"role": "user", "content": text}]
        plan = await routing.router.plan(RouteRequest("T1", "C1", "U1", text, messages))
        assert isinstance(plan, RoutePlan)
        assert all(model in catalog.models for model in plan.chain)
        return plan.tier

    assert await tier_of("what time is the standup?") is Tier.ECONOMY
    hard = (
        "Write a Python function that parses a crontab expression, validates every field, handles ranges, "
        "steps and lists, and prove its complexity. Then compare three approaches in depth with code."
    )
    assert await tier_of(hard) in (Tier.STANDARD, Tier.PREMIUM)
    await redis.aclose()
