"""Ordering the fallback chain: which models to try, in which order, for a tier.

Order: the target tier first, then cheaper tiers (dearest of them first), then dearer tiers — a failing
provider should cost quality gracefully before it costs money. Inside a tier the cheaper model goes first.
Then families are spread out, so the model tried after a failure is, where the catalog allows, from another
family (an outage or a rate limit usually hits a whole family or provider at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from routing.catalog import ModelSpec
from vocabulary import Tier


def tier_order(target: Tier, *, ceiling: Tier | None = None) -> list[Tier]:
    """Tiers to try for ``target``: itself, lower ones downwards, then higher ones up to ``ceiling``."""
    lower = [t for t in reversed(Tier.ordered()) if t.rank < target.rank]
    higher = [t for t in Tier.ordered() if t.rank > target.rank and (ceiling is None or t.rank <= ceiling.rank)]
    return [target, *lower, *higher]


def _price_key(model: ModelSpec) -> tuple[object, ...]:
    return (model.price_in_per_mtok + model.price_out_per_mtok, model.id)


def spread_families(models: Sequence[ModelSpec]) -> list[ModelSpec]:
    """Keep the order, except that a model never follows one of its own family when another could go there."""
    pending = list(models)
    result: list[ModelSpec] = []
    while pending:
        last_family = result[-1].family if result else None
        index = next((i for i, m in enumerate(pending) if m.family != last_family), 0)
        result.append(pending.pop(index))
    return result


def order_chain(target: Tier, candidates: Iterable[ModelSpec], *, ceiling: Tier | None = None) -> list[ModelSpec]:
    """The candidates (already filtered for health and context window) in fallback order."""
    pool = list(candidates)
    ordered: list[ModelSpec] = []
    for tier in tier_order(target, ceiling=ceiling):
        ordered += sorted((m for m in pool if m.tier == tier), key=_price_key)
    return spread_families(ordered)


def escalated(rest: Sequence[ModelSpec], failed: Tier) -> list[ModelSpec]:
    """The rest of a chain after a model of tier ``failed`` gave a degenerate answer: dearer tiers first (the
    cascade steps up; a sibling of the same size tends to fail the same way), then the others in their order."""
    return [m for m in rest if m.tier.rank > failed.rank] + [m for m in rest if m.tier.rank <= failed.rank]
