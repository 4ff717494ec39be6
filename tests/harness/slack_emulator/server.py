"""The HTTP face of the emulator: `/api/<method>`, the file upload URL and slash-command `response_url`s.

Everything Slack does around a method call lives here, in Slack's order: authentication (`not_authed`,
`invalid_auth`), rate limiting (HTTP 429 with `Retry-After`), then the method itself. Every call, failed or
not, goes to the call log with a monotonic timestamp taken when the request arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .faults import FaultInjector, SlackFault
from .models import ApiCall, Message, ResponseUrlPost
from .ratelimit import RateLimiter
from .scopes import all_scopes, needed
from .socket_mode import SocketModeHub
from .web_api import WebApi
from .workspace import SlackError, Workspace


class _OutagePage(Exception):
    """An injected failure answered with an HTML page and no JSON ``error`` at all."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class ApiServer:
    """Builds the aiohttp application; owns the call log and the failure/latency knobs."""

    def __init__(
        self,
        *,
        workspace: Workspace,
        bot_token: str,
        origin: Callable[[], str],
        socket_mode: SocketModeHub | None = None,
    ) -> None:
        self.ws = workspace
        self.bot_token = bot_token
        self.socket_mode = socket_mode
        self.origin = origin
        self.api = WebApi(workspace, origin)
        self.limiter = RateLimiter(workspace.monotonic)
        self.calls: list[ApiCall] = []
        self.response_url_posts: list[ResponseUrlPost] = []
        self.response_url_channels: dict[str, str] = {}
        self.response_url_ephemerals: dict[str, tuple[str, str]] = {}  # path → (channel, ephemeral message_ts)
        self.latency: dict[str, float] = {}
        self.faults = FaultInjector()
        self.log_lock = threading.Lock()
        self.bot_scopes: set[str] = all_scopes()  # what the bot token was granted (tests take some away)
        self.app_token_scopes: set[str] = {"connections:write"}

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        if self.socket_mode is not None:
            app.router.add_get("/socket-mode", self.socket_mode.handle)
        app.router.add_post("/upload/v1/{file_id}", self._upload)
        app.router.add_post("/commands/{team}/{command_id}/{secret}", self._response_url)
        app.router.add_post("/actions/{team}/{action_id}/{secret}", self._response_url)
        return app

    # ----------------------------------------------------------------- /api/<method>
    async def _api(self, request: web.Request) -> web.Response:
        arrived = self.ws.monotonic()
        method = request.match_info["method"]
        params = await _read_params(request)
        token = params.pop("token", None)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ").strip()
        delay = self.latency.get(method, 0.0)
        if delay:
            await asyncio.sleep(delay)
        headers: dict[str, str] = {}
        try:
            if not token:
                raise SlackError("not_authed")
            if method == "apps.connections.open":
                if self.socket_mode is None or token != self.socket_mode.app_token:
                    raise SlackError("invalid_auth")
                headers["x-oauth-scopes"] = ",".join(sorted(self.app_token_scopes))
                if "connections:write" not in self.app_token_scopes:
                    return self._missing_scope(
                        method, params, arrived, "connections:write", self.app_token_scopes, headers
                    )
                ws_url = self.origin().replace("http://", "ws://") + "/socket-mode"
                return self._log_and_respond(method, params, arrived, {"ok": True, "url": ws_url}, 200, headers)
            if token != self.bot_token:
                raise SlackError("invalid_auth")
            headers["x-oauth-scopes"] = ",".join(sorted(self.bot_scopes))
            wanted = needed(method, self._kind_of(params))
            if wanted and not set(wanted) & self.bot_scopes:
                return self._missing_scope(method, params, arrived, wanted[0], self.bot_scopes, headers)
            retry_after = self.limiter.check(method, _channel_of(params))
            if retry_after is not None:
                headers["Retry-After"] = str(retry_after)
                raise SlackError("ratelimited", status=429)
            fault = self.faults.pick(method, params)
            if fault is not None:
                await self._apply(fault, method, params, headers)
            body, status = self.api.handle(method, params), 200
        except SlackError as exc:
            body, status = {"ok": False, "error": exc.code}, exc.status
        except _OutagePage as page:
            self._log_and_respond(method, params, arrived, {"ok": False}, page.status, headers)
            return web.Response(
                status=page.status,
                content_type="text/html",
                text="<html><body><h1>Slack is having trouble</h1></body></html>",
            )
        return self._log_and_respond(method, params, arrived, body, status, headers)

    def _log_and_respond(
        self,
        method: str,
        params: dict[str, Any],
        arrived: float,
        body: dict[str, Any],
        status: int,
        headers: dict[str, str],
    ) -> web.Response:
        with self.log_lock:
            self.calls.append(
                ApiCall(
                    method=method,
                    params=params,
                    status=status,
                    ok=bool(body.get("ok")),
                    error=body.get("error"),
                    monotonic=arrived,
                    response=body,
                )
            )
        return web.json_response(body, status=status, headers=headers)

    def _kind_of(self, params: dict[str, Any]) -> str | None:
        channel = self.ws.channels.get(str(params.get("channel") or params.get("channel_id") or ""))
        return channel.kind if channel is not None else None

    def _missing_scope(
        self,
        method: str,
        params: dict[str, Any],
        arrived: float,
        scope: str,
        granted: set[str],
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        """Slack's answer for a token without the method's scope: which one was needed, which ones it has."""
        body = {"ok": False, "error": "missing_scope", "needed": scope, "provided": ",".join(sorted(granted))}
        return self._log_and_respond(method, params, arrived, body, 200, headers or {})

    async def _apply(self, fault: SlackFault, method: str, params: dict[str, Any], headers: dict[str, str]) -> None:
        """Carry out an injected fault; returns only for a ``slow`` one (the call then goes ahead)."""
        if fault.latency_s:
            await asyncio.sleep(fault.latency_s)
        if fault.kind == "slow":
            return
        if fault.kind == "ratelimited":
            headers["Retry-After"] = str(fault.retry_after)
            raise SlackError("ratelimited", status=429)
        if fault.kind == "html":
            raise _OutagePage(fault.status)
        if fault.kind == "gone":
            with self.ws.lock:
                message = self.ws.messages.get(str(params.get("channel") or ""), {}).get(str(params.get("ts") or ""))
                if message is not None and not message.deleted:
                    self.ws.delete(message)
            raise SlackError("message_not_found")
        if fault.effect:  # it may fail for real: the injected error is what the caller sees either way
            with contextlib.suppress(SlackError):
                self.api.handle(method, params)
        raise SlackError(fault.error, status=fault.status)

    # ----------------------------------------------------------------- uploads and response_url
    async def _upload(self, request: web.Request) -> web.Response:
        """Step 2 of files_upload_v2: the bytes go to the URL `files.getUploadURLExternal` handed out."""
        content = await request.read()
        with self.ws.lock:
            file = self.ws.files.get(request.match_info["file_id"])
            if file is None:
                return web.Response(status=404, text="upload url not found")
            file.content = content
        return web.Response(text=f"OK - {len(content)}")

    async def _response_url(self, request: web.Request) -> web.Response:
        """Record what the bot posts to a slash command's `response_url`; `in_channel` replies show up
        in the channel as a bot message, as they do in Slack."""
        try:
            payload = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        with self.log_lock:
            self.response_url_posts.append(ResponseUrlPost(request.path, payload, self.ws.monotonic()))
        ephemeral = self.response_url_ephemerals.get(request.path)
        if ephemeral is not None and payload.get("delete_original"):
            with self.ws.lock:
                for message in self.ws.ephemeral:
                    if (message.channel, message.message_ts) == ephemeral:
                        message.deleted = True
        channel = self.response_url_channels.get(request.path)
        if channel and payload.get("response_type") == "in_channel":
            with self.ws.lock:
                self.ws.post(
                    Message(
                        channel=channel,
                        ts=self.ws.next_ts(),
                        user=self.ws.bot_user_id,
                        text=str(payload.get("text", "")),
                        team=self.ws.team_id,
                        bot_id=self.ws.bot_id,
                        app_id=self.ws.app_id,
                        blocks=payload.get("blocks"),
                    )
                )
        return web.Response(text="ok")


def _channel_of(params: dict[str, Any]) -> str | None:
    value = params.get("channel") or params.get("channel_id")
    return str(value) if value else None


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Merge query string, form and JSON body: slack_sdk uses each, depending on the method."""
    params: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return params
        if isinstance(body, dict):
            params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params
