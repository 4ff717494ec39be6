"""HTTP mode: ``POST /slack/events`` (signed Events API and slash commands) plus health and metrics endpoints.

A request to ``/slack/events`` is checked before anything reads it: the signature and the 5-minute timestamp
window over the raw bytes (slack_sdk's ``SignatureVerifier``), 401 otherwise; then the body must be what Slack
sends (UTF-8, a JSON object or a form, a ``payload`` that is JSON), 400 otherwise. Only then does Bolt see it
(Bolt verifies the signature again, and would answer a body it cannot parse with a 500 and a traceback in the log).
An unsigned or malformed request never reaches a listener, and never costs more than one HMAC.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

log = structlog.get_logger(__name__)

EVENTS_PATH = "/slack/events"


def well_signed(verifier: SignatureVerifier, request: web.Request, raw: bytes) -> bool:
    """Slack's signature over these exact bytes, within the timestamp window; any malformed header is a no, and
    so are bytes that are not UTF-8 (Slack signs UTF-8 text; the verifier cannot check anything else)."""
    try:
        return verifier.is_valid(
            raw, request.headers.get("X-Slack-Request-Timestamp"), request.headers.get("X-Slack-Signature")
        )
    except (ValueError, TypeError, OverflowError):  # a timestamp that is not a number; UnicodeDecodeError
        return False


def well_formed(raw: bytes, content_type: str | None) -> bool:
    """Whether Bolt can read the body: UTF-8 text that parses into an object (an empty body is Bolt's 404)."""
    try:
        body = parse_body(raw.decode("utf-8"), content_type)
    except (UnicodeDecodeError, ValueError):  # json.JSONDecodeError is a ValueError
        return False
    return isinstance(body, dict)


def build_web_app(
    app: AsyncApp, ready: Callable[[], bool] = lambda: True, *, serve_events: bool = True, signing_secret: str = ""
) -> web.Application:
    """``serve_events=False`` in Socket Mode: signature checks are off there, so the events route must not exist.
    ``signing_secret`` is required with the events route (``Settings.require_runnable`` refuses an empty one)."""
    verifier = SignatureVerifier(signing_secret) if serve_events else None

    async def slack_events(request: web.Request) -> web.Response:
        raw = await request.read()
        assert verifier is not None
        if not well_signed(verifier, request, raw):
            log.info("http.unsigned_request", size=len(raw))
            return web.json_response({"error": "invalid signature"}, status=401)
        if not well_formed(raw, request.content_type):
            log.info("http.malformed_body", size=len(raw), content_type=request.content_type)
            return web.json_response({"error": "malformed body"}, status=400)
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
    app: AsyncApp,
    host: str,
    port: int,
    ready: Callable[[], bool] = lambda: True,
    *,
    serve_events: bool = True,
    signing_secret: str = "",
) -> web.AppRunner:
    runner = web.AppRunner(
        build_web_app(app, ready, serve_events=serve_events, signing_secret=signing_secret), access_log=None
    )
    await runner.setup()
    await web.TCPSite(runner, host=host, port=port).start()
    return runner
