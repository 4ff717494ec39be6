"""The Web API methods Penny calls, answered from the emulated workspace with Slack's real shapes.

Each handler takes the request's merged parameters and returns the JSON body of a successful call, or raises
`SlackError(code)`. Error codes are the ones Slack documents for the method. Where Slack is lenient in a
way that would hide a bug (a `thread_ts` that does not exist), the emulator is strict and says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .assistant import AssistantApi
from .limits import MAX_TEXT, check_blocks
from .models import EphemeralMessage, Message
from .streams import ChatStreams
from .workspace import SlackError, Workspace, decode_cursor, encode_cursor, ts_key

Params = dict[str, Any]
Handler = Callable[[Params], dict[str, Any]]


# ----------------------------------------------------------------- parameter helpers
def _str(params: Params, key: str) -> str | None:
    value = params.get(key)
    if value is None or value == "":
        return None
    return str(value)


def _required(params: Params, key: str, error: str = "invalid_arguments") -> str:
    value = _str(params, key)
    if value is None:
        raise SlackError(error)
    return value


def _int(params: Params, key: str, default: int) -> int:
    value = params.get(key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise SlackError("invalid_arguments") from exc


def _bool(params: Params, key: str) -> bool | None:
    value = params.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes")


def _json_list(params: Params, key: str, error: str) -> list[dict[str, Any]] | None:
    """Blocks arrive as a list in JSON bodies and as a JSON string in form bodies."""
    value = params.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise SlackError(error) from exc
    if not isinstance(value, list):
        raise SlackError(error)
    return value


def _ts_param(params: Params, key: str, error: str) -> str | None:
    value = _str(params, key)
    if value is not None:
        try:
            ts_key(value)
        except ValueError as exc:
            raise SlackError(error) from exc
    return value


def _cursor_ts(cursor: str) -> tuple[int, int]:
    """Our ts cursors hold `next_ts:<ts without the dot>`, as Slack's do."""
    raw = decode_cursor(cursor, "next_ts")
    if not raw.isdigit() or len(raw) <= 6:
        raise SlackError("invalid_cursor")
    return int(raw[:-6]), int(raw[-6:])


def _limit(params: Params, default: int, maximum: int) -> int:
    limit = _int(params, "limit", default)
    return default if limit <= 0 else min(limit, maximum)


class WebApi:
    """Dispatches `method` to a handler; `origin` (`http://127.0.0.1:PORT`) builds upload URLs."""

    def __init__(self, workspace: Workspace, origin: Callable[[], str]) -> None:
        self.ws = workspace
        self.origin = origin
        self.handlers: dict[str, Handler] = {
            "api.test": self.api_test,
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.delete": self.chat_delete,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.getPermalink": self.chat_get_permalink,
            "conversations.history": self.conversations_history,
            "conversations.replies": self.conversations_replies,
            "conversations.info": self.conversations_info,
            "conversations.members": self.conversations_members,
            "users.info": self.users_info,
            "pins.list": self.pins_list,
            "pins.add": self.pins_add,
            "pins.remove": self.pins_remove,
            "reactions.add": self.reactions_add,
            "reactions.remove": self.reactions_remove,
            "files.getUploadURLExternal": self.files_get_upload_url,
            "files.completeUploadExternal": self.files_complete_upload,
        }
        self.streams = ChatStreams(workspace)
        self.handlers.update(self.streams.handlers())
        self.assistant = AssistantApi(workspace)
        self.handlers.update(self.assistant.handlers())

    def handle(self, method: str, params: Params) -> dict[str, Any]:
        handler = self.handlers.get(method)
        if handler is None:
            raise SlackError("unknown_method")
        with self.ws.lock:
            return handler(params)

    # ----------------------------------------------------------------- auth
    def api_test(self, params: Params) -> dict[str, Any]:
        args = {k: v for k, v in params.items() if k != "token"}
        if "error" in args:
            raise SlackError(str(args["error"]))
        return {"ok": True, "args": args} if args else {"ok": True}

    def auth_test(self, params: Params) -> dict[str, Any]:
        ws = self.ws
        return {
            "ok": True,
            "url": f"https://{ws.team_name.lower().replace(' ', '-')}.slack.com/",
            "team": ws.team_name,
            "user": ws.users[ws.bot_user_id].name,
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "is_enterprise_install": False,
        }

    # ----------------------------------------------------------------- chat
    def _text_and_blocks(self, params: Params, *, require: bool = True) -> tuple[str | None, Any, Any]:
        text = params.get("text")
        text = None if text is None else str(text)
        blocks = _json_list(params, "blocks", "invalid_blocks")
        attachments = _json_list(params, "attachments", "invalid_attachments")
        if require and not text and not blocks and not attachments:
            raise SlackError("no_text")
        if text is not None and len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        check_blocks(blocks, too_many="invalid_blocks")
        return text, blocks, attachments

    def _target_channel(self, params: Params) -> str:
        channel_id = _required(params, "channel", "channel_not_found")
        if channel_id.startswith("U") and channel_id in self.ws.users:
            return self.ws.dm_channel_for(channel_id).id
        return channel_id

    def chat_post_message(self, params: Params) -> dict[str, Any]:
        """Posts as the bot (`user` = bot user, with `bot_id`). Strict: an unknown `thread_ts` fails
        with `thread_not_found` (Slack would quietly post elsewhere)."""
        channel = self.ws.member_channel(self._target_channel(params))
        if channel.is_archived:
            raise SlackError("is_archived")
        text, blocks, attachments = self._text_and_blocks(params)
        thread_ts = _ts_param(params, "thread_ts", "invalid_thread_ts")
        metadata = params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        message = Message(
            channel=channel.id,
            ts=self.ws.next_ts(),
            user=self.ws.bot_user_id,
            text=text or "",
            team=self.ws.team_id,
            bot_id=self.ws.bot_id,
            app_id=self.ws.app_id,
            thread_ts=thread_ts,
            blocks=blocks,
            attachments=attachments,
            reply_broadcast=bool(_bool(params, "reply_broadcast")) and thread_ts is not None,
            unfurl_links=_bool(params, "unfurl_links"),
            mrkdwn=_bool(params, "mrkdwn"),
            metadata=metadata,
        )
        self.ws.post(message)
        return {"ok": True, "channel": channel.id, "ts": message.ts, "message": message.to_api()}

    def chat_update(self, params: Params) -> dict[str, Any]:
        channel = self.ws.visible_channel(_required(params, "channel", "channel_not_found"))
        message = self.ws.find(channel.id, _required(params, "ts", "message_not_found"))
        if message.user != self.ws.bot_user_id:
            raise SlackError("cant_update_message")
        text, blocks, _ = self._text_and_blocks(params, require=False)
        if text is None and blocks is None:
            raise SlackError("no_text")
        self.ws.update(
            message, text=text if text is not None else message.text, blocks=blocks, editor=self.ws.bot_user_id
        )
        return {"ok": True, "channel": channel.id, "ts": message.ts, "text": message.text, "message": message.to_api()}

    def chat_delete(self, params: Params) -> dict[str, Any]:
        channel = self.ws.visible_channel(_required(params, "channel", "channel_not_found"))
        message = self.ws.find(channel.id, _required(params, "ts", "message_not_found"))
        if message.user != self.ws.bot_user_id:
            raise SlackError("cant_delete_message")
        self.ws.delete(message)
        return {"ok": True, "channel": channel.id, "ts": message.ts}

    def chat_post_ephemeral(self, params: Params) -> dict[str, Any]:
        channel = self.ws.member_channel(_required(params, "channel", "channel_not_found"))
        user = _required(params, "user", "user_not_found")
        if user not in self.ws.users:
            raise SlackError("user_not_found")
        if user not in channel.members:
            raise SlackError("user_not_in_channel")
        text, blocks, _ = self._text_and_blocks(params)
        ts = self.ws.next_ts()
        self.ws.ephemeral.append(
            EphemeralMessage(
                channel=channel.id,
                user=user,
                text=text or "",
                message_ts=ts,
                thread_ts=_str(params, "thread_ts"),
                blocks=blocks,
            )
        )
        return {"ok": True, "message_ts": ts}

    def chat_get_permalink(self, params: Params) -> dict[str, Any]:
        channel = self.ws.visible_channel(_required(params, "channel", "channel_not_found"))
        message = self.ws.find(channel.id, _required(params, "message_ts", "message_not_found"))
        link = f"https://penny-test.slack.com/archives/{channel.id}/p{message.ts.replace('.', '')}"
        if message.is_reply:
            link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
        return {"ok": True, "channel": channel.id, "permalink": link}

    # ----------------------------------------------------------------- conversations
    def conversations_history(self, params: Params) -> dict[str, Any]:
        """Newest first; `oldest`/`latest`/`inclusive` filter, `limit` (default 100, max 999) pages."""
        channel = self.ws.member_channel(_required(params, "channel", "channel_not_found"))
        oldest = _ts_param(params, "oldest", "invalid_ts_oldest")
        latest = _ts_param(params, "latest", "invalid_ts_latest")
        inclusive = bool(_bool(params, "inclusive"))
        messages = list(reversed(self.ws.top_level(channel.id)))
        if oldest is not None:
            low = ts_key(oldest)
            messages = [m for m in messages if ts_key(m.ts) > low or (inclusive and ts_key(m.ts) == low)]
        if latest is not None:
            high = ts_key(latest)
            messages = [m for m in messages if ts_key(m.ts) < high or (inclusive and ts_key(m.ts) == high)]
        cursor = _str(params, "cursor")
        if cursor is not None:
            start = _cursor_ts(cursor)
            messages = [m for m in messages if ts_key(m.ts) <= start]
        page, rest = self._page(messages, _limit(params, 100, 999))
        body: dict[str, Any] = {
            "ok": True,
            "messages": [m.to_api() for m in page],
            "has_more": bool(rest),
            "pin_count": len(channel.pins),
            "channel_actions_ts": None,
            "channel_actions_count": 0,
        }
        if rest:
            body["response_metadata"] = {"next_cursor": encode_cursor("next_ts", rest[0].ts.replace(".", ""))}
        return body

    def conversations_replies(self, params: Params) -> dict[str, Any]:
        """Parent first, then replies oldest first; paged with the parent on the first page only."""
        channel = self.ws.member_channel(_required(params, "channel", "channel_not_found"))
        ts = _required(params, "ts", "thread_not_found")
        try:
            thread = self.ws.thread(channel.id, ts)
        except SlackError as exc:
            raise SlackError("thread_not_found") from exc
        oldest = _ts_param(params, "oldest", "invalid_ts_oldest")
        latest = _ts_param(params, "latest", "invalid_ts_latest")
        parent, replies = thread[0], thread[1:]
        if oldest is not None:
            replies = [m for m in replies if ts_key(m.ts) >= ts_key(oldest)]
        if latest is not None:
            replies = [m for m in replies if ts_key(m.ts) <= ts_key(latest)]
        items = [parent, *replies]
        cursor = _str(params, "cursor")
        if cursor is not None:
            start = _cursor_ts(cursor)
            items = [m for m in replies if ts_key(m.ts) >= start]
        page, rest = self._page(items, _limit(params, 1000, 1000))
        body: dict[str, Any] = {"ok": True, "messages": [m.to_api() for m in page], "has_more": bool(rest)}
        if rest:
            body["response_metadata"] = {"next_cursor": encode_cursor("next_ts", rest[0].ts.replace(".", ""))}
        return body

    def conversations_info(self, params: Params) -> dict[str, Any]:
        channel = self.ws.visible_channel(_required(params, "channel", "channel_not_found"))
        return {"ok": True, "channel": channel.to_api(bot_user_id=self.ws.bot_user_id, team_id=self.ws.team_id)}

    def conversations_members(self, params: Params) -> dict[str, Any]:
        channel = self.ws.visible_channel(_required(params, "channel", "channel_not_found"))
        members = list(channel.members)
        cursor = _str(params, "cursor")
        if cursor is not None:
            after = decode_cursor(cursor, "user")
            if after not in members:
                raise SlackError("invalid_cursor")
            members = members[members.index(after) :]
        page, rest = self._page(members, _limit(params, 100, 1000))
        return {
            "ok": True,
            "members": page,
            "response_metadata": {"next_cursor": encode_cursor("user", rest[0]) if rest else ""},
        }

    @staticmethod
    def _page(items: list[Any], limit: int) -> tuple[list[Any], list[Any]]:
        return items[:limit], items[limit:]

    # ----------------------------------------------------------------- users, pins, reactions
    def users_info(self, params: Params) -> dict[str, Any]:
        user = self.ws.users.get(_required(params, "user", "user_not_found"))
        if user is None:
            raise SlackError("user_not_found")
        return {"ok": True, "user": user.to_api()}

    def pins_list(self, params: Params) -> dict[str, Any]:
        channel = self.ws.member_channel(_required(params, "channel", "channel_not_found"))
        items = []
        for pin in sorted(channel.pins, key=lambda p: p.created, reverse=True):
            message = self.ws.messages[channel.id].get(pin.ts)
            if message is None or message.deleted:
                continue
            rendered = message.to_api()
            rendered["pinned_to"] = [channel.id]
            rendered["permalink"] = f"https://penny-test.slack.com/archives/{channel.id}/p{pin.ts.replace('.', '')}"
            items.append(
                {
                    "type": "message",
                    "created": pin.created,
                    "created_by": pin.created_by,
                    "channel": channel.id,
                    "message": rendered,
                }
            )
        return {"ok": True, "items": items}

    def pins_add(self, params: Params) -> dict[str, Any]:
        channel = self.ws.member_channel(_required(params, "channel", "channel_not_found"))
        self.ws.pin(channel.id, _required(params, "timestamp", "no_item_specified"), self.ws.bot_user_id)
        return {"ok": True}

    def pins_remove(self, params: Params) -> dict[str, Any]:
        channel = self.ws.member_channel(_required(params, "channel", "channel_not_found"))
        self.ws.unpin(channel.id, _required(params, "timestamp", "no_item_specified"))
        return {"ok": True}

    def _reaction_target(self, params: Params) -> tuple[Message, str]:
        channel = self.ws.member_channel(_required(params, "channel", "channel_not_found"))
        message = self.ws.find(channel.id, _required(params, "timestamp", "no_item_specified"))
        name = _required(params, "name", "invalid_name").strip(":")
        return message, name

    def reactions_add(self, params: Params) -> dict[str, Any]:
        message, name = self._reaction_target(params)
        users = message.reactions.setdefault(name, [])
        if self.ws.bot_user_id in users:
            raise SlackError("already_reacted")
        users.append(self.ws.bot_user_id)
        return {"ok": True}

    def reactions_remove(self, params: Params) -> dict[str, Any]:
        message, name = self._reaction_target(params)
        users = message.reactions.get(name, [])
        if self.ws.bot_user_id not in users:
            raise SlackError("no_reaction")
        users.remove(self.ws.bot_user_id)
        return {"ok": True}

    # ----------------------------------------------------------------- files (v2 upload flow)
    def files_get_upload_url(self, params: Params) -> dict[str, Any]:
        filename = _required(params, "filename")
        length = _int(params, "length", -1)
        if length < 0:
            raise SlackError("invalid_arguments")
        file = self.ws.new_file(filename, length)
        return {"ok": True, "upload_url": f"{self.origin()}/upload/v1/{file.id}", "file_id": file.id}

    def files_complete_upload(self, params: Params) -> dict[str, Any]:
        """Strict: a file whose bytes never reached the upload URL fails with `file_not_found`."""
        entries = _json_list(params, "files", "invalid_arguments")
        if not entries:
            raise SlackError("invalid_arguments")
        channel_id = _str(params, "channel_id")
        if channel_id is None and _str(params, "channels"):
            channel_id = str(params["channels"]).split(",")[0]
        channel = self.ws.member_channel(channel_id) if channel_id else None
        rendered = []
        for entry in entries:
            file = self.ws.files.get(str(entry.get("id")))
            if file is None or file.content is None:
                raise SlackError("file_not_found")
            file.title = str(entry.get("title") or file.filename)
            file.channel = channel.id if channel else None
            rendered.append(self._file_api(file))
        if channel is not None:
            message = Message(
                channel=channel.id,
                ts=self.ws.next_ts(),
                user=self.ws.bot_user_id,
                text=str(params.get("initial_comment") or ""),
                team=self.ws.team_id,
                bot_id=self.ws.bot_id,
                app_id=self.ws.app_id,
                thread_ts=_str(params, "thread_ts"),
                files=rendered,
            )
            self.ws.post(message)
        return {"ok": True, "files": rendered}

    def _file_api(self, file: Any) -> dict[str, Any]:
        created = int(self.ws.clock())
        return {
            "id": file.id,
            "created": created,
            "timestamp": created,
            "name": file.filename,
            "title": file.title,
            "mimetype": "",
            "filetype": "",
            "pretty_type": "",
            "user": self.ws.bot_user_id,
            "user_team": self.ws.team_id,
            "editable": False,
            "size": len(file.content or b""),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{self.origin()}/files/{file.id}",
            "permalink": f"{self.origin()}/files/{file.id}",
            "comments_count": 0,
            "shares": {},
            "channels": [file.channel] if file.channel else [],
            "groups": [],
            "ims": [],
            "has_more_shares": False,
            "has_rich_preview": False,
            "file_access": "visible",
        }
