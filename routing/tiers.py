"""Model tiers, cheapest first: its own module so the catalog and the policy both name tiers without a cycle."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Tier(StrEnum):
    """Cheapest first; the order matters (``Tier.ordered()``, one tier up/down)."""

    ECONOMY = "economy"
    STANDARD = "standard"
    PREMIUM = "premium"

    @classmethod
    def ordered(cls) -> list[Tier]:
        return [cls.ECONOMY, cls.STANDARD, cls.PREMIUM]

    def up(self) -> Tier:
        order = Tier.ordered()
        return order[min(order.index(self) + 1, len(order) - 1)]

    def down(self) -> Tier:
        order = Tier.ordered()
        return order[max(order.index(self) - 1, 0)]

    @property
    def rank(self) -> int:
        return Tier.ordered().index(self)


def parse_tier(value: Any) -> Tier:
    """A tier from config, with an error that names the bad value and the valid ones."""
    if isinstance(value, Tier):
        return value
    if value in Tier.__members__.values():
        return Tier(value)
    raise ValueError(f"unknown tier '{value}' (known: {', '.join(Tier.ordered())})")
