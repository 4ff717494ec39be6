"""``manifest.yml`` grants exactly what the code uses, derived from the code itself.

* **Listeners**: the real app is built (``bot/app.py``) and every registered Bolt listener is read back — event
  types, the slash command, shortcuts, buttons, and the assistant middleware's events. A ``message`` listener
  hears every conversation kind, so it needs all four ``message.*`` subscriptions.
* **Web API methods**: every call on a Slack client in ``bot/`` and ``handlers/`` (``client.chat_postMessage``…)
  is found in the source and mapped to Slack's method name through slack_sdk's own wrapper
  (``api_call("chat.postMessage")``), then to its scope through ``bot/slack/scopes.py``.

A listener or a call added without its scope or subscription fails here (the last two tests show it).
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
import yaml
from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import build_penny
from bot.config import Settings
from bot.redis.connection import RedisHandle
from bot.slack import scopes
from routing.catalog import load_catalog
from tests.conftest import REPO_ROOT
from tests.e2e.conftest import LLM_KEY, LLM_KEY_ENV, write_test_catalog

MANIFEST = REPO_ROOT / "manifest.yml"
SOURCE_DIRS = ("bot", "handlers")
_API_CALL = re.compile(r"api_call\(\s*\"([a-zA-Z.]+)\"")
_SELF_CALL = re.compile(r"self\.([a-zA-Z_]+)\(")


@dataclass
class Uses:
    """What the code registers and calls."""

    events: set[str] = field(default_factory=set)
    commands: set[str] = field(default_factory=set)
    shortcuts: set[str] = field(default_factory=set)
    actions: set[str] = field(default_factory=set)
    methods: set[str] = field(default_factory=set)


def _closure(func: Any) -> dict[str, Any]:
    return dict(inspect.getclosurevars(func).nonlocals) if func is not None else {}


def listened(app: AsyncApp, uses: Uses) -> None:
    """Read each listener's built-in matcher back (Bolt keeps the constraint in the matcher's closure)."""
    for listener in app._async_listeners:
        for matcher in listener.matchers:
            inner = _closure(getattr(matcher, "func", None)).get("func")
            if inner is None:
                continue  # a custom matcher (e.g. "in a DM") narrows a built-in one; it adds no subscription
            kind, found = inner.__qualname__.split(".")[0], _closure(inner)
            if kind == "event":
                event = found.get("event_type") or found["constraints"]["type"]
                if isinstance(event, re.Pattern):
                    continue  # the fallback listener acknowledges whatever arrives; it subscribes to nothing
                uses.events |= set(scopes.MESSAGE_EVENTS) if event == "message" else {event}
            elif kind == "command":
                uses.commands.add(found["command"])
            elif kind == "shortcut":
                uses.shortcuts.add(found["callback_id"])
            elif kind == "action":
                uses.actions.add(str(found["constraints"]))
            else:
                raise AssertionError(f"a listener kind this test does not know: {kind}")
    for middleware in app._async_middleware_list:
        if isinstance(middleware, AsyncAssistant):
            if middleware._thread_started_listeners:
                uses.events.add("assistant_thread_started")
            if middleware._thread_context_changed_listeners:
                uses.events.add("assistant_thread_context_changed")
            if middleware._user_message_listeners:
                uses.events.add("message.im")


def _api_methods(sdk_method: str, seen: set[str] | None = None) -> set[str]:
    """Slack method names behind one slack_sdk wrapper (``files_upload_v2`` calls two others)."""
    seen = seen if seen is not None else set()
    if sdk_method in seen:
        return set()
    seen.add(sdk_method)
    source = inspect.getsource(getattr(AsyncWebClient, sdk_method))
    found = set(_API_CALL.findall(source))
    for callee in _SELF_CALL.findall(source):
        if callee in vars(AsyncWebClient) and callee != sdk_method:
            found |= _api_methods(callee, seen)
    return found


def called(paths: Iterable[Path], uses: Uses) -> None:
    """Every ``<anything>.<slack_sdk method>(...)`` call in the source files."""
    wrappers = {name for name, value in vars(AsyncWebClient).items() if callable(value) and not name.startswith("_")}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in wrappers:
                uses.methods |= _api_methods(node.func.attr)


def source_files() -> list[Path]:
    return sorted(p for d in SOURCE_DIRS for p in (REPO_ROOT / d).rglob("*.py"))


def problems(manifest: dict[str, Any], uses: Uses, method_scopes: dict[str, tuple[str, ...]]) -> list[str]:
    """Every way the manifest, ``bot/slack/scopes.py`` and the code disagree (empty: they agree)."""
    found: list[str] = []
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    subscribed = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    needed: set[str] = set()
    for method in sorted(uses.methods):
        if method in scopes.APP_TOKEN_METHODS:
            continue
        if method not in method_scopes:
            found.append(f"the code calls {method}, which bot/slack/scopes.py METHOD_SCOPES does not list")
            continue
        needed |= set(method_scopes[method])
    for event in sorted(uses.events):
        if event not in scopes.EVENT_SCOPES:
            found.append(f"a listener handles {event}, which bot/slack/scopes.py EVENT_SCOPES does not list")
            continue
        if event not in subscribed:
            found.append(f"a listener handles {event}, but the manifest does not subscribe to it")
        if scope := scopes.EVENT_SCOPES[event]:
            needed.add(scope)
    found += [f"the manifest subscribes to {e}, which no listener handles" for e in sorted(subscribed - uses.events)]
    commands = {c["command"]: c for c in manifest["features"].get("slash_commands", [])}
    for command in sorted(uses.commands):
        if command not in commands:
            found.append(f"the manifest lacks the slash command {command}")
        elif not commands[command].get("should_escape"):
            found.append(f"{command} must escape channels, users and links (should_escape: true)")
    found += [f"the manifest declares {c}, which no listener handles" for c in sorted(set(commands) - uses.commands)]
    shortcuts = {s["callback_id"]: s for s in manifest["features"].get("shortcuts", [])}
    found += [f"the manifest lacks the shortcut {s}" for s in sorted(uses.shortcuts - set(shortcuts))]
    found += [
        f"the manifest declares the shortcut {s}, which no listener handles" for s in set(shortcuts) - uses.shortcuts
    ]
    if uses.commands or uses.shortcuts:
        needed.add(scopes.COMMAND_SCOPE)
    if bool(uses.actions or uses.shortcuts) != bool(manifest["settings"]["interactivity"]["is_enabled"]):
        found.append("interactivity must be enabled exactly when there are buttons or shortcuts")
    if ("assistant_thread_started" in uses.events) != ("assistant_view" in manifest["features"]):
        found.append("the assistant pane needs features.assistant_view (and only then)")
    if ("app_home_opened" in uses.events) != bool(manifest["features"]["app_home"]["home_tab_enabled"]):
        found.append("App Home needs features.app_home.home_tab_enabled (and only then)")
    found += [f"the manifest lacks the scope {s} ({scopes.PURPOSE.get(s, '?')})" for s in sorted(needed - granted)]
    found += [f"the manifest grants {s}, which nothing in the code needs" for s in sorted(granted - needed)]
    return found


@pytest.fixture
async def app(tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(LLM_KEY_ENV, LLM_KEY)
    catalog_path = write_test_catalog(tmp_path / "catalog.yaml", "http://127.0.0.1:9/v1")
    settings = Settings(
        slack_bot_token="xoxb-test",  # type: ignore[arg-type]
        slack_signing_secret="secret",  # type: ignore[arg-type]
        slack_api_url="http://127.0.0.1:9/api/",
        cache_enabled=False,
        catalog=catalog_path,
    )
    penny = await build_penny(settings, load_catalog(catalog_path), RedisHandle(aioredis.Redis.from_url(redis_url)))
    yield penny.app
    await penny.close()


def _uses(app: AsyncApp) -> Uses:
    uses = Uses()
    listened(app, uses)
    called(source_files(), uses)
    return uses


def _manifest() -> dict[str, Any]:
    return dict(yaml.safe_load(MANIFEST.read_text("utf-8")))


async def test_the_manifest_grants_exactly_what_the_code_uses(app: AsyncApp) -> None:
    uses = _uses(app)
    assert {"chat.postMessage", "conversations.replies", "pins.list", "assistant.threads.setStatus"} <= uses.methods
    assert {"app_mention", "message.im", "assistant_thread_started", "app_home_opened"} <= uses.events
    assert problems(_manifest(), uses, scopes.METHOD_SCOPES) == []
    assert set(_manifest()["oauth_config"]["scopes"]["bot"]) == scopes.required_bot_scopes()


async def test_a_listener_added_without_its_subscription_fails(app: AsyncApp) -> None:
    @app.event("channel_created")
    async def on_channel_created() -> None: ...

    @app.event("reaction_added")  # already subscribed: no new problem
    async def on_another_reaction() -> None: ...

    @app.shortcut("penny_new_shortcut")
    async def on_new_shortcut() -> None: ...

    found = problems(_manifest(), _uses(app), scopes.METHOD_SCOPES)
    assert found == [
        "a listener handles channel_created, which bot/slack/scopes.py EVENT_SCOPES does not list",
        "the manifest lacks the shortcut penny_new_shortcut",
    ]


async def test_a_web_api_call_added_without_its_scope_fails(app: AsyncApp, tmp_path: Path) -> None:
    new_code = tmp_path / "new_feature.py"
    new_code.write_text(
        "async def react(client):\n    await client.reactions_add(channel='C1', timestamp='1.1', name='+1')\n"
    )
    uses = _uses(app)
    called([new_code], uses)
    assert "reactions.add" in uses.methods
    assert problems(_manifest(), uses, scopes.METHOD_SCOPES) == [
        "the code calls reactions.add, which bot/slack/scopes.py METHOD_SCOPES does not list"
    ]
    with_scope = {**scopes.METHOD_SCOPES, "reactions.add": ("reactions:write",)}
    assert problems(_manifest(), uses, with_scope) == ["the manifest lacks the scope reactions:write (?)"]


def test_a_scope_granted_for_nothing_fails() -> None:
    manifest = _manifest()
    manifest["oauth_config"]["scopes"]["bot"].append("chat:write.public")
    uses = Uses(methods={"chat.postMessage"})
    assert "the manifest grants chat:write.public, which nothing in the code needs" in problems(
        manifest, uses, scopes.METHOD_SCOPES
    )
