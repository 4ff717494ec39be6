"""Money math: exact Decimal, one rounding rule, estimates marked as such."""

from __future__ import annotations

from decimal import Decimal

from routing.spend.cost import (
    Usage,
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
