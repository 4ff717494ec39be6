"""Every sentence Penny shows a user, in one place so wording is reviewed (and translated) once.

Failures get a clear sentence; the log gets the exception — raw error text never reaches Slack.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bot.slack.mrkdwn import to_slack

HELP_TEXT = (
    "Hi, I'm Penny :wave: Mention me with a question, e.g. `@Penny what did we decide about the launch date?`, "
    "or ask me to summarize or draft a reply in a thread. I answer in the thread."
)
EMPTY_ANSWER_TEXT = (
    ":warning: Sorry, I couldn't produce an answer this time (the model returned nothing). "
    "Please try again in a moment."
)
MODEL_FAILED_TEXT = (
    ":warning: Sorry, I can't reach a language model right now, so I couldn't answer. "
    "Please try again in a few minutes."
)
CONTEXT_NO_ACCESS_NOTE = (
    "I can't read this conversation ({reason}), so I answered from your message alone. "
    "Invite me with /invite @Penny so I can see the thread next time."
)
CONTEXT_READ_FAILED_NOTE = "I could not read the thread just now, so I answered from your message alone."
CUT_AT_LENGTH_NOTE = "I stopped here: the answer reached its length limit. Ask me to continue for the rest."
UNEXPECTED_TEXT = ":warning: Sorry, something went wrong on my side while answering. Please try again."

SUMMARIZE_USAGE_TEXT = (
    "*How to use `/summarize`*\n"
    "• `/summarize` — this channel, last 24 hours\n"
    "• `/summarize 7d` — this channel, a longer or shorter window (`30m`, `12h`, `7d`, `2w`; up to 90 days)\n"
    "• `/summarize #channel [7d]` — another channel you are a member of\n"
    "• `/summarize <message link>` — that message's whole thread (use *Copy link* on the message)\n"
    "Only you can see this message."
)
SUMMARIZE_BAD_ARGS_TEXT = ":grey_question: {problem}\n\n" + SUMMARIZE_USAGE_TEXT
SUMMARIZE_NOT_MEMBER_TEXT = (
    ":no_entry: You're not a member of that conversation, so I can't summarize it for you. "
    "Ask someone in it, or join it first."
)
SUMMARIZE_CANT_READ_TEXT = (
    ":warning: I can't read that conversation (`{reason}`). Invite me to it with `/invite @Penny` and try again."
)
SUMMARIZE_READ_FAILED_TEXT = (
    ":warning: I could not read that conversation just now (Slack did not answer). Please try again in a moment."
)
SUMMARIZE_NOTHING_TEXT = "There is nothing to summarize in {what} for the last {window}."
SUMMARIZE_PRIVATE_NOTE = (
    "Only you can see this summary: its source is more private than this conversation, so I didn't post it here."
)
SUMMARIZE_STARTED_PRIVATE_TEXT = "_Summarizing {what}… only you will see the result._"
SUMMARIZE_PROGRESS_TEXT = "Summarizing part {part} of {parts}…"
SUMMARIZE_COMBINING_TEXT = "Combining {parts} partial summaries…"
SUMMARIZE_TRUNCATED_NOTE = (
    "That window holds more than {limit} messages, so this covers the newest {limit}; use a shorter window "
    "(e.g. `/summarize 6h`) for the rest."
)

FRESH_ANSWER_ACTION = "penny_fresh_answer"
SECTION_LIMIT = 2900  # Slack caps a section's text at 3,000 characters


def with_notes(answer: str, notes: list[str] | tuple[str, ...]) -> str:
    """Append routing notes (budget, trimmed context) as a quiet italic line under the answer."""
    if not notes:
        return answer
    return answer + "\n\n" + "\n".join(f"_{note}_" for note in notes)


def humanize_age(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    days = hours // 24
    return f"{days} day{'s' if days != 1 else ''} ago"


def cache_label(created_at: float, *, now: float | None = None) -> str:
    age = (time.time() if now is None else now) - created_at
    return f"⚡ from cache · asked {humanize_age(max(age, 0.0))}"


def cached_answer_blocks(answer: str, label: str, button_value: dict[str, str]) -> list[dict[str, Any]]:
    """The cached answer as sections, a context label, and a **Fresh answer** button (re-ask bypassing the cache)."""
    safe = to_slack(answer)
    sections = [safe[i : i + SECTION_LIMIT] for i in range(0, len(safe), SECTION_LIMIT)] or [" "]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in sections[:45]
    ]
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": label}]})
    blocks.append({
        "type": "actions",
        "elements": [{
            "type": "button", "action_id": FRESH_ANSWER_ACTION, "text": {"type": "plain_text", "text": "Fresh answer"},
            "value": json.dumps(button_value)[:2000],
        }],
    })
    return blocks
