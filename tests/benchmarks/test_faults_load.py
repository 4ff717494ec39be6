"""``benchmarks/faults_load.py`` at a small size: Poisson mentions, provider faults and a Redis SIGKILL mid-run, and
still one whole answer per mention, one ledger row per request, no second message in any thread."""

from __future__ import annotations

import itertools
import re

import pytest

from tests.benchmarks.loading import load_benchmark

RESULT = re.compile(
    r"RESULT faults_load events=(\d+) p99_placeholder_ms=([\d.]+) duplicates=(\d+) lost_ledger=(\d+) "
    r"user_failures=(\d+) spooled=(\d+)"
)


@pytest.mark.e2e
def test_a_small_run_through_faults_and_a_redis_kill_loses_nothing_and_repeats_nothing() -> None:
    bench = load_benchmark("faults_load")
    args = ["--rate", "3", "--duration", "5", "--channels", "4", "--users", "10", "--fault-rate", "0.25"]
    line = bench.main([*args, "--redis-kill-at", "1.5", "--redis-down-s", "4", "--seed", "4", "--timeout", "90"])
    found = RESULT.fullmatch(line)
    assert found is not None, line
    events, p99_ms, duplicates, lost, failures, spooled = found.groups()
    assert int(events) == len(bench.arrivals(3, 5, 4)) > 0
    assert (duplicates, lost, failures) == ("0", "0", "0")
    assert 0 < float(p99_ms) < 60_000
    assert int(spooled) >= 0


def test_arrivals_are_poisson_at_the_rate_and_the_same_for_a_seed() -> None:
    bench = load_benchmark("faults_load")
    times = bench.arrivals(20, 60, 9)
    assert times == bench.arrivals(20, 60, 9) != bench.arrivals(20, 60, 10)
    assert 1100 < len(times) < 1300 and times == sorted(times) and times[0] > 0 and times[-1] < 60
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert 0.04 < sum(gaps) / len(gaps) < 0.06  # exponential gaps of mean 1/rate


def test_the_result_line_counts_what_it_says() -> None:
    bench = load_benchmark("faults_load")
    verdicts = [
        bench.Verdict(0.1, 3.0, 1, False),  # fine
        bench.Verdict(0.2, 3.0, 2, False),  # a second message in the thread
        bench.Verdict(0.3, None, 1, False),  # never complete
        bench.Verdict(0.4, 3.0, 1, True),  # complete, but an error sentence was shown on the way
        bench.Verdict(None, None, 0, False),  # nothing at all
    ]
    line = bench.result_line(5, verdicts, 1, 2)
    assert line.startswith("RESULT faults_load events=5 p99_placeholder_ms=397.0 ")
    assert line.endswith(" duplicates=1 lost_ledger=1 user_failures=3 spooled=2")
    assert RESULT.fullmatch(line)
