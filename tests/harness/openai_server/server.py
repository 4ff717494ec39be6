"""A local OpenAI-compatible HTTP server with scripted answers and fault injection.

Why a real server: openai>=3.54 is built on httpx2, so respx-style transport patching cannot intercept it. The
server runs aiohttp on its own event loop in a daemon thread, so the same object works from sync tests, from
async tests (whose loop is a different one) and, via `__main__`, as a separate process. All control methods
are synchronous and guarded by one lock; request handlers take a consistent snapshot of the script under that
lock and then act it out without holding it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

from aiohttp import web

from .faults import Chaos, Fault, FaultKind
from .prompt_cache import PromptCache
from .records import RequestRecord
from .responders import Plan, error_body, http_error_response, send_json, send_stream
from .script import Answer, Rule, count_prompt_tokens, default_fallback, last_user_message, resolve, split_tokens

ANY_MODEL = "*"
"""Wildcard model for `inject`, `set_down`, `set_answer`, `set_speed` and `set_ttft`: applies to every model
that has no setting of its own (model-specific queued faults are consumed first)."""


class OpenAIServer:
    """Fake OpenAI chat-completions API. See the package docstring for a usage example.

    models: the known model ids (also listed by GET /v1/models); a request for another model gets 404
        `model_not_found`. Models named in `set_answer`, `set_speed`, `set_ttft` or `add_model` are added.
    accept_any_model: answer every model id instead (no 404s).
    api_key: when set, requests must carry `Authorization: Bearer <api_key>` or get 401.
    default_tokens_per_second: pacing for models without their own; None means as fast as possible.
    """

    def __init__(
        self,
        models: Iterable[str] = (),
        *,
        api_key: str | None = None,
        accept_any_model: bool = False,
        default_tokens_per_second: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.host = host
        self._port = port
        self.accept_any_model = accept_any_model
        self._lock = threading.RLock()
        self._api_key = api_key
        self._models: dict[str, None] = dict.fromkeys(models)
        self._answers: dict[str, Answer] = {}
        self._rules: list[Rule] = []
        self._fallback: Answer = default_fallback
        self._tps: dict[str, float] = {}
        self._default_tps = self._initial_default_tps = default_tokens_per_second
        self._ttft: dict[str, float] = {}
        self._queued: dict[str, deque[Fault]] = {}
        self._down: dict[str, Fault] = {}
        self._chaos: Chaos | None = None
        self._records: list[RequestRecord] = []
        self._prompt_cache: PromptCache | None = None
        self._records_changed = threading.Condition(self._lock)
        # event-loop side, only touched from the server thread
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._release: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # ---- lifecycle ----------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("server not started yet")
        return self._port

    @property
    def base_url(self) -> str:
        """What to pass as `base_url` to `openai.AsyncOpenAI`."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> OpenAIServer:
        """Bind (the same port again after a `stop()`) and serve from a daemon thread. Idempotent."""
        if self.running:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._port))
            sock.listen(128)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._port = sock.getsockname()[1]
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run_loop, args=(loop,), name=f"openai-server-{self._port}", daemon=True
        )
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._astart(sock), loop).result(timeout=10)
        return self

    def stop(self) -> None:
        """Cancel in-flight requests (hangs included), close the socket and end the thread. Idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._astop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._loop = self._thread = None

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _astart(self, sock: socket.socket) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._tracked(self._handle_chat))
        app.router.add_get("/v1/models", self._tracked(self._handle_models))
        app.router.add_get("/_harness/requests", self._handle_admin_requests)
        app.router.add_post("/_harness/script", self._handle_admin_script)
        app.router.add_post("/_harness/reset", self._handle_admin_reset)
        app.router.add_post("/_harness/release", self._handle_admin_release)
        app.router.add_route("*", "/{tail:.*}", self._tracked(self._handle_unknown))
        # handler_cancellation: a client that gives up (timeout) cancels its handler, so hangs do not pile up.
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        self._runner = runner
        self._release = asyncio.Event()

    async def _astop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _tracked(self, handler: Any) -> Any:
        """Wrap a handler so `stop()` can cancel it and every request lands in the log."""

        async def wrapper(request: web.Request) -> web.StreamResponse:
            task = asyncio.current_task()
            assert task is not None
            self._tasks.add(task)
            record = self._new_record(request)
            try:
                return await handler(request, record)  # type: ignore[no-any-return]
            except (ConnectionResetError, asyncio.CancelledError):
                record.client_disconnected = True
                raise
            finally:
                record.finished_at = time.monotonic()
                self._tasks.discard(task)
                with self._records_changed:
                    self._records_changed.notify_all()

        return wrapper

    # ---- scripting (thread-safe, callable from any thread) ------------------------------------------------
    @property
    def api_key(self) -> str | None:
        return self._api_key

    @api_key.setter
    def api_key(self, value: str | None) -> None:
        with self._lock:
            self._api_key = value

    def _remember(self, model: str) -> None:
        """Configuring a model makes it known (so it is not a 404), except the `ANY_MODEL` wildcard."""
        if model != ANY_MODEL:
            self._models.setdefault(model, None)

    def add_model(self, *models: str) -> None:
        with self._lock:
            self._models.update(dict.fromkeys(models))

    def remove_model(self, model: str) -> None:
        """Forget a model: later requests for it get 404 `model_not_found` (a provider retiring a model)."""
        with self._lock:
            self._models.pop(model, None)

    @property
    def models(self) -> list[str]:
        with self._lock:
            return list(self._models)

    def set_answer(self, model: str, answer: Answer) -> None:
        """Default answer for `model` (text, or `fn(model, messages) -> text`)."""
        with self._lock:
            self._remember(model)
            self._answers[model] = answer

    def add_rule(self, contains: str, answer: Answer, *, model: str | None = None) -> Rule:
        """Answer `answer` when the last user message contains `contains` (case-insensitive).

        Rules are checked in the order they were added and win over `set_answer` defaults.
        """
        rule = Rule(contains, answer, model)
        with self._lock:
            self._rules.append(rule)
        return rule

    def set_fallback(self, answer: Answer) -> None:
        """The answer when no rule and no per-model default applies (default: `[model] You asked: ...`)."""
        with self._lock:
            self._fallback = answer

    def answer_for(self, model: str, messages: Sequence[Mapping[str, Any]]) -> str:
        """The text the server would answer (before faults and max_tokens): lets tests build expectations.

        Dynamic answers are called here too; during a request they run on the server's thread, under its lock.
        """
        with self._lock:
            last_user = last_user_message(messages)
            for rule in self._rules:
                if rule.matches(model, last_user):
                    return resolve(rule.answer, model, messages)
            answer = self._answers.get(model, self._answers.get(ANY_MODEL, self._fallback))
            return resolve(answer, model, messages)

    def set_speed(self, model: str, tokens_per_second: float | None) -> None:
        """Pace `model`'s stream at `tokens_per_second` chunks per second (None: as fast as possible)."""
        with self._lock:
            self._remember(model)
            if tokens_per_second is None:
                self._tps.pop(model, None)
            else:
                self._tps[model] = tokens_per_second

    def set_default_speed(self, tokens_per_second: float | None) -> None:
        with self._lock:
            self._default_tps = tokens_per_second

    def set_ttft(self, model: str, seconds: float) -> None:
        """Delay before `model`'s first content token (a model "made slow"); 0 removes it."""
        with self._lock:
            self._remember(model)
            self._ttft[model] = seconds

    def enable_prompt_cache(self, *, min_tokens: int = 1024, block_tokens: int = 128) -> None:
        """Report `cached_tokens` when a request repeats an earlier request's prefix (same model), as providers
        with prefix caching do: the shared prefix, if at least `min_tokens`, rounded down to `block_tokens` steps
        beyond that. Off until called (a fresh server reports 0); `reset()` turns it off again."""
        with self._lock:
            self._prompt_cache = PromptCache(min_tokens=min_tokens, block_tokens=block_tokens)

    def inject(self, model: str, fault: Fault, *, times: int = 1) -> None:
        """Queue `fault` for the next `times` chat requests to `model` (or `ANY_MODEL`)."""
        with self._lock:
            self._queued.setdefault(model, deque()).extend([fault] * times)

    def set_down(self, model: str, fault: Fault | None = None) -> None:
        """Apply `fault` (default: HTTP 500) to every request for `model` until `clear(model)`."""
        with self._lock:
            self._down[model] = fault or Fault.server_error()

    def set_chaos(self, rate: float, *, seed: int, faults: Sequence[Fault] | None = None) -> None:
        """From now on a seeded share ``rate`` of chat requests (to any model) fails with one of ``faults``
        (default: ``provider_faults()``, one of each kind); queued and persistent faults still come first.
        Rate 0 turns it off. Which requests failed is in the log (``RequestRecord.fault``)."""
        with self._lock:
            self._chaos = Chaos(rate, seed=seed, faults=faults) if rate > 0 else None

    def clear(self, model: str | None = None) -> None:
        """Remove queued and persistent faults for `model`, or for all models when None."""
        with self._lock:
            if model is None:
                self._queued.clear()
                self._down.clear()
            else:
                self._queued.pop(model, None)
                self._down.pop(model, None)

    def pending_faults(self, model: str) -> int:
        """How many injected one-shot faults `model` has not consumed yet."""
        with self._lock:
            return len(self._queued.get(model, ()))

    def release_hangs(self) -> None:
        """Let every currently hanging request continue (a hang with `seconds=None` included)."""
        loop, release = self._loop, self._release
        if loop is None or release is None:
            return

        def _swap() -> None:
            assert self._release is not None
            self._release.set()
            self._release = asyncio.Event()

        loop.call_soon_threadsafe(_swap)

    def reset(self) -> None:
        """Forget answers, rules, speeds, TTFTs, faults and the request log, and release hangs.

        The known models, the API key and the constructor's default speed are kept: `reset()` between tests
        gives a session-scoped server the behaviour of a fresh one.
        """
        with self._lock:
            self._answers.clear()
            self._rules.clear()
            self._fallback = default_fallback
            self._tps.clear()
            self._default_tps = self._initial_default_tps
            self._ttft.clear()
            self._queued.clear()
            self._down.clear()
            self._chaos = None
            self._records.clear()
            self._prompt_cache = None
        self.release_hangs()

    def apply_script(self, script: Mapping[str, Any]) -> None:
        """Configure from a JSON-style dict (used by `--script` and POST /_harness/script).

        Keys (all optional): models, api_key, accept_any_model, answers {model: text}, rules [{contains,
        answer, model?}], fallback, default_tokens_per_second, tokens_per_second {model: tps},
        ttft {model: s}, down {model: fault}, inject [{model, fault, times?}], prompt_cache {min_tokens?,
        block_tokens?}; a fault is `Fault.from_dict` input.
        """
        with self._lock:
            self.add_model(*script.get("models", ()))
            if "api_key" in script:
                self._api_key = script["api_key"]
            if "accept_any_model" in script:
                self.accept_any_model = bool(script["accept_any_model"])
            for model, text in script.get("answers", {}).items():
                self.set_answer(model, text)
            for rule in script.get("rules", ()):
                self.add_rule(rule["contains"], rule["answer"], model=rule.get("model"))
            if "fallback" in script:
                self.set_fallback(script["fallback"])
            if "default_tokens_per_second" in script:
                self._default_tps = script["default_tokens_per_second"]
            for model, tps in script.get("tokens_per_second", {}).items():
                self.set_speed(model, tps)
            for model, seconds in script.get("ttft", {}).items():
                self.set_ttft(model, seconds)
            for model, fault in script.get("down", {}).items():
                self.set_down(model, Fault.from_dict(fault))
            for item in script.get("inject", ()):
                self.inject(item["model"], Fault.from_dict(item["fault"]), times=item.get("times", 1))
            if "prompt_cache" in script:
                self.enable_prompt_cache(**script["prompt_cache"])

    # ---- request log --------------------------------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        """Every request so far (chat, models, unknown paths), oldest first."""
        with self._lock:
            return list(self._records)

    def chat_requests(self, model: str | None = None) -> list[RequestRecord]:
        """Chat-completion requests, optionally for one model."""
        return [r for r in self.requests if r.path == "/v1/chat/completions" and (model is None or r.model == model)]

    def models_called(self) -> list[str]:
        """Model of each chat request in arrival order (including ones that failed): "who was tried, when"."""
        return [r.model for r in self.chat_requests() if r.model is not None]

    def clear_requests(self) -> None:
        with self._lock:
            self._records.clear()

    def wait_for_requests(self, count: int, timeout: float = 5.0, *, finished: bool = True) -> list[RequestRecord]:
        """Block until `count` chat requests arrived (and, by default, finished); not for event loops.

        In an async test use `await server.await_requests(...)` instead, or the client's loop would block.
        """
        deadline = time.monotonic() + timeout
        with self._records_changed:
            while True:
                records = self.chat_requests()
                done = [r for r in records if r.finished_at is not None] if finished else records
                if len(done) >= count:
                    return records
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"expected {count} chat requests, saw {len(done)}")
                self._records_changed.wait(remaining)

    async def await_requests(self, count: int, timeout: float = 5.0, *, finished: bool = True) -> list[RequestRecord]:
        """Async twin of `wait_for_requests` (polls, so it never blocks the caller's event loop)."""
        deadline = time.monotonic() + timeout
        while True:
            records = self.chat_requests()
            done = [r for r in records if r.finished_at is not None] if finished else records
            if len(done) >= count:
                return records
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {count} chat requests, saw {len(done)}")
            await asyncio.sleep(0.005)

    def _new_record(self, request: web.Request) -> RequestRecord:
        with self._lock:
            record = RequestRecord(
                index=len(self._records),
                method=request.method,
                path=request.path,
                arrived_at=time.monotonic(),
                authorization=request.headers.get("Authorization"),
            )
            self._records.append(record)
            self._records_changed.notify_all()
        return record

    # ---- HTTP handlers ------------------------------------------------------------------------------------
    def _check_auth(self, record: RequestRecord) -> web.Response | None:
        key = self._api_key
        if key is None:
            return None
        header = record.authorization or ""
        if header == f"Bearer {key}":
            return None
        record.outcome, record.status = "unauthorized", 401
        given = header.removeprefix("Bearer ").strip()
        message = (
            f"Incorrect API key provided: {given[:3]}***. You can find your API key at "
            "https://platform.openai.com/account/api-keys."
            if given
            else "You didn't provide an API key. You need to provide your API key in an Authorization header "
            "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
        return web.json_response(
            error_body(message, "invalid_request_error", "invalid_api_key" if given else None), status=401
        )

    async def _handle_models(self, request: web.Request, record: RequestRecord) -> web.StreamResponse:
        denied = self._check_auth(record)
        if denied is not None:
            return denied
        record.outcome, record.status = "ok", 200
        data = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "penny-test"} for m in self.models]
        return web.json_response({"object": "list", "data": data})

    async def _handle_unknown(self, request: web.Request, record: RequestRecord) -> web.StreamResponse:
        record.outcome, record.status = "bad_request", 404
        message = f"Invalid URL ({request.method} {request.path})"
        return web.json_response(error_body(message, "invalid_request_error", None), status=404)

    def _bad_request(self, record: RequestRecord, message: str, param: str | None = None) -> web.Response:
        record.outcome, record.status = "bad_request", 400
        return web.json_response(error_body(message, "invalid_request_error", None, param), status=400)

    async def _handle_chat(self, request: web.Request, record: RequestRecord) -> web.StreamResponse:
        denied = self._check_auth(record)
        if denied is not None:
            return denied
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return self._bad_request(record, "We could not parse the JSON body of your request.")
        if not isinstance(body, dict):
            return self._bad_request(record, "The request body must be a JSON object.")
        record.body = body
        record.model = body.get("model") if isinstance(body.get("model"), str) else None
        record.messages = list(body.get("messages") or [])
        record.stream = bool(body.get("stream"))
        record.stream_options = body.get("stream_options")
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        record.max_tokens = max_tokens
        if record.model is None:
            return self._bad_request(record, "you must provide a model parameter", "model")
        if not record.messages:
            return self._bad_request(record, "[] is too short - 'messages'", "messages")
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            return self._bad_request(record, "max_tokens must be a positive integer", "max_tokens")

        plan = self._plan(record)
        if plan is None:
            record.outcome, record.status = "model_not_found", 404
            message = f"The model `{record.model}` does not exist or you do not have access to it."
            return web.json_response(error_body(message, "invalid_request_error", "model_not_found"), status=404)
        fault = plan.fault
        record.outcome = fault.kind.value if fault else ("length" if plan.finish_reason == "length" else "ok")
        if fault is not None and fault.kind is FaultKind.HTTP_ERROR:
            return http_error_response(record, fault)
        if fault is not None and fault.kind is FaultKind.STREAM_ERROR and not record.stream:
            return http_error_response(record, Fault.server_error())
        if record.stream:
            return await send_stream(request, record, plan, self._hang)
        return await send_json(request, record, plan, self._hang)

    def _take_fault(self, model: str) -> Fault | None:
        for key in (model, ANY_MODEL):
            queue = self._queued.get(key)
            if queue:
                return queue.popleft()
        down = self._down.get(model) or self._down.get(ANY_MODEL)
        if down is not None or self._chaos is None:
            return down
        return self._chaos.pick()

    def _plan(self, record: RequestRecord) -> Plan | None:
        """Decide, under the lock, the fault, text and pacing for one chat request (None: unknown model)."""
        model = record.model
        assert model is not None
        with self._lock:
            if model not in self._models and not self.accept_any_model:
                return None
            fault = self._take_fault(model)
            answer = self.answer_for(model, record.messages)
            tps = self._tps.get(model, self._tps.get(ANY_MODEL, self._default_tps))
            ttft = self._ttft.get(model, self._ttft.get(ANY_MODEL, 0.0))
            cached = self._prompt_cache.cached_tokens(model, record.messages) if self._prompt_cache else 0
        record.fault = fault
        record.answer = answer
        finish_reason: str | None = "stop"
        text = answer
        if fault is not None:
            if fault.kind is FaultKind.EMPTY:
                text = ""
            elif fault.kind is FaultKind.WHITESPACE:
                text = fault.text if fault.text is not None else " \n\n "
            elif fault.kind is FaultKind.REPLY and fault.text is not None:
                text = fault.text
            if fault.kind in (FaultKind.NO_FINISH, FaultKind.REPLY):
                finish_reason = fault.finish_reason
        tokens = split_tokens(text)
        if record.max_tokens is not None and len(tokens) > record.max_tokens:
            tokens = tokens[: record.max_tokens]
            if fault is None or fault.kind is not FaultKind.NO_FINISH:
                finish_reason = "length"
        record.prompt_tokens = count_prompt_tokens(record.messages)
        record.completion_tokens = len(tokens)
        record.cached_tokens = cached
        return Plan(
            model=model,
            fault=fault,
            tokens=tokens,
            completion_tokens=len(tokens),
            prompt_tokens=record.prompt_tokens,
            finish_reason=finish_reason,
            ttft=ttft,
            tokens_per_second=tps,
            include_usage=record.include_usage,
            cached_tokens=cached,
        )

    async def _hang(self, seconds: float | None) -> None:
        """Wait `seconds` (None: forever) or until `release_hangs()`."""
        assert self._release is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._release.wait(), seconds)

    # ---- admin endpoints (for out-of-process use; no auth) -------------------------------------------------
    async def _handle_admin_requests(self, request: web.Request) -> web.Response:
        return web.json_response([r.to_dict() for r in self.requests])

    async def _handle_admin_script(self, request: web.Request) -> web.Response:
        self.apply_script(await request.json())
        return web.json_response({"ok": True})

    async def _handle_admin_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    async def _handle_admin_release(self, request: web.Request) -> web.Response:
        self.release_hangs()
        return web.json_response({"ok": True})
