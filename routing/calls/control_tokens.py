"""Chat-template control tokens that some OpenAI-compatible servers leak into the text: the one list, and its filter.

A server whose model has no chat template of its own (llama.cpp falls back to ChatML) or that does not treat the
template's end marker as a stop sequence sends ``<|im_end|>``, ``<end_of_turn>`` and friends as plain text. They
mean nothing to a reader and, escaped for Slack, show up as ``&lt;|im_end|&gt;`` — sometimes a hundred times in
one answer. They are removed here, at the edge where text leaves the provider, so neither the user, the cache nor
the ledger's token estimates ever see them.

Only markers that cannot be ordinary prose or code are listed (``<s>``/``</s>`` and ``[INST]`` are left alone: they
occur in HTML and in documentation). A role header that follows a turn marker (``<|im_start|>assistant``) goes with
it. Streams arrive in arbitrary pieces, so the filter holds back a tail that could still grow into a marker.
"""

from __future__ import annotations

import re

_ROLES = ("system", "user", "assistant", "model", "tool")

CONTROL_TOKENS: tuple[str, ...] = (
    # ChatML (Qwen, many llama.cpp fallbacks)
    "<|im_start|>",
    "<|im_end|>",
    "<|im_sep|>",
    "<|endoftext|>",
    # Llama 3
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
    "<|eom_id|>",
    # Phi-3 and GLM-4
    "<|end|>",
    "<|user|>",
    "<|assistant|>",
    "<|system|>",
    "<|observation|>",
    # Gemma
    "<start_of_turn>",
    "<end_of_turn>",
    "<bos>",
    "<eos>",
    # DeepSeek (full-width bars and the ▁ word marker are part of the token)
    "<｜begin▁of▁sentence｜>",
    "<｜end▁of▁sentence｜>",
    "<｜User｜>",
    "<｜Assistant｜>",
)

# Turn-opening markers are followed by a role name (and usually a newline) that belongs to the template too.
_TURN_OPENERS = ("<|im_start|>", "<start_of_turn>")


def _removable() -> tuple[str, ...]:
    with_roles = [f"{opener}{role}{end}" for opener in _TURN_OPENERS for role in _ROLES for end in ("\n", "")]
    return tuple(sorted({*CONTROL_TOKENS, *with_roles}, key=len, reverse=True))


_REMOVABLE = _removable()
_PATTERN = re.compile("|".join(re.escape(token) for token in _REMOVABLE))
_LONGEST = max(len(token) for token in _REMOVABLE)


# Markers that begin a turn other than the answer's own: after answer text they mean a made-up turn follows (a
# Llama 3 header leaves its role name in the text, so any header after text counts).
_OTHER_TURN = ("user", "system", "User", "<|start_header_id|>", "<|observation|>", "tool")


def opens_another_turn(marker: str) -> bool:
    """``marker`` (a removed string) opens a user, system, tool or header turn: not the assistant's answer."""
    return any(word in marker for word in _OTHER_TURN)


def split_control_tokens(text: str) -> list[tuple[str, str]]:
    """``text`` as (text, marker that follows it) pairs; the last pair's marker is "" (for whole texts)."""
    parts: list[tuple[str, str]] = []
    last = 0
    for match in _PATTERN.finditer(text):
        parts.append((text[last : match.start()], match.group()))
        last = match.end()
    parts.append((text[last:], ""))
    return parts


def strip_control_tokens(text: str) -> str:
    """``text`` without any known control token (for whole texts; streams use ``ControlTokenFilter``)."""
    return _PATTERN.sub("", text)


def _open_tail(text: str) -> int:
    """Length of the longest tail of ``text`` that is a proper prefix of some removable string."""
    for size in range(min(len(text), _LONGEST - 1), 0, -1):
        tail = text[-size:]
        if any(token.startswith(tail) and token != tail for token in _REMOVABLE):
            return size
    return 0


class ControlTokenFilter:
    """Removes control tokens from a stream of text pieces, however the pieces cut them."""

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, piece: str) -> str:
        """The text that is certain now; a tail that may still become a marker waits for the next piece."""
        return "".join(text for text, _ in self.feed_parts(piece))

    def finish(self) -> str:
        """Whatever was held back, once the stream has ended."""
        return "".join(text for text, _ in self.finish_parts())

    def feed_parts(self, piece: str) -> list[tuple[str, str]]:
        """Like ``feed``, as (text, the marker removed after it) pairs, so a caller can see where markers were
        (the quality check counts them: ``routing/calls/quality.py``)."""
        text = self._pending + piece
        keep = _open_tail(text)
        self._pending = text[len(text) - keep :] if keep else ""
        return split_control_tokens(text[: len(text) - keep])

    def finish_parts(self) -> list[tuple[str, str]]:
        text, self._pending = self._pending, ""
        return split_control_tokens(text)
