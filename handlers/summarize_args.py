"""What ``/summarize`` was asked to read: the argument text parsed into a ``SummarizeArgs`` or a ``UsageError``.

Parsed here, at the edge, because the grammar is Slack's: escaped channel references and message permalinks.
Pure so every accepted and rejected form is unit-tested. Slack sends channel and link arguments
escaped (``<#C123|general>``, ``<https://…>``) when the command's "escape channels, users, and links" option is on
(the README's manifest turns it on); bare permalinks are accepted too. Anything not understood is an error that
names the token, so nothing a user typed is silently ignored.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from bot.request import SummarizeArgs, TargetKind, UsageError, UsageProblem

MAX_WINDOW_S = 90 * 86400
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_UNIT_WORDS = {"m": "minute", "h": "hour", "d": "day", "w": "week"}

_CHANNEL_REF = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
_WINDOW = re.compile(r"^(\d{1,4})([mhdw])$", re.IGNORECASE)
_ARCHIVES_PATH = re.compile(r"^/archives/([CGD][A-Z0-9]+)/p(\d{10})(\d{6})/?$")
_TS = re.compile(r"^\d{10}\.\d{6}$")


def window_label(amount: int, unit: str) -> str:
    word = _UNIT_WORDS[unit]
    return f"{amount} {word}{'s' if amount != 1 else ''}"


def parse_window(token: str) -> tuple[int, str] | None:
    """``7d`` → (seconds, "7 days"); None when the token is not a window."""
    match = _WINDOW.match(token)
    if match is None:
        return None
    amount, unit = int(match.group(1)), match.group(2).lower()
    return amount * _UNIT_SECONDS[unit], window_label(amount, unit)


def parse_permalink(token: str) -> tuple[str, str] | None:
    """A message permalink → (channel id, thread root ts); None when it is not one.

    A reply's permalink carries ``?thread_ts=`` (its thread's root); a top-level message's own ts is the root.
    """
    url = token[1:-1].split("|", 1)[0] if token.startswith("<") and token.endswith(">") else token
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme != "https" or not (parts.hostname or "").endswith(".slack.com"):
        return None
    match = _ARCHIVES_PATH.match(parts.path)
    if match is None:
        return None
    channel, ts = match.group(1), f"{match.group(2)}.{match.group(3)}"
    root = parse_qs(parts.query).get("thread_ts", [ts])[0]
    if not _TS.match(root):
        return None
    return channel, root


def parse_summarize_args(text: str, current_channel: str) -> SummarizeArgs | UsageError:
    """Parse the command text (``""``, ``help``, ``<#C…>``, a permalink, ``7d``, or a channel with a window)."""
    tokens = text.split()
    if len(tokens) == 1 and tokens[0].lower() in {"help", "-h", "--help", "?"}:
        return UsageError(None)
    target: SummarizeArgs | None = None
    window: tuple[int, str] | None = None
    for token in tokens:
        if (parsed_window := parse_window(token)) is not None:
            if window is not None:
                return UsageError(UsageProblem.TWO_WINDOWS)
            if parsed_window[0] <= 0 or parsed_window[0] > MAX_WINDOW_S:
                return UsageError(UsageProblem.WINDOW_OUT_OF_RANGE, token)
            window = parsed_window
            continue
        if (channel := _CHANNEL_REF.match(token)) is not None:
            found: SummarizeArgs = SummarizeArgs(TargetKind.CHANNEL, channel.group(1))
        elif (link := parse_permalink(token)) is not None:
            found = SummarizeArgs(TargetKind.THREAD, link[0], thread_ts=link[1])
        elif token.startswith("#"):
            return UsageError(UsageProblem.UNKNOWN_CHANNEL, token)
        else:
            return UsageError(UsageProblem.NOT_UNDERSTOOD, token)
        if target is not None:
            return UsageError(UsageProblem.TWO_TARGETS, token)
        target = found
    if target is None:
        target = SummarizeArgs(TargetKind.CURRENT_CHANNEL, current_channel)
    if window is not None:
        if target.kind is TargetKind.THREAD:
            return UsageError(UsageProblem.WINDOW_ON_THREAD)
        target = SummarizeArgs(target.kind, target.channel_id, window_s=window[0], window_label=window[1])
    return target
