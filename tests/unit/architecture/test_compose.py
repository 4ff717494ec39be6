"""``docker-compose.yml`` runs what the README promises: Penny on a durable Redis, both health-checked, state on
volumes. No Docker engine exists here, so the file is parsed and checked against what Penny and Redis need."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from bot.config import Settings

REPO = Path(__file__).resolve().parents[3]


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return data


def _argv(command: Any) -> list[str]:
    return [str(part) for part in command] if isinstance(command, list) else shlex.split(str(command))


def test_redis_keeps_an_append_only_file_on_a_volume_and_never_evicts() -> None:
    redis = _compose()["services"]["redis"]
    argv = _argv(redis["command"])
    assert argv[0] == "redis-server"
    options = dict(zip(argv[1::2], argv[2::2], strict=True))
    assert options["--appendonly"] == "yes"
    assert options["--appendfsync"] in ("everysec", "always")
    assert options["--maxmemory-policy"] == "noeviction"
    volume, mount = redis["volumes"][0].split(":")[:2]
    assert mount == "/data" and volume in _compose()["volumes"]
    assert re.fullmatch(r"redis:7(\.\d+)?(-alpine)?", redis["image"]), "a pinned Redis 7, not :latest"


def test_penny_waits_for_a_healthy_redis_and_keeps_its_spool_on_a_volume() -> None:
    compose = _compose()
    penny = compose["services"]["penny"]
    assert penny["build"] in (".", {"context": "."}) and (REPO / "Dockerfile").exists()
    assert penny["depends_on"]["redis"]["condition"] == "service_healthy"
    env = {k: str(v) for k, v in penny["environment"].items()}
    assert env["PENNY_REDIS_URL"] == "redis://redis:6379/0", "the redis service, by its compose name"
    volume, mount = penny["volumes"][0].split(":")[:2]
    assert volume in compose["volumes"] and mount == env["PENNY_DATA_DIR"]
    settings = Settings(**{k.removeprefix("PENNY_").lower(): v for k, v in env.items()})  # every name is real
    assert str(settings.data_dir) == mount
    assert penny["ports"] == [f"{settings.http_port}:{settings.http_port}"]


def test_both_services_have_healthchecks_that_ask_the_right_thing() -> None:
    services = _compose()["services"]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    check = " ".join(services["penny"]["healthcheck"]["test"])
    port = services["penny"]["environment"]["PENNY_HTTP_PORT"]
    assert f"127.0.0.1:{port}/readyz" in check, "ready means indexes rebuilt and the model loaded"
    assert services["penny"]["healthcheck"]["start_period"]


def test_no_secret_is_written_into_the_file() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    assert _compose()["services"]["penny"]["env_file"] == ".env"
    assert not re.search(r"xox[bpa]-|xapp-|sk-[A-Za-z0-9]", text)
    env = _compose()["services"]["penny"]["environment"]
    assert not any("TOKEN" in key or "SECRET" in key or "KEY" in key for key in env)
