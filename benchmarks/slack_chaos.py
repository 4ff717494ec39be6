"""Slack misbehaving while the real ``penny run`` answers N concurrent mentions: does every answer arrive, whole?

The Slack emulator fails a fixed-seed share of the calls that show replies (``chat.postMessage``, ``chat.update``,
``chat.startStream``, ``chat.appendStream``, ``chat.stopStream``) with what Slack really does: ``internal_error``,
``fatal_error`` *after* doing the work (its documented risk), HTTP 429 with ``Retry-After``, an HTTP 503 outage
page, ``message_not_found`` (the message was deleted) and slow answers. Each mention gets its own Markdown answer
(code, a list, a link), so every visible message can be traced to its question. Then, per answer:

* ``complete``: the thread shows the whole answer;
* ``exact``: the thread shows exactly one reply and its text is the model's text after formatting (``mrkdwn`` for
  edited messages, safe Markdown for native streams);
* ``duplicates``: replies beyond the one (a second copy of the answer, a leftover placeholder, a stray stream);
* ``ledger_rows`` and ``ledger_matches_budget``: one ledger row per request, and the rows' costs add up to exactly
  what the workspace budget counter settled.

    python benchmarks/slack_chaos.py [--answers 100] [--fault-rate 0.1] [--seed 8] [--mode auto]

Last line: ``RESULT slack_chaos answers=N complete=N exact=N duplicates=0 ledger_rows=N ledger_matches_budget=true``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import live_parts, machine_line, start_penny
from bot.ledger import Ledger
from bot.slack.formatting import to_markdown, to_mrkdwn
from routing.catalog import load_catalog
from routing.spend.budget import Budget
from tests.harness.slack_emulator import SlackEmulator
from tests.harness.slack_emulator.models import Delivery

DELIVERY_METHODS = ("chat.postMessage", "chat.update", "chat.startStream", "chat.appendStream", "chat.stopStream")


def answer_for(i: int) -> str:
    """A distinct, realistic Markdown answer for question ``i``."""
    return (
        f"**Answer {i}:** the job runs nightly at 02:{i % 60:02d} UTC & retries twice.\n\n"
        f"To run it by hand:\n\n```bash\n./jobs/run.sh --id {i} --dry-run  # safe: prints the plan < 1 s\n```\n\n"
        f"- owner: team {i % 7}\n- dashboard: [status page](https://status.example.com/jobs/{i})\n\n"
        f"Ping me if it fails again (ref {i})."
    )


@dataclass(frozen=True)
class Asked:
    index: int
    channel: str
    delivery: Delivery

    @property
    def expected(self) -> set[str]:
        return {to_mrkdwn(answer_for(self.index)), to_markdown(answer_for(self.index))}


@dataclass(frozen=True)
class Verdict:
    complete: bool
    exact: bool
    extra: int  # replies beyond the one answer


def judge(slack: SlackEmulator, asked: Asked) -> Verdict:
    texts = [m.text for m in slack.bot_replies(asked.channel, asked.delivery.ts or "")]
    expected = asked.expected
    complete = any(text in expected for text in texts)
    return Verdict(complete, complete and len(texts) == 1, max(0, len(texts) - 1))


async def ask_all(slack: SlackEmulator, channels: list[str], users: list[str], n: int) -> list[Asked]:
    async def one(i: int) -> Asked:
        channel = channels[i % len(channels)]
        delivery = await slack.amention(channel, users[i % len(users)], f"question {i}: when does the job run?")
        return Asked(i, channel, delivery)

    return await asyncio.gather(*(one(i) for i in range(n)))


async def ledger_totals(redis_url: str, team_id: str, catalog: Path) -> tuple[int, Decimal, Decimal]:
    redis = aioredis.Redis.from_url(redis_url)
    try:
        rows = await Ledger(redis).entries(team_id)
        state = await Budget(redis, load_catalog(catalog).policy.budgets).state(team_id)
    finally:
        await redis.aclose()
    month = next((v for k, v in state.spent.items() if k.startswith("month:")), Decimal(0))
    return len(rows), sum((r.cost_usd for r in rows), Decimal(0)), month


def result_line(n: int, verdicts: list[Verdict], rows: int, matches: bool) -> str:
    return (
        f"RESULT slack_chaos answers={n} complete={sum(v.complete for v in verdicts)} "
        f"exact={sum(v.exact for v in verdicts)} duplicates={sum(v.extra for v in verdicts)} ledger_rows={rows} "
        f"ledger_matches_budget={'true' if matches else 'false'}"
    )


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=100)
    parser.add_argument("--channels", type=int, default=25)
    parser.add_argument("--fault-rate", type=float, default=0.1, help="share of delivery calls that fail")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--mode", choices=["auto", "native", "edit"], default="auto", help="PENNY_STREAM_MODE")
    parser.add_argument("--tokens-per-second", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    print(machine_line())

    with live_parts() as parts:
        slack, llm, server, workdir = parts.slack, parts.llm, parts.redis, parts.workdir
        for i in range(args.answers):
            llm.add_rule(f"question {i}:", answer_for(i))
        llm.set_default_speed(args.tokens_per_second)
        users = [slack.add_user(f"user{i}").id for i in range(10)]
        channels = [slack.add_channel(f"chaos-{i}", members=users).id for i in range(args.channels)]
        penny = parts.penny = start_penny(
            slack, llm, server.url, workdir, PENNY_STREAM_MODE=args.mode, PENNY_STREAM_UPDATE_INTERVAL_S="0.5"
        )
        catalog = workdir / "catalog.yaml"  # written by start_penny
        slack.set_chaos(args.fault_rate, seed=args.seed, methods=DELIVERY_METHODS)

        began = time.monotonic()
        asked = asyncio.run(ask_all(slack, channels, users, args.answers))
        deadline = began + args.timeout
        rows = 0
        while time.monotonic() < deadline:
            rows, _, _ = asyncio.run(ledger_totals(server.url, slack.team_id, catalog))
            if rows >= args.answers and all(judge(slack, a).complete for a in asked):
                break
            time.sleep(1.0)
        time.sleep(2.0)  # let anything still in flight (a stop, a stray retry) land before judging
        elapsed = time.monotonic() - began
        verdicts = [judge(slack, a) for a in asked]
        rows, ledger_cost, budget_cost = asyncio.run(ledger_totals(server.url, slack.team_id, catalog))
        injected = Counter(f"{i.method} {i.fault.label}" for i in slack.injected())
        calls = Counter(c.method for c in slack.calls() if c.method in DELIVERY_METHODS)
        streamed = sum(
            slack.is_streamed(a.channel, m.ts) for a in asked for m in slack.bot_replies(a.channel, a.delivery.ts or "")
        )
        if penny is not None and any(not v.exact for v in verdicts):
            print(penny.log_text()[-5000:])

    n = args.answers
    print(
        f"{n} concurrent mentions over {args.channels} channels, mode {args.mode}, {args.fault_rate:.0%} of delivery "
        f"calls failing (seed {args.seed}); wall time {elapsed:.1f} s"
    )
    print(f"   delivery calls: {', '.join(f'{m} {c}' for m, c in sorted(calls.items()))}")
    print(
        f"   faults injected ({sum(injected.values())}): {', '.join(f'{k} {v}' for k, v in sorted(injected.items()))}"
    )
    print(f"   replies that began as native streams: {streamed}")
    for asked_one, verdict in zip(asked, verdicts, strict=True):
        if not verdict.exact:
            print(f"   not exact: question {asked_one.index} in {asked_one.channel}: {verdict}")
    print(f"   ledger: {rows} rows costing ${ledger_cost}; budget counter settled ${budget_cost}")
    line = result_line(n, verdicts, rows, ledger_cost == budget_cost)
    print(line)
    return line


if __name__ == "__main__":
    main()
