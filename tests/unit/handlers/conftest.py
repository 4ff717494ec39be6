"""``slack_sample``: a fresh copy of one of Slack's own payload samples, from the shared evaluation data.

The data lives outside the repo (``tests/conftest.py``'s ``EVAL_DIR``); the ``eval_dir`` fixture skips these
tests where it is absent, so CI without the shared data skips rather than fails.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit.handlers.samples import SampleFn


@functools.cache
def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def slack_sample(eval_dir: Path) -> SampleFn:
    """``slack_sample("events/AppMentionPayload.json")``: a deep copy, so a test's edits never leak to the next."""
    root = eval_dir / "slack" / "java-slack-sdk_samples"

    def load(name: str) -> dict[str, Any]:
        return copy.deepcopy(_read(root / name))

    return load
