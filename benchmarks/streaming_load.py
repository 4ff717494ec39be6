"""Many conversations at once through the real ``penny run`` process, within Slack's rate limits.

DESIGN promises one asyncio process handles hundreds of concurrent conversations while acking every event within
3 s and never editing faster than Slack allows. This drives the real process with N simultaneous @mentions
against the local Slack emulator (with Slack-like limits: ``chat.postMessage`` 1/s per channel, ``chat.update`` a
workspace-wide tier-3 budget) and the local OpenAI-compatible server streaming at a fixed token rate, and prints:

* ack latency (Slack retries anything slower than 3 s);
* time until the placeholder, the first streamed words and the complete answer are visible;
* ``chat.update`` calls, 429s and the shortest gap between two edits of one message;
* the Penny process's CPU time and peak memory; whether every answer arrived complete and every request has
  exactly one ledger row.

    python benchmarks/streaming_load.py [--conversations 100] [--channels 50] [--tokens-per-second 30]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.redis.embedded import RedisServerProcess
from bot.redis.keys import ledger_stream_key
from tests.e2e.conftest import LLM_KEY, LLM_KEY_ENV, catalog_model_ids, write_test_catalog
from tests.e2e.penny_process import PennyProcess
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator
from tests.harness.slack_emulator.models import Delivery

ANSWER = " ".join(
    f"Point {i}: the rollout for region {i % 7} moves to week {i % 4 + 1}, owners confirm by Friday." for i in range(12)
)


@dataclass(frozen=True)
class Sent:
    started: float  # monotonic, just before the event was delivered
    channel: str
    delivery: Delivery


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _line(name: str, values: list[float]) -> str:
    return f"   {name:<26} p50 {_pct(values, 50):7.2f} s   p99 {_pct(values, 99):7.2f} s   max {max(values):7.2f} s"


def _proc_usage(pid: int) -> tuple[float, int]:
    """CPU seconds (user + system) and peak resident memory in MiB of a live process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    peak = next(
        int(line.split()[1])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmHWM")
    )
    return cpu, peak // 1024


async def _drive(slack: SlackEmulator, channels: list[str], users: list[str], n: int) -> list[Sent]:
    async def one(i: int) -> Sent:
        channel = channels[i % len(channels)]
        started = time.monotonic()
        delivery = await slack.amention(channel, users[i % len(users)], f"what changed in the rollout plan, part {i}?")
        return Sent(started, channel, delivery)

    return await asyncio.gather(*(one(i) for i in range(n)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--tokens-per-second", type=float, default=30.0, help="model streaming speed")
    parser.add_argument("--updates-per-minute", type=float, default=50.0, help="Slack's chat.update budget")
    parser.add_argument(
        "--no-slack-limits",
        action="store_true",
        help="lift the emulator's limits (process capacity, as if spread over many workspaces)",
    )
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}")

    with (
        tempfile.TemporaryDirectory() as tmp,
        SlackEmulator(ack_timeout=3.0) as slack,
        OpenAIServer(models=catalog_model_ids(), api_key=LLM_KEY) as llm,
    ):
        workdir = Path(tmp)
        server = RedisServerProcess(data_dir=workdir / "redis").start()
        penny: PennyProcess | None = None
        try:
            if not args.no_slack_limits:
                slack.set_rate_limit("chat.postMessage", per_second=1, per_channel=True)
                slack.set_rate_limit("chat.update", per_minute=args.updates_per_minute)
            llm.set_answer(ANY_MODEL, ANSWER)
            llm.set_default_speed(args.tokens_per_second)
            users = [slack.add_user(f"user{i}").id for i in range(20)]
            channels = [slack.add_channel(f"load-{i}", members=users).id for i in range(args.channels)]
            penny = PennyProcess(
                env={
                    "PENNY_SLACK_BOT_TOKEN": slack.bot_token,
                    "PENNY_SLACK_SIGNING_SECRET": slack.signing_secret,
                    "PENNY_SLACK_API_URL": slack.base_url,
                    "PENNY_REDIS_URL": server.url,
                    "PENNY_CATALOG": str(write_test_catalog(workdir / "catalog.yaml", llm.base_url)),
                    LLM_KEY_ENV: LLM_KEY,
                    "PENNY_LOG_LEVEL": "WARNING",
                    "PENNY_CACHE_ENABLED": "false",
                    "PENNY_SLACK_UPDATES_PER_MINUTE": str(100_000 if args.no_slack_limits else args.updates_per_minute),
                },
                log_path=workdir / "penny.log",
            ).start()
            slack.events_url = penny.events_url
            cpu_before, _ = _proc_usage(penny.pid)

            began = time.monotonic()
            sent = asyncio.run(_drive(slack, channels, users, args.conversations))
            acks = [s.delivery.final.elapsed for s in sent]
            placeholder, first_text, final = [], [], []
            deadline = time.monotonic() + args.timeout
            pending = list(sent)
            while pending and time.monotonic() < deadline:
                still = []
                for item in pending:
                    replies = slack.bot_replies(item.channel, item.delivery.ts or "")
                    if replies and replies[0].text == ANSWER:
                        history = slack.edit_history(item.channel, replies[0].ts)
                        placeholder.append(history[0].monotonic - item.started)
                        first_text.append(next(r for r in history if ANSWER[:20] in r.text).monotonic - item.started)
                        final.append(next(r for r in history if r.text == ANSWER).monotonic - item.started)
                    else:
                        still.append(item)
                pending = still
                time.sleep(0.5)
            elapsed = time.monotonic() - began
            cpu_after, peak_mib = _proc_usage(penny.pid)
            updates = slack.calls("chat.update")
            throttled = [c for c in slack.calls() if c.status == 429]
            gaps = []
            for message in slack.bot_messages():
                revisions = slack.edit_history(message.channel, message.ts)
                gaps.extend(b.monotonic - a.monotonic for a, b in itertools.pairwise(revisions))
            ledger_rows = redis.Redis.from_url(server.url).xlen(ledger_stream_key(slack.team_id))
        finally:
            if penny is not None:
                penny.stop()
            server.stop()

    n = args.conversations
    limits = (
        "none (process capacity)"
        if args.no_slack_limits
        else f"chat.postMessage 1/s per channel, chat.update {args.updates_per_minute:.0f}/min per workspace"
    )
    print(
        f"{n} concurrent @mentions over {args.channels} channels; model {args.tokens_per_second:.0f} tokens/s, "
        f"answer {len(ANSWER)} chars; Slack limits: {limits}"
    )
    print(_line("ack", acks))
    print(_line("placeholder visible", placeholder))
    print(_line("first words visible", first_text))
    print(_line("complete answer", final))
    print(f"   complete answers {len(final)}/{n}; ledger rows {ledger_rows}; wall time {elapsed:.1f} s")
    by_method = ", ".join(f"{m} {sum(c.method == m for c in throttled)}" for m in sorted({c.method for c in throttled}))
    print(
        f"   chat.update calls {len(updates)} ({len(updates) / n:.1f} per answer), 429s {len(throttled)} "
        f"({by_method or 'none'}), "
        f"shortest gap between edits of one message {min(gaps) if gaps else float('nan'):.2f} s"
    )
    print(f"   penny process: {cpu_after - cpu_before:.1f} CPU s for the run, peak RSS {peak_mib} MiB")
    print(
        f"RESULT streaming_load n={n} ack_p99_s={_pct(acks, 99):.3f} first_words_p50_s={_pct(first_text, 50):.2f} "
        f"complete_p99_s={_pct(final, 99):.2f} complete={len(final)} ledger_rows={ledger_rows} "
        f"http_429={len(throttled)}"
    )


if __name__ == "__main__":
    main()
