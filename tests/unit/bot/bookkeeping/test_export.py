"""``penny ledger export`` against a real redis-server: the rows of the window, exact, in CSV or JSON lines."""

from __future__ import annotations

import asyncio
import csv
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.bookkeeping.export import COLUMNS, parse_duration
from bot.ledger import LedgerEntry
from bot.redis.connection import plain_client
from tests.harness.ledger_seed import record_at

REPO_ROOT = Path(__file__).resolve().parents[4]


def _row(request_id: str, team: str = "T1", cost: str = "0.000123457") -> LedgerEntry:
    return LedgerEntry(
        request_id=request_id,
        team_id=team,
        channel_id="C1",
        user_id="U1",
        surface="command",
        task="summarize",
        outcome="answered",
        model="deepseek-v4-flash",
        tier="standard",
        cost_usd=Decimal(cost),
        baseline_cost_usd=Decimal("0.0021"),
    )


async def _seed(redis_url: str) -> None:
    client = plain_client(redis_url)
    now = datetime.now(UTC)
    await record_at(client, _row("old"), now - timedelta(days=9))
    await record_at(client, _row("recent"), now - timedelta(days=2))
    await record_at(client, _row("other-team", team="T2"), now - timedelta(hours=1))
    await client.aclose()


def _run(tmp_path: Path, redis_url: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, in a process of its own (as an operator runs it)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONPATH": str(REPO_ROOT)}
    if redis_url is not None:
        env["PENNY_REDIS_URL"] = redis_url
    return subprocess.run(
        [sys.executable, "-m", "bot.main", "ledger", "export", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_csv_export_has_the_window_rows_of_every_team_with_exact_money(tmp_path: Path, redis_url: str) -> None:
    asyncio.run(_seed(redis_url))
    out = tmp_path / "ledger.csv"
    result = _run(tmp_path, redis_url, "--since", "7d", "--format", "csv", "--output", str(out))
    assert result.returncode == 0, result.stderr
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == COLUMNS
    assert [r["request_id"] for r in rows] == ["recent", "other-team"]
    assert rows[0]["cost_usd"] == "0.000123457" and rows[0]["team_id"] == "T1"
    assert datetime.fromisoformat(rows[0]["recorded_at"]) < datetime.now(UTC) - timedelta(days=1)
    assert "exported 2 ledger rows" in result.stderr


def test_jsonl_export_to_stdout_for_one_team(tmp_path: Path, redis_url: str) -> None:
    asyncio.run(_seed(redis_url))
    result = _run(tmp_path, redis_url, "--since", "30d", "--format", "jsonl", "--team", "T1")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["request_id"] for line in lines] == ["old", "recent"]


def test_a_bad_window_or_no_redis_url_is_one_line(tmp_path: Path, redis_url: str) -> None:
    result = _run(tmp_path, redis_url, "--since", "a week")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["penny: --since: 'a week' is not a duration like 7d, 12h or 30m"]
    result = _run(tmp_path, None)
    assert result.returncode == 2 and "PENNY_REDIS_URL" in result.stderr and "Traceback" not in result.stderr


def test_durations() -> None:
    assert parse_duration("7d") == 7 * 86400 and parse_duration("12h") == 43200 and parse_duration("2w") == 1209600
    with pytest.raises(ValueError):
        parse_duration("0d")
