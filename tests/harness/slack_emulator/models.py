"""Plain records for the emulator's state and logs, shaped after what Slack itself keeps.

They are dataclasses so tests can read them directly; the emulator hands out copies, never its live
objects, so a test can hold one while the server thread keeps changing the workspace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ChannelKind = Literal["public", "private", "im", "mpim"]


@dataclass
class User:
    """A workspace member as `users.info` describes it."""

    id: str
    name: str
    real_name: str = ""
    display_name: str = ""
    is_bot: bool = False
    bot_id: str | None = None
    deleted: bool = False
    tz: str = "Europe/Berlin"
    tz_offset: int = 3600
    email: str = ""
    team_id: str = "T0001"
    is_admin: bool = False

    def to_api(self) -> dict[str, Any]:
        real = self.real_name or self.name
        profile: dict[str, Any] = {
            "title": "",
            "phone": "",
            "skype": "",
            "real_name": real,
            "real_name_normalized": real,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
            "avatar_hash": "g0000000000a",
            "email": self.email,
            "first_name": real.split(" ")[0] if real else "",
            "last_name": " ".join(real.split(" ")[1:]),
            "image_24": "https://a.slack-edge.com/avatar_24.png",
            "image_32": "https://a.slack-edge.com/avatar_32.png",
            "image_48": "https://a.slack-edge.com/avatar_48.png",
            "image_72": "https://a.slack-edge.com/avatar_72.png",
            "image_192": "https://a.slack-edge.com/avatar_192.png",
            "image_512": "https://a.slack-edge.com/avatar_512.png",
            "team": self.team_id,
        }
        if self.bot_id:
            profile["bot_id"] = self.bot_id
            profile["api_app_id"] = ""
            profile["always_active"] = True
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": real,
            "tz": self.tz,
            "tz_label": "Central European Time",
            "tz_offset": self.tz_offset,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1700000000,
            "is_email_confirmed": bool(self.email),
            "who_can_share_contact_card": "EVERYONE",
        }


@dataclass
class Pin:
    ts: str
    created: int
    created_by: str


@dataclass
class Channel:
    """A conversation of any kind. `members` decides visibility: the bot sees what it is a member of."""

    id: str
    name: str
    kind: ChannelKind = "public"
    members: list[str] = field(default_factory=list)
    is_ext_shared: bool = False
    topic: str = ""
    purpose: str = ""
    creator: str = ""
    created: int = 1700000000
    is_archived: bool = False
    pins: list[Pin] = field(default_factory=list)
    im_user: str | None = None  # the human on the other side of a DM

    @property
    def is_private(self) -> bool:
        return self.kind != "public"

    def to_api(self, *, bot_user_id: str, team_id: str) -> dict[str, Any]:
        """The `conversations.info` shape; modern private channels have C ids and `is_channel` true."""
        is_channel = self.kind in ("public", "private")
        info: dict[str, Any] = {
            "id": self.id,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_im": self.kind == "im",
            "is_org_shared": False,
            "context_team_id": team_id,
            "updated": self.created * 1000,
        }
        if self.kind == "im":
            info.update({"user": self.im_user or "", "is_user_deleted": False, "priority": 0})
            return info
        info.update(
            {
                "name": self.name,
                "is_channel": is_channel,
                "is_group": False,
                "is_general": False,
                "unlinked": 0,
                "name_normalized": self.name,
                "is_shared": self.is_ext_shared,
                "creator": self.creator,
                "is_ext_shared": self.is_ext_shared,
                "shared_team_ids": [team_id, "T9EXT0001"] if self.is_ext_shared else [team_id],
                "pending_shared": [],
                "pending_connected_team_ids": [],
                "is_pending_ext_shared": False,
                "is_member": bot_user_id in self.members,
                "is_private": self.is_private,
                "is_mpim": self.kind == "mpim",
                "last_read": "0000000000.000000",
                "topic": {"value": self.topic, "creator": self.creator, "last_set": self.created if self.topic else 0},
                "purpose": {
                    "value": self.purpose,
                    "creator": self.creator,
                    "last_set": self.created if self.purpose else 0,
                },
                "previous_names": [],
                "num_members": len(self.members),
            }
        )
        if self.is_ext_shared:
            info["connected_team_ids"] = [team_id, "T9EXT0001"]
            info["conversation_host_id"] = team_id
        return info


@dataclass
class Revision:
    """One version of a message's text: the original post, then one per `chat.update`."""

    text: str
    blocks: list[dict[str, Any]] | None
    ts: str  # Slack-style wall-clock ts of this version (the `edited.ts` for updates)
    monotonic: float  # time.monotonic() when the emulator stored it, for interval assertions


@dataclass
class Message:
    """A message as the emulator stores it. `to_api()` renders Slack's wire shape."""

    channel: str
    ts: str
    user: str
    text: str
    team: str = "T0001"
    bot_id: str | None = None
    app_id: str | None = None
    thread_ts: str | None = None
    parent_user_id: str | None = None
    blocks: list[dict[str, Any]] | None = None
    attachments: list[dict[str, Any]] | None = None
    subtype: str | None = None
    reply_broadcast: bool = False
    unfurl_links: bool | None = None
    mrkdwn: bool | None = None
    metadata: dict[str, Any] | None = None
    files: list[dict[str, Any]] | None = None
    client_msg_id: str | None = None
    edited: dict[str, str] | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    revisions: list[Revision] = field(default_factory=list)
    deleted: bool = False
    # Thread bookkeeping, only meaningful on a parent.
    reply_ts: list[str] = field(default_factory=list)
    reply_users: list[str] = field(default_factory=list)

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def is_thread_parent(self) -> bool:
        return bool(self.reply_ts)

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "message"}
        if self.subtype:
            out["subtype"] = self.subtype
        if self.client_msg_id:
            out["client_msg_id"] = self.client_msg_id
        out.update({"text": self.text, "user": self.user, "ts": self.ts, "team": self.team})
        if self.bot_id:
            out["bot_id"] = self.bot_id
            out["app_id"] = self.app_id or ""
            out["bot_profile"] = {
                "id": self.bot_id,
                "deleted": False,
                "name": "penny",
                "updated": 1700000000,
                "app_id": self.app_id or "",
                "icons": {"image_36": "", "image_48": "", "image_72": ""},
                "team_id": self.team,
            }
        if self.blocks is not None:
            out["blocks"] = self.blocks
        if self.attachments is not None:
            out["attachments"] = self.attachments
        if self.files is not None:
            out["files"] = self.files
            out["upload"] = False
            out["display_as_bot"] = False
        if self.metadata is not None:
            out["metadata"] = self.metadata
        if self.edited is not None:
            out["edited"] = dict(self.edited)
        if self.thread_ts is not None:
            out["thread_ts"] = self.thread_ts
        if self.is_reply:
            out["parent_user_id"] = self.parent_user_id or ""
            if self.reply_broadcast:
                out["subtype"] = "thread_broadcast"
                out["root"] = {"ts": self.thread_ts}
        if self.is_thread_parent:
            out["reply_count"] = len(self.reply_ts)
            out["reply_users_count"] = len(self.reply_users)
            out["latest_reply"] = self.reply_ts[-1]
            out["reply_users"] = list(self.reply_users)
            out["is_locked"] = False
            out["subscribed"] = False
        if self.reactions:
            out["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)}
                for name, users in self.reactions.items()
                if users
            ]
        return out


@dataclass
class ApiCall:
    """One request to the Web API, kept so tests can assert on what the bot actually did."""

    method: str
    params: dict[str, Any]
    status: int
    ok: bool
    error: str | None
    monotonic: float
    response: dict[str, Any]


@dataclass
class EphemeralMessage:
    channel: str
    user: str
    text: str
    message_ts: str
    thread_ts: str | None = None
    blocks: list[dict[str, Any]] | None = None
    deleted: bool = False  # removed through a ``response_url`` with ``delete_original``


@dataclass
class ResponseUrlPost:
    """A JSON body the bot posted to a slash command's `response_url`."""

    path: str
    payload: dict[str, Any]
    monotonic: float


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    channel: str | None = None


@dataclass
class DeliveryAttempt:
    """One HTTP POST of an event or command to the bot."""

    retry_num: int
    status: int | None  # None: timed out or connection failed
    body: str
    elapsed: float
    timed_out: bool = False
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def acked(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Delivery:
    """The whole story of one event sent to the bot, re-deliveries included (like Slack's own log)."""

    kind: Literal["event", "command", "interaction"]
    url: str
    event_id: str | None
    body: str
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    ts: str | None = None  # ts of the user message the event carries, when there is one

    @property
    def final(self) -> DeliveryAttempt:
        return self.attempts[-1]

    @property
    def status(self) -> int | None:
        return self.final.status

    @property
    def response_body(self) -> str:
        return self.final.body

    @property
    def elapsed(self) -> float:
        return self.final.elapsed

    @property
    def acked(self) -> bool:
        return any(a.acked for a in self.attempts)
