"""Contract tests: the emulator, driven by the real slack_sdk clients over HTTP, answers like Slack.

Shapes are checked against Slack's own samples in `shared/eval/slack/` (keys and JSON types, since the java
samples have blanked values); behaviour (paging, errors, rate limits, threads, edits) against what Slack
documents.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.harness.slack_emulator import SlackEmulator


# ----------------------------------------------------------------- shape comparison
def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}[type(value)]


# Outside Enterprise Grid Slack sends these as null; the java samples blank them to "".
NULLABLE = frozenset({"enterprise_id", "context_enterprise_id"})


def assert_shape(
    actual: Any, sample: Any, path: str = "$", *, subset: bool = True, extra: frozenset[str] = frozenset()
) -> None:
    """Every key we return must exist in Slack's sample (when `subset`; `extra` names documented fields the
    sample lacks) with the same JSON type, recursively."""
    if isinstance(sample, dict):
        assert isinstance(actual, dict), f"{path}: expected object, got {_json_type(actual)}"
        for key, value in actual.items():
            if key not in sample:
                assert not subset or key in extra, f"{path}.{key}: not a field Slack returns here"
                continue
            assert_shape(value, sample[key], f"{path}.{key}", subset=subset, extra=extra)
    elif isinstance(sample, list):
        assert isinstance(actual, list), f"{path}: expected array, got {_json_type(actual)}"
        for i, item in enumerate(actual):
            template = _matching_item(item, sample)
            if template is not None:
                assert_shape(item, template, f"{path}[{i}]", subset=subset, extra=extra)
    elif actual is None and path.rsplit(".", 1)[-1] in NULLABLE:
        pass
    else:
        assert _json_type(actual) == _json_type(sample), (
            f"{path}: {_json_type(actual)} ({actual!r}) where Slack has {_json_type(sample)}"
        )


def _matching_item(item: Any, sample: list[Any]) -> Any:
    """Lists of blocks or elements mix kinds: compare with the sample item of the same `type`, if any."""
    if not sample:
        return None
    if isinstance(item, dict) and isinstance(sample[0], dict) and "type" in item:
        return next((s for s in sample if isinstance(s, dict) and s.get("type") == item["type"]), None)
    return sample[0]


def test_assert_shape_catches_wrong_types_and_invented_fields() -> None:
    with pytest.raises(AssertionError, match="string"):
        assert_shape({"ts": 1.5}, {"ts": "0000000000.000000"})
    with pytest.raises(AssertionError, match="not a field"):
        assert_shape({"ok": True, "made_up": 1}, {"ok": False})
    with pytest.raises(AssertionError, match="boolean"):
        assert_shape({"channel": {"is_member": 1}}, {"channel": {"is_member": False}})


def _sample(slack_eval: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((slack_eval / "java-slack-sdk_samples" / "api" / f"{name}.json").read_text())
    return data


# ----------------------------------------------------------------- response shapes
async def test_auth_test_matches_slack_shape(emu: SlackEmulator, client: AsyncWebClient, slack_eval: Path) -> None:
    response = await client.auth_test()
    assert_shape(response.data, _sample(slack_eval, "auth.test"))
    assert {"ok", "url", "team", "user", "team_id", "user_id", "bot_id"} <= set(response.data)
    assert (response["user_id"], response["bot_id"], response["team_id"]) == ("U0PENNY", "B0PENNY", "T0001")


async def test_chat_delete_and_ephemeral_and_reactions_match_slack_shapes(
    emu: SlackEmulator, client: AsyncWebClient, slack_eval: Path
) -> None:
    alice = emu.add_user("alice")
    channel = emu.add_channel("general", members=[alice.id])
    posted = await client.chat_postMessage(channel=channel.id, text="hello")

    reacted = await client.reactions_add(channel=channel.id, timestamp=posted["ts"], name="eyes")
    assert_shape(reacted.data, _sample(slack_eval, "reactions.add"))
    assert emu.message(channel.id, posted["ts"]).reactions == {"eyes": ["U0PENNY"]}

    ephemeral = await client.chat_postEphemeral(channel=channel.id, user=alice.id, text="only you")
    assert_shape(ephemeral.data, _sample(slack_eval, "chat.postEphemeral"))
    assert [e.text for e in emu.ephemeral_messages(channel.id)] == ["only you"]

    deleted = await client.chat_delete(channel=channel.id, ts=posted["ts"])
    assert_shape(deleted.data, _sample(slack_eval, "chat.delete"))
    assert (deleted["channel"], deleted["ts"]) == (channel.id, posted["ts"])
    assert emu.history(channel.id) == []


@pytest.mark.parametrize("kind", ["public", "private", "mpim", "im"])
async def test_conversations_info_matches_slack_shape(
    emu: SlackEmulator, client: AsyncWebClient, slack_eval: Path, kind: str
) -> None:
    alice = emu.add_user("alice")
    channel = emu.add_channel("room", kind=kind, members=[alice.id], topic="Budget", purpose="Plans")  # type: ignore[arg-type]
    info = (await client.conversations_info(channel=channel.id))["channel"]
    # The java sample has no IM-only fields; Slack documents `user`, `is_user_deleted`, `priority` for DMs.
    im_fields = frozenset({"user", "is_user_deleted", "priority"})
    assert_shape({"ok": True, "channel": info}, _sample(slack_eval, "conversations.info"), extra=im_fields)
    assert info["id"] == channel.id
    assert info["is_im"] is (kind == "im")
    if kind != "im":
        assert info["is_private"] is (kind != "public")
        assert info["is_mpim"] is (kind == "mpim")
        assert info["is_member"] is True
        assert info["topic"]["value"] == "Budget"
        assert info["purpose"]["value"] == "Plans"


async def test_slack_connect_channel_is_ext_shared(emu: SlackEmulator, client: AsyncWebClient) -> None:
    channel = emu.add_channel("partners", is_ext_shared=True)
    info = (await client.conversations_info(channel=channel.id))["channel"]
    assert info["is_ext_shared"] is True and info["is_shared"] is True
    assert info["is_private"] is False


async def test_users_info_matches_slack_shape(emu: SlackEmulator, client: AsyncWebClient, slack_eval: Path) -> None:
    alice = emu.add_user("alice", real_name="Alice Liddell", display_name="ali")
    response = await client.users_info(user=alice.id)
    assert_shape(response.data, _sample(slack_eval, "users.info"))
    user = response["user"]
    assert (user["id"], user["real_name"], user["profile"]["display_name"]) == (alice.id, "Alice Liddell", "ali")
    bot = (await client.users_info(user="U0PENNY"))["user"]
    assert bot["is_bot"] is True and bot["profile"]["bot_id"] == "B0PENNY"


# ----------------------------------------------------------------- posting, threads, edits
async def test_post_message_as_bot_has_bot_identity_and_keeps_options(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    channel = emu.add_channel("general")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    response = await client.chat_postMessage(
        channel=channel.id, text="hi", blocks=blocks, unfurl_links=False, mrkdwn=True
    )
    message = response["message"]
    assert (message["type"], message["user"], message["bot_id"], message["text"]) == (
        "message",
        "U0PENNY",
        "B0PENNY",
        "hi",
    )
    assert message["ts"] == response["ts"] and response["channel"] == channel.id
    stored = emu.message(channel.id, response["ts"])
    assert stored.blocks == blocks and stored.unfurl_links is False and stored.mrkdwn is True


async def test_thread_replies_update_parent_and_broadcast_reaches_history(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    alice = emu.add_user("alice")
    channel = emu.add_channel("general", members=[alice.id])
    parent = emu.post_user_message(channel.id, alice.id, "question?")
    first = await client.chat_postMessage(channel=channel.id, thread_ts=parent.ts, text="answer")
    assert first["message"]["thread_ts"] == parent.ts and first["message"]["parent_user_id"] == alice.id
    broadcast = await client.chat_postMessage(
        channel=channel.id, thread_ts=parent.ts, text="also here", reply_broadcast=True
    )
    emu.post_user_message(channel.id, alice.id, "thanks", thread_ts=parent.ts)

    history = (await client.conversations_history(channel=channel.id))["messages"]
    assert [m["ts"] for m in history] == [broadcast["ts"], parent.ts]  # newest first, plain replies hidden
    top = history[1]
    assert top["reply_count"] == 3 and top["thread_ts"] == parent.ts
    assert top["reply_users"] == ["U0PENNY", alice.id] and top["reply_users_count"] == 2
    assert top["latest_reply"] == emu.thread(channel.id, parent.ts)[-1].ts
    assert history[0]["subtype"] == "thread_broadcast"
    assert [m.text for m in emu.bot_replies(channel.id, parent.ts)] == ["answer", "also here"]


async def test_edit_history_records_every_version_and_edited_marker(emu: SlackEmulator, client: AsyncWebClient) -> None:
    channel = emu.add_channel("general")
    posted = await client.chat_postMessage(channel=channel.id, text="…")
    for text in ("The answer", "The answer is 42"):
        updated = await client.chat_update(channel=channel.id, ts=posted["ts"], text=text)
    assert updated["message"]["edited"]["user"] == "U0PENNY"
    assert updated["text"] == "The answer is 42" and updated["ts"] == posted["ts"]
    history = emu.edit_history(channel.id, posted["ts"])
    assert [r.text for r in history] == ["…", "The answer", "The answer is 42"]
    assert history[0].ts == posted["ts"]
    assert [r.monotonic for r in history] == sorted(r.monotonic for r in history)
    assert history[1].ts < history[2].ts
    updates = emu.calls("chat.update", ts=posted["ts"])
    assert len(updates) == 2 and all(c.ok and c.status == 200 for c in updates)


async def test_post_to_user_id_opens_dm(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice = emu.add_user("alice")
    response = await client.chat_postMessage(channel=alice.id, text="psst")
    assert response["channel"].startswith("D")
    info = (await client.conversations_info(channel=response["channel"]))["channel"]
    assert info["is_im"] is True and info["user"] == alice.id


async def test_pins_list_returns_pinned_messages(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice = emu.add_user("alice")
    channel = emu.add_channel("general", members=[alice.id])
    rule = emu.post_user_message(channel.id, alice.id, "Rule 1: be kind")
    emu.pin(channel.id, rule.ts, by=alice.id)
    items = (await client.pins_list(channel=channel.id))["items"]
    assert len(items) == 1
    item = items[0]
    assert (item["type"], item["channel"], item["created_by"]) == ("message", channel.id, alice.id)
    assert isinstance(item["created"], int) and item["message"]["text"] == "Rule 1: be kind"
    assert (await client.conversations_history(channel=channel.id))["pin_count"] == 1


async def test_files_upload_v2_goes_through_the_emulators_upload_url(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    channel = emu.add_channel("general")
    parent = await client.chat_postMessage(channel=channel.id, text="digest")
    response = await client.files_upload_v2(
        channel=channel.id, content=b"\x89PNG...", filename="chart.png", title="Weekly cost", thread_ts=parent["ts"]
    )
    assert response["file"]["title"] == "Weekly cost"
    (uploaded,) = emu.uploaded_files()
    assert uploaded.content == b"\x89PNG..." and uploaded.channel == channel.id
    (reply,) = emu.bot_replies(channel.id, parent["ts"])
    assert reply.files and reply.files[0]["id"] == uploaded.id
    url_call = emu.calls("files.getUploadURLExternal")[0]
    assert url_call.response["upload_url"].startswith(emu.origin + "/upload/")


# ----------------------------------------------------------------- paging
async def test_history_paging_collects_every_message_once(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice = emu.add_user("alice")
    channel = emu.add_channel("general", members=[alice.id])
    posted = [emu.post_user_message(channel.id, alice.id, f"m{i}").ts for i in range(7)]
    seen: list[str] = []
    pages = 0
    async for page in await client.conversations_history(channel=channel.id, limit=3):
        pages += 1
        seen += [m["ts"] for m in page["messages"]]
        if page["has_more"]:
            cursor = page["response_metadata"]["next_cursor"]
            assert base64.b64decode(cursor).decode().startswith("next_ts:")
    assert pages == 3
    assert seen == list(reversed(posted))


async def test_history_oldest_latest_filters(emu: SlackEmulator, client: AsyncWebClient) -> None:
    channel = emu.add_channel("general")
    ts = [emu.post_user_message(channel.id, "U0001", f"m{i}").ts for i in range(5)]
    window = await client.conversations_history(channel=channel.id, oldest=ts[1], latest=ts[3])
    assert [m["ts"] for m in window["messages"]] == [ts[2]]
    inclusive = await client.conversations_history(channel=channel.id, oldest=ts[1], latest=ts[3], inclusive=True)
    assert [m["ts"] for m in inclusive["messages"]] == [ts[3], ts[2], ts[1]]


async def test_replies_paging_collects_parent_and_replies_once(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice = emu.add_user("alice")
    channel = emu.add_channel("general", members=[alice.id])
    parent = emu.post_user_message(channel.id, alice.id, "thread")
    replies = [emu.post_user_message(channel.id, alice.id, f"r{i}", thread_ts=parent.ts).ts for i in range(7)]
    seen: list[str] = []
    async for page in await client.conversations_replies(channel=channel.id, ts=parent.ts, limit=3):
        seen += [m["ts"] for m in page["messages"]]
    assert seen == [parent.ts, *replies]


async def test_members_paging_collects_every_member_once(emu: SlackEmulator, client: AsyncWebClient) -> None:
    users = [emu.add_user(f"user{i}").id for i in range(5)]
    channel = emu.add_channel("general", members=users)
    seen: list[str] = []
    cursors: list[str] = []
    async for page in await client.conversations_members(channel=channel.id, limit=2):
        seen += page["members"]
        cursors.append(page["response_metadata"]["next_cursor"])
    assert seen == [*users, "U0PENNY"]
    assert cursors[-1] == "" and base64.b64decode(cursors[0]).decode().startswith("user:")


async def test_invalid_cursor_is_rejected(emu: SlackEmulator, client: AsyncWebClient) -> None:
    channel = emu.add_channel("general")
    with pytest.raises(SlackApiError) as info:
        await client.conversations_history(channel=channel.id, cursor="not-a-cursor")
    assert info.value.response["error"] == "invalid_cursor"


# ----------------------------------------------------------------- errors
async def _error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as info:
        await call
    error: str = info.value.response["error"]
    assert info.value.response["ok"] is False
    return error


async def test_error_codes(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice = emu.add_user("alice")
    joined = emu.add_channel("general", members=[alice.id])
    outside = emu.add_channel("random", members=[alice.id], bot_member=False)
    secret = emu.add_channel("secret", kind="private", members=[alice.id], bot_member=False)
    theirs = emu.post_user_message(joined.id, alice.id, "mine")

    assert await _error_of(client.chat_postMessage(channel=outside.id, text="x")) == "not_in_channel"
    assert await _error_of(client.conversations_history(channel=outside.id)) == "not_in_channel"
    assert (await client.conversations_info(channel=outside.id))["channel"]["is_member"] is False
    assert await _error_of(client.conversations_info(channel=secret.id)) == "channel_not_found"
    assert await _error_of(client.conversations_history(channel="C9999")) == "channel_not_found"
    assert await _error_of(client.chat_update(channel=joined.id, ts="1.000001", text="x")) == "message_not_found"
    assert await _error_of(client.chat_update(channel=joined.id, ts=theirs.ts, text="x")) == "cant_update_message"
    assert await _error_of(client.chat_delete(channel=joined.id, ts=theirs.ts)) == "cant_delete_message"
    assert await _error_of(client.chat_postMessage(channel=joined.id, text="x" * 40_001)) == "msg_too_long"
    with pytest.warns(UserWarning, match="text"):  # slack_sdk itself warns about a missing text
        assert await _error_of(client.chat_postMessage(channel=joined.id, text="")) == "no_text"
    assert await _error_of(client.conversations_replies(channel=joined.id, ts="1.000001")) == "thread_not_found"
    assert await _error_of(client.users_info(user="U9999")) == "user_not_found"
    bob = emu.add_user("bob")
    assert await _error_of(client.chat_postEphemeral(channel=joined.id, user=bob.id, text="x")) == "user_not_in_channel"
    await client.chat_postMessage(channel=joined.id, text="x" * 40_000)  # exactly at the limit is fine

    errors = [c.error for c in emu.calls() if not c.ok]
    assert "not_in_channel" in errors and "cant_update_message" in errors


async def test_bad_and_missing_tokens(emu: SlackEmulator) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=emu.base_url)
    assert await _error_of(wrong.auth_test()) == "invalid_auth"
    async with aiohttp.ClientSession() as session, session.post(emu.base_url + "auth.test") as response:
        body = await response.json()
    assert (response.status, body) == (200, {"ok": False, "error": "not_authed"})
    assert [c.error for c in emu.calls("auth.test")] == ["invalid_auth", "not_authed"]


def test_sync_client_and_form_bodies(emu: SlackEmulator) -> None:
    """WebClient sends JSON for chat.postMessage and form bodies elsewhere; a hand-made form post with
    `blocks` as a JSON string must store real blocks."""
    channel = emu.add_channel("general")
    client = WebClient(token=emu.bot_token, base_url=emu.base_url)
    posted = client.chat_postMessage(channel=channel.id, text="sync")
    client.reactions_add(channel=channel.id, timestamp=posted["ts"], name="tada")
    form = (f"channel={channel.id}&text=form&blocks=" + urllib.parse.quote(json.dumps([{"type": "divider"}]))).encode()
    request = urllib.request.Request(
        emu.base_url + "chat.postMessage",
        data=form,
        headers={"Authorization": f"Bearer {emu.bot_token}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request) as response:
        body = json.loads(response.read())
    assert body["ok"] is True
    assert emu.message(channel.id, body["ts"]).blocks == [{"type": "divider"}]
    assert emu.message(channel.id, posted["ts"]).reactions == {"tada": ["U0PENNY"]}


# ----------------------------------------------------------------- rate limits
async def test_forced_rate_limit_returns_429_with_retry_after(emu: SlackEmulator, client: AsyncWebClient) -> None:
    channel = emu.add_channel("general")
    posted = await client.chat_postMessage(channel=channel.id, text="a")
    emu.force_rate_limit("chat.update", times=1, retry_after=7)
    with pytest.raises(SlackApiError) as info:
        await client.chat_update(channel=channel.id, ts=posted["ts"], text="b")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "7"
    assert info.value.response["error"] == "ratelimited"
    assert (await client.chat_update(channel=channel.id, ts=posted["ts"], text="b"))["ok"] is True
    assert [c.status for c in emu.calls("chat.update")] == [429, 200]


async def test_rate_limit_retry_handler_waits_out_retry_after(emu: SlackEmulator) -> None:
    channel = emu.add_channel("general")
    client = AsyncWebClient(
        token=emu.bot_token, base_url=emu.base_url, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)]
    )
    emu.force_rate_limit("chat.postMessage", times=1, retry_after=1)
    response = await client.chat_postMessage(channel=channel.id, text="eventually")
    assert response["ok"] is True
    limited, accepted = emu.calls("chat.postMessage")
    assert (limited.status, accepted.status) == (429, 200)
    assert accepted.monotonic - limited.monotonic >= 1.0


async def test_sliding_window_limits(emu: SlackEmulator, client: AsyncWebClient) -> None:
    channel = emu.add_channel("general")
    posted = await client.chat_postMessage(channel=channel.id, text="a")
    emu.set_rate_limit("chat.update", per_second=1)
    await client.chat_update(channel=channel.id, ts=posted["ts"], text="b")
    assert await _error_of(client.chat_update(channel=channel.id, ts=posted["ts"], text="c")) == "ratelimited"

    emu.set_rate_limit("chat.update")  # removed
    emu.set_rate_limit("reactions.add", per_minute=2)
    for name in ("one", "two"):
        await client.reactions_add(channel=channel.id, timestamp=posted["ts"], name=name)
    with pytest.raises(SlackApiError) as info:
        await client.reactions_add(channel=channel.id, timestamp=posted["ts"], name="three")
    assert 55 <= int(info.value.response.headers["Retry-After"]) <= 60
    await client.chat_update(channel=channel.id, ts=posted["ts"], text="d")  # no longer limited


async def test_per_channel_budget_is_separate(emu: SlackEmulator, client: AsyncWebClient) -> None:
    first, second = emu.add_channel("one"), emu.add_channel("two")
    emu.set_rate_limit("chat.postMessage", per_second=1, per_channel=True)
    await client.chat_postMessage(channel=first.id, text="a")
    await client.chat_postMessage(channel=second.id, text="a")
    assert await _error_of(client.chat_postMessage(channel=first.id, text="b")) == "ratelimited"


async def test_fail_next_and_latency(emu: SlackEmulator, client: AsyncWebClient) -> None:
    emu.fail_next("auth.test", "fatal_error", status=500)
    with pytest.raises(SlackApiError) as info:
        await client.auth_test()
    assert info.value.response.status_code == 500 and info.value.response["error"] == "fatal_error"
    emu.set_latency("auth.test", 0.2)
    started = time.monotonic()
    assert (await client.auth_test())["ok"] is True
    assert time.monotonic() - started >= 0.2


async def test_unknown_method(emu: SlackEmulator, client: AsyncWebClient) -> None:
    assert await _error_of(client.api_call("admin.apps.approve")) == "unknown_method"


# ----------------------------------------------------------------- native chat streams
async def test_chat_stream_methods_grow_one_message(
    emu: SlackEmulator, client: AsyncWebClient, slack_eval: Path
) -> None:
    alice = emu.add_user("alice")
    channel = emu.add_channel("general", members=[alice.id])
    parent = emu.post_user_message(channel.id, alice.id, "question")
    with pytest.raises(SlackApiError) as info:
        # slack_sdk itself insists on thread_ts; go around it to check the server does too.
        await client.api_call("chat.startStream", json={"channel": channel.id, "markdown_text": "x"})
    assert info.value.response["error"] == "invalid_arguments"

    started = await client.chat_startStream(
        channel=channel.id, thread_ts=parent.ts, recipient_user_id=alice.id, recipient_team_id="T0001"
    )
    assert_shape(started.data, _sample(slack_eval, "chat.startStream"))
    appended = await client.chat_appendStream(channel=channel.id, ts=started["ts"], markdown_text="Hello")
    assert_shape(appended.data, _sample(slack_eval, "chat.appendStream"))
    await client.chat_appendStream(
        channel=channel.id, ts=started["ts"], chunks=[{"type": "markdown_text", "text": ", world"}]
    )
    await client.chat_stopStream(channel=channel.id, ts=started["ts"], markdown_text=".")
    with pytest.raises(SlackApiError) as info:
        await client.chat_appendStream(channel=channel.id, ts=started["ts"], markdown_text="late")
    assert info.value.response["error"] == "message_not_in_streaming_state"

    (reply,) = emu.bot_replies(channel.id, parent.ts)
    assert reply.text == "Hello, world." and reply.edited is None
    assert [r.text for r in emu.edit_history(channel.id, reply.ts)] == ["", "Hello", "Hello, world", "Hello, world."]
