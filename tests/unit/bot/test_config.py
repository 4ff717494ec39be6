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
        "PENNY_SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
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


GOOD_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # Slack's documented example


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"slack_bot_token": ""}, "PENNY_SLACK_BOT_TOKEN is empty"),
        ({"slack_bot_token": "xoxb-123 "}, "PENNY_SLACK_BOT_TOKEN contains whitespace"),
        ({"slack_bot_token": "xoxp-123"}, "PENNY_SLACK_BOT_TOKEN must be a bot token"),
        ({"slack_bot_token": "xoxb-"}, "PENNY_SLACK_BOT_TOKEN is malformed"),
        ({"slack_bot_token": "xoxb-12\u00e93"}, "PENNY_SLACK_BOT_TOKEN is malformed"),
        ({"slack_signing_secret": ""}, "PENNY_SLACK_SIGNING_SECRET is empty"),
        ({"slack_signing_secret": f"{GOOD_SECRET}\n"}, "PENNY_SLACK_SIGNING_SECRET contains whitespace"),
        ({"slack_signing_secret": "changeme"}, "PENNY_SLACK_SIGNING_SECRET is malformed"),
        ({"slack_signing_secret": f'"{GOOD_SECRET}"'}, "PENNY_SLACK_SIGNING_SECRET is malformed"),
        ({"slack_app_token": ""}, "PENNY_SLACK_APP_TOKEN is empty"),
        ({"slack_app_token": "xoxb-1-A0-1-x"}, "PENNY_SLACK_APP_TOKEN must be an app-level token"),
    ],
)
def test_empty_or_malformed_secrets_and_tokens_are_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path, overrides: dict[str, str], names: str
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(**{"slack_bot_token": "xoxb-1-2-abc", "slack_signing_secret": GOOD_SECRET, **overrides})
    with pytest.raises(ConfigError, match=names):
        settings.require_runnable()


def test_well_formed_settings_pass_in_both_modes(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    load_settings(slack_bot_token="xoxb-0001-penny-test", slack_signing_secret=GOOD_SECRET).require_runnable()
    socket = load_settings(
        slack_bot_token="xoxb-0001-penny-test", slack_app_token="xapp-1-A0PENNY-0001-x", slack_signing_secret=""
    )
    socket.require_runnable()  # Socket Mode signs nothing: an empty signing secret is simply unused


@pytest.mark.parametrize("command", ["run", "check"])
def test_an_empty_signing_secret_stops_run_and_check_with_one_line(tmp_path, command: str) -> None:
    env = {
        **CLEAN_ENV,
        "PYTHONPATH": _repo_root(),
        "PENNY_SLACK_BOT_TOKEN": "xoxb-1-2-abc",
        "PENNY_SLACK_SIGNING_SECRET": "",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.main", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "PENNY_SLACK_SIGNING_SECRET is empty" in lines[0]
    assert "Traceback" not in result.stderr
