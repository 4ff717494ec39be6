"""The fake OpenAI server, exercised through the real `openai` SDK over HTTP.

These tests pin down the behaviour other tests rely on: exact streamed text, OpenAI-shaped chunks and usage,
and that each injected fault surfaces as the SDK error a production client would really see.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.harness.openai_server import (
    ANY_MODEL,
    Fault,
    FaultKind,
    OpenAIServer,
    count_prompt_tokens,
    provider_faults,
    split_tokens,
)
from tests.harness.openai_server.fixtures import TEST_API_KEY, openai_client, openai_server  # noqa: F401

pytestmark = pytest.mark.timeout(30)

KEY = "sk-test-penny"
MODELS = ["model-a", "model-b", "model-c"]
ANSWER = "Hello  there,\nthis is   Penny — a *scripted* answer.\n\n- one\n- two\n"
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "What did we decide about the launch?"}]
REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer(models=MODELS, api_key=KEY) as srv:
        srv.set_answer("model-a", ANSWER)
        yield srv


@pytest.fixture
async def client(server: OpenAIServer) -> AsyncIterator[openai.AsyncOpenAI]:
    api = openai.AsyncOpenAI(base_url=server.base_url, api_key=KEY, max_retries=0, timeout=10)
    yield api
    await api.close()


async def collect(stream: Any) -> tuple[list[Any], str]:
    """All chunks of a stream and the joined content."""
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return chunks, text


async def stream_chat(client: openai.AsyncOpenAI, model: str = "model-a", **kwargs: Any) -> tuple[list[Any], str]:
    kwargs.setdefault("messages", USER)
    stream = await client.chat.completions.create(model=model, stream=True, **kwargs)
    return await collect(stream)


# ---- happy path -----------------------------------------------------------------------------------------------
async def test_stream_joins_to_exact_answer_in_word_chunks(client: openai.AsyncOpenAI) -> None:
    chunks, text = await stream_chat(client)

    assert text == ANSWER
    first, *content, last = chunks
    assert first.choices[0].delta.role == "assistant" and first.choices[0].delta.content == ""
    assert [c.choices[0].delta.content for c in content] == split_tokens(ANSWER)
    assert len(content) > 5  # word-sized, not one blob
    assert all(c.choices[0].finish_reason is None for c in [first, *content])
    assert last.choices[0].finish_reason == "stop" and last.choices[0].delta.content is None
    assert {c.id for c in chunks} == {first.id} and first.id.startswith("chatcmpl-")
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert all(c.model == "model-a" and c.system_fingerprint for c in chunks)
    assert all(c.usage is None for c in chunks)  # no include_usage: no usage anywhere


async def test_stream_usage_only_as_last_chunk_with_include_usage(
    client: openai.AsyncOpenAI, server: OpenAIServer
) -> None:
    chunks, text = await stream_chat(client, stream_options={"include_usage": True})

    assert text == ANSWER
    *body, usage_chunk = chunks
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None
    assert usage_chunk.usage.completion_tokens == len(split_tokens(ANSWER))
    assert usage_chunk.usage.prompt_tokens == count_prompt_tokens(USER) == 7
    assert usage_chunk.usage.total_tokens == usage_chunk.usage.prompt_tokens + usage_chunk.usage.completion_tokens
    assert all(c.usage is None for c in body)
    assert body[-1].choices[0].finish_reason == "stop"
    record = server.chat_requests()[-1]
    assert record.include_usage and record.stream and record.outcome == "ok"


async def test_raw_sse_ends_with_done(server: OpenAIServer) -> None:
    """Check the wire format the SDK hides: `data: ` lines and a final `data: [DONE]`."""
    request = urllib.request.Request(
        f"{server.base_url}/chat/completions",
        data=json.dumps({"model": "model-a", "messages": USER, "stream": True}).encode(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    raw = await asyncio.to_thread(lambda: urllib.request.urlopen(request, timeout=5).read().decode())
    events = [e for e in raw.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    assert json.loads(events[0][6:])["choices"][0]["delta"]["role"] == "assistant"


async def test_non_stream_json_completion(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    completion = await client.chat.completions.create(model="model-a", messages=USER)

    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == ANSWER
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == len(split_tokens(ANSWER))
    assert completion.usage.prompt_tokens == 7
    assert server.chat_requests()[-1].stream is False


async def test_rules_defaults_and_fallback(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.add_rule("SUMMARIZE", "Summary for B.", model="model-b")
    server.add_rule("summarize", "Generic summary.")
    server.add_rule("echo", lambda model, messages: f"{model} saw {len(messages)} messages")
    ask: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "please summarize this"},
    ]

    async def answer(model: str, messages: list[ChatCompletionMessageParam]) -> str:
        completion = await client.chat.completions.create(model=model, messages=messages)
        return completion.choices[0].message.content or ""

    assert await answer("model-b", ask) == "Summary for B."  # model rule, case-insensitive
    assert await answer("model-a", ask) == "Generic summary."  # rules beat the per-model default
    assert await answer("model-a", USER) == ANSWER  # per-model default
    assert await answer("model-c", USER) == "[model-c] You asked: What did we decide about the launch?"
    assert await answer("model-c", [{"role": "user", "content": "echo"}]) == "model-c saw 1 messages"
    assert server.models_called() == ["model-b", "model-a", "model-a", "model-c", "model-c"]
    assert server.answer_for("model-b", ask) == "Summary for B."


async def test_models_list_and_unknown_model(client: openai.AsyncOpenAI) -> None:
    listed = [m.id async for m in client.models.list()]
    assert listed == MODELS

    with pytest.raises(openai.NotFoundError) as excinfo:
        await client.chat.completions.create(model="gpt-nope", messages=USER)
    assert excinfo.value.status_code == 404
    assert excinfo.value.code == "model_not_found"
    assert isinstance(excinfo.value.body, dict) and "gpt-nope" in excinfo.value.body["message"]


async def test_wrong_api_key_is_401(server: OpenAIServer) -> None:
    bad = openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-wrong", max_retries=0)
    try:
        with pytest.raises(openai.AuthenticationError) as excinfo:
            await bad.chat.completions.create(model="model-a", messages=USER)
    finally:
        await bad.close()
    assert excinfo.value.status_code == 401
    assert excinfo.value.code == "invalid_api_key"
    assert set(excinfo.value.response.json()["error"]) == {"message", "type", "param", "code"}
    assert server.requests[-1].outcome == "unauthorized"

    # no Authorization header at all: also 401, OpenAI's "You didn't provide an API key" body
    request = urllib.request.Request(f"{server.base_url}/models")
    with pytest.raises(urllib.error.HTTPError) as http_error:
        await asyncio.to_thread(urllib.request.urlopen, request, None, 5)
    assert http_error.value.code == 401
    assert "didn't provide an API key" in json.loads(http_error.value.read())["error"]["message"]


# ---- limits and pacing ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("param", ["max_tokens", "max_completion_tokens"])
async def test_max_tokens_truncates_with_finish_reason_length(client: openai.AsyncOpenAI, param: str) -> None:
    limit = 3
    extra: dict[str, Any] = {param: limit}
    chunks, text = await stream_chat(client, stream_options={"include_usage": True}, **extra)
    assert text == "".join(split_tokens(ANSWER)[:limit]) == "Hello  there,\nthis"
    assert chunks[-2].choices[0].finish_reason == "length"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == limit

    completion = await client.chat.completions.create(model="model-a", messages=USER, **extra)
    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].message.content == text

    # a limit above the answer length changes nothing
    _, full = await stream_chat(client, **{param: 1000})  # type: ignore[arg-type]
    assert full == ANSWER


async def test_tokens_per_second_slows_the_stream(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    text = " ".join(f"w{i}" for i in range(21))  # 21 chunks: 20 intervals

    server.set_answer("model-b", text)
    started = time.monotonic()
    await stream_chat(client, "model-b")
    fast = time.monotonic() - started

    server.set_speed("model-b", 50)  # 20 intervals at 50/s = 0.4 s
    started = time.monotonic()
    _, slow_text = await stream_chat(client, "model-b")
    slow = time.monotonic() - started

    assert slow_text == text
    assert 0.38 <= slow < 1.5
    assert slow > fast + 0.25  # unpaced is "as fast as possible": well under the paced time


async def test_ttft_delays_first_content_token_only(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.set_ttft("model-a", 0.4)
    started = time.monotonic()
    stream = await client.chat.completions.create(model="model-a", messages=USER, stream=True)
    first_content_at = None
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content and first_content_at is None:
            first_content_at = time.monotonic() - started
    total = time.monotonic() - started
    assert first_content_at is not None and 0.38 <= first_content_at < 1.0
    assert total - first_content_at < 0.3  # the rest is fast

    # other models are not affected
    started = time.monotonic()
    await stream_chat(client, "model-b")
    assert time.monotonic() - started < 0.3


# ---- HTTP faults ----------------------------------------------------------------------------------------------
async def test_rate_limited_once_with_retry_after(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.inject("model-a", Fault.rate_limited(retry_after=2))

    with pytest.raises(openai.RateLimitError) as excinfo:
        await client.chat.completions.create(model="model-a", messages=USER, stream=True)
    assert excinfo.value.status_code == 429
    assert excinfo.value.response.headers["retry-after"] == "2"
    assert excinfo.value.code == "rate_limit_exceeded"
    assert excinfo.value.type == "requests"

    _, text = await stream_chat(client)  # the queued fault was used up
    assert text == ANSWER
    assert [r.outcome for r in server.chat_requests()] == ["http_error", "ok"]
    assert server.chat_requests()[0].fault == Fault.rate_limited(retry_after=2)


async def test_server_error_times_three_then_recovers(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.inject("model-a", Fault.server_error(), times=3)
    assert server.pending_faults("model-a") == 3

    for _ in range(3):
        with pytest.raises(openai.InternalServerError) as excinfo:
            await client.chat.completions.create(model="model-a", messages=USER)
        assert excinfo.value.status_code == 500
        assert excinfo.value.type == "server_error"

    completion = await client.chat.completions.create(model="model-a", messages=USER)
    assert completion.choices[0].message.content == ANSWER
    assert server.pending_faults("model-a") == 0


async def test_unavailable_503_and_quota(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.inject("model-a", Fault.unavailable(retry_after=0.5))
    server.inject("model-a", Fault.quota_exceeded())

    with pytest.raises(openai.InternalServerError) as unavailable:
        await client.chat.completions.create(model="model-a", messages=USER)
    assert unavailable.value.status_code == 503
    assert unavailable.value.response.headers["retry-after"] == "0.5"

    with pytest.raises(openai.RateLimitError) as quota:
        await client.chat.completions.create(model="model-a", messages=USER)
    assert quota.value.code == "insufficient_quota"
    assert "retry-after" not in quota.value.response.headers


async def test_bad_gateway_is_openai_edge_502(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.inject("model-a", Fault.bad_gateway())
    with pytest.raises(openai.InternalServerError) as gateway:
        await client.chat.completions.create(model="model-a", messages=USER)
    assert gateway.value.status_code == 502
    assert gateway.value.type == "cf_bad_gateway"


async def test_chaos_fails_a_seeded_share_of_requests_the_same_way_each_run(
    client: openai.AsyncOpenAI, server: OpenAIServer
) -> None:
    async def run() -> list[str]:
        server.clear_requests()
        server.set_chaos(0.5, seed=7, faults=[Fault.server_error(), Fault.rate_limited(retry_after=1)])
        for _ in range(20):
            with contextlib.suppress(openai.APIError):
                await client.chat.completions.create(model="model-a", messages=USER)
        return [r.outcome if r.status == 200 else str(r.status) for r in server.chat_requests()]

    first = await run()
    assert first == await run(), "the same seed fails the same requests"
    assert 3 <= first.count("500") + first.count("429") <= 17 and first.count("ok") >= 3
    assert {"500", "429"} <= set(first)
    server.set_chaos(0, seed=7)
    completion = await client.chat.completions.create(model="model-a", messages=USER)
    assert completion.choices[0].message.content == ANSWER


def test_the_default_chaos_mix_holds_every_provider_failure() -> None:
    kinds = {(f.kind, f.status) for f in provider_faults()}
    assert {(FaultKind.HTTP_ERROR, 429), (FaultKind.HTTP_ERROR, 500), (FaultKind.CUT, 0)} <= kinds
    assert any(kind is FaultKind.HANG for kind, _ in kinds)


async def test_set_down_persists_until_cleared(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.set_down("model-a", Fault.server_error(503))

    for _ in range(4):
        with pytest.raises(openai.InternalServerError):
            await client.chat.completions.create(model="model-a", messages=USER)
    # other models keep working
    completion = await client.chat.completions.create(model="model-b", messages=USER)
    assert completion.choices[0].finish_reason == "stop"

    server.clear("model-a")
    completion = await client.chat.completions.create(model="model-a", messages=USER)
    assert completion.choices[0].message.content == ANSWER
    assert server.models_called() == ["model-a"] * 4 + ["model-b", "model-a"]


async def test_queued_fault_beats_persistent_and_any_model(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.set_down(ANY_MODEL, Fault.server_error())
    server.inject("model-b", Fault.rate_limited())

    with pytest.raises(openai.RateLimitError):
        await client.chat.completions.create(model="model-b", messages=USER)
    for model in ("model-b", "model-c"):
        with pytest.raises(openai.InternalServerError):
            await client.chat.completions.create(model=model, messages=USER)
    server.clear()
    assert (await client.chat.completions.create(model="model-c", messages=USER)).choices


# ---- broken streams -------------------------------------------------------------------------------------------
async def test_cut_stream_breaks_the_stream_mid_content(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.inject("model-a", Fault.cut_stream(after_chars=9))
    stream = await client.chat.completions.create(
        model="model-a", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    received: list[Any] = []
    with pytest.raises(openai.APIConnectionError):
        async for chunk in stream:
            received.append(chunk)

    text = "".join(c.choices[0].delta.content or "" for c in received if c.choices)
    assert text == ANSWER[:9]  # exactly 9 characters, the token straddling the cut was split
    assert all(c.choices and c.choices[0].finish_reason is None for c in received)
    assert all(c.usage is None for c in received)
    record = server.chat_requests()[-1]
    assert record.outcome == "cut" and record.content_sent == ANSWER[:9] and record.finish_reason is None


async def test_cut_before_any_content(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.inject("model-a", Fault.cut_stream(after_chars=0))
    server.inject("model-a", Fault.cut_stream(after_chars=20))

    stream = await client.chat.completions.create(model="model-a", messages=USER, stream=True)
    with pytest.raises(openai.APIConnectionError):
        _ = [chunk async for chunk in stream]
    with pytest.raises(openai.APIConnectionError):  # non-stream: headers and 20 bytes of JSON, then abort
        await client.chat.completions.create(model="model-a", messages=USER)


async def test_stream_error_event_mid_stream(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.inject("model-a", Fault.stream_error(after_chars=5, message="upstream exploded"))
    stream = await client.chat.completions.create(model="model-a", messages=USER, stream=True)
    received = []
    with pytest.raises(openai.APIError, match="upstream exploded"):
        async for chunk in stream:
            received.append(chunk)
    assert "".join(c.choices[0].delta.content or "" for c in received) == ANSWER[:5]


@pytest.mark.parametrize(
    ("fault", "expected"), [(Fault.empty(), ""), (Fault.whitespace(), " \n\n "), (Fault.whitespace("\n"), "\n")]
)
async def test_empty_and_whitespace_completions(
    client: openai.AsyncOpenAI, server: OpenAIServer, fault: Fault, expected: str
) -> None:
    server.inject("model-a", fault)
    chunks, text = await stream_chat(client, stream_options={"include_usage": True})
    assert text == expected
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(split_tokens(expected))

    server.inject("model-a", fault)
    completion = await client.chat.completions.create(model="model-a", messages=USER)
    assert completion.choices[0].message.content == expected
    assert completion.choices[0].finish_reason == "stop"


async def test_no_finish_reason_stream_ends_cleanly(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.inject("model-a", Fault.no_finish_reason())
    chunks, text = await stream_chat(client)  # no exception: [DONE] arrives
    assert text == ANSWER
    assert all(c.choices[0].finish_reason is None for c in chunks)

    server.inject("model-a", Fault.no_finish_reason())
    completion = await client.chat.completions.create(model="model-a", messages=USER)
    assert completion.choices[0].finish_reason is None
    assert completion.choices[0].message.content == ANSWER


async def test_reply_override_finish_reason(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.inject("model-a", Fault.reply("I can't help with that.", finish_reason="content_filter"))
    chunks, text = await stream_chat(client)
    assert text == "I can't help with that."
    assert chunks[-1].choices[0].finish_reason == "content_filter"


# ---- hangs ----------------------------------------------------------------------------------------------------
async def test_hang_before_headers_times_out(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.inject("model-a", Fault.hang())
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        await client.chat.completions.create(model="model-a", messages=USER, stream=True, timeout=0.3)
    assert 0.25 <= time.monotonic() - started < 2
    # the abandoned request is cancelled server-side, the next one is answered
    records = await server.await_requests(1)
    assert records[0].client_disconnected and records[0].outcome == "hang"
    _, text = await stream_chat(client)
    assert text == ANSWER


@pytest.mark.parametrize("phase", ["after_headers", "after_role"])
async def test_hang_after_headers_times_out_while_iterating(
    client: openai.AsyncOpenAI, server: OpenAIServer, phase: Any
) -> None:
    server.inject("model-a", Fault.hang(phase=phase))
    started = time.monotonic()
    stream = await client.chat.completions.create(model="model-a", messages=USER, stream=True, timeout=0.3)
    assert time.monotonic() - started < 0.25  # headers arrived at once: create() returned
    received = []
    with pytest.raises(openai.APITimeoutError):
        async for chunk in stream:
            received.append(chunk)
    assert len(received) == (1 if phase == "after_role" else 0)
    assert all(not c.choices[0].delta.content for c in received)


async def test_bounded_hang_then_normal_answer(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.inject("model-a", Fault.hang(0.3))
    started = time.monotonic()
    completion = await client.chat.completions.create(model="model-a", messages=USER)
    assert time.monotonic() - started >= 0.28
    assert completion.choices[0].message.content == ANSWER


async def test_stall_mid_stream_and_release(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.inject("model-a", Fault.stall(after_chars=12))  # forever, until released
    stream = await client.chat.completions.create(model="model-a", messages=USER, stream=True)
    received: list[str] = []

    async def consume() -> None:
        async for chunk in stream:
            if chunk.choices:
                received.append(chunk.choices[0].delta.content or "")

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.3)
    assert "".join(received) == ANSWER[:12] and not task.done()
    server.release_hangs()
    await asyncio.wait_for(task, 5)
    assert "".join(received) == ANSWER


# ---- request log, lifecycle, scripts --------------------------------------------------------------------------
async def test_request_log_records_parameters_in_order(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    await stream_chat(client, "model-b", stream_options={"include_usage": True}, max_tokens=50)
    await client.chat.completions.create(model="model-c", messages=USER, max_completion_tokens=7)

    first, second = server.chat_requests()
    assert (first.model, first.stream, first.include_usage, first.max_tokens) == ("model-b", True, True, 50)
    assert (second.model, second.stream, second.stream_options, second.max_tokens) == ("model-c", False, None, 7)
    assert first.messages == USER and first.last_user_message == USER[0]["content"]
    assert first.arrived_at <= second.arrived_at <= time.monotonic()
    assert first.authorization == f"Bearer {KEY}"
    assert server.chat_requests("model-c") == [second]
    server.clear_requests()
    assert server.models_called() == []


async def test_concurrent_streams(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.set_default_speed(200)
    results = await asyncio.gather(*(stream_chat(client, MODELS[i % 3]) for i in range(12)))
    assert {text for _, text in results} == {ANSWER, *(server.answer_for(m, USER) for m in MODELS)}
    assert len(server.chat_requests()) == 12
    assert all(r.outcome == "ok" for r in server.chat_requests())


def test_sync_client_and_restart_on_same_port() -> None:
    server = OpenAIServer(models=["m"]).start()
    try:
        port = server.port
        client = openai.OpenAI(base_url=server.base_url, api_key="anything", max_retries=0)
        text = "".join(
            c.choices[0].delta.content or ""
            for c in client.chat.completions.create(model="m", messages=USER, stream=True)
            if c.choices
        )
        assert text == "[m] You asked: What did we decide about the launch?"
        server.stop()
        with pytest.raises(openai.APIConnectionError):
            client.chat.completions.create(model="m", messages=USER)
        server.start()
        assert server.port == port
        assert client.chat.completions.create(model="m", messages=USER).choices[0].finish_reason == "stop"
        assert [r.model for r in server.wait_for_requests(2, timeout=2)] == ["m", "m"]  # the refused one never arrived
        client.close()
    finally:
        server.stop()


def test_fault_dict_round_trip() -> None:
    faults = [
        Fault.rate_limited(2),
        Fault.server_error(503),
        Fault.cut_stream(10),
        Fault.hang(1.5, phase="after_role"),
        Fault.whitespace("\t"),
        Fault.no_finish_reason(),
    ]
    for fault in faults:
        assert Fault.from_dict(json.loads(json.dumps(fault.to_dict()))) == fault
    assert Fault.from_dict({"kind": "rate_limited", "retry_after": 3}) == Fault.rate_limited(3)
    assert Fault.from_dict({"kind": "hang", "seconds": 2}) == Fault.hang(2)
    with pytest.raises(ValueError):
        Fault.from_dict({"kind": "nonsense"})


def test_standalone_process_with_script(tmp_path: Path) -> None:
    script = {
        "models": ["solo"],
        "api_key": KEY,
        "answers": {"solo": "From another process."},
        "inject": [{"model": "solo", "fault": {"kind": "rate_limited", "retry_after": 1}}],
    }
    script_path = tmp_path / "script.json"
    script_path.write_text(json.dumps(script))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.harness.openai_server", "--port", "0", "--script", str(script_path)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline().split()
        assert ready[0] == "READY", ready
        base_url = ready[1]
        client = openai.OpenAI(base_url=base_url, api_key=KEY, max_retries=0)
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="solo", messages=USER)
        reply = client.chat.completions.create(model="solo", messages=USER)
        assert reply.choices[0].message.content == "From another process."
        client.close()
        admin = base_url.removesuffix("/v1") + "/_harness/requests"
        with urllib.request.urlopen(admin, timeout=5) as response:
            log = json.loads(response.read())
        assert [(r["model"], r["outcome"], r["status"]) for r in log] == [
            ("solo", "http_error", 429),
            ("solo", "ok", 200),
        ]
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


async def test_shared_fixtures_and_reset(
    openai_server: OpenAIServer,  # noqa: F811  (the fixture imported above)
    openai_client: openai.AsyncOpenAI,  # noqa: F811
) -> None:
    """The importable fixtures: any model is accepted; `reset()` makes a used server behave like a new one."""
    openai_server.set_answer("any-model", "scripted")
    openai_server.set_ttft("any-model", 5)
    openai_server.set_down(ANY_MODEL, Fault.server_error())
    with pytest.raises(openai.InternalServerError):
        await openai_client.chat.completions.create(model="any-model", messages=USER)

    openai_server.reset()
    assert openai_server.requests == []
    started = time.monotonic()
    completion = await openai_client.chat.completions.create(model="any-model", messages=USER)
    assert time.monotonic() - started < 1  # the TTFT is gone too
    assert completion.choices[0].message.content == f"[any-model] You asked: {USER[0]['content']}"

    openai_server.accept_any_model = False
    with pytest.raises(openai.NotFoundError):
        await openai_client.chat.completions.create(model="new-model", messages=USER)
    openai_server.add_model("new-model")
    assert (await openai_client.chat.completions.create(model="new-model", messages=USER)).choices
    openai_server.remove_model("new-model")  # a provider retiring a model
    with pytest.raises(openai.NotFoundError):
        await openai_client.chat.completions.create(model="new-model", messages=USER)
    assert openai_server.models == ["any-model"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": USER}, "model"),
        ({"model": "model-a", "messages": []}, "messages"),
        ({"model": "model-a", "messages": USER, "max_tokens": 0}, "max_tokens"),
    ],
)
async def test_invalid_requests_are_400(server: OpenAIServer, body: dict[str, Any], param: str) -> None:
    request = urllib.request.Request(
        f"{server.base_url}/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as http_error:
        await asyncio.to_thread(urllib.request.urlopen, request, None, 5)
    assert http_error.value.code == 400
    error = json.loads(http_error.value.read())["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", param)
    assert server.requests[-1].outcome == "bad_request"


async def test_any_model_wildcard_for_answers_speed_and_ttft(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    server.set_answer(ANY_MODEL, "one two three four five six")
    server.set_speed(ANY_MODEL, 25)  # 5 intervals: 0.2 s
    server.set_ttft(ANY_MODEL, 0.3)
    server.set_ttft("model-c", 0)  # a model's own setting wins over the wildcard

    assert server.models == MODELS  # the wildcard is not a model
    started = time.monotonic()
    _, text = await stream_chat(client, "model-b")
    assert text == "one two three four five six"
    assert 0.48 <= time.monotonic() - started < 1.5
    _, text = await stream_chat(client, "model-a")  # its own answer wins
    assert text == ANSWER
    started = time.monotonic()
    await stream_chat(client, "model-c")
    assert 0.18 <= time.monotonic() - started < 0.45  # pacing only, no TTFT


# ---- prompt caching -------------------------------------------------------------------------------------------
async def test_a_repeated_prefix_is_reported_as_cached_tokens(client: openai.AsyncOpenAI, server: OpenAIServer) -> None:
    """Off by default; once enabled, the shared prefix (same model, same roles and words) counts as cached,
    rounded down to the block size past the minimum, and never more than the prompt."""
    system: ChatCompletionMessageParam = {"role": "system", "content": " ".join(f"rule{i}" for i in range(20))}
    first: list[ChatCompletionMessageParam] = [system, {"role": "user", "content": "alpha beta gamma"}]
    later: list[ChatCompletionMessageParam] = [system, {"role": "user", "content": "alpha beta delta"}]

    chunks, _ = await stream_chat(client, messages=first, stream_options={"include_usage": True})
    assert chunks[-1].usage.prompt_tokens_details.cached_tokens == 0
    chunks, _ = await stream_chat(client, messages=first, stream_options={"include_usage": True})
    assert chunks[-1].usage.prompt_tokens_details.cached_tokens == 0, "off until enabled"

    server.enable_prompt_cache(min_tokens=8, block_tokens=4)
    await stream_chat(client, messages=first, stream_options={"include_usage": True})  # remembered from now on
    chunks, _ = await stream_chat(client, messages=later, stream_options={"include_usage": True})
    usage = chunks[-1].usage
    assert usage.prompt_tokens == 23
    assert usage.prompt_tokens_details.cached_tokens == 20, "22 shared words: 8, then steps of 4"
    assert server.chat_requests()[-1].cached_tokens == 20
    chunks, _ = await stream_chat(client, model="model-b", messages=later, stream_options={"include_usage": True})
    assert chunks[-1].usage.prompt_tokens_details.cached_tokens == 0, "each model has its own cache"
    short: list[ChatCompletionMessageParam] = [{"role": "system", "content": "rule0 rule1 rule2"}]
    chunks, _ = await stream_chat(client, messages=short, stream_options={"include_usage": True})
    assert chunks[-1].usage.prompt_tokens_details.cached_tokens == 0, "below the minimum nothing is cached"
    moved: list[ChatCompletionMessageParam] = [{"role": "user", "content": system["content"]}]
    chunks, _ = await stream_chat(client, messages=moved, stream_options={"include_usage": True})
    assert chunks[-1].usage.prompt_tokens_details.cached_tokens == 0, "the same words in another role differ"

    server.reset()
    server.set_answer("model-a", ANSWER)
    chunks, _ = await stream_chat(client, messages=first, stream_options={"include_usage": True})
    assert chunks[-1].usage.prompt_tokens_details.cached_tokens == 0, "reset turns it off"
