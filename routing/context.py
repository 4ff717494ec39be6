"""Fitting a prompt into a context window: which models can read it, and trimming Q&A context when none can.

Only Q&A context may be trimmed, oldest message first, keeping the system prompt and the question: an answer
about the latest messages survives losing the oldest ones, while a summary that silently skipped the start of a
thread would be wrong without saying so (summaries map-reduce instead, before they reach the router).
"""

from __future__ import annotations

from collections.abc import Sequence

from routing.catalog import ModelSpec
from routing.chat import ChatMessage
from routing.spend.cost import MESSAGE_OVERHEAD_TOKENS, estimate_prompt_tokens, estimate_tokens


def fits(model: ModelSpec, prompt_tokens: int, answer_tokens: int) -> bool:
    return prompt_tokens + answer_tokens <= model.context_window


def trim_oldest(messages: Sequence[ChatMessage], max_prompt_tokens: int) -> tuple[list[ChatMessage], int] | None:
    """Drop the oldest non-system messages (never the last one, the question) until the prompt fits.

    Returns the kept messages and how many were dropped, or None if even the bare question does not fit.
    """
    kept = list(messages)
    total = estimate_prompt_tokens(kept)
    dropped = 0
    while total > max_prompt_tokens:
        index = next((i for i, m in enumerate(kept[:-1]) if m.get("role") != "system"), None)
        if index is None:
            return None
        total -= estimate_tokens(kept[index].get("content", "")) + MESSAGE_OVERHEAD_TOKENS
        del kept[index]
        dropped += 1
    return kept, dropped
