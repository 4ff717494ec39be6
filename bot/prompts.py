"""The words Penny sends to a model. Kept apart from the orchestration so they can be reviewed and tuned alone."""

from __future__ import annotations

import re

from bot.slack_context import ContextMessage

SYSTEM_PROMPT = (
    "You are Penny, a concise assistant inside a Slack workspace. Answer the user's request using the thread "
    "context when it is relevant. Use Slack-friendly formatting: short paragraphs, bullet lists, *bold* sparingly. "
    "Never mention @channel, @here or @everyone. If you are unsure, say so briefly."
)

_MENTION = re.compile(r"<@[A-Z0-9]+(\|[^>]*)?>")


def strip_mentions(text: str) -> str:
    return _MENTION.sub("", text).strip()


def before(context: list[ContextMessage], current_ts: str) -> list[ContextMessage]:
    """Messages older than the question: the reply's own placeholder and anything later are not context."""
    cutoff = float(current_ts)
    return [m for m in context if m.ts and float(m.ts) < cutoff]


def chat_messages(question: str, context: list[ContextMessage], *, current_ts: str) -> list[dict[str, str]]:
    """System prompt, then earlier thread turns (bot turns as assistant), then the question."""
    messages: list[dict[str, str]] = [{"role": "system", "content": SYSTEM_PROMPT}]
    for message in before(context, current_ts):
        if not message.text.strip():
            continue
        if message.from_bot:
            messages.append({"role": "assistant", "content": message.text})
        else:
            messages.append({"role": "user", "content": f"<{message.user_id}> {strip_mentions(message.text)}"})
    messages.append({"role": "user", "content": question})
    return messages
