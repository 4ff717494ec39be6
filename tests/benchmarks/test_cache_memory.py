"""``benchmarks/cache_memory.py`` on a tiny fill: the production cache under a budget far smaller than the fill."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import structlog

from tests.benchmarks.loading import load_benchmark

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """main() quiets structlog for its own run; later tests in this process capture info events again."""
    config = structlog.get_config()
    yield
    structlog.configure(**config)


def test_cold_and_warm_lookups_under_a_budget_still_serve_the_stored_answers(
    redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load_benchmark("cache_memory")
    argv = ["--channels", "30", "--entries", "40", "--budget-mb", "0.2", "--lookups", "60", "--real", "6"]
    argv.append("--compare-unbounded")
    assert bench.main([*argv, "--redis-url", redis_url]) == 0
    out = capsys.readouterr().out
    result = out.strip().splitlines()[-1]
    assert re.fullmatch(
        r"RESULT cache_memory channels=30 entries_per_channel=40 budget_mb=0\.2 peak_rss_mb=[\d.]+ "
        r"cold_p99_ms=[\d.]+ warm_p99_ms=[\d.]+",
        result,
    ), result
    bounded, unbounded = out.split("no bound, every scope held")
    dropped = re.search(r"(\d+) scopes held at the end .* (\d+) dropped", bounded)
    assert dropped is not None and 0 < int(dropped[1]) < 30 and int(dropped[2]) > 0
    assert re.search(r"\b[1-9]\d* cold lookups", bounded) and re.search(r"\b[1-9]\d* warm lookups", bounded)
    for part in (bounded, unbounded):
        served = re.search(r"real questions asked (\d+), served the stored answer (\d+)", part)
        assert served is not None and int(served[1]) > 0 and served[1] == served[2], "reloaded indexes still answer"
    assert re.search(r"30 scopes held at the end .* 0 dropped", unbounded)
    assert re.search(r"\b0 cold lookups", unbounded)
