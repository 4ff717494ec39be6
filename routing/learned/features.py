"""Cheap text features that the learned scorer adds to the prompt embedding.

MiniLM places a prompt by topic, but says little about how *hard* it is: two questions on the same subject embed
close together even when one needs five arithmetic steps. Counting numbers, maths symbols, length and a few
phrasings ("how many", "EXCEPT") is microseconds of regex work and measurably improves which prompts the
router escalates (benchmarks/router_quality.py). Only numbers leave this module, never the text, so the
scorer's state can be stored without keeping what people asked.

``word_buckets`` adds a hashed bag of words (which of ``n_buckets`` buckets the prompt's words fall in, as a packed
bit set): phrasings like "Statement 1 |", "EXCEPT" or "scenario" mark kinds of questions a weak model gets wrong
across topics, which the topic-level embedding blurs. The hash is CRC-32, stable across processes (Python's ``hash``
is salted), and the bit set cannot be turned back into the words.
"""

from __future__ import annotations

import math
import re
import zlib

import numpy as np
from numpy.typing import NDArray

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_DECIMAL = re.compile(r"\d+\.\d+")
_MATH = re.compile(r"[=+\-*/^%<>√π∑∫×÷]")
_OPTION_LINE = re.compile(r"^\s*[A-Da-d][.)]\s")
_NEGATION = re.compile(r"\b(?:not|except|least|false)\b", re.IGNORECASE)
_WORD = re.compile(r"\w\w+")
_QUANTITY = re.compile(r"\bhow (?:many|much|long|far|old)\b", re.IGNORECASE)

FEATURE_NAMES: tuple[str, ...] = (
    "log_chars",
    "log_words",
    "log_numbers",
    "log_distinct_numbers",
    "math_symbols_per_100_chars",
    "digits_per_100_chars",
    "has_decimal",
    "asks_quantity",
    "has_negation",
    "has_percent",
    "has_currency",
    "log_lines",
    "has_question_mark",
    "log_option_chars",
    "options_with_digits",
)
N_FEATURES = len(FEATURE_NAMES)


def text_features(text: str) -> NDArray[np.float32]:
    """A fixed-length vector (order of ``FEATURE_NAMES``) describing how much work the prompt asks for."""
    chars = max(1, len(text))
    numbers = _NUMBER.findall(text)
    lines = text.splitlines() or [text]
    options = [line for line in lines if _OPTION_LINE.match(line)]
    option_chars = sum(len(o) for o in options) / len(options) if options else 0.0
    options_with_digits = sum(1 for o in options if any(c.isdigit() for c in o)) / len(options) if options else 0.0
    values = (
        math.log1p(len(text)),
        math.log1p(len(text.split())),
        math.log1p(len(numbers)),
        math.log1p(len(set(numbers))),
        100.0 * len(_MATH.findall(text)) / chars,
        100.0 * sum(c.isdigit() for c in text) / chars,
        float(bool(_DECIMAL.search(text))),
        float(bool(_QUANTITY.search(text))),
        float(bool(_NEGATION.search(text))),
        float("%" in text),
        float(any(c in text for c in "$€£¥")),
        math.log1p(len(lines)),
        float("?" in text),
        math.log1p(option_chars),
        options_with_digits,
    )
    return np.asarray(values, dtype=np.float32)


def word_buckets(text: str, n_buckets: int) -> NDArray[np.uint8]:
    """Packed bit set (``n_buckets / 8`` bytes) of the hashed lower-cased words (two or more word characters)."""
    if n_buckets <= 0 or n_buckets % 8:
        raise ValueError("n_buckets must be a positive multiple of 8")
    bits = np.zeros(n_buckets, dtype=np.bool_)
    words = set(_WORD.findall(text.lower()))
    if words:
        bits[[zlib.crc32(w.encode("utf-8")) % n_buckets for w in words]] = True
    return np.packbits(bits)


def bucket_matrix(packed: NDArray[np.uint8], n_buckets: int) -> NDArray[np.float64]:
    """Rows of packed bit sets as unit-length 0/x rows (every prompt weighs the same, however long it is)."""
    bits = np.unpackbits(packed, axis=1, count=n_buckets).astype(np.float64)
    norms = np.sqrt(np.maximum(bits.sum(axis=1, keepdims=True), 1.0))
    result: NDArray[np.float64] = bits / norms
    return result
