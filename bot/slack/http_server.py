"""HTTP mode: ``POST /slack/events`` (signed Events API and slash commands) plus health and metrics endpoints.

Bolt verifies the signature and the 5-minute timestamp window before any listener runs (401 otherwise).
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

EVENTS_PATH = "/slack/events"


def build_web_app(
    app: AsyncApp, ready: Callable[[], bool] = lambda: True, *, serve_events: bool = True
) -> web.Application:
    """``serve_events=False`` in Socket Mode: signature checks are off there, so the events route must not exist."""

    async def slack_events(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readyz(_: web.Request) -> web.Response:
        """Ready once cache indexes are rebuilt and the embedding model is loaded (load balancers wait)."""
        is_ready = ready()
        return web.json_response({"ok": is_ready}, status=200 if is_ready else 503)

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    web_app = web.Application(client_max_size=2 * 1024 * 1024)
    if serve_events:
        web_app.router.add_post(EVENTS_PATH, slack_events)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
    web_app.router.add_get("/metrics", metrics)
    return web_app


async def start_http(
    app: AsyncApp, host: str, port: int, ready: Callable[[], bool] = lambda: True, *, serve_events: bool = True
) -> web.AppRunner:
    runner = web.AppRunner(build_web_app(app, ready, serve_events=serve_events), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host=host, port=port).start()
    return runner
