"""Fallback order and context-window fitting."""

from __future__ import annotations

import itertools

from routing.chain import order_chain, tier_order
from routing.context import trim_oldest
from vocabulary import Tier


def test_tier_order() -> None:
    assert tier_order(Tier.PREMIUM) == [Tier.PREMIUM, Tier.STANDARD, Tier.ECONOMY]
    assert tier_order(Tier.ECONOMY) == [Tier.ECONOMY, Tier.STANDARD, Tier.PREMIUM]
    assert tier_order(Tier.STANDARD, ceiling=Tier.STANDARD) == [Tier.STANDARD, Tier.ECONOMY]


def test_chain_spreads_families(catalog) -> None:
    chain = [m.id for m in order_chain(Tier.PREMIUM, catalog.models)]
    assert chain == ["deepseek-v4-pro", "gpt-4o", "deepseek-v4-flash", "qwen3-32b", "glm-4-plus"]
    families = [catalog.model(m).family for m in chain]
    assert all(a != b for a, b in itertools.pairwise(families))


def test_chain_cheapest_first_in_tier(catalog) -> None:
    chain = [m.id for m in order_chain(Tier.STANDARD, catalog.models)]
    assert chain[:2] == ["deepseek-v4-flash", "qwen3-32b"]


def test_trim_keeps_system_and_question() -> None:
    messages = [{"role": "system", "content": "s" * 40}]
    messages += [{"role": "user", "content": f"{i}" * 400} for i in range(5)]
    messages.append({"role": "user", "content": "the question"})
    result = trim_oldest(messages, 250)  # 14 + 5 x 104 + 7 tokens before
    assert result is not None
    kept, dropped = result
    assert kept[0]["role"] == "system" and kept[-1]["content"] == "the question"
    assert dropped == 3 and [m["content"][0] for m in kept[1:-1]] == ["3", "4"]


def test_trim_gives_up_when_question_alone_is_too_long() -> None:
    assert trim_oldest([{"role": "user", "content": "x" * 4000}], 100) is None
