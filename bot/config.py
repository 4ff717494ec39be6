"""Penny's settings: ``PENNY_*`` environment variables and ``.env``, validated by pydantic-settings.

The variable names are a public interface (deployments and external checks rely on them). A missing or
malformed setting must stop start-up with one line naming the setting, never a traceback, so validation errors
are turned into ``ConfigError`` with the variable's name in it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.crontab import crontab_trigger

ENV_PREFIX = "PENNY_"
SLACK_API_DEFAULT = "https://slack.com/api/"


class ConfigError(Exception):
    """A setting is missing or invalid; ``str(error)`` is the one line shown to the operator."""


def is_cluster_url(url: str) -> bool:
    """Penny's convention for a Redis Cluster URL: ``redis+cluster://`` or ``rediss+cluster://``, any node."""
    return url.partition("://")[0].endswith("+cluster")


class Settings(BaseSettings):
    """Everything configurable from the environment. Models, prices and policy live in the catalog YAML."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = Field(default=None, description="xapp- token: Socket Mode")
    slack_signing_secret: SecretStr | None = Field(default=None, description="HTTP mode request signing")
    slack_api_url: str = SLACK_API_DEFAULT
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=3000, ge=1, le=65535)
    redis_url: str | None = None
    redis_cluster: bool = Field(
        default=False, description="use the Redis Cluster client (also implied by a redis+cluster:// URL)"
    )
    redis_max_connections: int = Field(default=256, ge=4, description="per process; a burst waits, never fails")
    redis_pool_timeout_s: float = Field(default=10.0, gt=0)
    redis_retry_s: float = Field(default=60.0, gt=0, description="how long a command waits for Redis to return")
    data_dir: Path = Path(".penny")
    ledger_retention_days: float = Field(default=30.0, gt=0, description="ledger rows older than this are trimmed")
    catalog: Path | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "console"

    stream_update_interval_s: float = Field(default=1.0, gt=0)
    stream_mode: Literal["auto", "native", "edit"] = Field(
        default="auto", description="native chat streams where Slack accepts them, or chat.update edits"
    )
    slack_updates_per_minute: float = Field(default=50.0, gt=0, description="chat.update budget per workspace")
    slack_appends_per_minute: float = Field(default=100.0, gt=0, description="chat.appendStream budget")
    slack_stream_starts_per_minute: float = Field(
        default=20.0, gt=0, description="chat.startStream and chat.stopStream budget (each) per workspace"
    )
    max_message_chars: int = Field(default=3900, ge=200, le=40000)
    event_lease_s: float = Field(default=30.0, gt=0)
    event_record_ttl_s: int = Field(default=86400, gt=0)
    llm_connect_timeout_s: float = Field(default=5.0, gt=0)
    llm_read_timeout_s: float = Field(default=60.0, gt=0)
    thread_context_messages: int = Field(default=50, ge=0)
    pins_max_tokens: int = Field(default=2000, ge=0, description="pinned text per prompt; 0 turns pins off")
    pins_cache_ttl_s: float = Field(default=300.0, ge=0, description="how long a channel's pins.list is reused")
    summary_chunk_tokens: int = Field(
        default=2000, ge=100, description="average size of a reusable /summarize part; smaller sources: one call"
    )
    summary_partial_ttl_days: float = Field(
        default=8.0, ge=0, description="how long a part's summary is kept for reuse; 0 turns reuse off"
    )

    cache_enabled: bool = True
    cache_share_public: bool = Field(default=False, description="share public-channel answers workspace-wide")
    cache_ttl_days: float = Field(default=7.0, gt=0)
    cache_max_entries_per_channel: int = Field(default=5000, gt=0)
    cache_index_memory_mb: float = Field(
        default=512.0,
        ge=0,
        description="FAISS index memory per process; least recently used channels past it are "
        "dropped and reloaded from Redis on their next lookup; 0: no bound",
    )
    channel_info_ttl_s: float = Field(default=300.0, ge=0)
    cache_share_check_ttl_s: float = Field(
        default=30.0, ge=0, description="how old a channel's visibility may be when a shared answer from it is served"
    )

    follow_ups: Literal["addressed", "all", "mention-only"] = Field(
        default="addressed", description="which later messages in a joined thread are answered without a mention"
    )
    allowed_bots: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(), description="bot ids (B…) or bot user ids (U…) whose @mentions Penny answers"
    )

    digest_channel: str | None = Field(default=None, description="channel id for the weekly digest; unset: off")
    digest_cron: str = Field(default="0 9 * * mon", description="5-field crontab, in digest_timezone")
    digest_timezone: str = "UTC"

    @field_validator("allowed_bots", mode="before")
    @classmethod
    def _id_list(cls, value: object) -> object:
        if isinstance(value, str):
            ids = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
            for bot in ids:
                if not re.fullmatch(r"[BUW][A-Z0-9]{2,}", bot):
                    raise ValueError(f"'{bot}' is not a bot id (B…) or a bot user id (U…)")
            return frozenset(ids)
        return value

    @field_validator("digest_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"[CG][A-Z0-9]{2,}", value):
            raise ValueError(f"'{value}' is not a channel ID like C0123ABCD (the file upload needs the ID, not #name)")
        return value or None

    @field_validator("digest_cron")
    @classmethod
    def _crontab(cls, value: str) -> str:
        try:
            crontab_trigger(value)
        except ValueError as exc:
            raise ValueError(f"'{value}' is not a 5-field crontab ({exc})") from None
        return value

    @field_validator("digest_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}' (use an IANA name like Europe/Berlin)") from None
        return value

    @field_validator("redis_cluster")
    @classmethod
    def _cluster_needs_a_url(cls, value: bool, info: ValidationInfo) -> bool:
        if value and not info.data.get("redis_url"):
            raise ValueError("it needs PENNY_REDIS_URL, any node of the cluster (the embedded Redis is one server)")
        return value

    @property
    def redis_cluster_mode(self) -> bool:
        """Cluster client or not: the flag, or a ``redis+cluster://`` (``rediss+cluster://``) URL."""
        return self.redis_cluster or is_cluster_url(self.redis_url or "")

    @property
    def digest_tz(self) -> ZoneInfo:
        return ZoneInfo(self.digest_timezone)

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def signing_secret(self) -> str:
        return self.slack_signing_secret.get_secret_value() if self.slack_signing_secret else ""

    def require_runnable(self) -> None:
        """Check the combination of settings ``penny run`` needs; raise ``ConfigError`` naming what is missing.

        Empty or malformed secrets are refused here, at start-up, in one line: an empty signing secret would
        otherwise make every request fail its signature check, and a token with a stray space every API call.
        """
        if self.slack_bot_token is None:
            raise ConfigError(f"{ENV_PREFIX}SLACK_BOT_TOKEN is not set (the xoxb- bot token Penny posts with)")
        _check_token("SLACK_BOT_TOKEN", self.slack_bot_token.get_secret_value(), "xoxb-", "a bot token")
        if self.slack_app_token is not None:
            _check_token("SLACK_APP_TOKEN", self.slack_app_token.get_secret_value(), "xapp-", "an app-level token")
            return  # Socket Mode: no signed HTTP requests, so the signing secret is not used
        if self.slack_signing_secret is None:
            raise ConfigError(
                f"{ENV_PREFIX}SLACK_SIGNING_SECRET is not set (needed for HTTP mode; "
                f"or set {ENV_PREFIX}SLACK_APP_TOKEN for Socket Mode)"
            )
        _check_secret("SLACK_SIGNING_SECRET", self.signing_secret)


_TOKEN_BODY = re.compile(r"[A-Za-z0-9-]+")
_SIGNING_SECRET = re.compile(r"[A-Za-z0-9_-]{16,}")


def _check_token(name: str, value: str, prefix: str, what: str) -> None:
    variable = f"{ENV_PREFIX}{name}"
    if not value:
        raise ConfigError(f"{variable} is empty (set it to {what} starting with '{prefix}', or unset it)")
    if value.strip() != value or any(char.isspace() for char in value):
        raise ConfigError(f"{variable} contains whitespace (pasted with a space or a line break?)")
    if not value.startswith(prefix):
        raise ConfigError(f"{variable} must be {what} starting with '{prefix}'")
    if not _TOKEN_BODY.fullmatch(value[len(prefix) :]):
        raise ConfigError(f"{variable} is malformed: '{prefix}' must be followed by letters, digits and dashes")


def _check_secret(name: str, value: str) -> None:
    variable = f"{ENV_PREFIX}{name}"
    if not value:
        raise ConfigError(f"{variable} is empty (copy the Signing Secret from the app's Basic Information page)")
    if value.strip() != value or any(char.isspace() for char in value):
        raise ConfigError(f"{variable} contains whitespace (pasted with a space or a line break?)")
    if not _SIGNING_SECRET.fullmatch(value):
        raise ConfigError(
            f"{variable} is malformed (a Slack signing secret is a string of 32 letters and digits, "
            f"from the app's Basic Information page)"
        )


def load_settings(**overrides: object) -> Settings:
    """Build settings, translating pydantic's error into one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        raise ConfigError(f"{ENV_PREFIX}{field.upper()} is invalid: {first['msg']}") from exc
