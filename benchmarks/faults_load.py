"""Load and faults together: does every mention still get one whole answer and one ledger row?

The real ``penny run`` gets @mentions arriving as a Poisson process (fixed seed; default 20 a second across 40
channels for 60 s) from the Slack emulator, which enforces Slack's limits (``chat.postMessage`` 1 a second per
channel; ``chat.update`` tier 3, ``chat.appendStream`` tier 4, ``chat.startStream``/``chat.stopStream`` tier 2,
per workspace). The OpenAI-compatible server streams 50 tokens a second after 2 s to the first token and fails a
seeded share of requests at random the way providers do: HTTP 429 with ``Retry-After``, 500, 502 (the edge's
``cf_bad_gateway``), 503, a stream that hangs after its first chunk, a stream cut after a few words. And the
benchmark's own ``redis-server`` (AOF, ``appendfsync always``) is SIGKILLed mid-run and restarted on the same port
after ``--redis-down-s``: commands wait for it (``PENNY_REDIS_RETRY_S``), Slack re-delivers events whose ack took
longer than 3 s, and ledger rows Redis could not take in time go through the local spool.

What is measured, per mention (by its event id and its thread):

* ``p99_placeholder_ms``: from the moment the event was delivered to Penny's first visible message in the thread;
* ``duplicates``: threads with more than one bot message (a second copy, a stray placeholder or stream);
* ``user_failures``: mentions whose thread, once the run has drained, does not show the complete answer exactly
  (formatted as Slack shows it: mrkdwn for edits, safe Markdown for native streams), or whose thread showed an
  error sentence (``:warning:``) at any time; an answer cut short with a note counts as a failure too;
* ``lost_ledger``: requests without exactly one ledger row, read from Redis after the spool has flushed
  (``penny_ledger_spool_rows`` back at 0); ``spooled``: ``penny_ledger_spooled_total``, rows that went through it.

A per-phase breakdown (before the kill, Redis down, after the restart) says where the time and the failures are.

    python benchmarks/faults_load.py [--rate 20] [--duration 60] [--channels 40] [--fault-rate 0.1]
        [--redis-kill-at 25] [--redis-down-s 10] [--seed 9]

Last line: ``RESULT faults_load events=N p99_placeholder_ms=F duplicates=0 lost_ledger=0 user_failures=0
spooled=N``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import SLACK_TIERS, apply_slack_tiers, machine_line, metric, pct, proc_usage, start_penny
from bot.redis.embedded import RedisServerProcess
from bot.redis.keys import ledger_stream_key
from bot.slack.formatting import to_markdown, to_mrkdwn
from tests.e2e.conftest import LLM_KEY, catalog_model_ids
from tests.e2e.penny_process import PennyProcess
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.openai_server.script import message_text
from tests.harness.slack_emulator import SlackEmulator
from tests.harness.slack_emulator.models import Delivery

QUESTION = re.compile(r"question (\d+):")
UNLIMITED = {  # Penny's own Slack budget, when the emulator enforces no limits
    "PENNY_SLACK_UPDATES_PER_MINUTE": "100000",
    "PENNY_SLACK_APPENDS_PER_MINUTE": "100000",
    "PENNY_SLACK_STREAM_STARTS_PER_MINUTE": "100000",
}
PHASES = ("before the kill", "redis down", "after the restart")


def answer_for(i: int) -> str:
    """A distinct Markdown answer for question ``i`` (about 45 tokens: a second of streaming at 50 a second)."""
    return (
        f"**Answer {i}:** the deploy window for service {i % 13} is Tuesday 14:{i % 60:02d} UTC.\n\n"
        f"- owner: team {i % 7}\n- runbook: `deploy.sh --service {i % 13}`\n\n"
        f"Reply here if the window moves (ref {i})."
    )


def model_answer(model: str, messages: Sequence[Mapping[str, Any]]) -> str:
    """The question's answer. A resumed request (a stream was cut) ends with "continue", so the question is looked
    up in the whole conversation, and the answer is given again from the start, as models often do: Penny drops
    what the user has already seen."""
    for message in reversed(messages):
        found = QUESTION.search(message_text(message)) if message.get("role") == "user" else None
        if found:
            return answer_for(int(found.group(1)))
    return "I can help with deploy windows."


def arrivals(rate: float, duration: float, seed: int) -> list[float]:
    """Poisson arrival times (seconds from the start) at ``rate`` a second for ``duration`` seconds."""
    rng = random.Random(seed)
    times: list[float] = []
    at = rng.expovariate(rate)
    while at < duration:
        times.append(at)
        at += rng.expovariate(rate)
    return times


@dataclass(frozen=True)
class Sent:
    index: int
    channel: str
    at: float  # seconds from the start of the run
    started: float  # monotonic, just before the event was delivered
    delivery: Delivery

    @property
    def expected(self) -> set[str]:
        return {to_mrkdwn(answer_for(self.index)), to_markdown(answer_for(self.index))}


@dataclass(frozen=True)
class Verdict:
    placeholder_s: float | None  # first visible bot message in the thread, after the event was delivered
    complete_s: float | None  # the complete answer visible
    replies: int  # bot messages in the thread
    saw_error: bool

    @property
    def failed(self) -> bool:
        return self.complete_s is None or self.saw_error


def judge(slack: SlackEmulator, sent: Sent) -> Verdict:
    replies = slack.bot_replies(sent.channel, sent.delivery.ts or "")
    histories = [slack.edit_history(sent.channel, r.ts) for r in replies]
    first = min((h[0].monotonic for h in histories if h), default=None)
    shown = [r.monotonic for h in histories for r in h if r.text in sent.expected]
    complete = min(shown) if shown and any(r.text in sent.expected for r in replies) else None
    saw_error = any(":warning:" in r.text for h in histories for r in h)
    return Verdict(
        None if first is None else first - sent.started,
        None if complete is None else complete - sent.started,
        len(replies),
        saw_error,
    )


def model_calls_for(llm: OpenAIServer, index: int) -> list[str]:
    """What the model server did with question ``index``'s requests: model, outcome, first token (s)."""
    marker = f"question {index}:"
    return [
        f"{r.model} {r.outcome} {r.status} ttft="
        + (f"{r.first_content_at - r.arrived_at:.1f}" if r.first_content_at else "-")
        + f" at {r.arrived_at:.1f}"
        for r in llm.chat_requests()
        if any(marker in message_text(m) for m in r.messages if m.get("role") == "user")
    ]


def phase_of(at: float, kill_at: float, restart_at: float) -> str:
    return PHASES[0] if at < kill_at else PHASES[1] if at < restart_at else PHASES[2]


async def drive(
    slack: SlackEmulator,
    channels: list[str],
    users: list[str],
    times: list[float],
    outage: tuple[float, float],
    server: RedisServerProcess,
) -> list[Sent]:
    """Send each mention at its arrival time; SIGKILL Redis at ``outage[0]`` and start it again at ``outage[1]``."""
    began = time.monotonic()

    async def one(i: int, at: float) -> Sent:
        await asyncio.sleep(max(0.0, began + at - time.monotonic()))
        channel = channels[i % len(channels)]
        started = time.monotonic()
        delivery = await slack.amention(channel, users[i % len(users)], f"question {i}: when is the deploy window?")
        return Sent(i, channel, at, started, delivery)

    async def chaos() -> None:
        await asyncio.sleep(max(0.0, began + outage[0] - time.monotonic()))
        server.kill()
        print(f"   redis-server SIGKILLed at {time.monotonic() - began:.1f} s", flush=True)
        await asyncio.sleep(max(0.0, began + outage[1] - time.monotonic()))
        await asyncio.to_thread(server.start)
        print(f"   redis-server back at {time.monotonic() - began:.1f} s", flush=True)

    killer = asyncio.create_task(chaos())
    sent = await asyncio.gather(*(one(i, at) for i, at in enumerate(times)))
    await killer
    return list(sent)


def ledger_ids(url: str, team_id: str) -> Counter[str]:
    client = redis.Redis.from_url(url)
    try:
        entries = cast(list[tuple[bytes, dict[bytes, bytes]]], client.xrange(ledger_stream_key(team_id)))
        return Counter(fields[b"request_id"].decode() for _, fields in entries)
    finally:
        client.close()


def wait_for_ledger(penny: PennyProcess, url: str, team_id: str, expected: int, timeout: float) -> Counter[str]:
    """The rows once the spool is empty and nothing more arrives (or the timeout passes)."""
    deadline = time.monotonic() + timeout
    rows = ledger_ids(url, team_id)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        again = ledger_ids(url, team_id)
        if metric(penny.port, "penny_ledger_spool_rows") == 0 and again == rows and sum(rows.values()) >= expected:
            break
        rows = again
    return ledger_ids(url, team_id)


def result_line(events: int, verdicts: list[Verdict], lost: int, spooled: int) -> str:
    placeholders = [v.placeholder_s for v in verdicts if v.placeholder_s is not None]
    return (
        f"RESULT faults_load events={events} p99_placeholder_ms={pct(placeholders, 99) * 1000:.1f} "
        f"duplicates={sum(v.replies > 1 for v in verdicts)} lost_ledger={lost} "
        f"user_failures={sum(v.failed for v in verdicts)} spooled={spooled}"
    )


def print_phases(sent: list[Sent], verdicts: list[Verdict], kill_at: float, restart_at: float) -> None:
    for phase in PHASES:
        rows = [(s, v) for s, v in zip(sent, verdicts, strict=True) if phase_of(s.at, kill_at, restart_at) == phase]
        if not rows:
            continue
        acks = [s.delivery.final.elapsed for s, _ in rows]
        shown = [v.placeholder_s for _, v in rows if v.placeholder_s is not None]
        done = [v.complete_s for _, v in rows if v.complete_s is not None]
        retried = sum(len(s.delivery.attempts) > 1 for s, _ in rows)
        print(
            f"   {phase:<18} {len(rows):5d} events; placeholder p50 {pct(shown, 50):6.2f} s "
            f"p99 {pct(shown, 99):6.2f} s;"
            f" complete p50 {pct(done, 50):6.2f} s p99 {pct(done, 99):6.2f} s; ack p99 {pct(acks, 99):5.2f} s;"
            f" re-delivered {retried}; failures {sum(v.failed for _, v in rows)};"
            f" duplicates {sum(v.replies > 1 for _, v in rows)}"
        )


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=20.0, help="mentions a second (Poisson)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of arrivals")
    parser.add_argument("--channels", type=int, default=40)
    parser.add_argument("--users", type=int, default=100, help="askers (Penny's per-user limits stay out of it)")
    parser.add_argument("--tokens-per-second", type=float, default=50.0)
    parser.add_argument("--ttft-s", type=float, default=2.0, help="model server's time to first token")
    parser.add_argument("--fault-rate", type=float, default=0.1, help="share of model requests that fail")
    parser.add_argument("--redis-kill-at", type=float, default=None, help="seconds in (default: 40%% of duration)")
    parser.add_argument("--redis-down-s", type=float, default=10.0)
    parser.add_argument("--redis-retry-s", type=float, default=60.0, help="PENNY_REDIS_RETRY_S")
    parser.add_argument("--mode", choices=["auto", "native", "edit"], default="auto", help="PENNY_STREAM_MODE")
    parser.add_argument(
        "--no-slack-limits",
        action="store_true",
        help="lift the emulator's limits (Penny's own behaviour under faults, apart from Slack's ceiling)",
    )
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--keep-log", type=Path, default=None, help="copy Penny's log (both processes) here")
    parser.add_argument("--timeout", type=float, default=600.0, help="how long the answers may take to drain")
    args = parser.parse_args(argv)
    print(machine_line())
    kill_at = args.duration * 0.4 if args.redis_kill_at is None else args.redis_kill_at
    restart_at = kill_at + args.redis_down_s
    times = arrivals(args.rate, args.duration, args.seed)

    with (
        tempfile.TemporaryDirectory() as tmp,
        SlackEmulator(ack_timeout=3.0) as slack,
        OpenAIServer(models=catalog_model_ids(), api_key=LLM_KEY) as llm,
    ):
        workdir = Path(tmp)
        server = RedisServerProcess(data_dir=workdir / "redis", appendfsync="always").start()
        penny: PennyProcess | None = None
        try:
            if not args.no_slack_limits:
                apply_slack_tiers(slack)
            llm.set_answer(ANY_MODEL, model_answer)
            llm.set_default_speed(args.tokens_per_second)
            llm.set_ttft(ANY_MODEL, args.ttft_s)
            users = [slack.add_user(f"user{i}").id for i in range(args.users)]
            channels = [slack.add_channel(f"load-{i}", members=users).id for i in range(args.channels)]
            env = {
                "PENNY_STREAM_MODE": args.mode,
                "PENNY_REDIS_RETRY_S": str(args.redis_retry_s),
                "PENNY_DATA_DIR": str(workdir / "data"),
                **(UNLIMITED if args.no_slack_limits else {}),
            }
            penny = start_penny(slack, llm, server.url, workdir, **env)
            llm.set_chaos(args.fault_rate, seed=args.seed)
            cpu_before, _ = proc_usage(penny.pid)
            began = time.monotonic()
            print(
                f"{len(times)} mentions at {args.rate:g}/s (Poisson, seed {args.seed}) over {args.channels} channels "
                f"for {args.duration:g} s; model {args.tokens_per_second:g} tokens/s after {args.ttft_s:g} s, "
                f"{args.fault_rate:.0%} of model requests failing; Redis killed at {kill_at:g} s for "
                f"{args.redis_down_s:g} s; mode {args.mode}",
                flush=True,
            )
            sent = asyncio.run(drive(slack, channels, users, times, (kill_at, restart_at), server))
            sending = time.monotonic() - began
            deadline = time.monotonic() + args.timeout
            pending = list(sent)  # until its answer is complete, or Penny has said it could not answer
            while pending and time.monotonic() < deadline:
                time.sleep(1.0)
                pending = [s for s in pending if not (v := judge(slack, s)).saw_error and v.complete_s is None]
            time.sleep(2.0)  # anything still in flight (a stray retry, a second copy) lands before judging
            drained = time.monotonic() - began
            verdicts = [judge(slack, s) for s in sent]
            spooled = int(metric(penny.port, "penny_ledger_spooled_total"))
            left_in_spool = int(metric(penny.port, "penny_ledger_spool_rows"))
            cpu_after, peak_mib = proc_usage(penny.pid)
            faults = Counter(
                f"{r.fault.kind.value}{'' if not r.fault.status else ' ' + str(r.fault.status)}"
                for r in llm.chat_requests()
                if r.fault is not None
            )
            model_calls = len(llm.chat_requests())
            by_model = Counter(r.model for r in llm.chat_requests())
            throttled = Counter(c.method for c in slack.calls() if c.status == 429)
            failed = [(s, v) for s, v in zip(sent, verdicts, strict=True) if v.failed or v.replies > 1]
            shown = {s.index: [r.text for r in slack.bot_replies(s.channel, s.delivery.ts or "")] for s, _ in failed}
            tried = {s.index: model_calls_for(llm, s.index) for s, _ in failed}
            if failed:
                print(penny.log_text()[-4000:])
            # The books are read after the run: this process stops (requests still in flight end now, and write
            # or spool their rows), and a fresh one on the same data directory flushes whatever is spooled.
            penny.stop()
            penny = start_penny(slack, llm, server.url, workdir, **env)
            rows = wait_for_ledger(penny, server.url, slack.team_id, len(sent), timeout=60.0)
            flushed = int(metric(penny.port, "penny_ledger_flushed_total"))
            at_shutdown = max(0, flushed - left_in_spool)  # rows the stopping process spooled
            spooled += at_shutdown
        finally:
            if penny is not None:
                penny.stop()
            server.stop()
            if args.keep_log is not None:
                shutil.copyfile(workdir / "penny.log", args.keep_log)

    ids = {s.delivery.event_id for s in sent}
    lost = sum(rows.get(event_id or "", 0) != 1 for event_id in ids)
    print(
        f"   sending {sending:.1f} s, drained at {drained:.1f} s; {model_calls} model requests "
        f"({', '.join(f'{m} {n}' for m, n in by_model.most_common())})"
    )
    if not args.no_slack_limits:
        finals = SLACK_TIERS["chat.update"] + SLACK_TIERS["chat.stopStream"]
        print(
            f"   Slack's ceiling: a final edit or stop per answer, {finals:.0f} a minute per workspace "
            f"(chat.update + chat.stopStream); arrivals {args.rate * 60:.0f} a minute"
        )
    print(
        f"   provider faults injected ({sum(faults.values())}): "
        f"{', '.join(f'{k} {v}' for k, v in sorted(faults.items()))}"
    )
    print(f"   Slack 429s: {', '.join(f'{m} {n}' for m, n in sorted(throttled.items())) or 'none'}")
    print(
        f"   ledger: {sum(rows.values())} rows for {len(ids)} requests ({len(set(rows) - ids)} for unknown ids); "
        f"spooled {spooled} ({at_shutdown} at shutdown), {flushed} flushed by the next process"
    )
    print(f"   penny process: {cpu_after - cpu_before:.1f} CPU s, peak RSS {peak_mib} MiB")
    print_phases(sent, verdicts, kill_at, restart_at)
    for s, v in failed[:20]:
        print(f"   not right: question {s.index} in {s.channel} at {s.at:.1f} s: {v}; shows {shown[s.index]!r}")
        print(f"      its model requests: {tried[s.index]}")
    line = result_line(len(sent), verdicts, lost, spooled)
    print(line)
    return line


if __name__ == "__main__":
    main()
