"""What the learned scorer keeps of a prompt, as bytes: its vector, text features and hashed-word bits.

A vote arrives long after the request (a 👍 minutes later, maybe on another replica), so the request stores this
signature with its answer (the bot's answer map) and the vote carries it to the scorer through the feedback log —
nobody has to keep what was asked, and the bytes cannot be turned back into the question.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
from numpy.typing import NDArray

from routing.learned.features import text_features, word_buckets

FloatArray = NDArray[np.float32]

_SIGNATURE_HEADER = struct.Struct("<HHH")  # vector dims, feature count, word-bucket bytes


def prompt_signature(prompt_vector: NDArray[Any], text: str, word_buckets_n: int) -> bytes:
    """The signature of one prompt (``word_buckets_n`` must match the scorer that will read it)."""
    vector = np.asarray(prompt_vector, dtype="<f4").reshape(-1)
    feats = text_features(text).astype("<f4")
    words = word_buckets(text, word_buckets_n)
    return (
        _SIGNATURE_HEADER.pack(len(vector), len(feats), len(words))
        + vector.tobytes()
        + feats.tobytes()
        + words.tobytes()
    )


def decode_signature(blob: bytes) -> tuple[FloatArray, FloatArray, NDArray[np.uint8]]:
    """Inverse of ``prompt_signature``; ``ValueError`` for bytes that are not one."""
    if len(blob) < _SIGNATURE_HEADER.size:
        raise ValueError("not a prompt signature")
    dims, n_feats, n_words = _SIGNATURE_HEADER.unpack_from(blob)
    start = _SIGNATURE_HEADER.size
    if len(blob) != start + 4 * dims + 4 * n_feats + n_words:
        raise ValueError("prompt signature has the wrong length")
    vector = np.frombuffer(blob, dtype="<f4", count=dims, offset=start).astype(np.float32)
    feats = np.frombuffer(blob, dtype="<f4", count=n_feats, offset=start + 4 * dims).astype(np.float32)
    words = np.frombuffer(blob, dtype=np.uint8, count=n_words, offset=start + 4 * dims + 4 * n_feats).copy()
    return vector, feats, words
