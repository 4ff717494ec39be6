"""Digest settings: off unless a channel is set, and a bad value stops start-up with one line naming it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, load_settings
from bot.crontab import crontab_trigger


def test_the_digest_is_off_by_default_and_runs_monday_nine_utc(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    settings = load_settings()
    assert settings.digest_channel is None
    assert settings.digest_cron == "0 9 * * mon"
    assert settings.digest_tz == ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("PENNY_DIGEST_CRON", "0 9 * *", "is not a 5-field crontab"),
        ("PENNY_DIGEST_CRON", "0 9 * * funday", "is not a 5-field crontab"),
        ("PENNY_DIGEST_CRON", "0 9 * * 8", "days are 0-7"),
        ("PENNY_DIGEST_TIMEZONE", "Mars/Olympus_Mons", "unknown time zone"),
        ("PENNY_DIGEST_CHANNEL", "#penny-costs", "is not a channel ID"),
    ],
)
def test_a_bad_digest_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path, variable: str, value: str, says: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert message.startswith(f"{variable} is invalid") and says in message and "\n" not in message


def test_a_channel_and_zone_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PENNY_DIGEST_CHANNEL", "C0123ABCD")
    monkeypatch.setenv("PENNY_DIGEST_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("PENNY_DIGEST_CRON", "30 8 * * 1")
    settings = load_settings()
    assert (settings.digest_channel, settings.digest_tz) == ("C0123ABCD", ZoneInfo("Europe/Berlin"))


@pytest.mark.parametrize(
    ("expr", "fires"),
    [
        ("0 9 * * mon", datetime(2026, 11, 30, 9, 0, tzinfo=UTC)),
        ("30 8 * * 1", datetime(2026, 11, 30, 8, 30, tzinfo=UTC)),  # crontab's 1 is Monday (APScheduler 3 says Tuesday)
        ("0 9 * * 0", datetime(2026, 11, 29, 9, 0, tzinfo=UTC)),  # 0 and 7 are Sunday
        ("0 9 * * 7", datetime(2026, 11, 29, 9, 0, tzinfo=UTC)),
        ("0 9 * * 1-5", datetime(2026, 11, 24, 9, 0, tzinfo=UTC)),
        ("0 9 * * */2", datetime(2026, 11, 24, 9, 0, tzinfo=UTC)),  # Sun, Tue, Thu, Sat
    ],
)
def test_crontab_weekdays_mean_what_crontab_means(expr: str, fires: datetime) -> None:
    after = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, after 09:00
    assert crontab_trigger(expr, timezone="UTC").get_next_fire_time(None, after) == fires


def test_scheduler_uses_the_settings_crontab_in_its_zone() -> None:
    trigger = crontab_trigger("0 9 * * 1", timezone=ZoneInfo("Europe/Berlin"))
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 20, tzinfo=UTC))
    assert fire is not None and fire.astimezone(UTC) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
