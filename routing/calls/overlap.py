"""Joining a resumed answer to the text already shown, without showing anything twice.

When a stream breaks after the user has seen text ``shown``, the next model is asked to continue from it. Models
often repeat some of it (the last words, or the whole answer from the start). The continuation is held back only
until it is clear how much of its beginning equals the end of ``shown``; the longest such overlap is dropped and
the rest flows through unbuffered. Short overlaps (under ``MIN_OVERLAP`` characters) count only when they are
whitespace or a cut word being completed ("mov" + "moved"): "it" ending one text and " it works" starting the
next is more likely prose than repetition.
"""

from __future__ import annotations

MIN_OVERLAP = 4


class OverlapJoiner:
    """Feed continuation deltas in, get the text that is new to the user out."""

    def __init__(self, shown: str) -> None:
        self._shown = shown
        self._buffer = ""
        self._decided = not shown
        # Overlap lengths still consistent with what has arrived so far.
        self._candidates = list(range(len(shown), 0, -1))

    def feed(self, delta: str) -> str:
        if self._decided:
            return delta
        self._buffer += delta
        n = len(self._buffer)
        shown = self._shown
        self._candidates = [
            k
            for k in self._candidates
            if shown[len(shown) - k : len(shown) - k + min(k, n)] == self._buffer[: min(k, n)]
        ]
        if any(k > n for k in self._candidates):
            return ""  # a longer overlap is still possible: wait for more text
        return self._decide()

    def finish(self) -> str:
        """The stream ended: release whatever is still held back."""
        if self._decided:
            return ""
        n = len(self._buffer)
        self._candidates = [k for k in self._candidates if k <= n]
        return self._decide()

    def _decide(self) -> str:
        self._decided = True
        overlap = next((k for k in self._candidates if self._acceptable(k)), 0)
        rest, self._buffer = self._buffer[overlap:], ""
        return rest

    def _acceptable(self, k: int) -> bool:
        tail = self._shown[-k:]
        if k >= MIN_OVERLAP or not tail.strip():
            return True
        word_start = k == len(self._shown) or not self._shown[-k - 1].isalnum()
        word_goes_on = len(self._buffer) > k and self._buffer[k].isalnum()
        return tail.isalnum() and word_start and word_goes_on
