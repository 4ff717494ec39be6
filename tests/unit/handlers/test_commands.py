"""``parse_command`` on Slack's real slash-command payload: ``/summarize``'s arguments reach the summarizer as text."""

from __future__ import annotations

from typing import Any

from bot.request import Request, Scope, Surface
from handlers.commands import SUMMARIZE_COMMAND, parse_command
from tests.unit.handlers.samples import CHANNEL, TEAM, USER, SampleFn, drop, fill

TRIGGER_ID = "13345224609.738474920.8088930838d88f008e0"


def _command(slack_sample: SampleFn, text: str, **extra: object) -> dict[str, Any]:
    values = {
        "team_id": TEAM,
        "channel_id": CHANNEL,
        "channel_name": "launch",
        "user_id": USER,
        "user_name": "ana",
        "command": SUMMARIZE_COMMAND,
        "text": text,
        "trigger_id": TRIGGER_ID,
        "response_url": "https://hooks.slack.com/commands/T061EG9R6/1234567890/abcdef",
    }
    return fill(slack_sample("app-backend/slash-commands/SlashCommandPayload.json"), values | extra)


def test_a_command_becomes_a_request_without_thread_or_message(slack_sample: SampleFn) -> None:
    """A command is not a message: no ts to reply under; arguments stay text for the summarizer to understand."""
    assert parse_command(_command(slack_sample, "  <#C0G9QF9GW|general> 7d ")) == Request(
        request_id=f"command-{TRIGGER_ID}",
        surface=Surface.COMMAND,
        scope=Scope(team_id=TEAM, channel_id=CHANNEL),
        user_id=USER,
        text="<#C0G9QF9GW|general> 7d",
        thread_ts="",
        message_ts="",
        command=SUMMARIZE_COMMAND,
    )


def test_no_arguments_is_an_empty_request(slack_sample: SampleFn) -> None:
    """Bare ``/summarize`` (this channel, default window) must not be confused with missing text."""
    request = parse_command(_command(slack_sample, ""))
    assert (request.text, request.is_empty) == ("", True)


def test_without_trigger_id_the_request_id_is_channel_and_user(slack_sample: SampleFn) -> None:
    """The ledger still gets an id for the row, from who ran the command where."""
    body = _command(slack_sample, "12h", trigger_id="")
    assert parse_command(body).request_id == f"command-{CHANNEL}-{USER}"


def test_a_missing_command_name_defaults_to_summarize(slack_sample: SampleFn) -> None:
    """The only command registered is ``/summarize``, so a payload without its name is one."""
    assert parse_command(drop(_command(slack_sample, "help"), "command")).command == SUMMARIZE_COMMAND


def test_missing_fields_give_empty_strings_not_errors(slack_sample: SampleFn) -> None:
    """The summarizer answers every command, even a malformed one, so parsing never raises."""
    body = drop(_command(slack_sample, "7d"), "team_id", "channel_id", "user_id", "text", "trigger_id")
    request = parse_command(body)
    assert (request.scope, request.user_id, request.text) == (Scope(team_id="", channel_id=""), "", "")
    assert request.request_id == "command--"
