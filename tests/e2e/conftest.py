"""End-to-end fixtures: a Slack emulator, an OpenAI-compatible server and the real ``penny run`` process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.penny_process import PennyProcess
from tests.harness.openai_server import OpenAIServer
from tests.harness.slack_emulator import SlackEmulator

LLM_KEY = "sk-penny-e2e"
LLM_KEY_ENV = "PENNY_E2E_LLM_KEY"


def _default_catalog() -> dict[str, Any]:
    return dict(yaml.safe_load(resources.files("routing").joinpath("default_catalog.yaml").read_text("utf-8")))


def write_test_catalog(path: Path, llm_base_url: str, *, learned: bool = False) -> Path:
    """The shipped catalog with its provider pointed at the local server (prices and tiers unchanged)."""
    catalog = _default_catalog()
    catalog["providers"] = {"global": {"base_url": llm_base_url, "api_key_env": LLM_KEY_ENV}}
    # Learned routing needs prompt vectors, i.e. the MiniLM model (seconds to load); tests that need it turn it on.
    catalog["policy"]["learned"]["enabled"] = learned
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    return path


def catalog_model_ids() -> list[str]:
    return [model["id"] for model in _default_catalog()["models"]]


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(ack_timeout=3.0) as emulator:
        yield emulator


@pytest.fixture
def llm() -> Iterator[OpenAIServer]:
    with OpenAIServer(models=catalog_model_ids(), api_key=LLM_KEY) as server:
        yield server


PennyFactory = Callable[..., PennyProcess]


@pytest.fixture
def penny_env(slack: SlackEmulator, llm: OpenAIServer, redis_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "PENNY_SLACK_BOT_TOKEN": slack.bot_token,
        "PENNY_SLACK_SIGNING_SECRET": slack.signing_secret,
        "PENNY_SLACK_API_URL": slack.base_url,
        "PENNY_REDIS_URL": redis_url,
        "PENNY_CATALOG": str(write_test_catalog(tmp_path / "catalog.yaml", llm.base_url)),
        LLM_KEY_ENV: LLM_KEY,
        "PENNY_LOG_LEVEL": "DEBUG",
        "PENNY_CACHE_ENABLED": "false",  # the cache e2e tests turn it on (loading MiniLM costs seconds)
    }


@pytest.fixture
def start_penny(penny_env: dict[str, str], slack: SlackEmulator, tmp_path: Path) -> Iterator[PennyFactory]:
    """Start (and later stop) Penny processes; extra env overrides per call. Points the emulator at the last one."""
    started: list[PennyProcess] = []

    def _start(**env: str) -> PennyProcess:
        process = PennyProcess(env={**penny_env, **env}, log_path=tmp_path / f"penny-{len(started)}.log").start()
        started.append(process)
        slack.events_url = process.events_url
        return process

    yield _start
    for index, process in enumerate(started):
        process.stop()
        print(f"----- penny process {index} log -----\n{process.log_text()[-20000:]}")  # shown on failure
