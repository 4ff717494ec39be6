"""Fixtures for the Slack emulator's own tests: a started emulator and a real slack_sdk client on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from tests.harness.slack_emulator import SlackEmulator

# CI clones the repo with ../shared beside it; read the evaluation data from there.
SLACK_EVAL_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "eval" / "slack"


@pytest.fixture
def slack_eval() -> Path:
    if not SLACK_EVAL_DIR.is_dir():
        pytest.skip(f"Slack evaluation data not found at {SLACK_EVAL_DIR}")
    return SLACK_EVAL_DIR


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
def client(emu: SlackEmulator) -> AsyncWebClient:
    return AsyncWebClient(token=emu.bot_token, base_url=emu.base_url)
