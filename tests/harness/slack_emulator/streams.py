"""Slack's native message streaming: `chat.startStream` → `chat.appendStream`… → `chat.stopStream`.

A stream is a bot message that grows by appended markdown; every append is recorded as a revision, so
the same throttling assertions work as for `chat.update`-based streaming.
"""

from __future__ import annotations

from typing import Any

from .models import Message
from .workspace import SlackError, Workspace

Params = dict[str, Any]


def _markdown(params: Params) -> str:
    """Text of `markdown_text`, or of `chunks=[{"type": "markdown_text", "text": ...}]`."""
    text = str(params.get("markdown_text") or "")
    chunks = params.get("chunks")
    if isinstance(chunks, list):
        text += "".join(
            str(c.get("text", "")) for c in chunks if isinstance(c, dict) and c.get("type") == "markdown_text"
        )
    return text


class ChatStreams:
    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self.open: set[tuple[str, str]] = set()

    def handlers(self) -> dict[str, Any]:
        return {"chat.startStream": self.start, "chat.appendStream": self.append, "chat.stopStream": self.stop}

    def start(self, params: Params) -> dict[str, Any]:
        """In channels Slack requires a thread and the recipient; DMs do not."""
        channel = self.ws.member_channel(str(params.get("channel") or ""))
        thread_ts = params.get("thread_ts") or None
        if channel.kind != "im":
            if not thread_ts:
                raise SlackError("invalid_arguments")
            if not params.get("recipient_user_id"):
                raise SlackError("missing_recipient_user_id")
            if not params.get("recipient_team_id"):
                raise SlackError("missing_recipient_team_id")
        message = Message(
            channel=channel.id,
            ts=self.ws.next_ts(),
            user=self.ws.bot_user_id,
            text=_markdown(params),
            team=self.ws.team_id,
            bot_id=self.ws.bot_id,
            app_id=self.ws.app_id,
            thread_ts=str(thread_ts) if thread_ts else None,
        )
        self.ws.post(message)
        self.open.add((channel.id, message.ts))
        return {"ok": True, "channel": channel.id, "ts": message.ts}

    def _streaming(self, params: Params) -> Message:
        channel = self.ws.member_channel(str(params.get("channel") or ""))
        message = self.ws.find(channel.id, str(params.get("ts") or ""))
        if message.user != self.ws.bot_user_id:
            raise SlackError("cant_update_message")
        if (channel.id, message.ts) not in self.open:
            raise SlackError("message_not_in_streaming_state")
        return message

    def append(self, params: Params) -> dict[str, Any]:
        message = self._streaming(params)
        addition = _markdown(params)
        if not addition:
            raise SlackError("no_text")
        self.ws.update(
            message, text=message.text + addition, blocks=None, editor=self.ws.bot_user_id, mark_edited=False
        )
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def stop(self, params: Params) -> dict[str, Any]:
        message = self._streaming(params)
        addition = _markdown(params)
        blocks = params.get("blocks")
        if addition or blocks:
            self.ws.update(
                message,
                text=message.text + addition,
                blocks=blocks if isinstance(blocks, list) else None,
                editor=self.ws.bot_user_id,
                mark_edited=False,
            )
        self.open.discard((message.channel, message.ts))
        return {"ok": True, "channel": message.channel, "ts": message.ts, "message": message.to_api()}
