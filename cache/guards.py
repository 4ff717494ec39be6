"""The text guards: model-free checks that refuse a semantic candidate which is a near-miss of the question.

Embedding similarity says two questions are *about* the same thing; it cannot see that "open" became "closed",
"14 days" became "40 days" or "Camden" became "Brixton" — and those near-misses score highest. These checks compare
the two questions' features (features.py): negation and opposites, numbers/dates/amounts, named entities and IDs,
people, the question word (when/where/who/how much), direction (from X to Y) and time or place relations. They
cost tens of microseconds and need no model, so the verifier (verifier.py) runs them before word alignment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cache import lexicon
from cache.features import features
from cache.text import stem

_DIRECTIONAL = frozenset({"from", "to", "into", "than", "vs", "versus"})


@dataclass(frozen=True)
class Verdict:
    """``reason`` names the guard that refused the candidate ("ok" when it passed); logged, never shown."""

    ok: bool
    reason: str


PASS = Verdict(True, "ok")


def text_guards(query: str, candidate: str) -> Verdict:
    """The model-free checks. Cheap (tens of microseconds) and run first."""
    fa, fb = features(query), features(candidate)
    if fa.negations % 2 != fb.negations % 2:
        return Verdict(False, "negation")
    only_a = [t for t in fa.tokens if stem(t) not in fb.stems]
    only_b = [t for t in fb.tokens if stem(t) not in fa.stems]
    for wa in only_a:
        for wb in only_b:
            if lexicon.is_morphological_opposite(wa, wb):
                return Verdict(False, "negation")
            if lexicon.are_opposites(wa, wb):
                return Verdict(False, "antonym")
    if fa.numbers != fb.numbers:
        return Verdict(False, "number")
    # An entity written in lower case on the other side is still the same entity.
    if fa.entities != fb.entities and not (
        all(e in fb.stems or e in fb.tokens for e in fa.entities)
        and all(e in fa.stems or e in fa.tokens for e in fb.entities)
    ):
        return Verdict(False, "entity")
    if fa.third_person != fb.third_person:
        return Verdict(False, "person")
    if fa.wh != fb.wh and fa.wh is not None and fb.wh is not None:
        return Verdict(False, "question_word")
    # "from MySQL to Postgres" vs "from Postgres to MySQL", "Word to PDF" vs "PDF to Word": the same words
    # with their roles swapped.
    objects_a, objects_b = _objects(fa.tokens), _objects(fb.tokens)
    for prep in objects_a.keys() & objects_b.keys():
        only_in_a = objects_a[prep] - objects_b[prep]
        only_in_b = objects_b[prep] - objects_a[prep]
        if any(w in fb.stems for w in only_in_a) and any(w in fa.stems for w in only_in_b):
            return Verdict(False, "direction")
    # "within the cooling-off period" vs "after the cooling-off period": a time or place relation replaced.
    relations_a = {t for t in fa.tokens if t in lexicon.RELATION_PREPOSITIONS}
    relations_b = {t for t in fb.tokens if t in lexicon.RELATION_PREPOSITIONS}
    if relations_a - relations_b and relations_b - relations_a:
        return Verdict(False, "relation")
    return PASS


def _objects(toks: Sequence[str]) -> dict[str, set[str]]:
    """The first content word after each directional preposition: {"from": {"mysql"}, "to": {"postgres"}}."""
    objects: dict[str, set[str]] = {}
    for i, tok in enumerate(toks[:-1]):
        if tok in _DIRECTIONAL:
            nxt = next((t for t in toks[i + 1 :] if t not in lexicon.FUNCTION_WORDS), None)
            if nxt is not None:
                objects.setdefault(tok, set()).add(stem(nxt))
    return objects
