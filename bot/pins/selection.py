"""Choose which pinned items go into a prompt: the relevant ones, within a token budget, never all by default.

Pasting every pin into every prompt would multiply the cost of each question by the size of the channel's pins.
So a pin goes in when its MiniLM vector is close enough to the question's (the vector the request already
computed), or when the question names pins outright ("the pinned doc") — the one rule that works without an
embedder. Pin vectors are cached by (channel, pin id, version), so an unchanged pin is embedded once per process.
The selection's ``version`` (pin ids and edit versions) joins the cache key, so an answer built from a pin is not
served after that pin changes or goes.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import structlog

from bot.pins.board import PinnedItem
from routing.spend.cost import estimate_tokens

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

log = structlog.get_logger(__name__)

EmbedManyFn = Callable[[Sequence[str]], Awaitable["NDArray[np.float32]"]]

# "pinned", "pins", "the pinned doc": a question that names pins wants them. Singular "pin" is left out on purpose
# ("what's the door PIN?").
_EXPLICIT = re.compile(r"\b(pinned|pins)\b", re.IGNORECASE)
EMBED_CHARS = 1000  # MiniLM reads 256 word pieces (about 1,000 characters); the rest would only cost time
# A first question in a channel with many long pins must not hold the one embedding worker for seconds (100 pins of
# 2,000 characters took 7.6 s here; 8 of 1,000 take about 0.4 s): each request embeds at most this many new pins,
# newest first, and the rest are embedded by the next questions (until then they count only when named).
MAX_NEW_VECTORS_PER_REQUEST = 8
MAX_CANDIDATES = 30  # newest pins considered for relevance; Slack allows 100 per channel
TRIM_FLOOR_TOKENS = 60  # a shorter excerpt than this is not worth its label


class PinSource(Protocol):
    """Where pins come from: ``bot.pins.board.PinBoard`` in production."""

    async def items(self, team_id: str, channel_id: str) -> list[PinnedItem]: ...


def refers_to_pins(question: str) -> bool:
    return _EXPLICIT.search(question) is not None


@dataclass(frozen=True)
class PinSettings:
    """How pins qualify and what they may cost.

    ``similarity_bar``: the MiniLM cosine of question and pin at or above which a pin counts as relevant. Measured
    on the cases in ``tests/unit/bot/test_pin_selection_model.py``: questions about a pin's subject score 0.35–0.74
    with it, unrelated questions stay below 0.2, and near topics ("vacation days" against a travel policy,
    "standup" against an on-call rota) reach 0.32–0.33. ``within_best`` drops a pin that trails the best one by more
    than this (the travel policy for a PTO question, 0.33 next to 0.52). ``max_tokens`` caps what pins add to one
    prompt (estimated as chars/4, like every estimate in ``routing/spend/cost.py``).
    """

    max_tokens: int = 2000
    similarity_bar: float = 0.34
    within_best: float = 0.15
    max_items: int = 5


@dataclass(frozen=True)
class SelectedPin:
    item: PinnedItem
    text: str  # the item's text, trimmed to the budget when needed
    trimmed: bool
    similarity: float | None


@dataclass(frozen=True)
class PinSelection:
    pins: tuple[SelectedPin, ...] = ()
    explicit: bool = False

    @property
    def version(self) -> str:
        """Pin ids and content versions of what was used: "" when no pin was, so pin-free keys stay as they were."""
        if not self.pins:
            return ""
        material = ",".join(f"{p.item.pin_id}@{p.item.version}{'~' if p.trimmed else ''}" for p in self.pins)
        return "pins:" + hashlib.blake2b(material.encode(), digest_size=8).hexdigest()

    @property
    def message_ts(self) -> list[str]:
        return [p.item.message_ts for p in self.pins if p.item.message_ts]

    @property
    def tokens(self) -> int:
        return sum(estimate_tokens(p.text) for p in self.pins)


def trim_to_tokens(text: str, max_tokens: int) -> str:
    """Cut ``text`` to about ``max_tokens`` (chars/4, as the cost estimates count), at a word boundary."""
    limit = max_tokens * 4
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space > limit // 2 else cut


def choose(
    items: Sequence[PinnedItem], similarities: Sequence[float | None] | None, *, explicit: bool, settings: PinSettings
) -> PinSelection:
    """The pure choice: explicit reference takes pins in relevance (or pin) order, otherwise only those above the
    bar; then the budget decides, trimming the first item that does not fit whole and dropping the rest."""
    ranked: list[tuple[PinnedItem, float | None]] = list(
        zip(items, similarities if similarities is not None else [None] * len(items), strict=True)
    )
    if similarities is not None:
        ranked.sort(key=lambda pair: -(pair[1] if pair[1] is not None else -1.0))
    if not explicit:
        best = max((s for _, s in ranked if s is not None), default=0.0)
        bar = max(settings.similarity_bar, best - settings.within_best)
        ranked = [(item, s) for item, s in ranked if s is not None and s >= bar]
    chosen: list[SelectedPin] = []
    left = settings.max_tokens
    for item, similarity in ranked[: settings.max_items]:
        cost = estimate_tokens(item.text)
        if cost <= left:
            chosen.append(SelectedPin(item, item.text, False, similarity))
            left -= cost
            continue
        if left >= TRIM_FLOOR_TOKENS:
            excerpt = trim_to_tokens(item.text, left - 20)  # room for the note below
            note = f"\n[trimmed: the first {len(excerpt)} of {len(item.text)} characters]"
            chosen.append(SelectedPin(item, excerpt + note, True, similarity))
        break
    return PinSelection(tuple(chosen), explicit=explicit)


class PinVectors:
    """MiniLM vectors of pinned items, keyed by (team, channel, pin id, version): an unchanged pin is embedded once."""

    def __init__(
        self, embed_many: EmbedManyFn, *, max_entries: int = 10_000, max_new: int = MAX_NEW_VECTORS_PER_REQUEST
    ) -> None:
        self._embed_many = embed_many
        self._max_entries = max_entries
        self._max_new = max_new
        self._vectors: OrderedDict[tuple[str, str, str, str], NDArray[np.float32]] = OrderedDict()
        self.embedded = 0  # pins embedded so far: what the cache saves is visible in tests and logs

    async def vectors(
        self, team_id: str, channel_id: str, items: Sequence[PinnedItem]
    ) -> list[NDArray[np.float32] | None]:
        """One vector per item, None for items left to a later request (see ``MAX_NEW_VECTORS_PER_REQUEST``)."""
        keys = [(team_id, channel_id, item.pin_id, item.version) for item in items]
        missing = [(key, item) for key, item in zip(keys, items, strict=True) if key not in self._vectors]
        missing = missing[: self._max_new]
        if missing:
            fresh = await self._embed_many([_embedding_text(item) for _, item in missing])
            for (key, _), vector in zip(missing, fresh, strict=True):
                self._vectors[key] = vector
            self.embedded += len(missing)
        for key in keys:
            if key in self._vectors:
                self._vectors.move_to_end(key)
        while len(self._vectors) > self._max_entries:
            self._vectors.popitem(last=False)
        return [self._vectors.get(key) for key in keys]


def _embedding_text(item: PinnedItem) -> str:
    return f"{item.title}\n{item.text}"[:EMBED_CHARS] if item.title else item.text[:EMBED_CHARS]


class PinSelector:
    """Reads a channel's pins and picks the ones a question needs (see the module docstring for the rules)."""

    def __init__(self, board: PinSource, *, settings: PinSettings, vectors: PinVectors | None = None) -> None:
        self._board = board
        self._settings = settings
        self._vectors = vectors

    async def select(
        self,
        team_id: str,
        channel_id: str,
        question: str,
        question_vector: NDArray[np.float32] | None,
        *,
        explicit_only: bool = False,
    ) -> PinSelection:
        explicit = refers_to_pins(question)
        can_rank = self._vectors is not None and question_vector is not None and not explicit_only
        if not (explicit or can_rank):
            return PinSelection()  # nothing could qualify: skip the pins.list call entirely
        items = await self._board.items(team_id, channel_id)
        if not items:
            return PinSelection(explicit=explicit)
        similarities: list[float | None] | None = None
        if can_rank and self._vectors is not None and question_vector is not None:
            try:
                vectors = await self._vectors.vectors(team_id, channel_id, items[:MAX_CANDIDATES])
                vectors += [None] * (len(items) - len(vectors))
                similarities = [None if v is None else _cosine(question_vector, v) for v in vectors]
            except Exception:  # an embedding failure costs relevance, never the answer
                log.exception("pins.embed_failed", channel_id=channel_id)
        if similarities is None and not explicit:
            return PinSelection()
        selection = choose(items, similarities, explicit=explicit, settings=self._settings)
        log.info(
            "pins.selected",
            channel_id=channel_id,
            available=len(items),
            used=len(selection.pins),
            tokens=selection.tokens,
            explicit=explicit,
            trimmed=any(p.trimmed for p in selection.pins),
        )
        return selection


def _cosine(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """Both vectors come normalised from the embedder, so the dot product is the cosine (NaN-safe)."""
    value = float(a @ b)
    return value if math.isfinite(value) else 0.0
