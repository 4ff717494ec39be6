"""Penny's shared words: one definition of each idea that more than one package names.

``routing/`` and ``cache/`` may not import ``bot/`` or each other, yet both speak of tiers, task kinds and
channel visibility, and the bot stores all of them in Redis and the ledger. So they live here, in a package that
imports nothing of Penny's (an import contract in ``pyproject.toml`` keeps it so). Every enum is a ``StrEnum``
whose values are the strings already stored in Redis, so adopting it changed no stored byte.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

Vector: TypeAlias = "NDArray[np.float32]"
"""A question's MiniLM embedding (384 floats, unit length): computed once per request and shared by the cache,
the router, pin selection and the feedback signature."""


class Tier(StrEnum):
    """Model tiers, cheapest first; the order matters (``ordered``, one tier ``up``/``down``)."""

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


class TaskKind(StrEnum):
    """What a request asks for; the router picks a tier per kind and the cache keys answers by it."""

    SUMMARIZE = "summarize"
    DRAFT = "draft"
    QA = "qa"
    CHAT = "chat"

    @classmethod
    def parse(cls, value: str) -> TaskKind | None:
        """A stored value; None for none or a word older rows used where no task applied ("help", "unknown")."""
        return cls(value) if value in cls.__members__.values() else None


class Visibility(StrEnum):
    """Who can read a conversation: the privacy boundary of every cached answer and posted summary."""

    PUBLIC = "public"
    PRIVATE = "private"
    DM = "dm"
    SHARED = "shared"  # Slack Connect: people outside the workspace can read it

    @classmethod
    def parse(cls, value: str) -> Visibility:
        """A stored value; anything unknown reads as private, the most restrictive boundary."""
        return cls(value) if value in cls.__members__.values() else cls.PRIVATE


class RequestOutcome(StrEnum):
    """How one request ended: the ledger row's ``outcome``, the digest's rows, the answer map's record."""

    ANSWERED = "answered"  # a model answered
    CACHE_HIT = "cache_hit"  # served from the semantic cache, no model call
    FAILED = "failed"  # no answer (providers down, Slack unreadable, a bug)
    REFUSED = "refused"  # deliberately not answered (budget, limits, permissions)
    HELP = "help"  # a usage message, no model call


__all__ = ["RequestOutcome", "TaskKind", "Tier", "Vector", "Visibility", "parse_tier"]
