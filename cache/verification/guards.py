"""The text guards: model-free checks that refuse a semantic candidate which is a near-miss of the question.

Embedding similarity says two questions are *about* the same thing; it cannot see that "open" became "closed",
"14 days" became "40 days" or "Camden" became "Brixton" — and those near-misses score highest. These checks compare
the two questions' features (features.py): negation, negating verbs and opposites, a number, date, amount, name
or ID *replaced* by another, a compound whose modifier changed, people, the question word (when/where/who/how
much), direction (from X to Y) and time or place relations. They
cost tens of microseconds and need no model, so the verifier (verifier.py) runs them before the learned scorer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cache.text import stem
from cache.verification import lexicon
from cache.verification.features import QuestionFeatures, features

_DIRECTIONAL = frozenset({"from", "to", "into", "than", "vs", "versus"})
# Prefixes that negate beyond doubt even beside the bare word ("non-Indian men think of Indian women"); "in",
# "de" or "im" would also match "inform"/"form", "define"/"fine".
_EXTRA_NEGATING_PREFIXES = ("non", "un", "dis", "anti")


@dataclass(frozen=True)
class Verdict:
    """``reason`` names what refused the candidate ("ok" when it passed); logged, never shown. ``score`` is the
    learned scorer's P(same answer), 0.0 when a guard refused before the scorer ran."""

    ok: bool
    reason: str
    score: float = 0.0


PASS = Verdict(True, "ok", 1.0)


def text_guards(query: str, candidate: str) -> Verdict:
    """The model-free checks. Cheap (tens of microseconds) and run first."""
    fa, fb = features(query), features(candidate)
    if fa.negations % 2 != fb.negations % 2:
        return Verdict(False, "negation")
    if _negated_extra(fa, fb) or _negated_extra(fb, fa):
        return Verdict(False, "negation")
    if _compound_modifier_changed(fa, fb) or _compound_modifier_changed(fb, fa):
        return Verdict(False, "scope")
    only_a = [t for t in fa.tokens if stem(t) not in fb.stems]
    only_b = [t for t in fb.tokens if stem(t) not in fa.stems]
    for wa in only_a:
        for wb in only_b:
            if lexicon.is_morphological_opposite(wa, wb):
                return Verdict(False, "negation")
            if lexicon.are_opposites(wa, wb):
                return Verdict(False, "antonym")
    # A number or a name *replaced* by another ("14 days"/"40 days", "Pixel"/"Kindle") is a different question.
    # One only *added* on one side ("... in 2017?", "Winston Churchill"/"Churchill") often is not: that is
    # left to the learned scorer (pair_features.py counts it).
    if fa.numbers - fb.numbers and fb.numbers - fa.numbers:
        return Verdict(False, "number")
    if unmatched_entities(fa, fb) and unmatched_entities(fb, fa):
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


def unmatched_entities(fa: QuestionFeatures, fb: QuestionFeatures) -> frozenset[str]:
    """Entities of ``fa`` that ``fb`` does not mention in any form (an entity in lower case is still one)."""
    return frozenset(e for e in fa.entities if e not in fb.stems and e not in fb.tokens and e not in fb.entities)


def _negated_extra(fa: QuestionFeatures, fb: QuestionFeatures) -> bool:
    """ "non-Indian men" vs "Indian men": a negated form of a word both questions share, on one side only."""
    others = set(fb.tokens)
    for word in fa.tokens:
        if stem(word) in fb.stems:
            continue
        for prefix in _EXTRA_NEGATING_PREFIXES:
            base = word[len(prefix) :].lstrip("-")
            if word.startswith(prefix) and len(base) >= 4 and base in others:
                return True
    return False


def _compound_modifier_changed(fa: QuestionFeatures, fb: QuestionFeatures) -> bool:
    """full-time/part-time, employed/self-employed: a compound keeps one part and changes or adds the other.

    Embeddings score these as near-synonyms, yet they are the classic scope trap. A compound whose parts the
    other question has as separate words ("first-time"/"first time") is the same word written apart.
    """
    others = set(fb.tokens) | {part for tok in fb.tokens if "-" in tok for part in tok.split("-")}
    other_stems = fb.stems | {stem(part) for part in others}
    for word in fa.tokens:
        if "-" not in word or word in fb.tokens:
            continue
        parts = [p for p in word.split("-") if p]
        if any(p in lexicon.NUMBER_WORDS or p[0].isdigit() for p in parts):
            continue  # "2-year"/"two-year": the number guard compares those
        kept = [p for p in parts if p in others or stem(p) in other_stems]
        if kept and len(kept) < len(parts):
            return True
    return False


def _objects(toks: Sequence[str]) -> dict[str, set[str]]:
    """The first content word after each directional preposition: {"from": {"mysql"}, "to": {"postgres"}}."""
    objects: dict[str, set[str]] = {}
    for i, tok in enumerate(toks[:-1]):
        if tok in _DIRECTIONAL:
            nxt = next((t for t in toks[i + 1 :] if t not in lexicon.FUNCTION_WORDS), None)
            if nxt is not None:
                objects.setdefault(tok, set()).add(stem(nxt))
    return objects
