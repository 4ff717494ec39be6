"""The request log entry: what a test asserts on after the fact ("which models, in which order, with what")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .faults import Fault
from .script import last_user_message


@dataclass
class RequestRecord:
    """One request as the server saw it, and what it did with it (filled in as the request progresses)."""

    index: int
    method: str
    path: str
    arrived_at: float  # time.monotonic(), comparable with the test's own clock
    authorization: str | None = None
    body: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    max_tokens: int | None = None
    fault: Fault | None = None
    # "pending", "ok", "length", a FaultKind value, "unauthorized", "model_not_found", "bad_request"
    outcome: str = "pending"
    status: int | None = None
    answer: str | None = None  # the scripted text, before truncation or faults
    content_sent: str = ""  # content characters actually written to the client
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int = 0  # prompt tokens reported as served from the prompt cache (`enable_prompt_cache`)
    client_disconnected: bool = False
    first_content_at: float | None = None  # monotonic time the first content character was written
    finished_at: float | None = None

    @property
    def include_usage(self) -> bool:
        return bool((self.stream_options or {}).get("include_usage"))

    @property
    def last_user_message(self) -> str:
        return last_user_message(self.messages)

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the admin endpoint (out-of-process tests)."""
        data = {k: v for k, v in self.__dict__.items() if k != "fault"}
        data["fault"] = self.fault.to_dict() if self.fault else None
        return data
