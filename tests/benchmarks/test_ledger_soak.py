"""``benchmarks/ledger_soak.py`` with small parameters: past the retention point the stream and memory stay flat."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "ledger_soak.py"


def test_a_small_soak_stays_flat_after_the_retention_point() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--rows", "12000", "--days", "8", "--retention-days", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("RESULT ledger_soak ")
    figures = dict(part.split("=") for part in last.split()[2:])
    assert figures["rows"] == "12000"
    assert int(figures["stream_rows_max"]) == 2 * 1500, "each day's end keeps the two whole days before it"
    assert float(figures["growth_after_retention_pct"]) < 5.0
