"""Money and token math: what a call cost, what it would have cost on the baseline, and token estimates.

Rounding rule (the only one): a cost is computed exactly in ``Decimal`` as tokens × price-per-million / 10⁶
and rounded once per call to whole nano-dollars (1e-9 USD), half-even. Sums add rounded call costs, so a ledger
total always equals the sum of its rows. Redis stores the same values as integer nano-dollars. Never floats.

Prompt tokens the provider reports as served from its prefix cache (``cached_tokens``) are billed at the model's
cached-input price when the catalog gives one, else at the full input price (no published discount, none assumed).

Token estimates (``tiktoken`` cannot fetch its files here) use ceil(chars / 4) plus a small per-message
overhead; anything derived from them is marked ``estimated``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from routing.catalog import ModelSpec

NANO = Decimal("0.000000001")
CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4  # role and separators, as chat templates add them
_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Usage:
    """Token counts for one call; ``estimated`` when the provider did not report them.

    ``cached_tokens`` is the part of ``prompt_tokens`` the provider read from its prompt cache
    (``prompt_tokens_details.cached_tokens``); it is included in ``prompt_tokens``, never added to it.
    """

    prompt_tokens: int
    completion_tokens: int
    estimated: bool = False
    cached_tokens: int = 0

    @property
    def uncached_prompt_tokens(self) -> int:
        return self.prompt_tokens - min(self.cached_tokens, self.prompt_tokens)


def round_usd(amount: Decimal) -> Decimal:
    """The one rounding rule: whole nano-dollars, half-even."""
    return amount.quantize(NANO, rounding=ROUND_HALF_EVEN)


def to_nanos(amount: Decimal) -> int:
    """USD → integer nano-dollars (for Redis counters)."""
    return int(round_usd(amount) / NANO)


def from_nanos(nanos: int) -> Decimal:
    return round_usd(Decimal(nanos) * NANO)


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def estimate_prompt_tokens(messages: Iterable[Mapping[str, str]]) -> int:
    return sum(estimate_tokens(m.get("content", "")) + MESSAGE_OVERHEAD_TOKENS for m in messages)


def estimate_usage(messages: Iterable[Mapping[str, str]], completion_text: str) -> Usage:
    """Usage guessed from text, for calls whose provider reported none (cut streams, quirky providers)."""
    return Usage(estimate_prompt_tokens(messages), estimate_tokens(completion_text), estimated=True)


def call_cost(model: ModelSpec, usage: Usage) -> Decimal:
    """Cost of one call on ``model`` for ``usage`` tokens, rounded once; cached prompt tokens at the cached price."""
    cached = usage.prompt_tokens - usage.uncached_prompt_tokens
    cached_price = model.price_cached_in_per_mtok
    exact = (
        Decimal(usage.uncached_prompt_tokens) * model.price_in_per_mtok
        + Decimal(cached) * (model.price_in_per_mtok if cached_price is None else cached_price)
        + Decimal(usage.completion_tokens) * model.price_out_per_mtok
    ) / _MILLION
    return round_usd(exact)


def add_usage(a: Usage, b: Usage) -> Usage:
    return Usage(
        a.prompt_tokens + b.prompt_tokens,
        a.completion_tokens + b.completion_tokens,
        estimated=a.estimated or b.estimated,
        cached_tokens=a.cached_tokens + b.cached_tokens,
    )


ZERO_USAGE = Usage(0, 0)
