"""What the benchmarks that drive the real ``penny run`` share: the machine line, Slack's tiers on the emulator,
Penny's environment, the process's CPU and memory, percentiles and Penny's own ``/metrics``.

Imported by the benchmark scripts (``benchmarks/streaming_load.py``, ``slack_chaos.py``, ``faults_load.py``),
which put the repository root on ``sys.path`` first, so this module does the same for the ``bot``/``tests``
imports when a script is loaded by path.
"""

from __future__ import annotations

import contextlib
import os
import platform
import sys
import tempfile
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.redis.embedded import RedisServerProcess
from tests.e2e.conftest import LLM_KEY, LLM_KEY_ENV, catalog_model_ids, write_test_catalog
from tests.e2e.penny_process import PennyProcess
from tests.harness.openai_server import OpenAIServer
from tests.harness.slack_emulator import SlackEmulator

# Slack's per-workspace tiers for the methods that show replies (chat.postMessage: 1 a second per channel).
SLACK_TIERS: Mapping[str, float] = {
    "chat.update": 50.0,  # tier 3
    "chat.appendStream": 100.0,  # tier 4
    "chat.startStream": 20.0,  # tier 2
    "chat.stopStream": 20.0,  # tier 2
}


def machine_line() -> str:
    return f"machine: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}"


@dataclass
class LiveParts:
    """What a benchmark drives the real process against; ``penny`` is set once it is started (and stopped at exit)."""

    workdir: Path
    slack: SlackEmulator
    llm: OpenAIServer
    redis: RedisServerProcess
    penny: PennyProcess | None = None


@contextlib.contextmanager
def live_parts(*, ack_timeout: float = 3.0) -> Iterator[LiveParts]:
    """A scratch directory, the Slack emulator, the model server (every catalog model) and a real redis-server;
    at exit Penny (if started) and Redis are stopped before the emulator and the model server close."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        SlackEmulator(ack_timeout=ack_timeout) as slack,
        OpenAIServer(models=catalog_model_ids(), api_key=LLM_KEY) as llm,
    ):
        workdir = Path(tmp)
        parts = LiveParts(workdir, slack, llm, RedisServerProcess(data_dir=workdir / "redis").start())
        try:
            yield parts
        finally:
            if parts.penny is not None:
                parts.penny.stop()
            parts.redis.stop()


def apply_slack_tiers(slack: SlackEmulator, per_minute: Mapping[str, float] = SLACK_TIERS) -> None:
    """The emulator answers 429 past Slack's limits: 1 post a second per channel, the tiers per workspace."""
    slack.set_rate_limit("chat.postMessage", per_second=1, per_channel=True)
    for method, limit in per_minute.items():
        slack.set_rate_limit(method, per_minute=limit)


def start_penny(
    slack: SlackEmulator, llm: OpenAIServer, redis_url: str, workdir: Path, *, learned: bool = False, **env: str
) -> PennyProcess:
    """The real ``penny run`` against the emulator, the model server and ``redis_url``; ``env`` adds or overrides
    ``PENNY_*`` settings, ``learned`` turns learned routing on in the catalog. The emulator delivers its events to
    this process."""
    penny = PennyProcess(
        env={
            "PENNY_SLACK_BOT_TOKEN": slack.bot_token,
            "PENNY_SLACK_SIGNING_SECRET": slack.signing_secret,
            "PENNY_SLACK_API_URL": slack.base_url,
            "PENNY_REDIS_URL": redis_url,
            "PENNY_CATALOG": str(write_test_catalog(workdir / "catalog.yaml", llm.base_url, learned=learned)),
            LLM_KEY_ENV: LLM_KEY,
            "PENNY_LOG_LEVEL": "WARNING",
            "PENNY_CACHE_ENABLED": "false",
            **env,
        },
        log_path=workdir / "penny.log",
    ).start()
    slack.events_url = penny.events_url
    return penny


def proc_usage(pid: int) -> tuple[float, int]:
    """CPU seconds (user + system) and peak resident memory in MiB of a live process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    peak = next(
        int(line.split()[1])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmHWM")
    )
    return cpu, peak // 1024


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def metric(port: int, name: str) -> float:
    """One sample of Penny's ``/metrics`` (a counter's ``_total`` included); 0 when it has no sample yet."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    return 0.0
