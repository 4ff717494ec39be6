"""What the verification guards compare: a question's features, in a form two wordings of it share.

Tokens, stems and content words; numbers, amounts, times, dates and durations ("two weeks" == "14 days"); named
entities and IDs; the question word (when/where/who/how much) and whether it is about a third person. Computed once
per text (``features`` is memoised), because the same cached question is compared against many new ones. The typo
test lives here too: a misspelt day is still a date, and a misspelt word still aligns with the word it misspells.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from cache.text import raw_words, stem, tokens
from cache.verification import lexicon

_NUM_RE = re.compile(r"^([£$€¥]?)(\d[\d,]*(?:\.\d+)?)(?::(\d\d))?(%|[a-z]+)?$")
_ID_RE = re.compile(r"^(?=.*\d)(?=.*[a-z])[a-z0-9_]+(?:[-_.][a-z0-9_]+)*$")
_STRONG_WH = (
    "how much",
    "how many",
    "how long",
    "how often",
    "how far",
    "how old",
    "how soon",
    "who",
    "where",
    "when",
    "why",
)
_ONE_AS_PRONOUN = frozenset(
    {
        "a",
        "an",
        "the",
        "this",
        "that",
        "which",
        "each",
        "every",
        "any",
        "no",
        "new",
        "other",
        "another",
        "right",
        "wrong",
        "same",
        "old",
        "last",
        "next",
        "better",
        "cheaper",
    }
)
# "How can one get rid of ...", "What should one do": after an auxiliary, "one" is the generic subject.
_ONE_AS_SUBJECT = frozenset(
    [
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "do",
        "does",
        "did",
        "is",
        "if",
        "when",
        "how",
        "where",
        "why",
        "what",
        "that",
    ]
)
# Negations that ask both ways ("Why or why not?", "whether or not", "If not, then ...") and so flip nothing.
_BOTH_WAYS_RE = re.compile(r"\b(?:or (?:why |how )?not|whether or not|if not)\b")
_THIRD_PERSON = frozenset({"he", "she", "him", "her", "his", "hers", "himself", "herself"})


@dataclass(frozen=True)
class QuestionFeatures:
    """One question as the guards see it; ``content`` is the words that must find a counterpart in the other."""

    tokens: tuple[str, ...]
    stems: frozenset[str]
    content: tuple[str, ...]
    negations: int
    numbers: Counter[str]
    entities: frozenset[str]
    wh: str | None
    third_person: bool


def _number_features(toks: Sequence[str]) -> Counter[str]:
    """Numbers, amounts, times, dates and durations in a comparable form ("two weeks" == "14 days")."""
    feats: Counter[str] = Counter()
    # "two-year" reads like "2-year", which the tokenizer already splits into "2" and "year".
    toks = [
        part for tok in toks for part in (tok.split("-", 1) if tok.split("-")[0] in lexicon.NUMBER_WORDS else (tok,))
    ]
    i = 0
    while i < len(toks):
        tok = toks[i]
        value: float | None = None
        kind = "n"
        match = _NUM_RE.match(tok)
        if match:
            currency, digits, minutes, suffix = match.groups()
            value = float(digits.replace(",", ""))
            if minutes:
                value += int(minutes) / 60
                kind = "t"
            if suffix in ("pm", "am"):
                kind = "t"
                value = value % 12 + (12 if suffix == "pm" else 0)
            elif suffix == "k":
                value *= 1000
            elif suffix in ("m", "bn"):
                value *= 1_000_000 if suffix == "m" else 1_000_000_000
            elif suffix in ("st", "nd", "rd", "th"):
                kind = "o"
            elif suffix == "%":
                kind = "%"
            elif suffix:
                kind = lexicon.UNIT_ALIASES.get(suffix, suffix)
            if currency:
                kind = "$"
        elif tok == "one" and (
            i + 1 == len(toks) or (i > 0 and (toks[i - 1] in _ONE_AS_PRONOUN or toks[i - 1] in _ONE_AS_SUBJECT))
        ):
            pass  # "a new one", "this one", "how can one ...": a pronoun, not a count
        elif tok in lexicon.NUMBER_WORDS:
            value = float(lexicon.NUMBER_WORDS[tok])
            # "twenty five", "two hundred"
            while i + 1 < len(toks) and toks[i + 1] in lexicon.NUMBER_WORDS and toks[i + 1] not in ("both",):
                nxt = float(lexicon.NUMBER_WORDS[toks[i + 1]])
                value = value * nxt if nxt >= 100 else value + nxt
                i += 1
        elif tok in lexicon.ORDINAL_WORDS:
            value, kind = float(lexicon.ORDINAL_WORDS[tok]), "o"
        elif tok in lexicon.DATE_WORDS:
            feats["d:" + stem(tok)] += 1
        elif len(tok) >= 5 and tok.isalpha() and (date := _date_typo(tok)) is not None:
            feats["d:" + stem(date)] += 1  # "Mondys"
        if value is not None:
            nxt_tok = toks[i + 1] if i + 1 < len(toks) else ""
            if kind == "n" and nxt_tok in ("pm", "am", "p.m", "a.m"):
                kind, value = "t", value % 12 + (12 if nxt_tok.startswith("p") else 0)
                i += 1
            elif kind in ("n", "o") and nxt_tok in lexicon.DURATION_UNITS:
                value, kind = value * lexicon.DURATION_UNITS[nxt_tok], "dur"
                i += 1
            elif kind in lexicon.DURATION_UNITS:
                value, kind = value * lexicon.DURATION_UNITS[kind], "dur"
            elif nxt_tok in ("percent", "per"):
                kind = "%"
            elif kind == "n" and nxt_tok in lexicon.UNIT_ALIASES:
                kind = lexicon.UNIT_ALIASES[nxt_tok]
                i += 1
            feats[f"{kind}:{round(value, 4):g}"] += 1
        i += 1
    return feats


@lru_cache(maxsize=2048)
def _date_typo(tok: str) -> str | None:
    return next(
        (
            d
            for d in _LONG_DATE_WORDS
            if abs(len(d) - len(tok)) <= 2 and (d[0] == tok[0] or d[:2] == tok[1::-1]) and is_typo_of(tok, d)
        ),
        None,
    )


# Only these can be misspelt into something the typo test recognises (is_typo_of needs 4+ letters and the same
# first letter, or its first two swapped); filtering on that first is what keeps first sight of a text cheap.
_LONG_DATE_WORDS = tuple(sorted(d for d in lexicon.DATE_WORDS if len(d) >= 5))


def _is_numeric_token(tok: str) -> bool:
    return (
        bool(_NUM_RE.match(tok))
        or tok in lexicon.NUMBER_WORDS
        or tok in lexicon.ORDINAL_WORDS
        or tok in lexicon.DATE_WORDS
        or tok in lexicon.DURATION_UNITS
        or tok in ("am", "pm", "percent")
    )


def _entities(text: str, toks: Sequence[str]) -> frozenset[str]:
    """Names and identifiers: capitalised words after the first, acronyms, IDs with digits, Slack references."""
    found: set[str] = set()
    words = raw_words(text)
    shouting = sum(w.isupper() for w in words) > max(2, len(words) // 2)
    for index, word in enumerate(words):
        if shouting or word == "I" or word.startswith("I'"):
            continue
        bare = word.lower().removesuffix("'s").removesuffix("’s")
        if bare in lexicon.FUNCTION_WORDS or bare in lexicon.GREETING_WORDS or bare in lexicon.DATE_WORDS:
            continue
        if len(bare) >= 5 and bare.isalpha() and _date_typo(bare) is not None:
            continue  # "Mondys" is a date (compared by the number guard), not a name
        if (index > 0 and word[0].isupper()) or (len(word) >= 2 and word.isupper()):
            found.add(stem(bare))
    for tok in toks:
        if tok.startswith("<") or (_ID_RE.match(tok) and not _NUM_RE.match(tok)):
            found.add(tok)
    return frozenset(found)


def _wh(toks: Sequence[str]) -> str | None:
    joined = " " + " ".join(toks) + " "
    joined = re.sub(r" what time ", " when ", joined)
    joined = re.sub(r" how many (?:minute|hour|day|week|month|year)s? ", " how long ", joined)
    positions = [(joined.find(f" {wh} "), wh) for wh in _STRONG_WH if f" {wh} " in joined]
    return min(positions)[1] if positions else None


@lru_cache(maxsize=4096)
def features(text: str) -> QuestionFeatures:
    toks = tokens(text)
    content = tuple(
        t
        for i, t in enumerate(toks)
        if t not in lexicon.FUNCTION_WORDS
        and t not in lexicon.NEGATORS
        and t not in _THIRD_PERSON
        and t not in lexicon.PREPOSITIONS
        and not _is_numeric_token(t)
        and not t.startswith("<")
        and not (t == "time" and i > 0 and toks[i - 1] == "what")  # "what time" is the question word "when"
        and not (t in ("long", "old", "soon") and i > 0 and toks[i - 1] == "how")  # part of the question word
        and not (len(t) >= 5 and t.isalpha() and _date_typo(t) is not None)  # "Mondys": compared as a date
    )
    return QuestionFeatures(
        tokens=toks,
        stems=frozenset(stem(t) for t in toks),
        content=content,
        negations=sum(
            t in lexicon.NEGATORS or stem(t) in lexicon.NEGATING_VERBS
            for t in tokens(_BOTH_WAYS_RE.sub(" ", " ".join(toks)))
        ),
        numbers=_number_features(toks),
        entities=_entities(text, toks),
        wh=_wh(toks),
        third_person=any(t in _THIRD_PERSON for t in toks),
    )


def _typo_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions)."""
    if abs(len(a) - len(b)) > 2:
        return 3
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


@lru_cache(maxsize=65536)
def is_typo_of(a: str, b: str) -> bool:
    """One edit for words up to 9 letters, two beyond; numbers, names and opposites never count as typos."""
    if min(len(a), len(b)) < 4 or (a[0] != b[0] and a[:2] != b[1::-1]):
        return False
    if lexicon.are_opposites(a, b) or lexicon.is_morphological_opposite(a, b):
        return False
    allowed = 1 if max(len(a), len(b)) <= 9 else 2
    return _typo_distance(a, b) <= allowed
