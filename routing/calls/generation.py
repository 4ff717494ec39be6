"""What one generation did: the ledger-ready record (plain dataclasses, ``Decimal`` money, no SDK types).

``bot/ledger.py`` writes one row per request from a ``Generation``: the answering model, the attempts that led
there, tokens, cost and the cost the baseline model would have had. Attempts keep error *kinds* only, never
message text, so the record can be logged and stored as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from routing.policy import Complexity
from routing.spend.cost import Usage
from vocabulary import TaskKind, Tier

OVERALL_TIMEOUT = "overall_timeout"  # an attempt's error kind when the request's own deadline ran out


class CutShort(StrEnum):
    """Why an answer the user already sees is not complete (the bot words it; the text itself is kept)."""

    LENGTH = "length"  # the model stopped at its token limit and could not be continued
    TIMEOUT = "timeout"  # the request's overall deadline passed while the answer was still being written
    BROKEN = "broken"  # the stream broke and no model of the chain could finish it


@dataclass(frozen=True)
class Attempt:
    """One call to one model. ``error`` is None for success, else a kind such as ``rate_limited`` or ``cut``."""

    model: str
    error: str | None
    ttft_s: float | None
    duration_s: float
    chars_shown: int  # new characters this attempt added to the answer
    usage: Usage | None
    cost: Decimal
    resumed: bool = False  # a "continue from here" request after a broken stream
    probe: bool = False  # the one request allowed to test a model after its cool-down
    waited_s: float = 0.0  # backoff / Retry-After wait before this attempt


@dataclass(frozen=True)
class Generation:
    """The result of ``Generator.stream``: always the last item, success or failure."""

    ok: bool
    model: str | None  # the model whose stream finished the answer
    tier: Tier
    task: TaskKind
    complexity: Complexity
    attempts: tuple[Attempt, ...]
    usage: Usage  # summed over attempts (partial streams are billed too)
    cost: Decimal
    baseline_cost: Decimal  # the answer's tokens priced on the catalog's baseline model
    estimated: bool  # some token count behind cost or baseline was estimated from text
    text_chars: int
    finish_reason: str | None
    latency_s: float

    @property
    def partial(self) -> bool:
        """Failed after showing text: the user saw part of an answer that no model could finish."""
        return not self.ok and self.text_chars > 0

    @property
    def cut_at_length(self) -> bool:
        """The model stopped at its token limit (``finish_reason=length``): the text is kept, but it is not all."""
        return self.ok and self.finish_reason == "length"

    @property
    def cut_short(self) -> CutShort | None:
        """Why the text shown is not the whole answer, or None when it is."""
        if self.cut_at_length:
            return CutShort.LENGTH
        if not self.partial:
            return None
        if self.attempts and self.attempts[-1].error == OVERALL_TIMEOUT:
            return CutShort.TIMEOUT
        return CutShort.BROKEN

    @property
    def prompt_tokens(self) -> int:
        return self.usage.prompt_tokens

    @property
    def completion_tokens(self) -> int:
        return self.usage.completion_tokens

    @property
    def cached_tokens(self) -> int:
        """Prompt tokens the provider read from its prefix cache (billed at the cached price)."""
        return self.usage.cached_tokens
