"""The digest as a Slack message: Block Kit blocks plus a plain fallback line for notifications.

Only figures, tier and model names appear here — never a question or an answer — so the digest can go to a
channel wider than the ones the requests came from. Money is printed to four decimals (``$0.0123``), rounded
half-even from the exact ``Decimal``; an amount too small to show is printed as ``<$0.0001``, never as ``$0.0000``.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from bot.digest.report import Digest, Spend, Votes, WeekFigures
from vocabulary import Tier

SHOWN = Decimal("0.0001")
_ESCALATION_LABELS = {"repetition": "looped", "leaked_tokens": "leaked template tokens", "refusal": "empty refusal"}
_OUTCOME_LABELS = {
    "answered": "answered",
    "cache_hit": "from cache",
    "failed": "failed",
    "refused": "refused",
    "help": "help",
}


def usd(amount: Decimal) -> str:
    shown = amount.quantize(SHOWN, rounding=ROUND_HALF_EVEN)
    if amount and not shown:
        return "<$0.0001" if amount > 0 else "-<$0.0001"
    return f"-${-shown}" if shown < 0 else f"${shown}"


def percent(share: Decimal | float | None) -> str:
    return "n/a" if share is None else f"{Decimal(str(share)) * 100:.1f}%"


def change(now: Decimal | int, before: Decimal | int) -> str:
    """Week-over-week change, e.g. ``▲ 12.5%``; ``new`` when last week was zero."""
    if not before:
        return "new" if now else "="
    delta = (Decimal(now) - Decimal(before)) / Decimal(before) * 100
    if delta == 0:
        return "= 0%"
    return f"{'▲' if delta > 0 else '▼'} {abs(delta):.1f}%"


def tier_order(names: list[str]) -> list[str]:
    """Cheapest tier first, then anything the ledger knows that the catalog no longer does."""
    known = [t.value for t in Tier.ordered() if t.value in names]
    return known + sorted(n for n in names if n not in known)


def _date_range(digest: Digest) -> str:
    first, last = digest.start.date(), (digest.end - timedelta(days=1)).date()
    return f"{first:%a %d %b} – {last:%a %d %b %Y} ({digest.start.tzinfo})"


def fallback_text(digest: Digest) -> str:
    now = digest.current
    if now.requests == 0:
        return f"Penny weekly digest {digest.week}: no requests this week."
    return (
        f"Penny weekly digest {digest.week}: {_plural(now.requests, 'request')}, {usd(now.cost_usd)} spent, "
        f"{usd(now.savings_usd)} saved ({percent(now.savings_share)}) against {digest.baseline_model}."
    )


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _spend_lines(groups: dict[str, Spend], order: list[str], baseline_model: str) -> str:
    return "\n".join(
        f"• `{name}` {usd(groups[name].cost_usd)} · {_plural(groups[name].requests, 'request')} · "
        f"{usd(groups[name].baseline_usd)} on {baseline_model}"
        for name in order
    )


def _vote_line(name: str, votes: Votes) -> str:
    return f"• `{name}` 👍 {votes.good} · 👎 {votes.bad} · {percent(votes.good_share)} 👍"


def _summary(now: WeekFigures, before: WeekFigures | None, baseline_model: str) -> dict[str, Any]:
    def vs(value: Decimal | int, old: Decimal | int) -> str:
        return f" ({change(value, old)} vs last week)" if before is not None else ""

    fields = [
        f"*Requests*\n{now.requests}{vs(now.requests, before.requests if before else 0)}",
        f"*Spend*\n{usd(now.cost_usd)}{vs(now.cost_usd, before.cost_usd if before else 0)}",
        f"*All on {baseline_model}*\n{usd(now.baseline_usd)}",
        f"*Saved*\n{usd(now.savings_usd)} ({percent(now.savings_share)})",
    ]
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": text} for text in fields]}


def digest_blocks(digest: Digest) -> list[dict[str, Any]]:
    now, before = digest.current, digest.previous
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Penny weekly digest · {digest.week}"}},
        _context(_date_range(digest)),
    ]
    if now.requests == 0:
        blocks.append(_section("No requests this week, so nothing was spent."))
        if before is not None:
            blocks.append(_context(f"Last week: {_plural(before.requests, 'request')}, {usd(before.cost_usd)} spent."))
        return blocks
    blocks.append(_summary(now, before, digest.baseline_model))
    outcomes = " · ".join(f"{count} {_OUTCOME_LABELS.get(name, name)}" for name, count in now.outcomes.items())
    blocks.append(_context(outcomes))
    if now.by_tier:
        blocks.append(
            _section(
                "*Spend by tier*\n" + _spend_lines(now.by_tier, tier_order(list(now.by_tier)), digest.baseline_model)
            )
        )
    if now.by_model:
        by_cost = sorted(now.by_model, key=lambda name: (-now.by_model[name].cost_usd, name))
        blocks.append(_section("*Spend by model*\n" + _spend_lines(now.by_model, by_cost, digest.baseline_model)))
    if now.cache_hits:
        blocks.append(
            _section(
                f"*Cache* ⚡ {now.cache_hits} answered from cache, {usd(now.cache_baseline_usd)} not spent on "
                f"{digest.baseline_model}"
            )
        )
    if now.cached_tokens:
        blocks.append(
            _context(
                f"Prompt cache: {percent(now.cached_share)} of prompt tokens "
                f"({now.cached_tokens:,} of {now.prompt_tokens:,}) were billed at the providers' cached price."
            )
        )
    if now.chunks_reused:
        blocks.append(
            _context(
                f"Summaries: {now.chunks_reused} of {now.summary_chunks} parts were reused from earlier summaries "
                f"instead of summarized again, {usd(now.reuse_saved_usd)} not spent twice."
            )
        )
    if now.escalations:
        blocks.append(_section(_escalations(now.escalations)))
    problems = [f"{now.outcomes.get(name, 0)} {name}" for name in ("failed", "refused") if now.outcomes.get(name)]
    if problems:
        blocks.append(_context("⚠️ " + " · ".join(problems)))
    blocks.append(_quality(now))
    blocks.append(
        _context(
            "Savings compare what was spent with sending every request, cache hits included, to "
            f"{digest.baseline_model}."
        )
    )
    return blocks


def _escalations(by_model: dict[str, dict[str, int]]) -> str:
    """Answers a model gave that failed the quality checks, so a dearer tier answered (or finished) instead."""
    lines = ["*Escalations* answers that failed a quality check and went a tier up"]
    for model in sorted(by_model, key=lambda name: (-sum(by_model[name].values()), name)):
        reasons = by_model[model]
        detail = " · ".join(f"{count} {_ESCALATION_LABELS.get(reason, reason)}" for reason, count in reasons.items())
        lines.append(f"• `{model}` {sum(reasons.values())} ({detail})")
    return "\n".join(lines)


def _quality(now: WeekFigures) -> dict[str, Any]:
    if now.votes.total == 0:
        return _section("*Quality* no 👍/👎 reactions this week")
    lines = [f"*Quality* 👍 {now.votes.good} · 👎 {now.votes.bad} · {percent(now.votes.good_share)} 👍"]
    lines += ["_by tier_"] + [_vote_line(t, now.votes_by_tier[t]) for t in tier_order(list(now.votes_by_tier))]
    lines += ["_by model_"] + [_vote_line(m, now.votes_by_model[m]) for m in sorted(now.votes_by_model)]
    return _section("\n".join(lines))
