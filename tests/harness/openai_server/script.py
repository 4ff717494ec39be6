"""What the fake server answers: scripted text, word-sized chunks and deterministic token counts.

Kept separate from the HTTP code so that tests can compute the exact expectations (`split_tokens`,
`count_prompt_tokens`) with the same functions the server uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# A "token" is a run of whitespace followed by a word (OpenAI-style leading space: "Hello", " world"), or
# trailing whitespace. Every character belongs to exactly one token, so "".join(tokens) == text, byte-exact.
_TOKEN_RE = re.compile(r"\s*\S+|\s+")

AnswerFn = Callable[[str, Sequence[Mapping[str, Any]]], str]
"""A dynamic answer: (model, messages) -> text."""

Answer = str | AnswerFn


def split_tokens(text: str) -> list[str]:
    """Split an answer into the word-sized chunks that are streamed; `"".join(result) == text`."""
    return _TOKEN_RE.findall(text)


def message_text(message: Mapping[str, Any]) -> str:
    """The text of a chat message, whether `content` is a string or a list of content parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict) and "text" in part)
    return ""


def count_prompt_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """Deterministic prompt token count: whitespace-separated words over all message contents.

    Deliberately simple so a test can predict it; it is not meant to match a real tokenizer.
    """
    return sum(len(message_text(m).split()) for m in messages)


def last_user_message(messages: Sequence[Mapping[str, Any]]) -> str:
    """The text of the last `user` message ("" if none): what rules match against."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return message_text(message)
    return ""


def default_fallback(model: str, messages: Sequence[Mapping[str, Any]]) -> str:
    """The answer when nothing is scripted: deterministic and mentions the model, so a test can tell
    which model produced a reply."""
    question = last_user_message(messages).strip()
    return f"[{model}] You asked: {question}" if question else f"[{model}] Hello from the test server."


@dataclass(frozen=True)
class Rule:
    """Answer `answer` when the last user message contains `contains` (case-insensitive), for `model` or
    for any model when `model` is None."""

    contains: str
    answer: Answer
    model: str | None = None

    def matches(self, model: str, last_user: str) -> bool:
        return (self.model is None or self.model == model) and self.contains.lower() in last_user.lower()


def resolve(answer: Answer, model: str, messages: Sequence[Mapping[str, Any]]) -> str:
    """Turn a static or dynamic answer into text."""
    return answer if isinstance(answer, str) else answer(model, messages)
