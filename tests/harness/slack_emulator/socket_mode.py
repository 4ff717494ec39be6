"""Socket Mode, Slack's side: ``apps.connections.open`` hands out a WebSocket URL; events travel as envelopes.

Slack sends ``{"type": "hello"}`` on connect, then ``events_api`` / ``slash_commands`` / ``interactive`` envelopes
``{"envelope_id", "type", "payload", "accepts_response_payload", "retry_attempt", "retry_reason"}``; the app acks
each by sending ``{"envelope_id": ...}`` back. This keeps the open sockets and every ack so tests can assert on them.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from typing import Any

from aiohttp import WSMsgType, web


class SocketModeHub:
    def __init__(self, app_token: str) -> None:
        self.app_token = app_token
        self._sockets: list[web.WebSocketResponse] = []
        self.acks: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    @property
    def connected(self) -> int:
        with self._lock:
            return sum(1 for ws in self._sockets if not ws.closed)

    def acked(self, envelope_id: str) -> bool:
        with self._lock:
            return any(ack.get("envelope_id") == envelope_id for ack in self.acks)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        with self._lock:
            self._sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "emulator"},
                "connection_info": {"app_id": "A0PENNY"},
            }
        )
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                with self._lock:
                    self.acks.append(json.loads(message.data))
            elif message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
        return ws

    async def send(self, envelope_type: str, payload: dict[str, Any], *, retry_attempt: int = 0) -> str:
        """Send an envelope over the newest open socket; returns its envelope id."""
        envelope_id = str(uuid.uuid4())
        with self._lock:
            open_sockets = [ws for ws in self._sockets if not ws.closed]
        if not open_sockets:
            raise RuntimeError("no Socket Mode connection is open")
        await open_sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": envelope_type,
                "payload": payload,
                "accepts_response_payload": envelope_type != "events_api",
                "retry_attempt": retry_attempt,
                "retry_reason": "timeout" if retry_attempt else "",
            }
        )
        await asyncio.sleep(0)
        return envelope_id
