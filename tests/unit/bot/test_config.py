import subprocess
import sys

import pytest

from bot.config import ConfigError, load_settings

CLEAN_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}


def test_missing_bot_token_names_the_setting(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    settings = load_settings(slack_bot_token=None)
    with pytest.raises(ConfigError, match="PENNY_SLACK_BOT_TOKEN"):
        settings.require_runnable()


def test_http_mode_needs_signing_secret(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(slack_bot_token="xoxb-1", slack_signing_secret=None, slack_app_token=None)
    with pytest.raises(ConfigError, match="PENNY_SLACK_SIGNING_SECRET"):
        settings.require_runnable()


def test_malformed_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PENNY_HTTP_PORT", "not-a-port")
    with pytest.raises(ConfigError, match="PENNY_HTTP_PORT"):
        load_settings()


def test_penny_run_without_tokens_prints_one_line_and_fails(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.main", "run"],
        cwd=tmp_path,
        env={**CLEAN_ENV, "PYTHONPATH": _repo_root()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [lines[0]] and "PENNY_SLACK_BOT_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_provider_key_stops_startup(tmp_path) -> None:
    env = {
        **CLEAN_ENV,
        "PYTHONPATH": _repo_root(),
        "PENNY_SLACK_BOT_TOKEN": "xoxb-1",
        "PENNY_SLACK_SIGNING_SECRET": "s",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.main", "check"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "GLOBAL_API_KEY" in result.stderr and "Traceback" not in result.stderr


def test_penny_help_lists_commands(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.main", "--help"],
        cwd=tmp_path,
        env={**CLEAN_ENV, "PYTHONPATH": _repo_root()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "run" in result.stdout and "check" in result.stdout


def _repo_root() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[3])
