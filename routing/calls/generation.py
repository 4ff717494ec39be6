"""What one generation did: the ledger-ready record (plain dataclasses, ``Decimal`` money, no SDK types).

``bot/ledger.py`` writes one row per request from a ``Generation``: the answering model, the attempts that led
there, tokens, cost and the cost the baseline model would have had. Attempts keep error *kinds* only, never
message text, so the record can be logged and stored as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from routing.calls.quality import Degeneracy
from routing.catalog import ModelSpec
from routing.chat import ChatMessage
from routing.plan import RoutePlan
from routing.policy import Complexity
from routing.spend.cost import Usage, add_usage, call_cost, estimate_prompt_tokens, estimate_tokens
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
    def escalations(self) -> tuple[tuple[str, str], ...]:
        """(model, why) for each attempt whose answer failed its quality check: the cascade's steps up."""
        kinds = Degeneracy.kinds()
        return tuple((a.model, a.error) for a in self.attempts if a.error in kinds and a.error is not None)

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


def outcome_of(
    plan: RoutePlan,
    baseline_model: ModelSpec,
    prompt: list[ChatMessage],
    shown: str,
    attempts: list[Attempt],
    answered_by: ModelSpec | None,
    finish_reason: str | None,
    latency_s: float,
) -> Generation:
    """The ``Generation`` of a finished loop: attempts summed, and the baseline model's price for the answer."""
    usage = Usage(0, 0)
    for attempt in attempts:
        if attempt.usage is not None:
            usage = add_usage(usage, attempt.usage)
    cost = sum((a.cost for a in attempts), Decimal(0))
    ok = answered_by is not None
    baseline = Decimal(0)
    baseline_estimated = False
    if ok:
        last = attempts[-1]
        if not last.resumed and last.usage is not None:
            baseline_usage = last.usage  # the exact tokens of a clean single answer
        else:
            baseline_usage = Usage(estimate_prompt_tokens(prompt), estimate_tokens(shown), estimated=True)
        baseline_estimated = baseline_usage.estimated
        baseline = call_cost(baseline_model, baseline_usage)
    return Generation(
        ok=ok,
        model=answered_by.id if answered_by else None,
        tier=plan.tier,
        task=plan.classification.task,
        complexity=plan.classification.complexity,
        attempts=tuple(attempts),
        usage=usage,
        cost=cost,
        baseline_cost=baseline,
        estimated=usage.estimated or baseline_estimated,
        text_chars=len(shown),
        finish_reason=finish_reason,
        latency_s=latency_s,
    )
