"""An idle Penny is idle: CPU and Redis commands of the real ``penny run`` while nobody asks anything.

Every background loop (cache change-stream tail and sweep, digest scheduler, claims, the HTTP server) runs in
the process this starts, with the semantic cache and learned routing on (so MiniLM is loaded), against the local
Slack emulator, the local OpenAI-compatible server and a real redis-server. Two runs:

* **empty** — a fresh install: empty Redis, no team has a cache entry yet;
* **cached** — three questions are answered (and cached) first, so there are change streams to follow.

Each run waits until ``/readyz`` says the model and indexes are loaded, lets start-up work settle, then measures
the process's CPU time (``/proc/<pid>/stat``) and Redis's ``total_commands_processed`` over ``--seconds`` of
silence. The last line is ``RESULT idle cpu_pct=F redis_ops_per_s=F``: the worse run's figures.

    python benchmarks/idle.py [--seconds 60] [--settle 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import live_parts, start_penny
from tests.e2e.penny_process import PennyProcess
from tests.harness.openai_server import ANY_MODEL
from tests.harness.slack_emulator import SlackEmulator

QUESTIONS = ("where is the expense policy?", "who approves travel requests?", "when is the next offsite?")


@dataclass(frozen=True)
class IdleFigures:
    run: str
    seconds: float
    cpu_pct: float  # of one core
    redis_ops_per_s: float
    top_commands: str


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_ready(penny: PennyProcess, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{penny.port}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError("penny never became ready")


def _ask(slack: SlackEmulator, channel: str, user: str) -> None:
    """Answer (and so cache) a few questions through the real Slack path."""
    for question in QUESTIONS:
        delivery = slack.mention(channel, user, question)
        slack.wait_for(
            lambda d=delivery: any(
                "You asked" in m.text and "▍" not in m.text for m in slack.bot_replies(channel, d.ts or "")
            ),
            timeout=60,
            what=f"an answer to {question!r}",
        )


def _measure(name: str, penny: PennyProcess, client: redis.Redis, seconds: float) -> IdleFigures:
    client.config_resetstat()
    before_ops = int(client.info("stats")["total_commands_processed"])
    cpu_before, began = _cpu_seconds(penny.pid), time.monotonic()
    time.sleep(seconds)
    cpu_after, elapsed = _cpu_seconds(penny.pid), time.monotonic() - began
    after_ops = int(client.info("stats")["total_commands_processed"])
    stats = client.info("commandstats")
    ours = {"cmdstat_info", "cmdstat_config|resetstat", "cmdstat_config"}
    calls = sorted(
        ((k.removeprefix("cmdstat_"), int(v["calls"])) for k, v in stats.items() if k not in ours),
        key=lambda kv: -kv[1],
    )
    own_calls = 2  # the two INFO stats calls above; CONFIG RESETSTAT ran before the first count
    ops = max(after_ops - before_ops - own_calls, 0)
    return IdleFigures(
        name,
        elapsed,
        100.0 * (cpu_after - cpu_before) / elapsed,
        ops / elapsed,
        ", ".join(f"{c} {n}" for c, n in calls[:5]) or "none",
    )


def _run(name: str, *, seconds: float, settle: float, warm_cache: bool) -> IdleFigures:
    with live_parts() as parts:
        slack, llm, server, workdir = parts.slack, parts.llm, parts.redis, parts.workdir
        user = slack.add_user("alice").id
        channel = slack.add_channel("general", members=[user]).id
        digest = slack.add_channel("costs", members=[user]).id
        llm.set_fallback(lambda model, messages: "You asked a good question; here is the answer.")
        llm.set_answer(ANY_MODEL, "You asked a good question; here is the answer.")
        penny = parts.penny = start_penny(
            slack, llm, server.url, workdir, learned=True, PENNY_CACHE_ENABLED="true", PENNY_DIGEST_CHANNEL=digest
        )
        _wait_ready(penny)
        if warm_cache:
            _ask(slack, channel, user)
        time.sleep(settle)
        client = redis.Redis.from_url(server.url)
        if warm_cache:
            assert client.scard("penny:{cache}:teams") == 1, "the answers were not cached"
        figures = _measure(name, penny, client, seconds)
        client.close()
        return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="idle time measured per run")
    parser.add_argument("--settle", type=float, default=5.0, help="wait after start-up before measuring")
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}")
    runs = [
        _run("empty", seconds=args.seconds, settle=args.settle, warm_cache=False),
        _run("cached", seconds=args.seconds, settle=args.settle, warm_cache=True),
    ]
    for r in runs:
        print(
            f"   {r.run:<7} {r.seconds:5.1f} s idle: penny CPU {r.cpu_pct:5.2f}% of a core, "
            f"Redis {r.redis_ops_per_s:6.2f} commands/s ({r.top_commands})"
        )
    print(
        f"RESULT idle cpu_pct={max(r.cpu_pct for r in runs):.2f} "
        f"redis_ops_per_s={max(r.redis_ops_per_s for r in runs):.2f}"
    )


if __name__ == "__main__":
    main()
