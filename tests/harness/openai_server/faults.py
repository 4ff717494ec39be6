"""Fault descriptions for the fake OpenAI server.

A `Fault` is an immutable value: what goes wrong with one request. Tests build them with the class-method
constructors (`Fault.rate_limited(retry_after=2)`, `Fault.cut_stream(after_chars=40)`, ...) and hand them to
`OpenAIServer.inject` (consumed one request at a time) or `OpenAIServer.set_down` (persistent until cleared).
Faults are plain data so that a JSON script (standalone mode, admin endpoint) can describe them too.
"""

from __future__ import annotations

import enum
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

HangPhase = Literal["before_headers", "after_headers", "after_role"]


class FaultKind(enum.StrEnum):
    """What kind of failure a request gets; the value is also the `outcome` recorded in the request log."""

    HTTP_ERROR = "http_error"  # any status with OpenAI's error body (429, 500, 503, ...)
    CUT = "cut"  # transport aborted after N characters of content
    HANG = "hang"  # no progress for a while (or until released), before or after headers
    EMPTY = "empty"  # content "" with finish_reason "stop"
    WHITESPACE = "whitespace"  # whitespace-only content with finish_reason "stop"
    NO_FINISH = "no_finish"  # clean end ([DONE]) but no finish_reason anywhere
    STREAM_ERROR = "stream_error"  # an SSE `data: {"error": ...}` event after N characters
    REPLY = "reply"  # a one-off scripted reply overriding text and/or finish_reason


@dataclass(frozen=True)
class Fault:
    """One failure mode. Use the constructors; the fields are what the server needs to act it out.

    `seconds=None` for a hang means "until the client gives up, `release_hangs()` is called or the server
    stops", which is what a time-to-first-token timeout test wants: nothing ever arrives.
    """

    kind: FaultKind
    status: int = 0
    error_type: str = ""
    error_code: str | None = None
    message: str = ""
    retry_after: float | None = None
    headers: dict[str, str] = field(default_factory=dict)
    after_chars: int = 0
    seconds: float | None = None
    phase: HangPhase = "before_headers"
    text: str | None = None
    finish_reason: str | None = "stop"

    # ---- constructors -------------------------------------------------------------------------------------
    @classmethod
    def http_error(
        cls,
        status: int,
        *,
        message: str = "An error occurred.",
        error_type: str = "server_error",
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Fault:
        """Any HTTP error with OpenAI's `{"error": {message, type, param, code}}` body."""
        return cls(
            FaultKind.HTTP_ERROR,
            status=status,
            message=message,
            error_type=error_type,
            error_code=code,
            headers=dict(headers or {}),
        )

    @classmethod
    def rate_limited(cls, retry_after: float | None = 1, *, message: str | None = None) -> Fault:
        """HTTP 429 with `Retry-After` (seconds) as OpenAI sends it for request-rate limits."""
        return cls(
            FaultKind.HTTP_ERROR,
            status=429,
            message=message or "Rate limit reached for requests. Please try again in a moment.",
            error_type="requests",
            error_code="rate_limit_exceeded",
            retry_after=retry_after,
        )

    @classmethod
    def quota_exceeded(cls) -> Fault:
        """HTTP 429 `insufficient_quota`: also a 429, but retrying will never help (no Retry-After)."""
        return cls(
            FaultKind.HTTP_ERROR,
            status=429,
            message="You exceeded your current quota, please check your plan and billing details.",
            error_type="insufficient_quota",
            error_code="insufficient_quota",
        )

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        """HTTP 500 (or another 5xx) with OpenAI's generic server_error body."""
        return cls(
            FaultKind.HTTP_ERROR,
            status=status,
            message="The server had an error while processing your request. Sorry about that!",
            error_type="server_error",
        )

    @classmethod
    def bad_gateway(cls) -> Fault:
        """HTTP 502 as OpenAI's edge (Cloudflare) answers it: its error type ``cf_bad_gateway``."""
        return cls(
            FaultKind.HTTP_ERROR, status=502, message="Bad gateway.", error_type="cf_bad_gateway", error_code="502"
        )

    @classmethod
    def unavailable(cls, retry_after: float | None = None) -> Fault:
        """HTTP 503 "overloaded", optionally with Retry-After."""
        return cls(
            FaultKind.HTTP_ERROR,
            status=503,
            message="The engine is currently overloaded, please try again later.",
            error_type="server_error",
            retry_after=retry_after,
        )

    @classmethod
    def cut_stream(cls, after_chars: int = 0) -> Fault:
        """Abort the connection after exactly `after_chars` characters of content.

        The client sees a broken body: no finish_reason, no usage, no `[DONE]`. For a non-stream request the
        headers and the first `after_chars` bytes of the JSON body are sent before the abort.
        """
        return cls(FaultKind.CUT, after_chars=after_chars)

    @classmethod
    def hang(cls, seconds: float | None = None, *, phase: HangPhase = "before_headers") -> Fault:
        """Stall before the first token; afterwards (if `seconds` is set) answer normally.

        phase: "before_headers" (nothing at all is sent), "after_headers" (200 + SSE headers, then silence),
        "after_role" (headers and the role chunk, then silence: the first *content* token never comes).
        """
        return cls(FaultKind.HANG, seconds=seconds, phase=phase)

    @classmethod
    def stall(cls, after_chars: int, seconds: float | None = None) -> Fault:
        """Stall in the middle of a stream, after `after_chars` characters of content."""
        return cls(FaultKind.HANG, seconds=seconds, phase="after_role", after_chars=after_chars)

    @classmethod
    def empty(cls) -> Fault:
        """A successful completion whose content is "" (finish_reason "stop", completion_tokens 0)."""
        return cls(FaultKind.EMPTY, text="")

    @classmethod
    def whitespace(cls, text: str = " \n\n ") -> Fault:
        """A successful completion whose content is only whitespace."""
        if text.strip():
            raise ValueError("whitespace fault text must be whitespace only")
        return cls(FaultKind.WHITESPACE, text=text)

    @classmethod
    def no_finish_reason(cls) -> Fault:
        """The stream (or JSON) carries the whole answer and ends cleanly, but finish_reason is never set."""
        return cls(FaultKind.NO_FINISH, finish_reason=None)

    @classmethod
    def stream_error(cls, after_chars: int = 0, *, message: str = "The server had an error.") -> Fault:
        """Mid-stream SSE error event (`data: {"error": {...}}`) after `after_chars` characters."""
        return cls(FaultKind.STREAM_ERROR, after_chars=after_chars, message=message, error_type="server_error")

    @classmethod
    def reply(cls, text: str | None = None, *, finish_reason: str | None = "stop") -> Fault:
        """A one-off answer override, e.g. `Fault.reply(finish_reason="content_filter")`.

        text=None keeps the scripted answer and only changes the finish_reason.
        """
        return cls(FaultKind.REPLY, text=text, finish_reason=finish_reason)

    # ---- (de)serialisation for JSON scripts ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form; `from_dict(to_dict(f)) == f`."""
        data = asdict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        """Build a fault from JSON: either full fields, or `{"kind": "<constructor name>", **kwargs}`.

        The short form lets a script say `{"kind": "rate_limited", "retry_after": 2}`.
        """
        data = dict(data)
        kind = data.pop("kind")
        if kind in FaultKind.__members__.values():
            return cls(FaultKind(kind), **data)
        constructor = _CONSTRUCTORS.get(kind)
        if constructor is None:
            raise ValueError(f"unknown fault kind {kind!r}")
        return constructor(**data)


def provider_faults() -> list[Fault]:
    """One of each way a provider fails a request at random under load: the mix ``OpenAIServer.set_chaos`` uses."""
    return [
        Fault.rate_limited(retry_after=1),
        Fault.server_error(500),
        Fault.bad_gateway(),
        Fault.unavailable(),
        Fault.hang(None, phase="after_role"),  # until the client's time-to-first-token timeout gives up
        Fault.cut_stream(after_chars=40),  # some words shown, then the connection drops
    ]


class Chaos:
    """A seeded share of chat requests fails with one of ``faults``: random faults a run can reproduce."""

    def __init__(self, rate: float, *, seed: int, faults: Sequence[Fault] | None = None) -> None:
        if not 0 < rate <= 1:
            raise ValueError("chaos rate must be in (0, 1]")
        self.rate = rate
        self.faults = list(faults) if faults else provider_faults()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def pick(self) -> Fault | None:
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            return self._rng.choice(self.faults)


_CONSTRUCTORS: dict[str, Callable[..., Fault]] = {
    "rate_limited": Fault.rate_limited,
    "quota_exceeded": Fault.quota_exceeded,
    "server_error": Fault.server_error,
    "unavailable": Fault.unavailable,
    "bad_gateway": Fault.bad_gateway,
    "cut_stream": Fault.cut_stream,
    "hang": Fault.hang,
    "stall": Fault.stall,
    "empty": Fault.empty,
    "whitespace": Fault.whitespace,
    "no_finish_reason": Fault.no_finish_reason,
    "stream_error": Fault.stream_error,
    "reply": Fault.reply,
}
