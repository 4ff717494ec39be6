"""Many conversations at once through the real ``penny run`` process, within Slack's rate limits.

DESIGN promises one asyncio process handles hundreds of concurrent conversations while acking every event within
3 s and never editing faster than Slack allows. This drives the real process with N simultaneous @mentions
against the local Slack emulator (with Slack's limits: ``chat.postMessage`` 1/s per channel, ``chat.update`` tier 3
— 50 a minute per workspace —, ``chat.appendStream`` tier 4 — 100 —, ``chat.startStream``/``chat.stopStream``
tier 2 — 20 each) and the local OpenAI-compatible server streaming a Markdown answer at a fixed token rate, and
prints:

* ack latency (Slack retries anything slower than 3 s);
* time until the placeholder, the first streamed words and the complete answer are visible;
* **final visible minus the model's last token**, per answer: what a busy workspace adds on top of the model;
* calls per method, 429s and the shortest gap between two changes of one message;
* the Penny process's CPU time and peak memory; whether every answer arrived complete and every request has
  exactly one ledger row.

    python benchmarks/streaming_load.py [--conversations 20] [--channels 10] [--mode auto|native|edit]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import apply_slack_tiers, live_parts, machine_line, pct, proc_usage, start_penny
from bot.redis.keys import ledger_stream_key
from bot.slack.formatting import to_markdown, to_mrkdwn
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator
from tests.harness.slack_emulator.models import Delivery

# Eight points that say different things (the quality checks would rightly fail eight copies of one sentence).
_REGIONS = ("Nordics", "Iberia", "Benelux", "Canada", "Brazil", "Japan", "India", "Australia")
_OWNERS = ("Ana", "Ben", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana")
ANSWER = "\n\n".join(
    [
        "**Short version:** the rollout moves by one week per region, and owners confirm by Friday.",
        *(
            f"Point {i}: the {_REGIONS[i]} rollout moves to week {i % 4 + 1}; {_OWNERS[i]} confirms by Friday."
            for i in range(4)
        ),
        "- EU and UK go first\n- the US follows on the Monday after\n- APAC last, with `rollout.sh --region apac`",
        *(f"Point {i}: {_OWNERS[i]} moves {_REGIONS[i]} to week {i % 4 + 1}." for i in range(4, 8)),
    ]
)
EXPECTED = {to_mrkdwn(ANSWER), to_markdown(ANSWER)}  # the answer as edits show it, or as a native stream does
FIRST_WORDS = "Short version"


@dataclass(frozen=True)
class Sent:
    started: float  # monotonic, just before the event was delivered
    channel: str
    delivery: Delivery
    marker: str  # the question's own words, to find its model call


def _budget_env(args: argparse.Namespace) -> dict[str, str]:
    """Penny's own budget is told Slack's tiers (or, without limits, effectively none)."""
    unlimited = "100000"
    return {
        "PENNY_SLACK_UPDATES_PER_MINUTE": unlimited if args.no_slack_limits else str(args.updates_per_minute),
        "PENNY_SLACK_APPENDS_PER_MINUTE": unlimited if args.no_slack_limits else str(args.appends_per_minute),
        "PENNY_SLACK_STREAM_STARTS_PER_MINUTE": (
            unlimited if args.no_slack_limits else str(args.stream_starts_per_minute)
        ),
    }


def _last_token(llm: OpenAIServer, marker: str) -> float:
    """When the model server wrote the last token of this question's answer (monotonic, this process's clock)."""
    times = [r.finished_at for r in llm.chat_requests() if marker in r.last_user_message and r.finished_at]
    return max(times) if times else float("nan")


def _line(name: str, values: list[float]) -> str:
    return f"   {name:<26} p50 {pct(values, 50):7.2f} s   p99 {pct(values, 99):7.2f} s   max {max(values):7.2f} s"


async def _drive(slack: SlackEmulator, channels: list[str], users: list[str], n: int) -> list[Sent]:
    async def one(i: int) -> Sent:
        channel = channels[i % len(channels)]
        marker = f"what changed in the rollout plan, part {i}?"
        started = time.monotonic()
        delivery = await slack.amention(channel, users[i % len(users)], marker)
        return Sent(started, channel, delivery, marker)

    return await asyncio.gather(*(one(i) for i in range(n)))


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--tokens-per-second", type=float, default=30.0, help="model streaming speed")
    parser.add_argument("--updates-per-minute", type=float, default=50.0, help="Slack's chat.update tier")
    parser.add_argument("--appends-per-minute", type=float, default=100.0, help="Slack's chat.appendStream tier")
    parser.add_argument("--stream-starts-per-minute", type=float, default=20.0, help="chat.start/stopStream tier")
    parser.add_argument("--mode", choices=["auto", "native", "edit"], default="auto", help="PENNY_STREAM_MODE")
    parser.add_argument(
        "--no-slack-limits",
        action="store_true",
        help="lift the emulator's limits (process capacity, as if spread over many workspaces)",
    )
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    print(machine_line())

    with live_parts() as parts:
        slack, llm, server, workdir = parts.slack, parts.llm, parts.redis, parts.workdir
        if not args.no_slack_limits:
            apply_slack_tiers(
                slack,
                {
                    "chat.update": args.updates_per_minute,
                    "chat.appendStream": args.appends_per_minute,
                    "chat.startStream": args.stream_starts_per_minute,
                    "chat.stopStream": args.stream_starts_per_minute,
                },
            )
        llm.set_answer(ANY_MODEL, ANSWER)
        llm.set_default_speed(args.tokens_per_second)
        users = [slack.add_user(f"user{i}").id for i in range(20)]
        channels = [slack.add_channel(f"load-{i}", members=users).id for i in range(args.channels)]
        penny = parts.penny = start_penny(
            slack, llm, server.url, workdir, PENNY_STREAM_MODE=args.mode, **_budget_env(args)
        )
        cpu_before, _ = proc_usage(penny.pid)

        began = time.monotonic()
        sent = asyncio.run(_drive(slack, channels, users, args.conversations))
        acks = [s.delivery.final.elapsed for s in sent]
        placeholder, first_text, final, after_last_token = [], [], [], []
        native = 0
        deadline = time.monotonic() + args.timeout
        pending = list(sent)
        while pending and time.monotonic() < deadline:
            still = []
            for item in pending:
                replies = slack.bot_replies(item.channel, item.delivery.ts or "")
                if len(replies) == 1 and replies[0].text in EXPECTED:
                    history = slack.edit_history(item.channel, replies[0].ts)
                    shown = next(r for r in history if r.text in EXPECTED).monotonic
                    placeholder.append(history[0].monotonic - item.started)
                    first_text.append(next(r for r in history if FIRST_WORDS in r.text).monotonic - item.started)
                    final.append(shown - item.started)
                    after_last_token.append(shown - _last_token(llm, item.marker))
                    native += slack.is_streamed(item.channel, replies[0].ts)
                else:
                    still.append(item)
            pending = still
            time.sleep(0.5)
        elapsed = time.monotonic() - began
        cpu_after, peak_mib = proc_usage(penny.pid)
        updates = slack.calls("chat.update")
        calls = [c for c in slack.calls() if c.method.startswith("chat.")]
        throttled = [c for c in slack.calls() if c.status == 429]
        gaps = []
        for message in slack.bot_messages():
            revisions = slack.edit_history(message.channel, message.ts)
            gaps.extend(b.monotonic - a.monotonic for a, b in itertools.pairwise(revisions))
        ledger_rows = redis.Redis.from_url(server.url).xlen(ledger_stream_key(slack.team_id))

    n = args.conversations
    limits = (
        "none (process capacity)"
        if args.no_slack_limits
        else (
            f"chat.postMessage 1/s per channel, chat.update {args.updates_per_minute:.0f}/min, chat.appendStream "
            f"{args.appends_per_minute:.0f}/min, chat.start/stopStream {args.stream_starts_per_minute:.0f}/min each"
        )
    )
    print(
        f"{n} concurrent @mentions over {args.channels} channels, mode {args.mode}; model "
        f"{args.tokens_per_second:.0f} tokens/s, answer {len(ANSWER)} chars; Slack limits: {limits}"
    )
    print(_line("ack", acks))
    print(_line("placeholder visible", placeholder))
    print(_line("first words visible", first_text))
    print(_line("complete answer", final))
    print(_line("final - model's last token", after_last_token))
    print(
        f"   complete answers {len(final)}/{n} ({native} natively streamed); ledger rows {ledger_rows}; "
        f"wall time {elapsed:.1f} s"
    )
    by_method = ", ".join(f"{m} {sum(c.method == m for c in throttled)}" for m in sorted({c.method for c in throttled}))
    per_method = ", ".join(f"{m} {sum(c.method == m for c in calls)}" for m in sorted({c.method for c in calls}))
    print(
        f"   calls: {per_method}; chat.update {len(updates) / n:.1f} per answer; 429s {len(throttled)} "
        f"({by_method or 'none'}); shortest gap between changes of one message "
        f"{min(gaps) if gaps else float('nan'):.2f} s"
    )
    print(f"   penny process: {cpu_after - cpu_before:.1f} CPU s for the run, peak RSS {peak_mib} MiB")
    line = (
        f"RESULT streaming_load n={n} mode={args.mode} ack_p99_s={pct(acks, 99):.3f} "
        f"first_words_p50_s={pct(first_text, 50):.2f} complete_p99_s={pct(final, 99):.2f} "
        f"final_after_last_token_p99_s={pct(after_last_token, 99):.2f} complete={len(final)} "
        f"ledger_rows={ledger_rows} http_429={len(throttled)}"
    )
    print(line)
    return line


if __name__ == "__main__":
    main()
