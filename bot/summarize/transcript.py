"""A conversation as a summarizing model reads it: one line per message, oldest first, people by name.

``[2026-11-23 14:05] Alice: can @Bob own the FAQ? [3 replies in thread]`` — names resolved (a summary reads better
with "Alice" than with ``U0123``), bots marked, and the reply count kept so the model knows a thread hangs off it.
Each line keeps the message's id and edit version (``chunks.Line``), which is what a reusable partial summary of
it is keyed by. Penny's own earlier summaries are left out: a summary of summaries would repeat (and pay for)
what was already said, and tomorrow's summary would otherwise re-read today's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from bot import replies
from bot.slack.conversations import SlackMessage
from bot.slack.people import with_names
from bot.summarize.chunks import Line


def transcript_line(message: SlackMessage, names: Mapping[str, str]) -> str:
    """One message: ``[2026-11-23 14:05] Alice: text`` with mentions resolved."""
    when = datetime.fromtimestamp(float(message.ts), tz=UTC).strftime("%Y-%m-%d %H:%M")
    author = names.get(message.user_id, message.user_id or "unknown")
    if message.from_bot:
        author += " (bot)"
    text = with_names(message.text, names)
    replies = f" [{message.reply_count} replies in thread]" if message.reply_count else ""
    return f"[{when}] {author}: {text}{replies}"


def transcript_lines(messages: Sequence[SlackMessage], names: Mapping[str, str]) -> list[Line]:
    """Every message as a ``Line``: its text as the model reads it, with the message id and edit version."""
    return [Line(m.ts, m.edited_ts, transcript_line(m, names)) for m in messages]


def without_summaries(messages: Sequence[SlackMessage]) -> list[SlackMessage]:
    """The conversation without the summaries Penny posted into it."""
    return [m for m in messages if not (m.from_bot and replies.is_summary(m.text))]
