"""``penny check``: is this deployment able to run? Configuration, Slack, and each model provider, one line each.

* **Configuration**: settings, the catalog, provider keys present (what ``penny run`` checks before starting).
* **Slack**: ``auth.test`` with the bot token; the scopes the token was granted (Slack's ``x-oauth-scopes``
  response header) against those ``manifest.yml`` grants (``bot/slack/scopes.py``), each missing one named with
  what it breaks; in Socket Mode, whether the app token may open connections (``connections:write``).
* **Providers**: one cheap call per provider (``routing/calls/probe.py``); ``--no-llm-calls`` skips them.

``--offline`` skips everything that needs the network. The exit code is 0 only when every line is ``ok``.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack.scopes import PURPOSE, parse_scopes, required_bot_scopes
from routing.calls.probe import ProbeOutcome, ProbeResult, cheapest_models, probe
from routing.catalog import Catalog


@dataclass(frozen=True)
class CheckLine:
    ok: bool
    text: str

    def __str__(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.text}"


def _error(exc: SlackApiError) -> str:
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    return str(data.get("error") or f"http_{exc.response.status_code}")


async def check_slack(settings: Settings) -> list[CheckLine]:
    assert settings.slack_bot_token is not None
    client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url)
    lines: list[CheckLine] = []
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        return [CheckLine(False, f"slack: auth.test failed ({_error(exc)}): check PENNY_SLACK_BOT_TOKEN")]
    except OSError as exc:
        return [CheckLine(False, f"slack: cannot reach {settings.slack_api_url} ({type(exc).__name__})")]
    lines.append(CheckLine(True, f"slack: bot token works: @{response.get('user')} in {response.get('team')}"))
    granted = parse_scopes(response.headers.get("x-oauth-scopes"))
    missing = sorted(required_bot_scopes() - granted)
    for scope in missing:
        lines.append(CheckLine(False, f"slack: missing scope {scope}: {PURPOSE.get(scope, 'see manifest.yml')}"))
    if not missing:
        lines.append(CheckLine(True, f"slack: all {len(required_bot_scopes())} scopes of manifest.yml granted"))
    if settings.slack_app_token is not None:
        lines.append(await _check_app_token(settings))
    return lines


async def _check_app_token(settings: Settings) -> CheckLine:
    assert settings.slack_app_token is not None
    app_token = settings.slack_app_token.get_secret_value()
    client = AsyncWebClient(base_url=settings.slack_api_url)
    try:
        await client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        error = _error(exc)
        if error == "missing_scope":
            return CheckLine(False, "slack: the app token lacks connections:write, so Socket Mode cannot connect")
        return CheckLine(False, f"slack: the app token was refused ({error}): check PENNY_SLACK_APP_TOKEN")
    except OSError as exc:
        return CheckLine(False, f"slack: cannot reach {settings.slack_api_url} ({type(exc).__name__})")
    return CheckLine(True, "slack: the app token can open Socket Mode connections (connections:write)")


def _probe_line(result: ProbeResult) -> CheckLine:
    where = f"provider {result.provider}"
    texts = {
        ProbeOutcome.OK: f"{where}: key accepted ({result.model} answered)",
        ProbeOutcome.NO_KEY: f"{where}: {result.detail} is not set",
        ProbeOutcome.REJECTED: f"{where}: the key was rejected (HTTP {result.detail})",
        ProbeOutcome.UNKNOWN_MODEL: f"{where}: the endpoint does not serve {result.model} (HTTP {result.detail})",
        ProbeOutcome.UNREACHABLE: f"{where}: no answer from the endpoint ({result.detail})",
    }
    return CheckLine(result.outcome is ProbeOutcome.OK, texts[result.outcome])


async def check_providers(catalog: Catalog) -> list[CheckLine]:
    return [_probe_line(await probe(catalog, model)) for model in cheapest_models(catalog).values()]


async def run_checks(settings: Settings, catalog: Catalog, *, offline: bool, llm_calls: bool) -> list[CheckLine]:
    lines = [CheckLine(True, f"configuration: {len(catalog.models)} models, baseline {catalog.baseline}")]
    if offline:
        return [*lines, CheckLine(True, "offline: Slack and providers not contacted")]
    lines += await check_slack(settings)
    if llm_calls:
        lines += await check_providers(catalog)
    return lines
