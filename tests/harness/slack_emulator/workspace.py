"""The emulated workspace: users, conversations, messages and threads, behind one lock.

Both the server thread (serving the bot) and the test thread (arranging and asserting) touch this state,
so every public method takes `lock`. Message timestamps are Slack-style `"seconds.micros"` strings taken from
an injectable wall clock and made strictly increasing, because Slack uses `ts` as the message id.
"""

from __future__ import annotations

import base64
import itertools
import threading
import time
from collections.abc import Callable

from .models import Channel, ChannelKind, EphemeralMessage, Message, Pin, Revision, UploadedFile, User


class SlackError(Exception):
    """An error Slack answers with `{"ok": false, "error": code}`, with HTTP 200 unless `status` says so."""

    def __init__(self, code: str, status: int = 200) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


def ts_key(ts: str) -> tuple[int, int]:
    """Order ts strings numerically; raises ValueError for anything that is not `digits.digits`."""
    seconds, _, micros = ts.partition(".")
    return int(seconds), int(micros.ljust(6, "0")[:6] or 0)


def encode_cursor(kind: str, value: str) -> str:
    """Slack cursors are base64 of e.g. `next_ts:1512085861000543` or `user:U0G9WFXNZ`; so are ours."""
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(cursor: str, kind: str) -> str:
    try:
        decoded = base64.b64decode(cursor.encode(), validate=True).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise SlackError("invalid_cursor") from exc
    prefix, sep, value = decoded.partition(":")
    if prefix != kind or not sep:
        raise SlackError("invalid_cursor")
    return value


class Workspace:
    """One Slack team as seen through the bot token."""

    def __init__(
        self,
        *,
        team_id: str,
        team_name: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lock = threading.RLock()
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.clock = clock
        self.monotonic = monotonic
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, dict[str, Message]] = {}
        self.ephemeral: list[EphemeralMessage] = []
        self.files: dict[str, UploadedFile] = {}
        self._last_ts_us = 0
        self._ids: dict[str, itertools.count[int]] = {}
        self.add_user(
            User(id=bot_user_id, name="penny", real_name="Penny", is_bot=True, bot_id=bot_id, team_id=team_id)
        )

    # ----------------------------------------------------------------- ids and clocks
    def next_ts(self) -> str:
        with self.lock:
            now_us = int(self.clock() * 1_000_000)
            self._last_ts_us = max(now_us, self._last_ts_us + 1)
            seconds, micros = divmod(self._last_ts_us, 1_000_000)
            return f"{seconds}.{micros:06d}"

    def new_id(self, prefix: str) -> str:
        with self.lock:
            counter = self._ids.setdefault(prefix, itertools.count(1))
            return f"{prefix}{next(counter):04d}"

    # ----------------------------------------------------------------- users and channels
    def add_user(self, user: User) -> User:
        with self.lock:
            self.users[user.id] = user
            return user

    def add_channel(self, channel: Channel) -> Channel:
        with self.lock:
            self.channels[channel.id] = channel
            self.messages.setdefault(channel.id, {})
            return channel

    def new_channel(
        self,
        *,
        name: str,
        kind: ChannelKind,
        members: list[str],
        channel_id: str | None,
        is_ext_shared: bool,
        topic: str,
        purpose: str,
    ) -> Channel:
        prefix = "D" if kind == "im" else "C"  # modern private channels and mpims have C ids too
        cid = channel_id or self.new_id(prefix)
        im_user = next((m for m in members if m != self.bot_user_id), None) if kind == "im" else None
        creator = next((m for m in members if m != self.bot_user_id), self.bot_user_id)
        channel = Channel(
            id=cid,
            name=name,
            kind=kind,
            members=list(dict.fromkeys(members)),
            is_ext_shared=is_ext_shared,
            topic=topic,
            purpose=purpose,
            creator=creator,
            created=int(self.clock()),
            im_user=im_user,
        )
        return self.add_channel(channel)

    def channel_type(self, channel_id: str) -> str:
        """The `channel_type` field of message events: channel, group, im or mpim."""
        kind = self.channels[channel_id].kind
        return {"public": "channel", "private": "group", "im": "im", "mpim": "mpim"}[kind]

    def visible_channel(self, channel_id: str | None) -> Channel:
        """A conversation the bot can see: public ones always, the others only as a member."""
        with self.lock:
            channel = self.channels.get(channel_id or "")
            if channel is None or (channel.is_private and self.bot_user_id not in channel.members):
                raise SlackError("channel_not_found")
            return channel

    def member_channel(self, channel_id: str | None) -> Channel:
        channel = self.visible_channel(channel_id)
        if self.bot_user_id not in channel.members:
            raise SlackError("not_in_channel")
        return channel

    def dm_channel_for(self, user_id: str) -> Channel:
        """`chat.postMessage(channel=U…)` posts to the DM with that user, opening it if needed."""
        with self.lock:
            for channel in self.channels.values():
                if channel.kind == "im" and channel.im_user == user_id:
                    return channel
            return self.new_channel(
                name="",
                kind="im",
                members=[user_id, self.bot_user_id],
                channel_id=None,
                is_ext_shared=False,
                topic="",
                purpose="",
            )

    # ----------------------------------------------------------------- messages
    def find(self, channel_id: str, ts: str | None) -> Message:
        with self.lock:
            message = self.messages.get(channel_id, {}).get(ts or "")
            if message is None or message.deleted:
                raise SlackError("message_not_found")
            return message

    def post(self, message: Message) -> Message:
        """Store a new message, keeping the parent's thread fields (reply_count, latest_reply...) current."""
        with self.lock:
            if message.thread_ts is not None:
                parent = self.messages.get(message.channel, {}).get(message.thread_ts)
                if parent is None or parent.deleted:
                    raise SlackError("thread_not_found")
                if parent.is_reply:  # replying to a reply lands in the same thread
                    parent = self.messages[message.channel][parent.thread_ts or ""]
                message.thread_ts = parent.ts
                message.parent_user_id = parent.user
                parent.thread_ts = parent.ts
                parent.reply_ts.append(message.ts)
                if message.user not in parent.reply_users:
                    parent.reply_users.append(message.user)
            message.revisions.append(Revision(message.text, message.blocks, message.ts, self.monotonic()))
            self.messages.setdefault(message.channel, {})[message.ts] = message
            return message

    def update(
        self,
        message: Message,
        *,
        text: str,
        blocks: list[dict[str, object]] | None,
        editor: str,
        mark_edited: bool = True,
    ) -> str:
        with self.lock:
            edit_ts = self.next_ts()
            message.text = text
            if blocks is not None:
                message.blocks = blocks
            if mark_edited:  # streamed appends do not show as edits
                message.edited = {"user": editor, "ts": edit_ts}
            message.revisions.append(Revision(text, blocks, edit_ts, self.monotonic()))
            return edit_ts

    def delete(self, message: Message) -> None:
        """Delete; a parent with live replies becomes a tombstone, as Slack shows it."""
        with self.lock:
            if message.is_reply:
                parent = self.messages[message.channel].get(message.thread_ts or "")
                if parent is not None and message.ts in parent.reply_ts:
                    parent.reply_ts.remove(message.ts)
                    still = {self.messages[message.channel][t].user for t in parent.reply_ts}
                    parent.reply_users = [u for u in parent.reply_users if u in still]
            if message.reply_ts:
                message.subtype = "tombstone"
                message.text = "This message was deleted."
                message.user = "USLACKBOT"
                message.bot_id = None
                message.blocks = None
                return
            message.deleted = True

    def top_level(self, channel_id: str) -> list[Message]:
        """Messages `conversations.history` lists: not replies, except broadcasts. Oldest first."""
        with self.lock:
            found = [
                m
                for m in self.messages.get(channel_id, {}).values()
                if not m.deleted and (not m.is_reply or m.reply_broadcast)
            ]
            return sorted(found, key=lambda m: ts_key(m.ts))

    def thread(self, channel_id: str, ts: str) -> list[Message]:
        """Parent then replies, oldest first; a lone message is a thread of one."""
        with self.lock:
            parent = self.find(channel_id, ts)
            if parent.is_reply:
                return [parent]
            replies = [self.messages[channel_id][t] for t in parent.reply_ts]
            return [parent, *sorted(replies, key=lambda m: ts_key(m.ts))]

    def pin(self, channel_id: str, ts: str, by: str) -> None:
        with self.lock:
            channel = self.channels[channel_id]
            self.find(channel_id, ts)
            if any(p.ts == ts for p in channel.pins):
                raise SlackError("already_pinned")
            channel.pins.append(Pin(ts=ts, created=int(self.clock()), created_by=by))

    def unpin(self, channel_id: str, ts: str) -> Pin:
        """Remove a pin; Slack answers `no_pin` for a message that is not pinned."""
        with self.lock:
            channel = self.channels[channel_id]
            pin = next((p for p in channel.pins if p.ts == ts), None)
            if pin is None:
                raise SlackError("no_pin")
            channel.pins.remove(pin)
            return pin

    def new_file(self, filename: str, length: int) -> UploadedFile:
        with self.lock:
            file = UploadedFile(id=self.new_id("F0"), filename=filename, length=length)
            self.files[file.id] = file
            return file
