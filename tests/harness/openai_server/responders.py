"""How a chat completion is written to the wire: OpenAI-shaped JSON and SSE, and the faults acted out on it.

Pure functions of (request, record, plan): the server decides *what* to answer under its lock (a `Plan`), and
these functions only decide *how* the bytes go out, so the locking and the protocol details stay apart.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .faults import Fault, FaultKind
from .records import RequestRecord

SYSTEM_FINGERPRINT = "fp_penny_test"

Hang = Callable[[float | None], Awaitable[None]]
"""Waits `seconds` (None: until released); provided by the server so `release_hangs()` can end it."""


@dataclass(frozen=True)
class Plan:
    """Everything a chat request needs, snapshotted under the lock."""

    model: str
    fault: Fault | None
    tokens: list[str]
    completion_tokens: int
    prompt_tokens: int
    finish_reason: str | None
    ttft: float
    tokens_per_second: float | None
    include_usage: bool
    cached_tokens: int = 0
    completion_id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex[:24]}")
    created: int = field(default_factory=lambda: int(time.time()))


def error_body(message: str, error_type: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    """OpenAI's error envelope; the SDK reads `code`/`type`/`param` from it into the exception."""
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def format_seconds(value: float) -> str:
    """Retry-After as OpenAI sends it: an integer when whole ("2"), else a decimal ("0.5")."""
    return str(int(value)) if float(value).is_integer() else str(value)


def http_error_response(record: RequestRecord, fault: Fault) -> web.Response:
    record.status = fault.status
    headers = dict(fault.headers)
    if fault.retry_after is not None:
        headers["Retry-After"] = format_seconds(fault.retry_after)
    headers["x-request-id"] = f"req_{record.index}"
    body = error_body(fault.message, fault.error_type, fault.error_code)
    return web.json_response(body, status=fault.status, headers=headers)


def usage_body(plan: Plan) -> dict[str, Any]:
    return {
        "prompt_tokens": plan.prompt_tokens,
        "completion_tokens": plan.completion_tokens,
        "total_tokens": plan.prompt_tokens + plan.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": plan.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


async def abort_connection(request: web.Request) -> None:
    """Kill the connection abruptly, after letting already-written bytes reach the socket."""
    transport = request.transport
    if transport is None:
        return
    for _ in range(200):
        if transport.get_write_buffer_size() == 0:
            break
        await asyncio.sleep(0.001)
    transport.abort()


def response_headers(record: RequestRecord, plan: Plan) -> dict[str, str]:
    return {"x-request-id": f"req_{record.index}", "openai-model": plan.model, "openai-processing-ms": "1"}


async def send_json(request: web.Request, record: RequestRecord, plan: Plan, hang: Hang) -> web.StreamResponse:
    fault = plan.fault
    content = "".join(plan.tokens)
    body = {
        "id": plan.completion_id,
        "object": "chat.completion",
        "created": plan.created,
        "model": plan.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": plan.finish_reason,
            }
        ],
        "usage": usage_body(plan),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
    raw = json.dumps(body).encode()
    hang_fault = fault if fault is not None and fault.kind is FaultKind.HANG else None
    if hang_fault is not None and hang_fault.phase == "before_headers":
        await hang(hang_fault.seconds)
    delay = plan.ttft + (len(plan.tokens) / plan.tokens_per_second if plan.tokens_per_second else 0.0)
    record.status = 200
    if hang_fault is None and (fault is None or fault.kind is not FaultKind.CUT):
        await asyncio.sleep(delay)
        record.content_sent, record.finish_reason = content, plan.finish_reason
        record.first_content_at = time.monotonic()
        return web.Response(body=raw, content_type="application/json", headers=response_headers(record, plan))
    # Faults that need the headers out first: send them with the full Content-Length, then misbehave.
    response = web.StreamResponse(headers=response_headers(record, plan))
    response.content_type = "application/json"
    response.content_length = len(raw)
    await response.prepare(request)
    if fault is not None and fault.kind is FaultKind.CUT:
        await response.write(raw[: min(fault.after_chars, len(raw) - 1)])
        await abort_connection(request)
        return response
    assert hang_fault is not None
    if hang_fault.phase != "before_headers":
        await hang(hang_fault.seconds)
    await asyncio.sleep(delay)
    record.content_sent, record.finish_reason = content, plan.finish_reason
    record.first_content_at = time.monotonic()
    await response.write(raw)
    await response.write_eof()
    return response


async def send_stream(request: web.Request, record: RequestRecord, plan: Plan, hang: Hang) -> web.StreamResponse:
    fault = plan.fault
    kind = fault.kind if fault else None
    if fault is not None and kind is FaultKind.HANG and fault.phase == "before_headers":
        await hang(fault.seconds)

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": plan.completion_id,
            "object": "chat.completion.chunk",
            "created": plan.created,
            "model": plan.model,
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        }
        if plan.include_usage:
            data["usage"] = None  # OpenAI sends usage: null on every chunk but the last
        return data

    async def send(data: dict[str, Any] | str) -> None:
        payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
        await response.write(f"data: {payload}\n\n".encode())

    response = web.StreamResponse(headers=response_headers(record, plan))
    response.content_type = "text/event-stream"
    response.charset = "utf-8"
    response.headers["Cache-Control"] = "no-cache"
    record.status = 200
    await response.prepare(request)
    if fault is not None and kind is FaultKind.HANG and fault.phase == "after_headers":
        await hang(fault.seconds)
    await send(chunk({"role": "assistant", "content": "", "refusal": None}))

    # A mid-stream event (cut, error event, stall) fires at an exact character offset: split the token
    # that straddles it so the client receives exactly `after_chars` characters first.
    trigger_at: int | None = None
    if kind in (FaultKind.CUT, FaultKind.STREAM_ERROR) or (
        fault is not None and kind is FaultKind.HANG and fault.phase == "after_role"
    ):
        assert fault is not None
        trigger_at = min(fault.after_chars, sum(map(len, plan.tokens)))
    pieces: list[str] = []
    position = 0
    for token in plan.tokens:
        if trigger_at is not None and position < trigger_at < position + len(token):
            cut = trigger_at - position
            pieces += [token[:cut], token[cut:]]
        else:
            pieces.append(token)
        position += len(token)

    if plan.ttft:
        await asyncio.sleep(plan.ttft)
    loop = asyncio.get_running_loop()
    interval = 1.0 / plan.tokens_per_second if plan.tokens_per_second else 0.0
    next_at = loop.time()
    sent = 0
    for index in range(len(pieces) + 1):
        if trigger_at is not None and sent == trigger_at:
            assert fault is not None
            trigger_at = None
            if kind is FaultKind.CUT:
                await abort_connection(request)
                return response
            if kind is FaultKind.STREAM_ERROR:
                await send(json.dumps(error_body(fault.message, fault.error_type, None)))
                await response.write_eof()
                return response
            await hang(fault.seconds)  # a stall; afterwards the stream goes on
            next_at = loop.time()
        if index == len(pieces):
            break
        if interval:
            delay = next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            next_at = max(next_at, loop.time()) + interval
        await send(chunk({"content": pieces[index]}))
        if record.first_content_at is None:
            record.first_content_at = time.monotonic()
        sent += len(pieces[index])
        record.content_sent += pieces[index]

    if plan.finish_reason is not None:
        await send(chunk({}, plan.finish_reason))
    record.finish_reason = plan.finish_reason
    if plan.include_usage:
        final = chunk({})
        final["choices"] = []
        final["usage"] = usage_body(plan)
        await send(final)
    await send("[DONE]")
    await response.write_eof()
    return response
