"""Map-reduce for ``/summarize``, memoized: summaries of the same messages are made once and reused.

A source that fits one call gets one call. A longer one is cut into chunks, each summarized on its own (map),
and the summaries combined (reduce) — recursively when even they do not fit one call. When partial summaries are
remembered (``bot/summarize/partials.py``), the chunks are cut on stable boundaries (``chunks.stable_chunks``)
so that tomorrow's ``/summarize 7d``, or a colleague's a minute later, finds the chunks it shares with an earlier
summary already summarized: it pays only for the new chunks and the reduce, and answers sooner. A chunk too
short to be worth a map call is quoted as written in the reduce (summarizing it would cost more than reading it).

The tier is decided the way a one-shot summary's would be — from the source's size, not from the size of its
parts — so memoizing never moves a summary to a cheaper model than the one it would have had anyway; partials are
stored under the tier of the model that wrote them and served to summaries of that tier or below.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import structlog

from bot import replies
from bot.summarize.calls import Answered, ModelCalls, SummaryStopped
from bot.summarize.chunks import Chunk, Line, chunk_lines, group_for_reduce, line_tokens, stable_chunks
from bot.summarize.partials import Partial, PartialSummaries, partial_key
from bot.summarize.prompts import MAP_PROMPT_VERSION, Part, map_prompt, overhead_messages, reduce_prompt, single_prompt
from routing.calls.generation import Generation
from routing.catalog import Catalog
from routing.spend.cost import Usage, call_cost, estimate_prompt_tokens
from vocabulary import RequestOutcome, TaskKind, Tier

log = structlog.get_logger(__name__)

PART_OVERHEAD_TOKENS = 12  # "Part 12, messages as written:" and the tags around a quoted part


@dataclass(frozen=True)
class MapReduceSettings:
    chunk_margin: float = 0.8  # chars/4 under-counts some text; leave room so every call really fits
    min_partial_tokens: int = 128
    # Map chunks stay below the router's "very long context" size (routing/classify.py), so each part of a long
    # channel is a medium summary on a standard model instead of a premium call: parts are cheaper, and smaller
    # parts lose less in the middle. Single-call summaries of short sources are unaffected.
    max_chunk_tokens: int = 12_000
    # Reusable chunks average this size (``PENNY_SUMMARY_CHUNK_TOKENS``): smaller ones are reused more precisely,
    # larger ones pay the fixed prompt of a map call less often. A source no larger than this gets one call.
    chunk_tokens: int = 2_000
    # A chunk this short (at most a quarter of ``chunk_tokens``) is quoted as written in the reduce: summarizing it
    # would cost more than reading it.
    quote_tokens: int = 150
    parallel_maps: int = 4  # new parts of a memoized summary summarized at once (each its own call and reservation)


@dataclass(frozen=True)
class Source:
    """What is summarized: the conversation it was read from (the partials' scope) and its transcript."""

    team_id: str
    channel_id: str
    lines: Sequence[Line]
    what: str  # how the summary names it: "this channel", "#general", "a thread"


@dataclass(frozen=True)
class Reuse:
    """What a memoized summary took from earlier ones: ``reused`` of its ``chunks`` summarized parts."""

    chunks: int
    reused: int
    saved: Decimal  # what the reused map calls had cost
    saved_ms: int  # and how long they had taken
    baseline: Decimal  # the summary on the baseline model in one call: the whole transcript, this answer (estimated)
    reused_tokens: int = 0  # transcript tokens not sent to a model again


@dataclass(frozen=True)
class Summary:
    text: str
    reuse: Reuse | None = None  # None: not memoized (one call, or reuse switched off)


class SummaryProgress(Protocol):
    """The part of a ``SummaryOutput`` the map-reduce talks to."""

    async def progress(self, status: str) -> None: ...

    def append(self, delta: str) -> None: ...


def _part_tokens(part: Part) -> int:
    return line_tokens(part.text) + PART_OVERHEAD_TOKENS


class MapReduce:
    def __init__(self, catalog: Catalog, partials: PartialSummaries, settings: MapReduceSettings) -> None:
        self._catalog = catalog
        self._partials = partials
        self._settings = settings

    def chunk_budget(self, answer_tokens: int, what: str) -> int:
        """Transcript tokens per call: the narrowest catalog model must read any chunk, with room to answer.

        The narrowest rather than the chosen model, so that every fallback in the chain can read every chunk; and
        never more than ``max_chunk_tokens``, which keeps a map-reduce summary off the premium tier.
        """
        window = min(model.context_window for model in self._catalog.models)
        overhead = estimate_prompt_tokens(overhead_messages(what))
        budget = min(
            int((window - answer_tokens - overhead) * self._settings.chunk_margin), self._settings.max_chunk_tokens
        )
        if budget < 4 * self._settings.min_partial_tokens:  # a catalog no summary can fit: say so
            raise SummaryStopped(replies.UNEXPECTED_TEXT, RequestOutcome.FAILED)
        return budget

    async def summarize(self, source: Source, calls: ModelCalls, output: SummaryProgress, header: str) -> Summary:
        answer_tokens = self._catalog.policy.answer_tokens_for(TaskKind.SUMMARIZE)
        budget = self.chunk_budget(answer_tokens, source.what)
        texts = [line.text for line in source.lines]
        packed = chunk_lines(texts, budget)
        if len(packed) == 1 and sum(line.tokens for line in source.lines) <= self._settings.chunk_tokens:
            return Summary(await self._single(texts, source.what, calls, output, header, answer_tokens))
        if self._partials.remembers:
            chunks = stable_chunks(source.lines, target_tokens=self._settings.chunk_tokens, max_tokens=budget)
            if len(chunks) > 1:
                # Routed as the one-shot (or first packed) call would be, so the tier is the source's, not a part's.
                await calls.route(single_prompt(packed[0], source.what), answer_tokens)
                return await self._memoized(source, chunks, calls, output, header, budget, answer_tokens)
        if len(packed) == 1:
            return Summary(await self._single(texts, source.what, calls, output, header, answer_tokens))
        log.info("summarizer.map_reduce", parts=len(packed), lines=len(texts), budget_tokens=budget)
        partial_tokens = self._partial_tokens(answer_tokens, budget)
        parts: list[Part] = []
        for number, chunk in enumerate(packed, start=1):
            await output.progress(replies.SUMMARIZE_PROGRESS_TEXT.format(part=number, parts=len(packed)))
            parts.append(Part((await calls.run(map_prompt(chunk), partial_tokens)).text))
        final = await self._reduce(parts, source.what, calls, output, header, budget, answer_tokens)
        return Summary(final.text)

    def _partial_tokens(self, answer_tokens: int, budget: int) -> int:
        # Partials stay small so that several fit one reduce call; the recursion then always shrinks.
        return max(self._settings.min_partial_tokens, min(answer_tokens, budget // 4))

    async def _single(
        self, texts: list[str], what: str, calls: ModelCalls, output: SummaryProgress, header: str, answer_tokens: int
    ) -> str:
        output.append(f"{header}\n\n")
        return (await calls.run(single_prompt(texts, what), answer_tokens, output.append)).text

    async def _memoized(
        self,
        source: Source,
        chunks: list[Chunk],
        calls: ModelCalls,
        output: SummaryProgress,
        header: str,
        budget: int,
        answer_tokens: int,
    ) -> Summary:
        assert calls.plan is not None
        partial_tokens = self._partial_tokens(answer_tokens, budget)
        version = f"{MAP_PROMPT_VERSION}:{partial_tokens}"
        # Only a chunk cut short (by a day's end or the window's) can be this small: quote it rather than map it.
        quote = min(self._settings.quote_tokens, min(self._settings.chunk_tokens, budget) // 4)
        summarized = [c for c in chunks if c.tokens > quote]
        tiers = [t for t in Tier.ordered() if t.rank >= calls.plan.tier.rank]  # never a weaker model's partial
        keys = {c.digest: [partial_key(c.digest, tier=t, prompt_version=version) for t in tiers] for c in summarized}
        stored = await self._partials.find(source.team_id, source.channel_id, [k for ks in keys.values() for k in ks])
        reused: dict[str, Partial] = {}
        for digest, candidates in keys.items():
            hit = next((stored[k] for k in candidates if k in stored), None)
            if hit is not None:
                reused[digest] = hit
        new = [c for c in summarized if c.digest not in reused]
        log.info(
            "summarizer.map_reduce",
            parts=len(chunks),
            summarized=len(summarized),
            reused=len(reused),
            lines=len(source.lines),
            budget_tokens=budget,
        )
        made: dict[str, str] = {}
        lanes = asyncio.Semaphore(self._settings.parallel_maps)

        async def summarize_part(number: int, chunk: Chunk) -> None:
            async with lanes:
                status = (
                    replies.SUMMARIZE_PROGRESS_REUSED_TEXT.format(part=number, parts=len(new), reused=len(reused))
                    if reused
                    else replies.SUMMARIZE_PROGRESS_TEXT.format(part=number, parts=len(new))
                )
                await output.progress(status)
                answered = await calls.run(map_prompt(chunk.texts), partial_tokens)
                made[chunk.digest] = answered.text
                await self._keep(source, chunk, answered.text, answered.generation, version)

        try:  # the parts are independent: a few at a time, so a summary with new parts still answers soon
            async with asyncio.TaskGroup() as group:
                for number, chunk in enumerate(new, start=1):
                    group.create_task(summarize_part(number, chunk))
        except BaseExceptionGroup as failed:  # the first failure (e.g. SummaryStopped) stops the others
            raise failed.exceptions[0] from None
        parts = [
            Part("\n".join(c.texts), quoted=True)
            if c.digest not in keys
            else Part(reused[c.digest].text if c.digest in reused else made[c.digest])
            for c in chunks
        ]
        final = await self._reduce(parts, source.what, calls, output, header, budget, answer_tokens)
        hits = list(reused.values())
        one_shot = single_prompt([line.text for line in source.lines], source.what)
        usage = Usage(estimate_prompt_tokens(one_shot), final.generation.completion_tokens, estimated=True)
        return Summary(
            final.text,
            Reuse(
                chunks=len(summarized),
                reused=len(hits),
                saved=sum((p.cost for p in hits), Decimal(0)),
                saved_ms=sum(p.latency_ms for p in hits),
                baseline=call_cost(self._catalog.baseline_model, usage),
                reused_tokens=sum(c.tokens for c in summarized if c.digest in reused),
            ),
        )

    async def _keep(self, source: Source, chunk: Chunk, text: str, generation: Generation, version: str) -> None:
        """Store a fresh partial under the tier of the model that wrote it (a cut one is not worth keeping)."""
        if generation.cut_at_length or generation.model is None:
            return
        tier = self._catalog.model(generation.model).tier
        partial = Partial(
            text=text,
            model=generation.model,
            tier=tier,
            cost=generation.cost,
            latency_ms=round(generation.latency_s * 1000),
        )
        key = partial_key(chunk.digest, tier=tier, prompt_version=version)
        await self._partials.keep(source.team_id, source.channel_id, key, partial, chunk.message_ts)

    async def _reduce(
        self,
        parts: list[Part],
        what: str,
        calls: ModelCalls,
        output: SummaryProgress,
        header: str,
        budget: int,
        answer_tokens: int,
    ) -> Answered:
        partial_tokens = self._partial_tokens(answer_tokens, budget)
        while True:
            groups = group_for_reduce(parts, budget, _part_tokens)
            await output.progress(replies.SUMMARIZE_COMBINING_TEXT.format(parts=len(parts)))
            if len(groups) == 1:
                output.append(f"{header}\n\n")
                return await calls.run(reduce_prompt(groups[0], what, final=True), answer_tokens, output.append)
            parts = [
                Part((await calls.run(reduce_prompt(group, what, final=False), partial_tokens)).text)
                for group in groups
            ]
