"""``benchmarks/cache_memory.py`` on a tiny fill: the production cache under a budget far smaller than the fill."""

from __future__ import annotations

import re

import pytest

from tests.benchmarks.test_cache_benchmarks import load

pytestmark = pytest.mark.slow


def test_cold_and_warm_lookups_under_a_budget_still_serve_the_stored_answers(
    redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("cache_memory")
    argv = ["--channels", "30", "--entries", "40", "--budget-mb", "0.2", "--lookups", "60", "--real", "6"]
    assert bench.main([*argv, "--redis-url", redis_url]) == 0
    out = capsys.readouterr().out
    result = out.strip().splitlines()[-1]
    assert re.fullmatch(
        r"RESULT cache_memory channels=30 entries_per_channel=40 budget_mb=0\.2 peak_rss_mb=[\d.]+ "
        r"cold_p99_ms=[\d.]+ warm_p99_ms=[\d.]+",
        result,
    ), result
    dropped = re.search(r"(\d+) cold .* (\d+) warm; (\d+) scopes dropped", out)
    assert dropped is not None and int(dropped[1]) > 0 and int(dropped[2]) > 0 and int(dropped[3]) > 0
    served = re.search(r"real questions asked (\d+), served the stored answer (\d+)", out)
    assert served is not None and int(served[1]) > 0 and served[1] == served[2], "reloaded indexes still answer"
