"""Value types handed from ``handlers/`` to the assistant: Slack payloads are parsed once, at the edge."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

DEFAULT_WINDOW_S = 24 * 3600  # what /summarize reads when no window is given


class Surface(StrEnum):
    """Where the request came from (it decides how the reply is shown)."""

    MENTION = "mention"
    THREAD = "thread"  # a follow-up in a channel thread Penny joined, without a mention
    DM = "dm"  # a message in Penny's direct-message conversation (its threads included)
    PANE = "assistant"  # a message in Slack's assistant pane (an AI-app thread in Penny's DM)
    COMMAND = "command"
    ACTION = "action"
    SHORTCUT = "shortcut"  # a message shortcut ("Summarize this thread")

    @property
    def private(self) -> bool:
        """Requests whose conversation only the asker and Penny share: every reply there is already private."""
        return self in (Surface.DM, Surface.PANE)


@dataclass(frozen=True)
class Scope:
    """The privacy boundary of a request: every cache entry and ledger row carries it."""

    team_id: str
    channel_id: str


@dataclass(frozen=True)
class Request:
    """One thing a user asked Penny to do."""

    request_id: str  # the Slack event id (or a generated id for commands): the ledger's idempotency key
    surface: Surface
    scope: Scope
    user_id: str
    text: str  # the question with the bot mention removed
    thread_ts: str  # the thread the reply goes to (the message's own ts when it starts a thread)
    message_ts: str
    command: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    bot_id: str | None = None  # set when another app wrote the message (ignored unless allow-listed)

    @property
    def is_empty(self) -> bool:
        return not self.text.strip()


class TargetKind(StrEnum):
    CURRENT_CHANNEL = "current_channel"
    CHANNEL = "channel"
    THREAD = "thread"


@dataclass(frozen=True)
class SummarizeArgs:
    """A valid request: which conversation, and for channels how far back."""

    kind: TargetKind
    channel_id: str
    thread_ts: str | None = None  # the thread's root ts (THREAD only)
    window_s: int = DEFAULT_WINDOW_S
    window_label: str = "24 hours"


class UsageProblem(StrEnum):
    """What was wrong with the arguments (``bot/replies.py`` words it)."""

    TWO_WINDOWS = "two_windows"
    WINDOW_OUT_OF_RANGE = "window_out_of_range"
    UNKNOWN_CHANNEL = "unknown_channel"  # "#name" typed by hand: Slack only escapes channels picked from the list
    NOT_UNDERSTOOD = "not_understood"
    TWO_TARGETS = "two_targets"
    WINDOW_ON_THREAD = "window_on_thread"


@dataclass(frozen=True)
class UsageError:
    """The arguments could not be understood: ``problem`` (None for ``help``) and the ``token`` it is about."""

    problem: UsageProblem | None = None
    token: str = ""


@dataclass(frozen=True)
class AnswerOptions:
    """How to answer: ``bypass_cache`` for the Fresh answer button, which also replaces ``evict_entry``."""

    bypass_cache: bool = False
    reply_ts: str | None = None  # edit this message instead of posting a placeholder
    evict_entry: str | None = None


@dataclass(frozen=True)
class ButtonClick:
    """A click on one of Penny's buttons: ``key`` is the only thing the button carries (an id Penny stored);
    everything else about the request is looked up server-side, so the value never outgrows Slack's limits."""

    team_id: str
    channel_id: str
    user_id: str
    message_ts: str  # the message the button sits on
    key: str
    click_id: str  # the trigger id (or action ts): one id per click, for the ledger


@dataclass(frozen=True)
class PaneThread:
    """An assistant-pane thread: started, or the channel the user is looking at changed (``context_channel_id``)."""

    team_id: str
    channel_id: str  # the DM with Penny that holds the thread
    thread_ts: str
    user_id: str
    context_channel_id: str | None = None


@dataclass(frozen=True)
class HomeOpened:
    """Someone opened Penny's App Home tab."""

    team_id: str
    user_id: str


@dataclass(frozen=True)
class Reaction:
    """A 👍 or 👎 put on (``added``) or taken off a message: quality feedback if the message is one of Penny's."""

    team_id: str
    channel_id: str
    message_ts: str
    user_id: str
    good: bool
    added: bool
    on_penny_message: bool = False  # Slack's ``item_user`` is Penny: worth keeping until its answer is recorded


@dataclass(frozen=True)
class PinChange:
    """A channel's pins changed (pinned, unpinned) or, with ``message_ts``, a message that may be pinned was edited."""

    team_id: str
    channel_id: str
    message_ts: str | None = None


class ChannelChangeKind(StrEnum):
    """What happened to a conversation, as far as who may read it (and so what may be cached from it) goes."""

    MADE_PRIVATE = "made_private"  # message subtype channel_convert_to_private
    MADE_PUBLIC = "made_public"  # message subtype channel_convert_to_public
    SHARED_EXTERNALLY = "shared_externally"  # channel_shared: Slack Connect
    UNSHARED = "unshared"  # channel_unshared (it may still be shared with others)
    ARCHIVED = "archived"  # channel_archive, group_archive
    UNARCHIVED = "unarchived"  # channel_unarchive, group_unarchive
    DELETED = "deleted"  # channel_deleted, group_deleted


@dataclass(frozen=True)
class ChannelChange:
    """A conversation changed who can read it, or went away."""

    team_id: str
    channel_id: str
    kind: ChannelChangeKind


AnswerFn = Callable[..., Awaitable[None]]
"""What handlers call: ``answer(request, claim, options=None)``; the assistant's method, passed in by ``bot/app.py``."""

ReactionFn = Callable[[Reaction], Awaitable[object]]
"""What the reactions handler calls: the feedback service's ``on_reaction``, passed in by ``bot/app.py``."""

CommandFn = Callable[[Request, "SummarizeArgs | UsageError", Any], Awaitable[None]]
"""What the command handler calls: ``summarize(request, args, respond)`` with Bolt's ``respond`` (the
response_url); a ``UsageError`` is answered by the summarizer too, so even a typo gets its ledger row."""

ClickFn = Callable[[ButtonClick, Any], Awaitable[None]]
"""What the button handlers call: ``handle(click, respond)`` (``respond`` reaches an ephemeral message's author)."""

PaneFn = Callable[[PaneThread], Awaitable[None]]
"""What the assistant pane calls when a thread starts or its context changes."""

PaneMessageFn = Callable[..., Awaitable[None]]
"""What the assistant pane calls with a user's message in a pane thread."""

HomeFn = Callable[[HomeOpened], Awaitable[None]]
"""What the App Home handler calls: publish the viewer's Home tab."""

PinChangeFn = Callable[[PinChange], Awaitable[object]]
"""What the pins handler calls: the pin board's ``on_change``, passed in by ``bot/app.py``."""

ChannelChangeFn = Callable[[ChannelChange], Awaitable[object]]
"""What the channels handler calls: the channel directory's ``apply``, passed in by ``bot/app.py``."""
