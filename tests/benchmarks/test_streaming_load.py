"""``benchmarks/streaming_load.py`` at a small size, in both streaming modes: the figures it prints add up."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "streaming_load.py"


def load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("streaming_load", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("streaming_load", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["auto", "edit"])
def test_a_small_load_run_completes_every_answer_soon_after_its_last_token(mode: str) -> None:
    line = load_benchmark().main(
        ["--conversations", "4", "--channels", "4", "--tokens-per-second", "120", "--mode", mode, "--timeout", "60"]
    )
    fields = dict(re.findall(r"(\w+)=(\S+)", line))
    assert line.startswith("RESULT streaming_load ") and fields["mode"] == mode
    assert fields["complete"] == "4" and fields["ledger_rows"] == "4"
    assert 0 <= float(fields["final_after_last_token_p99_s"]) < 5.0
