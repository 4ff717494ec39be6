"""Contract tests for what the emulator grew for Penny's surfaces, through real slack_sdk clients over HTTP.

Response shapes are checked against Slack's samples in ``shared/eval/slack/`` (``api/assistant.threads.*.json``,
``api/auth.test.json``; payloads against ``events/AppHomeOpenedPayload.json`` and the interactive-component
samples); the assistant events, which ship without a sample, against the example on their reference pages;
``views.publish`` against its reference page's success example; ``x-oauth-scopes`` and ``missing_scope`` as
Slack documents them (the header lists the token's scopes, comma-separated, on every answer).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.harness.slack_emulator import SlackEmulator, payloads
from tests.unit.harness.test_slack_emulator import assert_shape


def _api(slack_eval: Path, method: str) -> Any:
    return json.loads((slack_eval / "java-slack-sdk_samples" / "api" / f"{method}.json").read_text())


def _sample(slack_eval: Path, path: str) -> Any:
    return json.loads((slack_eval / "java-slack-sdk_samples" / path).read_text())


async def test_pane_methods_answer_like_slack_and_keep_what_was_set(
    emu: SlackEmulator, client: AsyncWebClient, slack_eval: Path
) -> None:
    alice = emu.add_user("alice")
    dm, thread, _ = emu.open_assistant_thread(alice.id, redeliver=False, url="http://127.0.0.1:9/none")
    status = await client.assistant_threads_setStatus(channel_id=dm, thread_ts=thread, status="is thinking…")
    assert_shape(status.data, _api(slack_eval, "assistant.threads.setStatus"))
    await client.assistant_threads_setStatus(channel_id=dm, thread_ts=thread, status="")
    prompts = [{"title": "Summarize", "message": "Summarize this channel"}]
    suggested = await client.assistant_threads_setSuggestedPrompts(
        channel_id=dm, thread_ts=thread, prompts=prompts, title="Try"
    )
    assert_shape(suggested.data, _api(slack_eval, "assistant.threads.setSuggestedPrompts"))
    titled = await client.assistant_threads_setTitle(channel_id=dm, thread_ts=thread, title="PTO")
    assert_shape(titled.data, _api(slack_eval, "assistant.threads.setTitle"))
    state = emu.pane_state(dm, thread)
    assert (state.statuses, state.prompts, state.prompts_title, state.title) == (
        ["is thinking…", ""],
        prompts,
        "Try",
        "PTO",
    )


async def test_pane_methods_refuse_what_slack_refuses(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice = emu.add_user("alice")
    dm, thread, _ = emu.open_assistant_thread(alice.id, redeliver=False, url="http://127.0.0.1:9/none")
    with pytest.raises(SlackApiError) as unknown:
        await client.assistant_threads_setStatus(channel_id="D0NOPE", thread_ts=thread, status="x")
    assert unknown.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as bad_thread:
        await client.assistant_threads_setTitle(channel_id=dm, thread_ts="1.000001", title="x")
    assert bad_thread.value.response["error"] == "invalid_thread_ts"
    with pytest.raises(SlackApiError) as too_many:
        many = [{"title": str(i), "message": str(i)} for i in range(5)]
        await client.assistant_threads_setSuggestedPrompts(channel_id=dm, thread_ts=thread, prompts=many)
    assert too_many.value.response["error"] == "invalid_arguments", "at most four prompts"


async def test_views_publish_returns_the_published_home_view(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice = emu.add_user("alice")
    view = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}
    published = await client.views_publish(user_id=alice.id, view=view)
    documented = {  # the success example of docs.slack.dev/reference/methods/views.publish
        "id",
        "team_id",
        "type",
        "close",
        "submit",
        "blocks",
        "private_metadata",
        "callback_id",
        "state",
        "hash",
        "clear_on_close",
        "notify_on_close",
        "root_view_id",
        "previous_view_id",
        "app_id",
        "external_id",
        "bot_id",
    }
    assert set(published["view"]) == documented and published["view"]["type"] == "home"
    assert emu.published_view(alice.id)["blocks"] == view["blocks"]  # type: ignore[index]
    with pytest.raises(SlackApiError) as modal:
        await client.views_publish(user_id=alice.id, view={"type": "modal", "blocks": []})
    assert modal.value.response["error"] == "invalid_arguments"


async def test_every_answer_lists_the_tokens_scopes_and_a_missing_one_is_named(
    emu: SlackEmulator, client: AsyncWebClient, slack_eval: Path
) -> None:
    alice = emu.add_user("alice")
    general = emu.add_channel("general", members=[alice.id])
    emu.set_bot_scopes(["chat:write", "channels:history"])
    answer = await client.auth_test()
    assert answer.headers["x-oauth-scopes"] == "channels:history,chat:write"
    await client.conversations_history(channel=general.id)  # the public channel's own history scope suffices
    with pytest.raises(SlackApiError) as missing:
        await client.pins_list(channel=general.id)
    body = missing.value.response.data
    assert (body["error"], body["needed"], body["provided"]) == (
        "missing_scope",
        "pins:read",
        "channels:history,chat:write",
    )
    assert_shape(body, _api(slack_eval, "auth.test"))  # Slack's error fields: error, needed, provided
    dm = emu.add_dm(alice.id)
    with pytest.raises(SlackApiError) as dm_history:
        await client.conversations_history(channel=dm.id)
    assert dm_history.value.response["needed"] == "im:history", "a DM needs the DM kind's scope"


async def test_the_app_token_needs_connections_write(emu: SlackEmulator) -> None:
    client = AsyncWebClient(base_url=emu.base_url)
    opened = await client.apps_connections_open(app_token=emu.app_token)
    assert opened["url"].startswith("ws://") and opened.headers["x-oauth-scopes"] == "connections:write"
    emu.set_app_token_scopes([])
    with pytest.raises(SlackApiError) as missing:
        await client.apps_connections_open(app_token=emu.app_token)
    assert (missing.value.response["error"], missing.value.response["needed"]) == ("missing_scope", "connections:write")


def test_interaction_and_home_payloads_have_slacks_shape(emu: SlackEmulator, slack_eval: Path) -> None:
    message = {"type": "message", "ts": "1.000001", "text": "hi", "user": "U1", "thread_ts": "1.000001"}
    common = {"team_id": "T1", "team_domain": "acme", "user": "U1", "channel": "C1", "channel_name": "general"}
    shortcut = payloads.message_shortcut_payload(
        callback_id="cb",
        user_name="ana",
        message=message,
        trigger_id="t",
        action_ts="2.0",
        response_url="https://x",
        **common,
    )
    assert_shape(shortcut, _sample(slack_eval, "app-backend/interactive-components/MessageShortcutPayload.json"))
    button = {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "Go"}, "value": "k"}
    click = payloads.block_actions_payload(
        api_app_id="A1",
        message=message,
        is_ephemeral=True,
        action=button,
        action_ts="2.0",
        trigger_id="t",
        response_url="https://x",
        **common,
    )
    sample = _sample(slack_eval, "app-backend/interactive-components/BlockActionPayload.json")
    assert_shape(click, sample, extra=frozenset({"values"}))
    home = payloads.app_home_opened_event(user="U1", channel="D1", tab="home", event_ts="1.0", view=None)
    assert_shape(home, _sample(slack_eval, "events/AppHomeOpenedPayload.json")["event"])


def test_assistant_events_have_the_documented_shape() -> None:
    """The example on docs.slack.dev/reference/events/assistant_thread_started (and _context_changed)."""
    documented = {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": "U123ABC456",
            "context": {"channel_id": "C123ABC456", "team_id": "T07XY8FPJ5C", "enterprise_id": "E480293PS82"},
            "channel_id": "D123ABC456",
            "thread_ts": "1729999327.187299",
        },
        "event_ts": "1715873754.429808",
    }
    built = payloads.assistant_thread_event(
        "assistant_thread_started",
        user="U123ABC456",
        channel="D123ABC456",
        thread_ts="1729999327.187299",
        context={"channel_id": "C123ABC456", "team_id": "T07XY8FPJ5C", "enterprise_id": "E480293PS82"},
        event_ts="1715873754.429808",
    )
    assert built == documented
