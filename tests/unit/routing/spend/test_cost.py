"""Money math: exact Decimal, one rounding rule, estimates marked as such."""

from __future__ import annotations

from decimal import Decimal
from importlib import resources

import pytest
import yaml

from routing.catalog import CatalogError, load_catalog
from routing.spend.cost import (
    Usage,
    add_usage,
    call_cost,
    estimate_prompt_tokens,
    estimate_tokens,
    estimate_usage,
    from_nanos,
    round_usd,
    to_nanos,
)


def test_cost_from_usage_is_exact(catalog) -> None:
    model = catalog.model("deepseek-v4-flash")  # 0.27 / 1.10 per 1M
    cost = call_cost(model, Usage(1_000, 500))
    assert cost == Decimal("0.00082")  # 1000*0.27e-6 + 500*1.10e-6
    assert isinstance(cost, Decimal)


def test_rounding_is_half_even_to_nanodollars() -> None:
    assert round_usd(Decimal("0.0000000015")) == Decimal("0.000000002")
    assert round_usd(Decimal("0.0000000025")) == Decimal("0.000000002")
    assert to_nanos(Decimal("1.5")) == 1_500_000_000
    assert from_nanos(to_nanos(Decimal("0.123456789"))) == Decimal("0.123456789")


def test_baseline_costs_more_for_the_same_tokens(catalog) -> None:
    usage = Usage(2_000, 400)
    assert call_cost(catalog.baseline_model, usage) > call_cost(catalog.model("glm-4-plus"), usage)
    assert call_cost(catalog.baseline_model, usage) == Decimal("0.009")


def test_estimates_from_text() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") == 1
    assert estimate_tokens("abcde") == 2
    messages = [{"role": "user", "content": "x" * 40}]
    assert estimate_prompt_tokens(messages) == 10 + 4
    usage = estimate_usage(messages, "y" * 8)
    assert usage == Usage(14, 2, estimated=True)


def test_a_call_with_cached_tokens_priced_by_hand_from_the_shipped_catalog() -> None:
    """10,000 prompt tokens of which the provider served 8,000 from its cache, 500 completion tokens."""
    shipped = load_catalog(None)
    usage = Usage(10_000, 500, cached_tokens=8_000)
    flash = shipped.model("deepseek-v4-flash")
    assert (flash.price_in_per_mtok, flash.price_cached_in_per_mtok, flash.price_out_per_mtok) == (
        Decimal("0.27"),
        Decimal("0.07"),
        Decimal("1.10"),
    )
    # 2,000 × 0.27 + 8,000 × 0.07 + 500 × 1.10 = 540 + 560 + 550 micro-dollars
    assert call_cost(flash, usage) == Decimal("0.00165")
    # the baseline's own cached price: 2,000 × 2.50 + 8,000 × 1.25 + 500 × 10.00
    assert call_cost(shipped.baseline_model, usage) == Decimal("0.02")
    # no published cache price: cached tokens are ordinary input (10,000 × 0.20 + 500 × 0.80)
    glm = shipped.model("glm-4-plus")
    assert glm.price_cached_in_per_mtok is None
    assert call_cost(glm, usage) == call_cost(glm, Usage(10_000, 500)) == Decimal("0.0024")


def test_cached_tokens_never_exceed_the_prompt_and_add_up() -> None:
    shipped = load_catalog(None)
    flash = shipped.model("deepseek-v4-flash")
    assert call_cost(flash, Usage(100, 0, cached_tokens=500)) == call_cost(flash, Usage(100, 0, cached_tokens=100))
    assert add_usage(Usage(10, 1, cached_tokens=4), Usage(20, 2, cached_tokens=5)) == Usage(30, 3, cached_tokens=9)


def test_a_cached_price_above_the_input_price_is_refused(tmp_path) -> None:
    data = yaml.safe_load(resources.files("routing").joinpath("default_catalog.yaml").read_text("utf-8"))
    data["models"][0]["price_cached_in_per_mtok"] = 5
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CatalogError, match="price_cached_in_per_mtok"):
        load_catalog(path)
