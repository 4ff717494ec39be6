"""``/slack/events`` over real HTTP: signature first, over the raw bytes; 401 or 400, never a 500, for bad input."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult

from bot.slack.http_server import EVENTS_PATH, build_web_app
from tests.harness.slack_emulator import signed_headers

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
async def http() -> AsyncIterator[tuple[TestClient[Any, Any], list[dict[str, Any]]]]:
    async def authorize(**_: Any) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-1-2-abc", bot_user_id="U0")

    app = AsyncApp(signing_secret=SECRET, authorize=authorize)
    seen: list[dict[str, Any]] = []

    @app.event("app_mention")
    async def on_mention(body: dict[str, Any]) -> None:
        seen.append(body)

    client = TestClient(TestServer(build_web_app(app, signing_secret=SECRET)))
    await client.start_server()
    yield client, seen
    await client.close()


def _event() -> str:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T1",
            "api_app_id": "A1",
            "event_id": "Ev1",
            "event": {"type": "app_mention", "user": "U1", "text": "<@U0> hi", "channel": "C1", "ts": "1.2"},
        }
    )


async def _post(
    client: TestClient[Any, Any], body: bytes | str, *, content_type: str = "application/json", **headers: str
) -> tuple[int, str]:
    raw = body.encode() if isinstance(body, str) else body
    response = await client.post(EVENTS_PATH, data=raw, headers={"Content-Type": content_type, **headers})
    return response.status, await response.text()


def _signed(body: bytes | str, *, at: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """Slack's signature over the exact bytes (the emulator's ``signed_headers`` takes text)."""
    raw = body.encode() if isinstance(body, str) else body
    timestamp = str(at or int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}


async def test_a_signed_event_reaches_its_listener(http: tuple[TestClient[Any, Any], list[dict[str, Any]]]) -> None:
    client, seen = http
    body = _event()
    status, _ = await _post(client, body, **_signed(body))
    assert status == 200
    for _ in range(100):
        if seen:
            break
        await asyncio.sleep(0.02)
    assert seen and seen[0]["event_id"] == "Ev1"


@pytest.mark.parametrize(
    "headers",
    [
        {},  # unsigned
        {"X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=deadbeef"},
        {"X-Slack-Request-Timestamp": str(int(time.time()))},  # no signature
    ],
)
async def test_unsigned_or_badly_signed_requests_get_401_without_a_listener(
    http: tuple[TestClient[Any, Any], list[dict[str, Any]]], headers: dict[str, str]
) -> None:
    client, seen = http
    status, text = await _post(client, _event(), **headers)
    assert status == 401 and "Traceback" not in text
    assert not seen


async def test_a_stale_or_wrongly_keyed_signature_gets_401(
    http: tuple[TestClient[Any, Any], list[dict[str, Any]]],
) -> None:
    client, _ = http
    body = _event()
    assert (await _post(client, body, **_signed(body, at=int(time.time()) - 600)))[0] == 401
    assert (await _post(client, body, **_signed(body, secret="0" * 32)))[0] == 401
    tampered = body.replace("hi", "HI")
    assert (await _post(client, tampered, **_signed(body)))[0] == 401


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"type": "event_callback", "event": ', "application/json"),  # cut JSON
        (b"[1, 2, 3]", "application/json"),  # JSON, but not an object
        (b"payload=%7Bnot-json", "application/x-www-form-urlencoded"),  # an interaction whose payload is no JSON
        (b"{garbage", "application/x-www-form-urlencoded"),  # looks like JSON to Bolt, is not
    ],
)
async def test_signed_but_malformed_bodies_get_400_never_500(
    http: tuple[TestClient[Any, Any], list[dict[str, Any]]], body: bytes, content_type: str
) -> None:
    client, seen = http
    status, text = await _post(client, body, content_type=content_type, **_signed(body))
    assert status == 400 and "Traceback" not in text
    assert not seen


async def test_a_body_that_is_not_utf8_cannot_be_verified_and_gets_401(
    http: tuple[TestClient[Any, Any], list[dict[str, Any]]],
) -> None:
    """Slack signs UTF-8 text (slack_sdk's verifier decodes it first): other bytes are never Slack's."""
    client, _ = http
    body = b"\xff\xfe{}"
    status, text = await _post(client, body, **_signed(body))
    assert status == 401 and "Traceback" not in text


async def test_unsigned_malformed_bodies_get_401_not_500(
    http: tuple[TestClient[Any, Any], list[dict[str, Any]]],
) -> None:
    client, _ = http
    status, text = await _post(client, b"\x00{{{not json")
    assert status == 401 and "Traceback" not in text


def test_the_bytes_signature_matches_the_emulators() -> None:
    body = _event()
    assert _signed(body, at=1531420618) == signed_headers(SECRET, 1531420618, body)
