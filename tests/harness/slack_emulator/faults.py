"""Slack failures on demand: the next calls of a method, calls whose parameters match, or a seeded share of all.

What each kind does is what Slack does: ``error`` answers ``{"ok": false, "error": …}`` (``effect=True`` first
carries the call out, as ``fatal_error`` warns may happen), ``ratelimited`` answers HTTP 429 with ``Retry-After``,
``html`` an outage page with no JSON at all (a load balancer in front of Slack), ``gone`` deletes the target
message and answers ``message_not_found`` (someone deleted it), and ``slow`` only delays the answer.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal["error", "ratelimited", "html", "gone", "slow"]
Match = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class SlackFault:
    kind: FaultKind = "error"
    error: str = "internal_error"
    status: int = 200
    effect: bool = False
    retry_after: int = 1
    latency_s: float = 0.0

    @staticmethod
    def internal_error() -> SlackFault:
        return SlackFault("error", "internal_error")

    @staticmethod
    def fatal_error(*, effect: bool = True) -> SlackFault:
        return SlackFault("error", "fatal_error", effect=effect)

    @staticmethod
    def ratelimited(retry_after: int = 1) -> SlackFault:
        return SlackFault("ratelimited", "ratelimited", 429, retry_after=retry_after)

    @staticmethod
    def http_5xx(status: int = 503) -> SlackFault:
        return SlackFault("html", "service_unavailable", status)

    @staticmethod
    def message_not_found() -> SlackFault:
        return SlackFault("gone", "message_not_found")

    @staticmethod
    def slow(seconds: float = 2.0) -> SlackFault:
        return SlackFault("slow", latency_s=seconds)

    @property
    def label(self) -> str:
        return self.error if self.kind == "error" else f"http_{self.status}" if self.kind == "html" else self.kind


@dataclass
class _Rule:
    method: str
    fault: SlackFault
    remaining: int
    match: Match | None


@dataclass
class _Chaos:
    rate: float
    rng: random.Random
    methods: frozenset[str]
    faults: Sequence[SlackFault]


@dataclass
class Injected:
    """One fault the emulator applied, for a benchmark's report."""

    method: str
    fault: SlackFault
    params: dict[str, Any] = field(default_factory=dict)


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._chaos: _Chaos | None = None
        self.log: list[Injected] = []

    def add(self, method: str, fault: SlackFault, *, times: int = 1, match: Match | None = None) -> None:
        with self._lock:
            self._rules.append(_Rule(method, fault, times, match))

    def chaos(
        self, rate: float, *, seed: int, methods: Sequence[str], faults: Sequence[SlackFault] | None = None
    ) -> None:
        """From now on a seeded ``rate`` of calls to ``methods`` fail with one of ``faults`` (rate 0 turns it off)."""
        with self._lock:
            if rate <= 0:
                self._chaos = None
                return
            chosen = (
                list(faults)
                if faults
                else [
                    SlackFault.internal_error(),
                    SlackFault.fatal_error(),
                    SlackFault.ratelimited(),
                    SlackFault.http_5xx(),
                    SlackFault.message_not_found(),
                    SlackFault.slow(),
                ]
            )
            self._chaos = _Chaos(rate, random.Random(seed), frozenset(methods), chosen)

    def pick(self, method: str, params: dict[str, Any]) -> SlackFault | None:
        with self._lock:
            for rule in self._rules:
                if rule.method == method and rule.remaining > 0 and (rule.match is None or rule.match(params)):
                    rule.remaining -= 1
                    self.log.append(Injected(method, rule.fault, dict(params)))
                    return rule.fault
            chaos = self._chaos
            if chaos is None or method not in chaos.methods or chaos.rng.random() >= chaos.rate:
                return None
            usable = [f for f in chaos.faults if f.kind != "gone" or params.get("ts")]
            fault = chaos.rng.choice(usable)
            self.log.append(Injected(method, fault, {}))
            return fault
