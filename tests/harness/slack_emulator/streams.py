"""Slack's native message streaming: `chat.startStream` → `chat.appendStream`… → `chat.stopStream`.

A stream is a bot message that grows by appended markdown; every append is recorded as a revision, so
the same throttling assertions work as for `chat.update`-based streaming. Shapes and errors are the documented
ones (docs.slack.dev/reference/methods/chat.startStream and siblings; the SDK fixtures in `shared/eval/slack/`):
start and append answer `{"ok", "channel", "ts"}`, stop adds the finished `message`; in channels a stream needs a
thread and its recipient (`missing_recipient_user_id`, `missing_recipient_team_id`); `markdown_text` holds at
most 12,000 characters per call; a stopped (or never started) stream answers `message_not_in_streaming_state`.
"""

from __future__ import annotations

import json
from typing import Any

from .limits import MAX_TEXT, check_blocks
from .models import Message
from .workspace import SlackError, Workspace

Params = dict[str, Any]
MAX_MARKDOWN_TEXT = 12_000


def _markdown(params: Params) -> str:
    """Text of `markdown_text`, or of `chunks=[{"type": "markdown_text", "text": ...}]`."""
    text = str(params.get("markdown_text") or "")
    chunks = params.get("chunks")
    if chunks is not None and not isinstance(chunks, list):
        raise SlackError("invalid_chunks")
    for chunk in chunks or []:
        if not isinstance(chunk, dict) or not chunk.get("type"):
            raise SlackError("invalid_chunks")
        if chunk["type"] == "markdown_text":
            text += str(chunk.get("text", ""))
    if len(text) > MAX_MARKDOWN_TEXT:
        raise SlackError("invalid_arguments")
    return text


class ChatStreams:
    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self.open: set[tuple[str, str]] = set()
        self.started: set[tuple[str, str]] = set()  # every message that began as a stream (for test assertions)

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
        recipient = params.get("recipient_user_id")
        if recipient and str(recipient) not in self.ws.users:
            raise SlackError("user_not_found")
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
        self.started.add((channel.id, message.ts))
        return {"ok": True, "channel": channel.id, "ts": message.ts}

    def _streaming(self, params: Params) -> Message:
        channel = self.ws.member_channel(str(params.get("channel") or ""))
        message = self.ws.find(channel.id, str(params.get("ts") or ""))
        if message.user != self.ws.bot_user_id:
            raise SlackError("message_not_owned_by_app")
        if (channel.id, message.ts) not in self.open:
            raise SlackError("message_not_in_streaming_state")
        return message

    def _grow(self, message: Message, addition: str, blocks: Any = None) -> None:
        if len(message.text) + len(addition) > MAX_TEXT:
            raise SlackError("msg_too_long")
        self.ws.update(
            message,
            text=message.text + addition,
            blocks=blocks if isinstance(blocks, list) else None,
            editor=self.ws.bot_user_id,
            mark_edited=False,
        )

    def append(self, params: Params) -> dict[str, Any]:
        message = self._streaming(params)
        addition = _markdown(params)
        if not addition:
            raise SlackError("no_text")
        self._grow(message, addition)
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def stop(self, params: Params) -> dict[str, Any]:
        message = self._streaming(params)
        addition = _markdown(params)
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError as exc:
                raise SlackError("invalid_blocks") from exc
        check_blocks(blocks if isinstance(blocks, list) else None, too_many="msg_blocks_too_many")
        if addition or blocks:
            self._grow(message, addition, blocks)
        self.open.discard((message.channel, message.ts))
        return {"ok": True, "channel": message.channel, "ts": message.ts, "message": message.to_api()}

    def is_streamed(self, channel: str, ts: str) -> bool:
        return (channel, ts) in self.started

    def is_streaming(self, channel: str, ts: str) -> bool:
        return (channel, ts) in self.open
