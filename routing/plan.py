"""What the router decides, as values: a ``RoutePlan`` to run, or a ``Refusal`` with its reason.

Its own module so that the generator (which runs plans) and the bot (which words refusals and notes) can name
these types without importing the router, and the router stays the only place that makes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from routing.catalog import ModelSpec
from routing.chat import ChatMessage
from routing.classify import Classification
from routing.spend.budget import Reservation
from vocabulary import Tier

# Prompt estimates (chars/4) can run short for code or non-English text; reserve with a margin so settling
# the reported usage does not push a workspace over its hard cap.
RESERVE_PROMPT_MARGIN = 1.25


class NoteKind(StrEnum):
    SOFT_BUDGET = "soft_budget"  # the workspace passed its soft limit: a premium ask went one tier down
    TRIMMED = "trimmed"  # the thread was too long: the oldest messages were left out


@dataclass(frozen=True)
class PlanNote:
    """Something the user should know about how the answer was made; the bot words it (``bot/replies.py``)."""

    kind: NoteKind
    kept: int = 0  # TRIMMED: messages read
    dropped: int = 0  # TRIMMED: older messages left out


class RefusalReason(StrEnum):
    CHANNEL_NOT_ALLOWED = "channel_not_allowed"
    USER_LIMIT = "user_limit"
    BUDGET_HARD = "budget_hard"
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class Refusal:
    """No model will be called, and why: the bot turns the reason into a sentence (``bot/replies.py``).

    ``limit`` and ``window`` describe a user limit; ``budget_period`` ("daily" / "monthly") a hard budget cap
    that was already reached, ``None`` for one the request's own estimate would cross.
    """

    reason: RefusalReason
    classification: Classification | None = None
    limit: int | None = None
    window: str | None = None
    budget_period: str | None = None


@dataclass
class RoutePlan:
    """Everything the generator needs; ``notes`` are what the user should be told alongside the answer."""

    team_id: str
    tier: Tier
    requested_tier: Tier
    chain: list[ModelSpec]
    classification: Classification
    messages: list[ChatMessage]
    answer_tokens: int
    prompt_tokens_estimate: int
    reservation: Reservation | None
    notes: list[PlanNote] = field(default_factory=list)
    probes: dict[str, str] = field(default_factory=dict)  # model id → probe-lock token
    trimmed_messages: int = 0
    grounded: bool = False  # the prompt carries context to answer from (thread, pins, a transcript)
