"""``benchmarks/streaming_load.py`` at a small size, in both streaming modes: the figures it prints add up."""

from __future__ import annotations

import re

import pytest

from tests.benchmarks.loading import load_benchmark


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["auto", "edit"])
def test_a_small_load_run_completes_every_answer_soon_after_its_last_token(mode: str) -> None:
    line = load_benchmark("streaming_load").main(
        ["--conversations", "4", "--channels", "4", "--tokens-per-second", "120", "--mode", mode, "--timeout", "60"]
    )
    fields = dict(re.findall(r"(\w+)=(\S+)", line))
    assert line.startswith("RESULT streaming_load ") and fields["mode"] == mode
    assert fields["complete"] == "4" and fields["ledger_rows"] == "4"
    assert 0 <= float(fields["final_after_last_token_p99_s"]) < 5.0
