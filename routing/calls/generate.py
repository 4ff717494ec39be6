"""The one retry loop: stream an answer from a plan's model chain, whatever the providers do.

Per attempt it enforces a time-to-first-token timeout, an idle (stall) timeout and the request's overall
deadline; empty or whitespace-only answers and streams without a ``finish_reason`` are failures. Per error kind:

- ``rate_limited``: wait ``Retry-After`` (if it is short enough) or a backoff, then the same model again;
- ``server_error`` / ``connection`` / transport ``timeout``: exponential backoff with jitter, same model again;
- no first token in time, ``empty``, ``rejected``: straight to the next model (waiting would not help);
- ``cut`` after text was shown: resume — ask the same model (then the next ones) to continue from the text so
  far, and join with ``OverlapJoiner`` so nothing is shown twice;
- ``finish_reason=length``: the answer stands, and is continued the same way up to ``length_continuations``
  times while the deadline and the budget reservation allow (else the bot says it was cut at its limit);
- a degenerate answer (a loop, leaked template tokens, an empty refusal: ``quality.py``, held back by
  ``gate.py``): a failed attempt, and the cascade's step up — the next model tried is from a dearer tier than
  the one that failed, starting afresh when nothing was shown, else continuing from the clean part.

When the overall deadline passes after text was shown, that text is the answer so far: the ``Generation`` is
``partial`` with ``cut_short`` saying why, and the bot keeps the words on screen with a note.

A tiny hand-written loop rather than tenacity: tenacity retries a *call*, but here an attempt is a stream that
may already have yielded text, the next try may go to another model with another prompt, and the wait depends
on the error (``Retry-After``). Its wait primitives would cover one line of this. Sleep, clock and randomness
are injected so tests control them.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import structlog

from routing.calls.gate import QualityGate
from routing.calls.generation import OVERALL_TIMEOUT, Attempt, Generation, outcome_of
from routing.calls.health import Health
from routing.calls.llm import ControlToken, ErrorKind, LLMError, StreamEnd, StreamEvent, TextDelta
from routing.calls.overlap import OverlapJoiner
from routing.calls.quality import Degeneracy
from routing.catalog import Catalog, ModelSpec
from routing.chain import escalated
from routing.chat import ChatMessage
from routing.plan import RESERVE_PROMPT_MARGIN, RoutePlan
from routing.policy import RetryPolicy
from routing.spend.budget import Budget
from routing.spend.cost import Usage, call_cost, estimate_usage

log = structlog.get_logger(__name__)

CONTINUE_PROMPT = (
    "Your previous reply was cut off. Continue exactly where it stops, without repeating anything already written."
)
TTFT_TIMEOUT = "ttft_timeout"
IDLE_TIMEOUT = "idle_timeout"
BUDGET = "budget"
_NEXT_MODEL = frozenset({ErrorKind.EMPTY, ErrorKind.REJECTED, ErrorKind.MISSING_KEY})


class StreamingClient(Protocol):
    """What the loop needs from ``routing/calls/llm.py``'s ``LLMClient``."""

    def stream(
        self, model: ModelSpec, messages: Sequence[ChatMessage], *, max_tokens: int | None = None
    ) -> AsyncIterator[StreamEvent]: ...


def backoff_delay(retry: int, policy: RetryPolicy, rng: random.Random, retry_after_s: float | None = None) -> float:
    """Seconds before retry number ``retry`` (1-based): Retry-After when given, else equal-jitter exponential."""
    if retry_after_s is not None:
        return retry_after_s + rng.uniform(0, 0.1)  # never earlier than asked; jitter spreads the herd
    ceiling = min(policy.backoff_max_s, policy.backoff_base_s * 2 ** (retry - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def continuation(messages: Sequence[ChatMessage], shown: str) -> list[ChatMessage]:
    """The prompt that asks a model to carry on from text the user has already seen."""
    return [*messages, {"role": "assistant", "content": shown}, {"role": "user", "content": CONTINUE_PROMPT}]


def _nothing_to_add(error: LLMError | str, attempts: list[Attempt]) -> bool:
    """An empty continuation of an answer cut for its quality: the clean part shown was already all of it."""
    cut_for_quality = any(a.error in Degeneracy.kinds() for a in attempts[:-1])
    return isinstance(error, LLMError) and error.kind is ErrorKind.EMPTY and cut_for_quality and attempts[-1].resumed


@dataclass
class _AttemptEnd:
    attempt: Attempt
    error: LLMError | str | None
    finish_reason: str | None = None


class Generator:
    """Runs plans. One instance per process; it holds no per-request state."""

    def __init__(
        self,
        catalog: Catalog,
        client: StreamingClient,
        *,
        health: Health | None = None,
        budget: Budget | None = None,
        retry: RetryPolicy | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._catalog = catalog
        self._client = client
        self._health = health
        self._budget = budget
        self._retry = retry or catalog.policy.retry
        self._quality = catalog.policy.quality
        self._monotonic = monotonic
        self._sleep = sleep
        self._rng = rng or random.Random()

    async def stream(
        self, plan: RoutePlan, messages: Sequence[ChatMessage] | None = None
    ) -> AsyncIterator[TextDelta | Generation]:
        """Yield the answer's ``TextDelta``s as they arrive, then exactly one ``Generation``.

        ``messages`` defaults to the plan's (possibly trimmed) prompt. The budget reservation is settled with
        the actual cost before the ``Generation`` is yielded; if the caller abandons the stream early it should
        ``aclose()`` it, which settles too.
        """
        prompt = list(messages if messages is not None else plan.messages)
        policy = self._retry
        started = self._monotonic()
        deadline = started + policy.overall_timeout_s
        shown = ""
        attempts: list[Attempt] = []
        probes = dict(plan.probes)
        finish_reason: str | None = None
        answered_by: ModelSpec | None = None
        settled = False
        chain = list(plan.chain)
        try:
            continuations = 0
            while chain:
                model = chain.pop(0)
                if not await self._cover(plan, model, attempts):
                    attempts.append(Attempt(model.id, BUDGET, None, 0.0, 0, None, Decimal(0)))
                    continue
                tries = 0
                waited = 0.0
                while tries < policy.attempts_per_model and self._monotonic() < deadline:
                    tries += 1
                    end: _AttemptEnd | None = None
                    async for item in self._attempt(model, prompt, shown, plan, deadline, probes, waited):
                        if isinstance(item, TextDelta):
                            shown += item.text
                            yield item
                        else:
                            end = item
                    assert end is not None
                    attempts.append(end.attempt)
                    if end.error is None:
                        finish_reason, answered_by = end.finish_reason, model
                        if finish_reason == "length" and await self._may_continue(
                            plan, model, attempts, continuations, deadline
                        ):
                            continuations += 1  # the answer hit its token limit: ask for the rest, once per knob
                            tries, waited = 0, 0.0
                            continue
                        break
                    if answered_by is not None:
                        break  # a continuation failed: the answer so far stands, cut at its length limit
                    if isinstance(end.error, Degeneracy):
                        chain = escalated(chain, model.tier)  # the cascade: a dearer tier tries next
                        break
                    if _nothing_to_add(end.error, attempts):
                        finish_reason, answered_by = "stop", model  # the clean part was the whole answer
                        break
                    waited = self._next_wait(end.error, tries, shown, deadline)
                    if waited < 0:
                        break
                    if waited:
                        await self._sleep(waited)
                if answered_by is not None or self._monotonic() >= deadline:
                    break
            baseline_model = self._catalog.baseline_model
            latency = self._monotonic() - started
            outcome = outcome_of(plan, baseline_model, prompt, shown, attempts, answered_by, finish_reason, latency)
            settled = True
            await self._settle(plan, outcome.cost)
            await self._release_probes(probes)
            log.info(
                "generate.done",
                ok=outcome.ok,
                model=outcome.model,
                attempts=len(attempts),
                errors=[a.error for a in attempts if a.error],
                cost=str(outcome.cost),
                estimated=outcome.estimated,
                latency_ms=round(outcome.latency_s * 1000),
            )
            yield outcome
        finally:
            if not settled:  # abandoned mid-stream: bill what was spent so far
                await self._settle(plan, sum((a.cost for a in attempts), Decimal(0)))
                await self._release_probes(probes)

    async def _may_continue(
        self, plan: RoutePlan, model: ModelSpec, attempts: list[Attempt], continuations: int, deadline: float
    ) -> bool:
        """Continue an answer cut at its length limit: while the knob, the deadline and the budget allow."""
        if continuations >= self._retry.length_continuations:
            return False
        if self._monotonic() + self._retry.ttft_timeout_s >= deadline:
            return False
        return await self._cover(plan, model, attempts)

    def _next_wait(self, error: LLMError | str, tries: int, shown: str, deadline: float) -> float:
        """Seconds to wait before the same model again; -1 means go to the next model now."""
        if isinstance(error, str) or error.kind in _NEXT_MODEL or not error.retryable:
            return -1.0  # timeouts, budget, empty or rejected answers: this model will not do better now
        policy = self._retry
        if error.kind is ErrorKind.CUT and shown:
            return 0.0  # resume at once: the user is watching a half-written answer
        retry_after = error.retry_after_s
        if retry_after is not None and retry_after > policy.max_retry_after_s:
            return -1.0
        delay = backoff_delay(tries, policy, self._rng, retry_after)
        if self._monotonic() + delay >= deadline:
            return -1.0
        return delay

    async def _attempt(
        self,
        model: ModelSpec,
        prompt: list[ChatMessage],
        shown: str,
        plan: RoutePlan,
        deadline: float,
        probes: dict[str, str],
        waited: float,
    ) -> AsyncIterator[TextDelta | _AttemptEnd]:
        """One call: yields new text, then an ``_AttemptEnd`` (also on failure); records health."""
        policy = self._retry
        messages = continuation(prompt, shown) if shown else prompt
        joiner = OverlapJoiner(shown)
        gate = QualityGate(self._quality, grounded=plan.grounded)
        t0 = self._monotonic()
        ttft: float | None = None
        received = ""
        new_chars = 0
        usage: Usage | None = None
        finish: str | None = None
        error: LLMError | str | None = None
        events = aiter(self._client.stream(model, messages, max_tokens=plan.answer_tokens))
        try:
            while True:
                limit = policy.ttft_timeout_s if ttft is None else policy.idle_timeout_s
                budget_left = deadline - self._monotonic()
                if budget_left <= 0:
                    error = OVERALL_TIMEOUT
                    break
                try:
                    event = await asyncio.wait_for(anext(events), min(limit, budget_left))
                except TimeoutError:
                    overall = limit > budget_left
                    error = OVERALL_TIMEOUT if overall else TTFT_TIMEOUT if ttft is None else IDLE_TIMEOUT
                    break
                except StopAsyncIteration:
                    error = LLMError("stream ended without StreamEnd", model=model.id, kind=ErrorKind.CUT)
                    break
                except LLMError as exc:
                    error = exc
                    break
                if ttft is None:
                    ttft = self._monotonic() - t0
                if isinstance(event, TextDelta):
                    received += event.text
                    passed = gate.feed(event.text)
                elif isinstance(event, ControlToken):
                    passed = gate.marker(event.marker)
                else:
                    assert isinstance(event, StreamEnd)
                    usage, finish = event.usage, event.finish_reason
                    passed = gate.finish()
                ended = gate.finding is not None or isinstance(event, StreamEnd)
                out = joiner.feed(passed) + (joiner.finish() if ended else "")
                if out:
                    new_chars += len(out)
                    yield TextDelta(out)
                if gate.finding is not None:
                    error = gate.finding.kind
                if ended:
                    break
            if error is not None and gate.finding is None:  # the stream broke: keep what passed the checks
                out = joiner.feed(gate.abandon())
                if out:
                    new_chars += len(out)
                    yield TextDelta(out)
                error = gate.finding.kind if gate.finding is not None else error
        finally:
            await events.aclose()  # type: ignore[attr-defined]
        if usage is None and received:
            usage = estimate_usage(messages, received)  # a cut stream never reports usage
        cost = call_cost(model, usage) if usage is not None else Decimal(0)
        kind = None if error is None else str(error) if isinstance(error, str) else str(error.kind)
        probe_token = probes.pop(model.id, None)
        elapsed = self._monotonic() - t0
        await self._record_health(model, error, ttft, elapsed, probe_token)
        attempt = Attempt(
            model.id,
            kind,
            ttft,
            elapsed,
            new_chars,
            usage,
            cost,
            resumed=bool(shown),
            probe=probe_token is not None,
            waited_s=waited,
        )
        yield _AttemptEnd(attempt, error, finish)

    async def _record_health(
        self,
        model: ModelSpec,
        error: LLMError | str | None,
        ttft: float | None,
        elapsed: float,
        probe_token: str | None,
    ) -> None:
        if self._health is None:
            return
        if (isinstance(error, LLMError) and error.kind is ErrorKind.MISSING_KEY) or error == OVERALL_TIMEOUT:
            return  # our configuration or our own deadline, not the model's health
        if error == TTFT_TIMEOUT:
            ttft = elapsed  # it was at least this slow
        try:
            await self._health.record(model.id, ok=error is None, ttft_s=ttft, probe_token=probe_token)
        except Exception:  # health is advisory: never fail an answer over it
            log.warning("generate.health_record_failed", model=model.id, exc_info=True)

    async def _cover(self, plan: RoutePlan, model: ModelSpec, attempts: list[Attempt]) -> bool:
        """Make sure the reservation covers what was spent plus a worst case on ``model``."""
        if self._budget is None or plan.reservation is None:
            return True
        spent = sum((a.cost for a in attempts), Decimal(0))
        # A continuation prompt also carries the text shown so far, which is at most one answer budget.
        prompt_tokens = math.ceil(plan.prompt_tokens_estimate * RESERVE_PROMPT_MARGIN) + plan.answer_tokens
        worst = call_cost(model, Usage(prompt_tokens, plan.answer_tokens))
        try:
            return await self._budget.extend(plan.reservation, spent + worst)
        except Exception:
            log.warning("generate.budget_extend_failed", model=model.id, exc_info=True)
            return False

    async def _settle(self, plan: RoutePlan, cost: Decimal) -> None:
        if self._budget is None or plan.reservation is None:
            return
        try:
            await self._budget.settle(plan.reservation, cost)
        except Exception:
            log.error("generate.budget_settle_failed", team_id=plan.team_id, exc_info=True)

    async def _release_probes(self, probes: dict[str, str]) -> None:
        if self._health is None:
            return
        for model_id, token in list(probes.items()):
            try:
                await self._health.release_probe(model_id, token)
            except Exception:
                log.warning("generate.probe_release_failed", model=model_id, exc_info=True)
        probes.clear()
