"""Routing policy: which tier a request deserves and what a workspace may spend, read from the catalog YAML.

It lives next to the models (``policy:`` in the same file) because the two change together: moving a task to a
cheaper tier only makes sense against the prices listed beside it. Every field has a default that works, so a
catalog without a ``policy`` section still routes sensibly.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vocabulary import TaskKind, Tier, parse_tier


class Complexity(StrEnum):
    SIMPLE = "simple"
    MEDIUM = "medium"
    COMPLEX = "complex"


_STRICT = ConfigDict(extra="forbid", frozen=True)


def _default_tiers() -> dict[TaskKind, dict[Complexity, Tier]]:
    # Summaries of long threads need a strong reader; chit-chat never needs premium.
    return {
        TaskKind.SUMMARIZE: {
            Complexity.SIMPLE: Tier.ECONOMY,
            Complexity.MEDIUM: Tier.STANDARD,
            Complexity.COMPLEX: Tier.PREMIUM,
        },
        TaskKind.DRAFT: {
            Complexity.SIMPLE: Tier.ECONOMY,
            Complexity.MEDIUM: Tier.STANDARD,
            Complexity.COMPLEX: Tier.PREMIUM,
        },
        TaskKind.QA: {
            Complexity.SIMPLE: Tier.ECONOMY,
            Complexity.MEDIUM: Tier.STANDARD,
            Complexity.COMPLEX: Tier.PREMIUM,
        },
        TaskKind.CHAT: {
            Complexity.SIMPLE: Tier.ECONOMY,
            Complexity.MEDIUM: Tier.ECONOMY,
            Complexity.COMPLEX: Tier.STANDARD,
        },
    }


class ChannelOverride(BaseModel):
    """Per-channel tier rule: pin a tier, or keep it within [min_tier, max_tier] (#legal: never below standard)."""

    model_config = _STRICT

    tier: Tier | None = None
    min_tier: Tier | None = None
    max_tier: Tier | None = None

    @field_validator("tier", "min_tier", "max_tier", mode="before")
    @classmethod
    def _known_tier(cls, value: Any) -> Any:
        return None if value is None else parse_tier(value)

    def apply(self, tier: Tier) -> Tier:
        if self.tier is not None:
            return self.tier
        order = Tier.ordered()
        if self.min_tier is not None and order.index(tier) < order.index(self.min_tier):
            tier = self.min_tier
        if self.max_tier is not None and order.index(tier) > order.index(self.max_tier):
            tier = self.max_tier
        return tier


class UserLimits(BaseModel):
    """Requests one user may make; ``None`` means unlimited."""

    model_config = _STRICT

    per_hour: int | None = Field(default=60, gt=0)
    per_day: int | None = Field(default=300, gt=0)


class BudgetLimit(BaseModel):
    """USD per workspace per period: above ``soft_usd`` premium is downgraded; at ``hard_usd`` no calls."""

    model_config = _STRICT

    soft_usd: Decimal | None = Field(default=None, ge=0)
    hard_usd: Decimal | None = Field(default=None, ge=0)

    @field_validator("soft_usd", "hard_usd", mode="before")
    @classmethod
    def _exact(cls, value: Any) -> Any:
        return Decimal(str(value)) if isinstance(value, float | int) else value

    @model_validator(mode="after")
    def _soft_below_hard(self) -> BudgetLimit:
        if self.soft_usd is not None and self.hard_usd is not None and self.soft_usd > self.hard_usd:
            raise ValueError(f"soft limit {self.soft_usd} is above hard limit {self.hard_usd}")
        return self


class Budgets(BaseModel):
    model_config = _STRICT

    daily: BudgetLimit = Field(default_factory=BudgetLimit)
    monthly: BudgetLimit = Field(default_factory=BudgetLimit)


class HealthPolicy(BaseModel):
    """When a model is taken out of rotation, for how long, and how it gets back in."""

    model_config = _STRICT

    default_ttft_threshold_s: float = Field(default=2.5, gt=0)
    window_s: float = Field(default=60.0, gt=0)
    min_calls: int = Field(default=5, gt=0)
    # The p99 of a few calls is their slowest one: over the threshold counts only with this many slow calls.
    min_slow_calls: int = Field(default=3, gt=0)
    max_error_rate: float = Field(default=0.5, gt=0, le=1)
    cooldown_s: float = Field(default=30.0, gt=0)
    probe_lock_s: float = Field(default=60.0, gt=0)


class RetryPolicy(BaseModel):
    """The one retry loop's knobs; tests shrink the timeouts so fault scenarios run in well under a minute."""

    model_config = _STRICT

    attempts_per_model: int = Field(default=2, gt=0)
    backoff_base_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=8.0, ge=0)
    max_retry_after_s: float = Field(default=10.0, ge=0)
    ttft_timeout_s: float = Field(default=8.0, gt=0)
    idle_timeout_s: float = Field(default=20.0, gt=0)
    overall_timeout_s: float = Field(default=90.0, gt=0)
    length_continuations: int = Field(default=1, ge=0)  # asks for the rest of an answer cut at its token limit


class QualityPolicy(BaseModel):
    """The cascade's quality checks (``routing/calls/quality.py``, ``gate.py``): what makes an answer degenerate,
    and how much of it is held back so the check runs before the user sees it. Defaults were chosen against the
    corpus in ``tests/unit/routing/calls/quality_corpus.yaml``."""

    model_config = _STRICT

    enabled: bool = True
    hold_chars: int = Field(default=200, ge=0)  # an answer's first characters wait for the checks before showing
    lag_chars: int = Field(default=120, ge=0)  # then text shows this far behind the model, so a loop is cut unseen
    loop_min_chars: int = Field(default=120, gt=0)  # an exact loop: this many repeated characters...
    loop_min_copies: int = Field(default=3, ge=2)  # ...in at least this many back-to-back copies
    loop_max_period: int = Field(default=400, gt=0)  # the longest repeated unit looked for, in characters
    ngram_window_words: int = Field(default=60, ge=8)  # a loop with variations: the last words of prose...
    ngram_min_distinct: float = Field(default=0.5, gt=0, le=1)  # ...must be at least this share new 4-grams
    leaked_tokens_max: int = Field(default=4, ge=0)  # template markers tolerated (stripped) in one answer
    refusal_max_chars: int = Field(default=300, ge=0)  # a grounded "I don't know" this short is a failed attempt


class LearnedPolicy(BaseModel):
    """The learned scorer's seat in routing. ``enabled`` is read by the router; ``min_votes`` is for whoever
    builds the scorer (its own config decides when it turns on and how sure it must be to move a prompt up)."""

    model_config = _STRICT

    enabled: bool = True
    min_votes: int = Field(default=50, gt=0)


class Policy(BaseModel):
    model_config = _STRICT

    tiers: dict[TaskKind, dict[Complexity, Tier]] = Field(default_factory=_default_tiers)
    channel_overrides: dict[str, ChannelOverride] = Field(default_factory=dict)
    allowed_channels: list[str] | None = None  # None: every channel Penny is invited to
    user_limits: UserLimits = Field(default_factory=UserLimits)
    budgets: Budgets = Field(default_factory=Budgets)
    answer_tokens: int = Field(default=1024, gt=0)  # every task's answer budget unless ``task_answer_tokens`` says
    # Per-task answer budgets (a partial table: unnamed tasks keep ``answer_tokens``). A chat reply needs less room
    # than a drafted announcement; the budget is the model's ``max_tokens``, the room kept free in its context
    # window and the completion side of the cost reserved before the call.
    task_answer_tokens: dict[TaskKind, int] = Field(default_factory=dict)
    health: HealthPolicy = Field(default_factory=HealthPolicy)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    learned: LearnedPolicy = Field(default_factory=LearnedPolicy)
    quality: QualityPolicy = Field(default_factory=QualityPolicy)

    @field_validator("tiers", mode="before")
    @classmethod
    def _merge_tiers(cls, value: Any) -> Any:
        # A partial table overrides the defaults cell by cell; each tier name is checked with a clear message.
        if not isinstance(value, dict):
            return value
        merged: dict[str, dict[str, Tier]] = {
            str(task): {str(c): t for c, t in row.items()} for task, row in _default_tiers().items()
        }
        for task, row in value.items():
            if task not in TaskKind.__members__.values():
                raise ValueError(f"unknown task '{task}' (known: {', '.join(TaskKind)})")
            if not isinstance(row, dict):
                raise ValueError(f"tiers.{task} must map complexity to tier")
            for complexity, tier in row.items():
                if complexity not in Complexity.__members__.values():
                    raise ValueError(f"unknown complexity '{complexity}' (known: {', '.join(Complexity)})")
                merged[task][complexity] = parse_tier(tier)
        return merged

    @field_validator("task_answer_tokens", mode="before")
    @classmethod
    def _known_tasks(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        for task, tokens in value.items():
            if task not in TaskKind.__members__.values():
                raise ValueError(f"unknown task '{task}' (known: {', '.join(TaskKind)})")
            if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens <= 0:
                raise ValueError(f"task_answer_tokens.{task} must be a positive whole number of tokens")
        return value

    def answer_tokens_for(self, task: TaskKind | None) -> int:
        """The answer budget of ``task`` (``answer_tokens`` when the table does not name it, or no task applies)."""
        return self.task_answer_tokens.get(task, self.answer_tokens) if task is not None else self.answer_tokens

    def tier_for(self, task: TaskKind, complexity: Complexity) -> Tier:
        return self.tiers[task][complexity]

    def channel_allowed(self, channel_id: str) -> bool:
        return self.allowed_channels is None or channel_id in self.allowed_channels
