"""Catalog and policy validation: a bad file stops Penny with one line naming the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from routing.catalog import CatalogError, Tier, load_catalog
from routing.policy import ChannelOverride, Complexity
from tests.unit.routing.conftest import catalog_data
from vocabulary import TaskKind


def load(tmp_path: Path, data: dict[str, Any]):
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_catalog(path)


def error_of(tmp_path: Path, data: dict[str, Any]) -> str:
    with pytest.raises(CatalogError) as info:
        load(tmp_path, data)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_default_catalog_loads_with_policy() -> None:
    catalog = load_catalog()
    assert catalog.baseline_model.id == "gpt-4o"
    assert catalog.policy.tier_for(TaskKind.CHAT, Complexity.SIMPLE) is Tier.ECONOMY
    assert catalog.policy.budgets.daily.hard_usd is not None
    assert catalog.ttft_threshold_s(catalog.model("deepseek-v4-pro")) == 4.0
    assert catalog.ttft_threshold_s(catalog.model("gpt-4o")) == 2.5


def test_unknown_model_tier(tmp_path: Path) -> None:
    data = catalog_data()
    data["models"][0]["tier"] = "ultra"
    assert "unknown tier 'ultra'" in error_of(tmp_path, data)


def test_unknown_tier_in_policy_table(tmp_path: Path) -> None:
    data = catalog_data(tiers={"qa": {"complex": "platinum"}})
    message = error_of(tmp_path, data)
    assert "unknown tier 'platinum'" in message and "policy.tiers" in message


def test_unknown_tier_in_channel_override(tmp_path: Path) -> None:
    data = catalog_data(channel_overrides={"C1": {"min_tier": "gold"}})
    assert "unknown tier 'gold'" in error_of(tmp_path, data)


def test_negative_price(tmp_path: Path) -> None:
    data = catalog_data()
    data["models"][1]["price_out_per_mtok"] = -1.1
    message = error_of(tmp_path, data)
    assert "models.1.price_out_per_mtok" in message and "greater than or equal to 0" in message


def test_duplicate_id(tmp_path: Path) -> None:
    data = catalog_data()
    data["models"].append(dict(data["models"][0]))
    assert "duplicate model id 'glm-4-plus'" in error_of(tmp_path, data)


def test_unknown_provider(tmp_path: Path) -> None:
    data = catalog_data()
    data["models"][2]["provider"] = "nowhere"
    assert "unknown provider 'nowhere'" in error_of(tmp_path, data)


def test_soft_budget_above_hard(tmp_path: Path) -> None:
    data = catalog_data(budgets={"daily": {"soft_usd": 10, "hard_usd": 5}})
    assert "soft limit 10 is above hard limit 5" in error_of(tmp_path, data)


def test_partial_tier_table_keeps_defaults(tmp_path: Path) -> None:
    catalog = load(tmp_path, catalog_data(tiers={"chat": {"complex": "premium"}}))
    assert catalog.policy.tier_for(TaskKind.CHAT, Complexity.COMPLEX) is Tier.PREMIUM
    assert catalog.policy.tier_for(TaskKind.QA, Complexity.COMPLEX) is Tier.PREMIUM
    assert catalog.policy.tier_for(TaskKind.CHAT, Complexity.SIMPLE) is Tier.ECONOMY


def test_budget_amounts_are_exact_decimals(tmp_path: Path) -> None:
    catalog = load(tmp_path, catalog_data(budgets={"daily": {"soft_usd": 0.1, "hard_usd": 0.3}}))
    assert str(catalog.policy.budgets.daily.hard_usd) == "0.3"


def test_channel_override_rules() -> None:
    assert ChannelOverride(min_tier=Tier.STANDARD).apply(Tier.ECONOMY) is Tier.STANDARD
    assert ChannelOverride(max_tier=Tier.ECONOMY).apply(Tier.PREMIUM) is Tier.ECONOMY
    assert ChannelOverride(tier=Tier.PREMIUM).apply(Tier.ECONOMY) is Tier.PREMIUM
    assert ChannelOverride().apply(Tier.STANDARD) is Tier.STANDARD


def test_allow_list(tmp_path: Path) -> None:
    catalog = load(tmp_path, catalog_data(allowed_channels=["C1"]))
    assert catalog.policy.channel_allowed("C1") and not catalog.policy.channel_allowed("C2")
    assert load(tmp_path, catalog_data()).policy.channel_allowed("anything")


def test_answer_budgets_per_task(tmp_path: Path) -> None:
    shipped = load_catalog(None).policy
    assert shipped.answer_tokens == 1024, "today's budget stays the default"
    assert shipped.answer_tokens_for(TaskKind.CHAT) < shipped.answer_tokens_for(TaskKind.QA) == 1024
    assert shipped.answer_tokens_for(None) == 1024
    assert "unknown task 'poetry'" in error_of(tmp_path, catalog_data(task_answer_tokens={"poetry": 100}))
    assert "positive whole number" in error_of(tmp_path, catalog_data(task_answer_tokens={"chat": 0}))
