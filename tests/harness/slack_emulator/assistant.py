"""The assistant pane's Web API (``assistant.threads.setStatus`` / ``setSuggestedPrompts`` / ``setTitle``) and
``views.publish`` (App Home), answered with the shapes of Slack's reference pages.

Each pane method takes ``channel_id`` (the DM holding the thread) and ``thread_ts`` and answers ``{"ok": true}``;
an unknown channel is ``channel_not_found``, a thread that is not there ``invalid_thread_ts`` (the documented
errors). Every call is kept, in order, so tests can see a status set and then cleared (``status=""``).
``views.publish`` stores the latest view per user and answers ``{"ok": true, "view": {...}}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .workspace import SlackError, Workspace

Params = dict[str, Any]
MAX_PROMPTS = 4
MAX_VIEW_BLOCKS = 100


@dataclass
class PaneThreadState:
    statuses: list[str] = field(default_factory=list)  # every status set, "" for a clear
    prompts: list[dict[str, str]] = field(default_factory=list)
    prompts_title: str = ""
    title: str = ""


def _json(value: Any, error: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise SlackError(error) from exc
    return value


class AssistantApi:
    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self.threads: dict[tuple[str, str], PaneThreadState] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self._view_seq = 0

    def handlers(self) -> dict[str, Any]:
        return {
            "assistant.threads.setStatus": self.set_status,
            "assistant.threads.setSuggestedPrompts": self.set_suggested_prompts,
            "assistant.threads.setTitle": self.set_title,
            "views.publish": self.views_publish,
        }

    def _thread(self, params: Params) -> PaneThreadState:
        channel = self.ws.member_channel(str(params.get("channel_id") or ""))
        thread_ts = str(params.get("thread_ts") or "")
        message = self.ws.messages.get(channel.id, {}).get(thread_ts)
        if not thread_ts or message is None or message.deleted:
            raise SlackError("invalid_thread_ts")
        return self.threads.setdefault((channel.id, thread_ts), PaneThreadState())

    def set_status(self, params: Params) -> dict[str, Any]:
        if "status" not in params:
            raise SlackError("invalid_arguments")
        self._thread(params).statuses.append(str(params["status"]))
        return {"ok": True}

    def set_suggested_prompts(self, params: Params) -> dict[str, Any]:
        prompts = _json(params.get("prompts"), "invalid_arguments")
        if not isinstance(prompts, list) or not prompts or len(prompts) > MAX_PROMPTS:
            raise SlackError("invalid_arguments")
        if not all(isinstance(p, dict) and p.get("title") and p.get("message") for p in prompts):
            raise SlackError("invalid_arguments")
        thread = self._thread(params)
        thread.prompts = [{"title": str(p["title"]), "message": str(p["message"])} for p in prompts]
        thread.prompts_title = str(params.get("title") or "")
        return {"ok": True}

    def set_title(self, params: Params) -> dict[str, Any]:
        title = str(params.get("title") or "")
        if not title:
            raise SlackError("invalid_arguments")
        self._thread(params).title = title
        return {"ok": True}

    def views_publish(self, params: Params) -> dict[str, Any]:
        user = str(params.get("user_id") or "")
        if user not in self.ws.users:
            raise SlackError("invalid_arguments")
        view = _json(params.get("view"), "invalid_arguments")
        if not isinstance(view, dict) or view.get("type") != "home":
            raise SlackError("invalid_arguments")
        blocks = view.get("blocks")
        if not isinstance(blocks, list) or len(blocks) > MAX_VIEW_BLOCKS:
            raise SlackError("invalid_blocks")
        self._view_seq += 1
        published = {
            "id": f"V{self._view_seq:08d}",
            "team_id": self.ws.team_id,
            "type": "home",
            "close": None,
            "submit": None,
            "blocks": blocks,
            "private_metadata": str(view.get("private_metadata") or ""),
            "callback_id": str(view.get("callback_id") or ""),
            "state": {"values": {}},
            "hash": f"{int(self.ws.clock())}.{self._view_seq:08x}",
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": f"V{self._view_seq:08d}",
            "previous_view_id": None,
            "app_id": self.ws.app_id,
            "external_id": str(view.get("external_id") or ""),
            "bot_id": self.ws.bot_id,
        }
        self.views[user] = published
        return {"ok": True, "view": published}
