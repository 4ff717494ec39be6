"""``penny check`` against the Slack emulator and the local model server: one line per check, non-zero on any
problem, each missing scope named with what it breaks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import LLM_KEY_ENV
from tests.e2e.penny_process import REPO_ROOT
from tests.harness.openai_server import OpenAIServer
from tests.harness.slack_emulator import SlackEmulator


def _check(env: dict[str, str], tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.main", "check", *args],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(REPO_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_everything_in_order_exits_zero(
    slack: SlackEmulator, llm: OpenAIServer, penny_env: dict[str, str], tmp_path: Path
) -> None:
    result = _check(penny_env, tmp_path)
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert all(line.startswith("penny: ok") for line in lines), lines
    assert any("bot token works: @penny in Penny Test" in line for line in lines)
    assert any("scopes of manifest.yml granted" in line for line in lines)
    assert any("provider global: key accepted" in line for line in lines)
    assert len(llm.chat_requests()) == 1 and llm.chat_requests()[0].body["max_tokens"] == 1, "one cheap call"


def test_a_token_missing_pins_read_is_named_and_fails(
    slack: SlackEmulator, llm: OpenAIServer, penny_env: dict[str, str], tmp_path: Path
) -> None:
    slack.set_bot_scopes(without=["pins:read"])
    result = _check(penny_env, tmp_path, "--no-llm-calls")
    assert result.returncode == 1
    failures = [line for line in result.stdout.splitlines() if line.startswith("penny: FAIL")]
    assert failures == [
        "penny: FAIL slack: missing scope pins:read: pinned documents are not read (pins.list fails)"
        " and pin changes are not heard"
    ]
    assert not llm.chat_requests(), "--no-llm-calls makes no provider call"


def test_an_app_token_without_connections_write_and_a_rejected_key_fail(
    slack: SlackEmulator, llm: OpenAIServer, penny_env: dict[str, str], tmp_path: Path
) -> None:
    slack.set_app_token_scopes([])
    env = {**penny_env, "PENNY_SLACK_APP_TOKEN": slack.app_token, LLM_KEY_ENV: "sk-wrong"}
    result = _check(env, tmp_path)
    assert result.returncode == 1
    assert "penny: FAIL slack: the app token lacks connections:write, so Socket Mode cannot connect" in result.stdout
    assert "penny: FAIL provider global: the key was rejected (HTTP 401)" in result.stdout


def test_offline_contacts_nobody(
    slack: SlackEmulator, llm: OpenAIServer, penny_env: dict[str, str], tmp_path: Path
) -> None:
    result = _check({**penny_env, "PENNY_SLACK_API_URL": "http://127.0.0.1:9/api/"}, tmp_path, "--offline")
    assert result.returncode == 0, result.stdout
    assert not slack.calls() and not llm.requests
