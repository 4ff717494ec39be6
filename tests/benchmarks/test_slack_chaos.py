"""``benchmarks/slack_chaos.py`` at a small size: every answer whole and once, and the books balance.

A tiny run of the real benchmark (the real ``penny run``, the emulator failing a seeded 30% of delivery calls),
so the RESULT line's guarantees are checked by the suite, not only when someone runs the benchmark.
"""

from __future__ import annotations

import re

import pytest

from tests.benchmarks.loading import load_benchmark


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["auto", "edit"])
def test_a_small_chaos_run_delivers_every_answer_exactly_once(mode: str) -> None:
    line = load_benchmark("slack_chaos").main(
        ["--answers", "8", "--channels", "4", "--fault-rate", "0.3", "--seed", "3", "--mode", mode, "--timeout", "120"]
    )
    assert line == (
        "RESULT slack_chaos answers=8 complete=8 exact=8 duplicates=0 ledger_rows=8 ledger_matches_budget=true"
    )


def test_the_result_line_counts_what_it_says() -> None:
    bench = load_benchmark("slack_chaos")
    verdicts = [bench.Verdict(True, True, 0), bench.Verdict(True, False, 1), bench.Verdict(False, False, 0)]
    line = bench.result_line(3, verdicts, 3, False)
    assert line == (
        "RESULT slack_chaos answers=3 complete=2 exact=1 duplicates=1 ledger_rows=3 ledger_matches_budget=false"
    )
    assert re.fullmatch(r"RESULT slack_chaos( \w+=\w+)+", line)
