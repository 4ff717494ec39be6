"""Provider-side prompt caching, as OpenAI-compatible providers report it: a request that starts with the same
tokens as an earlier request to the same model has that shared prefix counted in
``usage.prompt_tokens_details.cached_tokens``.

Providers cache whole blocks of a prefix and only past a minimum length (OpenAI: 1,024 tokens, then steps of 128;
DeepSeek: steps of 64), so the count is rounded down the same way. Tokens are the server's own deterministic
words (``script.count_prompt_tokens``), each tagged with its message's role, so the cached count never exceeds
the prompt count and a test can predict it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .script import message_text

Token = tuple[str, str]  # (role, word)


def prompt_token_sequence(messages: Sequence[Mapping[str, Any]]) -> list[Token]:
    return [(str(m.get("role", "")), word) for m in messages for word in message_text(m).split()]


def common_prefix(a: Sequence[Token], b: Sequence[Token]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@dataclass
class PromptCache:
    """Remembers every prompt per model; ``cached_tokens`` answers for a new prompt and then remembers it."""

    min_tokens: int = 1024
    block_tokens: int = 128
    _seen: dict[str, list[list[Token]]] = field(default_factory=dict)

    def cached_tokens(self, model: str, messages: Sequence[Mapping[str, Any]]) -> int:
        tokens = prompt_token_sequence(messages)
        seen = self._seen.setdefault(model, [])
        shared = max((common_prefix(tokens, earlier) for earlier in seen), default=0)
        seen.append(tokens)
        if shared < self.min_tokens:
            return 0
        return self.min_tokens + (shared - self.min_tokens) // self.block_tokens * self.block_tokens

    def clear(self) -> None:
        self._seen.clear()
