"""The quality gate: one attempt's text, held back just long enough for the quality checks to run first.

Delivery never takes back a word the user has seen (``bot/slack/delivery/``), so a degenerate answer has to be
caught before it is shown. The gate holds an attempt's first ``hold_chars`` characters (the first phrase: about
a second of streaming, behind the placeholder the user already sees); after that it lets text through
``lag_chars`` behind the model, so a loop that starts later is usually cut before its first repeat reaches
Slack. An answer that opens like a refusal is held until it is clearly more than one (``refusal_max_chars``) or
ends. When a check fails, the attempt is over: nothing of it is shown if it was still in its first hold (the
next model answers afresh), else the clean part up to the finding is let through and the next model continues
from it with the resume the retry loop already has (``routing/calls/generate.py``).
"""

from __future__ import annotations

from routing.calls.quality import Finding, leaked_tokens, refusal, refusal_start, repetition
from routing.policy import QualityPolicy

CHECK_EVERY = 32  # characters between two loop checks (each costs microseconds; a loop needs 100+ to show)


class QualityGate:
    """Feed one attempt's text in; get out what may be shown. ``finding`` says when the attempt failed."""

    def __init__(self, policy: QualityPolicy, *, grounded: bool) -> None:
        self._policy = policy
        self._grounded = grounded
        self._text = ""
        self._released = 0
        self._markers: list[tuple[int, str]] = []
        self._opened = not policy.enabled
        self._checked = 0
        self.finding: Finding | None = None

    @property
    def opened(self) -> bool:
        """The first hold is over: some of this attempt may have been shown."""
        return self._opened

    def feed(self, text: str) -> str:
        """New text from the model; returns the text that may be shown now."""
        if self.finding is not None:
            return ""
        self._text += text
        if not self._policy.enabled:
            return self._release(len(self._text))
        if len(self._text) - self._checked >= CHECK_EVERY:
            self._checked = len(self._text)
            self.finding = repetition(self._text, self._policy)
            if self.finding is not None:
                return self._cut()
        if not self._opened and not self._may_open():
            return ""
        return self._release(len(self._text) - self._policy.lag_chars)

    def marker(self, marker: str) -> str:
        """A template marker removed from the text here; returns the text that may be shown now."""
        if self.finding is not None or not self._policy.enabled:
            return ""
        self._markers.append((len(self._text), marker))
        self.finding = leaked_tokens(self._markers, self._policy)
        return self._cut() if self.finding is not None else ""

    def finish(self) -> str:
        """The stream ended: the whole answer is checked; returns the rest that may be shown."""
        if self.finding is not None:
            return ""
        if not self._policy.enabled:
            return self._release(len(self._text))
        policy = self._policy
        self.finding = (
            leaked_tokens(self._markers, policy)
            or repetition(self._text, policy)
            or (refusal(self._text, policy) if self._grounded else None)
        )
        if self.finding is not None:
            return self._cut()
        self._opened = True
        return self._release(len(self._text))

    def abandon(self) -> str:
        """The stream broke (cut, stalled, out of time): what arrived and passes the checks so far is shown, so the
        resume continues from it as it would without a gate. A possible refusal stays held (it is dropped)."""
        if self.finding is not None:
            return ""
        if not self._policy.enabled:
            return self._release(len(self._text))
        self.finding = leaked_tokens(self._markers, self._policy) or repetition(self._text, self._policy)
        if self.finding is not None:
            return self._cut()
        text = self._text
        if self._grounded and len(text.strip()) <= self._policy.refusal_max_chars and refusal_start(text):
            return ""
        self._opened = True
        return self._release(len(text))

    def _may_open(self) -> bool:
        text = self._text
        if len(text) < self._policy.hold_chars:
            return False
        if self._grounded and len(text.strip()) <= self._policy.refusal_max_chars and refusal_start(text):
            return False  # it may be a whole refusal: wait until it is more than one, or ends
        self._opened = True
        return True

    def _release(self, upto: int) -> str:
        if upto <= self._released:
            return ""
        out = self._text[self._released : upto]
        self._released = upto
        return out

    def _cut(self) -> str:
        """After a finding: nothing more if this attempt was never shown, else its clean part."""
        assert self.finding is not None
        if not self._opened:
            return ""
        return self._release(self.finding.clean_chars)
