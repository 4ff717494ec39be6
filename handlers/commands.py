"""``/summarize``: ack at once (Slack allows 3 s), then hand the parsed command to the summarizer.

The command's payload is parsed here, once, into a ``Request`` and its arguments into ``SummarizeArgs`` (or a
``UsageError``, ``handlers/summarize_args.py``); the summarizer answers ``help`` and malformed arguments too, so
that every command, even a usage error, gets its one ledger row in one place. ``respond`` (the command's
``response_url``) travels along: it reaches the requester even in conversations Penny cannot post to, and only
they see what it says.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.request import CommandFn, Request, Scope, Surface
from handlers.summarize_args import parse_summarize_args

SUMMARIZE_COMMAND = "/summarize"


def parse_command(body: dict[str, Any]) -> Request:
    """A slash-command form into a ``Request`` (no thread or message: a command is not a message)."""
    command = str(body.get("command") or SUMMARIZE_COMMAND)
    trigger = str(body.get("trigger_id") or "")
    channel = str(body.get("channel_id", ""))
    return Request(
        request_id=f"command-{trigger}" if trigger else f"command-{channel}-{body.get('user_id', '')}",
        surface=Surface.COMMAND,
        scope=Scope(team_id=str(body.get("team_id", "")), channel_id=channel),
        user_id=str(body.get("user_id", "")),
        text=str(body.get("text") or "").strip(),
        thread_ts="",
        message_ts="",
        command=command,
    )


def register(app: AsyncApp, summarize: CommandFn) -> None:
    """``summarize(request, args, respond)``: the summarizer's method, passed in by ``bot/app.py``."""

    @app.command(SUMMARIZE_COMMAND)
    async def on_summarize(ack: Callable[[], Awaitable[None]], body: dict[str, Any], respond: Any) -> None:
        await ack()
        request = parse_command(body)
        await summarize(request, parse_summarize_args(request.text, request.scope.channel_id), respond)
