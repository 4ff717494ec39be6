"""Every sentence Penny shows a user, in one place, so wording is reviewed (and translated) once.

Sentences that reach Slack through a reply's streamer are Markdown, like model text (``_quiet_``, ``**bold**``,
`` `code` ``): the formatter turns them into ``mrkdwn`` or a native stream's Markdown, so they read the same in
both. Sentences posted directly (the help text, ``/summarize`` usage) are ``mrkdwn`` already.

Other packages hand over *reasons* — a ``Refusal`` or ``PlanNote`` from the router, a ``UsageError`` from the
``/summarize`` parser, a failed ``Generation`` — and this module words them. Each failure sentence carries its emoji
once, here, so no message shows ``:warning:`` twice. Raw error text never reaches Slack: the log gets the
exception, the user gets a clear sentence. (The weekly digest's report layout, a table of figures, lives with the
digest in ``bot/digest/blocks.py``; prompts to models are not sentences for users and live with their features.)
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from bot.request import UsageError, UsageProblem
from routing.calls.generation import CutShort, Generation
from routing.plan import NoteKind, PlanNote, Refusal, RefusalReason

PLACEHOLDER_TEXT = "_Penny is thinking…_"

HELP_TEXT = (
    "Hi, I'm Penny :wave: Mention me with a question, e.g. `@Penny what did we decide about the launch date?`, "
    "or ask me to summarize or draft a reply in a thread. I answer in the thread."
)
MODEL_FAILED_TEXT = (
    ":warning: Sorry, I can't reach a language model right now, so I couldn't answer. "
    "Please try again in a few minutes."
)
MODEL_FAILED_PARTIAL_TEXT = (
    ":warning: Sorry, my answer was cut off and none of my models could finish it. Please try again in a few minutes."
)
UNEXPECTED_TEXT = ":warning: Sorry, something went wrong on my side while answering. Please try again."

DRAFTING_TEXT = "_Drafting… only you will see the draft._"
DRAFT_PRIVATE_NOTE = "Only you can see this draft. *Post to thread* shares it here as a quote, under your name."
DRAFT_EXPIRED_TEXT = ":hourglass: That draft has expired (drafts are kept for a day). Ask me for a new one."
DRAFT_NOT_YOURS_TEXT = ":no_entry: Only the person who asked for this draft can post it."
FRESH_EXPIRED_TEXT = ":hourglass: That answer is too old to refresh. Ask me the question again."

PANE_GREETING = "Hi, I'm Penny :wave: Ask me anything, or pick a suggestion below."
PANE_PROMPTS_TITLE = "Try one of these"
PANE_PROMPT_SUMMARIZE = ("Summarize this channel", "Summarize this channel")
PANE_PROMPT_MISSED = ("What did I miss today?", "What did I miss today in this channel?")
PANE_PROMPT_DRAFT = ("Draft a message", "Draft a short, friendly message announcing ")
PANE_STATUS = "is thinking…"
PANE_STATUS_SUMMARIZING = "is reading the channel…"
PANE_NO_CHANNEL_TEXT = (
    "Open the channel you want summarized, then ask again here: I summarize the channel you are looking at."
)

HOME_TITLE = "Penny, your cost-aware assistant"
HOME_INTRO = (
    "I answer questions, summarize conversations and draft replies, using the cheapest model that does the job "
    "well, and I reuse answers I already gave in the same conversation."
)
HOME_HOW_TO = (
    "*How to ask*\n"
    "• Mention me in a channel: `@Penny what did we decide about the launch?` I answer in the thread, and follow "
    "up there when you ask me something.\n"
    "• Message me here, or open me in the assistant pane next to any channel.\n"
    "• `/summarize` a channel, a time window or a thread; *Summarize this thread* from a message's menu.\n"
    "• `@Penny draft a reply …`: only you see the draft until you post it."
)
HOME_YOUR_WEEK = "*Your requests this week* ({week})"
HOME_NO_REQUESTS = "You haven't asked me anything this week yet."
HOME_WORKSPACE_WEEK = "*This workspace, the week so far* ({week})"
HOME_REQUESTS = "Requests"
HOME_FROM_CACHE = "From cache"
HOME_SPENT = "Spent"
HOME_SAVED = "Saved"
HOME_ADMIN_NOTE = "You see this because you are a workspace admin. The weekly digest has the full breakdown."

CONTEXT_NO_ACCESS_NOTE = (
    "I can't read this conversation ({reason}), so I answered from your message alone. "
    "Invite me with /invite @Penny so I can see the thread next time."
)
CONTEXT_READ_FAILED_NOTE = "I could not read the thread just now, so I answered from your message alone."
CUT_AT_LENGTH_NOTE = "I stopped here: the answer reached its length limit. Ask me to continue for the rest."
CUT_BY_TIMEOUT_NOTE = (
    "My answer was cut short here: it took longer than I may spend on one answer. Ask me to continue for the rest."
)
CUT_BROKEN_NOTE = (
    "My answer was cut short here: my model stopped and none of my others could finish it. "
    "Ask me again in a few minutes for the rest."
)
_CUT_SHORT = {
    CutShort.LENGTH: CUT_AT_LENGTH_NOTE,
    CutShort.TIMEOUT: CUT_BY_TIMEOUT_NOTE,
    CutShort.BROKEN: CUT_BROKEN_NOTE,
}

_REFUSALS = {
    RefusalReason.CHANNEL_NOT_ALLOWED: (
        "I'm not enabled in this channel. A workspace admin can add it to my allowed channels."
    ),
    RefusalReason.USER_LIMIT: "You've reached your limit of {limit} requests per {window}. Please try again later.",
    RefusalReason.TOO_LONG: "This conversation is too long for any of my models to read at once.",
}
_BUDGET_REACHED = (
    "This workspace has reached its {period} AI budget, so I can't ask a model right now. Answers I already have "
    "still work, and the budget resets {reset} (UTC)."
)
_BUDGET_WOULD_EXCEED = (
    "This workspace has reached its AI budget, so I can't ask a model right now. Answers I already have still work."
)
_NOTES = {
    NoteKind.SOFT_BUDGET: "Budget soft limit reached: answered with a cheaper model.",
    NoteKind.TRIMMED: (
        "This thread is long, so I only read the most recent {kept} messages ({dropped} older ones left out)."
    ),
}

SUMMARIZE_USAGE_TEXT = (
    "*How to use `/summarize`*\n"
    "• `/summarize` — this channel, last 24 hours\n"
    "• `/summarize 7d` — this channel, a longer or shorter window (`30m`, `12h`, `7d`, `2w`; up to 90 days)\n"
    "• `/summarize #channel [7d]` — another channel you are a member of\n"
    "• `/summarize <message link>` — that message's whole thread (use *Copy link* on the message)\n"
    "Only you can see this message."
)
_USAGE_PROBLEMS = {
    UsageProblem.TWO_WINDOWS: "Give at most one time window.",
    UsageProblem.WINDOW_OUT_OF_RANGE: "`{token}` is out of range: windows go up to 90 days.",
    UsageProblem.UNKNOWN_CHANNEL: "I can't tell which channel `{token}` is: pick it from Slack's autocomplete.",
    UsageProblem.NOT_UNDERSTOOD: "I don't understand `{token}`.",
    UsageProblem.TWO_TARGETS: "Give one channel or one message link, not several.",
    UsageProblem.WINDOW_ON_THREAD: "A time window applies to channels; a thread link is always read whole.",
}
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
SUMMARIZE_PROGRESS_REUSED_TEXT = "Summarizing part {part} of {parts} ({reused} earlier parts already summarized)…"
SUMMARIZE_COMBINING_TEXT = "Combining {parts} partial summaries…"
SUMMARIZE_TRUNCATED_NOTE = (
    "That window holds more than {limit} messages, so this covers the newest {limit}; use a shorter window "
    "(e.g. `/summarize 6h`) for the rest."
)
SUMMARIZE_BUDGET_STOPPED_TEXT = (
    ":no_entry: This workspace has reached its AI budget partway through this summary, so I stopped. "
    "Please try again later."
)


def posted_draft(user_id: str, draft: str) -> str:
    """The draft as posted to the thread on its asker's click: attributed to them, quoted."""
    quoted = "\n".join(f"> {line}" if line else ">" for line in draft.splitlines()) or ">"
    return f"<@{user_id}> shared a draft Penny wrote for them:\n{quoted}"


def pane_title(question: str) -> str:
    """An assistant-pane thread's title: the first question, on one line, short."""
    line = " ".join(question.split())
    return line if len(line) <= 60 else line[:59].rstrip() + "…"


def refusal(refused: Refusal) -> str:
    """Why no model was asked, as one sentence with its emoji."""
    if refused.reason is RefusalReason.BUDGET_HARD:
        if refused.budget_period is None:
            text = _BUDGET_WOULD_EXCEED
        else:
            reset = "tomorrow" if refused.budget_period == "daily" else "next month"
            text = _BUDGET_REACHED.format(period=refused.budget_period, reset=reset)
    else:
        text = _REFUSALS[refused.reason].format(limit=refused.limit, window=refused.window)
    return f":no_entry: {text}"


def model_failed(generation: Generation) -> str:
    """No model finished the answer; the wording says whether the user already saw part of it."""
    return MODEL_FAILED_PARTIAL_TEXT if generation.partial else MODEL_FAILED_TEXT


def cut_short_note(generation: Generation) -> str | None:
    """The note under an answer the user sees but that is not complete; None for a complete answer."""
    reason = generation.cut_short
    return _CUT_SHORT[reason] if reason is not None else None


def plan_note(note: PlanNote) -> str:
    return _NOTES[note.kind].format(kept=note.kept, dropped=note.dropped)


def usage_error(error: UsageError) -> str:
    """``/summarize``'s usage text, after the problem with what was typed (if it was more than ``help``)."""
    if error.problem is None:
        return SUMMARIZE_USAGE_TEXT
    problem = _USAGE_PROBLEMS[error.problem].format(token=error.token[:80])
    return f":grey_question: {problem}\n\n{SUMMARIZE_USAGE_TEXT}"


SUMMARY_HEADER_START = "**Summary of "  # Markdown, like every sentence that goes through the streamer
_SUMMARY_SHOWN = ("*Summary of ", "**Summary of ")


def summary_header(what: str, count: int, window_label: str | None) -> str:
    """The summary's first line; ``window_label`` is None for a thread (always read whole)."""
    messages = f"{count} message{'s' if count != 1 else ''}"
    if window_label is None:
        return f"{SUMMARY_HEADER_START}{what}** · {messages}"
    return f"{SUMMARY_HEADER_START}{what}** · last {window_label} · {messages}"


def is_summary(text: str) -> bool:
    """Whether a message's text is one of Penny's posted summaries (it starts with ``summary_header``, as an
    edited message shows it in ``mrkdwn`` or a native stream in Markdown)."""
    return text.startswith(_SUMMARY_SHOWN)


def with_notes(answer: str, notes: Sequence[str]) -> str:
    """Append notes (budget, trimmed context, cut short) as quiet italic lines under the answer."""
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
