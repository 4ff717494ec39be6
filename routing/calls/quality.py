"""Cheap checks that an answer is not degenerate: a repetition loop, leaked template tokens, an empty refusal.

Small models fail in a few recognisable ways that an empty-or-cut test does not see: they loop (the same
sentence, list item or word until the token limit), they run past their turn on a server that does not stop at
the template's end marker (``<|im_end|>`` a hundred times, or a made-up ``user`` turn after the answer), or they
answer "I don't know" when the thread they were given holds the answer. Each such answer is a failed attempt
(``routing/calls/gate.py`` holds text back so the check can run before the user sees it, and the retry loop
escalates to the next tier). The checks are plain string work on the text already received — no model call,
microseconds per check — so they may run every few dozen characters.

Every check returns a ``Finding``: what is wrong and how much of the text before it is clean, so the answer can
be cut there and continued by the next model. Thresholds come from the catalog (``policy.quality``) and were
chosen against the corpus of real degenerate and clean answers in ``tests/unit/routing/calls/``: lists with
repeated bullet prefixes, code with repeated lines, tables and refrains must pass.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from routing.calls.control_tokens import opens_another_turn
from routing.policy import QualityPolicy


class Degeneracy(StrEnum):
    """Why an answer failed its quality check (an ``Attempt.error`` kind; the ledger counts them per model)."""

    REPETITION = "repetition"  # a loop: the same text (or nearly) again and again
    LEAKED_TOKENS = "leaked_tokens"  # chat-template markers past the answer's end: the model ran past its turn
    REFUSAL = "refusal"  # "I don't know" although the request carried the context to answer

    @classmethod
    def kinds(cls) -> frozenset[str]:
        return frozenset(member.value for member in cls)


@dataclass(frozen=True)
class Finding:
    """A degenerate answer: ``clean_chars`` characters of it (from the start) are fine, the rest is not."""

    kind: Degeneracy
    clean_chars: int


# ---- repetition ---------------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
_FENCE = re.compile(r"^\s*(```|~~~)")
_NGRAM = 4  # word 4-grams: short enough to catch a loop early, long enough that prose rarely repeats one


def exact_loop(text: str, policy: QualityPolicy) -> Finding | None:
    """The text ends in one unit repeated back to back (``unit unit unit…``), character for character.

    For each period p the run of characters equal to the one p before is measured from the end (a mismatch
    stops it at once, so non-periodic text costs one comparison per period). At least ``loop_min_copies``
    copies and ``loop_min_chars`` repeated characters are needed: a ``----`` rule, a refrain sung twice or three
    identical code lines are not loops. The first copy is kept as the clean part.
    """
    n = len(text)
    need = policy.loop_min_chars
    if n < need:
        return None
    best: tuple[int, int] | None = None  # (clean_chars, period)
    for period in range(1, min(policy.loop_max_period, n // 2) + 1):
        run = 0
        j = n - 1
        while j - period >= 0 and text[j] == text[j - period]:
            run += 1
            j -= 1
        copies = (run + period) // period
        if run >= need and copies >= policy.loop_min_copies:
            clean = n - run  # the text up to the end of the first copy
            if best is None or clean < best[0]:
                best = (clean, period)
    return Finding(Degeneracy.REPETITION, best[0]) if best else None


def _prose_words(text: str) -> list[re.Match[str]]:
    """Word matches outside code fences and table rows, where repeated structure is normal."""
    words: list[re.Match[str]] = []
    fenced = False
    offset = 0
    for line in text.splitlines(keepends=True):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and not line.lstrip().startswith("|"):
            words.extend(m for m in _WORD.finditer(text, offset, offset + len(line)))
        offset += len(line)
    return words


def ngram_loop(text: str, policy: QualityPolicy) -> Finding | None:
    """The last ``ngram_window_words`` words of prose are mostly 4-grams already said: a loop with variations.

    Numbers are folded ("Step 3: …", "Step 4: …" repeat too) and 4-grams of numbers alone are skipped (a list of
    figures is not a loop). The clean part ends where the first run of three repeated 4-grams in the window
    starts: the second copy of the looping text.
    """
    window = policy.ngram_window_words
    words = _prose_words(text)
    if len(words) < window:
        return None
    folded = ["0" if m.group().isdigit() else m.group().lower() for m in words]
    grams = [tuple(folded[i : i + _NGRAM]) for i in range(len(folded) - _NGRAM + 1)]
    start = len(grams) - (window - _NGRAM + 1)
    counted = [i for i in range(start, len(grams)) if any(not w.isdigit() for w in grams[i])]
    if not counted:
        return None
    distinct = len({grams[i] for i in counted}) / len(counted)
    if distinct >= policy.ngram_min_distinct:
        return None
    seen = set(grams[:start])
    run_start, run = None, 0
    for i in range(start, len(grams)):
        if grams[i] in seen:
            run_start, run = (i, 1) if run == 0 else (run_start, run + 1)
            if run >= 3:
                break
        else:
            run = 0
        seen.add(grams[i])
    cut = words[run_start].start() if run_start is not None and run >= 3 else words[start].start()
    return Finding(Degeneracy.REPETITION, cut)


def repetition(text: str, policy: QualityPolicy) -> Finding | None:
    """Either kind of loop; the earlier clean cut wins (less of the loop is kept)."""
    found = [f for f in (exact_loop(text, policy), ngram_loop(text, policy)) if f is not None]
    return min(found, key=lambda f: f.clean_chars) if found else None


# ---- leaked template tokens ---------------------------------------------------------------------------------


def leaked_tokens(markers: Sequence[tuple[int, str]], policy: QualityPolicy) -> Finding | None:
    """Template markers the provider edge removed (``(offset in the answer, marker)``) that mean the model ran
    past the end of its turn.

    Stripping hides a stray ``<|im_end|>``, but not what a model writes after it when the server does not stop
    there: a made-up ``user`` turn (or a Llama 3 header, whose role name stays in the text), or marker after
    marker. One marker at the very start (a leaked ``<|im_start|>assistant``) and a few at the end are harmless
    and allowed. The clean part ends at the first marker after text began.
    """
    after_text = [(offset, marker) for offset, marker in markers if offset > 0]
    if not after_text:
        return None
    clean = after_text[0][0]
    if any(opens_another_turn(marker) for _, marker in after_text):
        return Finding(Degeneracy.LEAKED_TOKENS, clean)
    if len(markers) > policy.leaked_tokens_max:
        return Finding(Degeneracy.LEAKED_TOKENS, clean)
    return None


# ---- empty refusals -----------------------------------------------------------------------------------------

_APOLOGY = re.compile(
    r"^\W*(?:(?:i'?m|i am)\s+(?:so\s+|very\s+)?sorry|sorry|unfortunately|apologies)\b[,.!:;\s-]*(?:but\s+)?", re.I
)
_REFUSAL = re.compile(
    r"^(?:"
    r"i\s+(?:really\s+)?(?:do\s*n[o']?t|don'?t|cannot|can'?t|can\s+not)\s+(?:know|tell|say|answer|help|find|determine|"
    r"access|see|provide|assist|be\s+sure)"
    r"|i\s+(?:do\s*n[o']?t|don'?t)\s+have\s+(?:enough\s+|any\s+|the\s+|sufficient\s+)?(?:information|context|details|data|access)"
    r"|i\s+am\s+(?:not\s+sure|unable|not\s+able)|i'?m\s+(?:not\s+sure|unable|not\s+able)"
    r"|i\s+have\s+no\s+(?:information|idea|way|access)"
    r"|(?:the\s+)?(?:provided\s+|given\s+)?(?:context|thread|conversation|messages?|text|information)\s+"
    r"(?:does\s+not|doesn'?t|do\s+not|don'?t)\s+(?:contain|mention|include|say|specify|provide|state)"
    r"|there\s+is\s+no\s+(?:information|mention|data|context)"
    r"|no\s+(?:information|idea)"
    r"|as\s+an\s+ai\b"
    r"|not\s+sure\b"
    r")",
    re.I,
)
# What turns a refusal into an answer: a contrast or a pointer to what the context does say.
_SUBSTANCE = re.compile(r"\b(?:but|however|although|though|that\s+said|the\s+thread\s+says|according\s+to)\b", re.I)


def _refusal_body(text: str) -> str:
    stripped = text.strip().replace("\u2019", "'")  # models write typographic apostrophes as often as plain ones
    return _APOLOGY.sub("", stripped, count=1).lstrip()


def refusal_start(text: str) -> bool:
    """The answer so far opens like a refusal (the gate then holds it until the whole of it is known)."""
    return bool(_REFUSAL.match(_refusal_body(text)))


def refusal(text: str, policy: QualityPolicy) -> Finding | None:
    """The whole answer is a short "I don't know" / "the context does not say" with nothing else in it.

    Only asked when the request carried context (thread, pins, a transcript): without any, "I don't know" may be
    the honest answer. "I don't know the exact time, but the thread says…" has substance and passes.
    """
    body = _refusal_body(text)
    if len(text.strip()) > policy.refusal_max_chars or not _REFUSAL.match(body):
        return None
    if _SUBSTANCE.search(body):
        return None
    return Finding(Degeneracy.REFUSAL, 0)
