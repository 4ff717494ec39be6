"""``/summarize`` end to end: signed slash commands to the real ``penny run``, history from the Slack emulator,
summaries from the local OpenAI-compatible server, one ledger row per command read back from Redis."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.ledger import LedgerEntry
from bot.redis.connection import sync_client
from bot.redis.keys import ledger_stream_key
from bot.summarize.prompts import MAP_SYSTEM
from routing.catalog import load_catalog
from routing.spend.cost import Usage, call_cost
from tests.e2e.conftest import PennyFactory, write_test_catalog
from tests.harness.openai_server import ANY_MODEL, Fault, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator

SUMMARY = "Gist: the launch moved to Thursday. Bob owns the FAQ, due Wednesday."


def _ledger(redis_url: str, team_id: str) -> list[LedgerEntry]:
    client = sync_client(redis_url)
    try:
        return [LedgerEntry.from_fields(fields) for _, fields in client.xrange(ledger_stream_key(team_id))]
    finally:
        client.close()


def _one_row(slack: SlackEmulator, redis_url: str) -> LedgerEntry:
    rows = slack.wait_for(lambda: _ledger(redis_url, slack.team_id), timeout=20, what="ledger row")
    return rows[0] if len(rows) == 1 else _fail(f"expected one ledger row, got {rows}")


def _fail(message: str) -> Any:
    raise AssertionError(message)


def _ephemeral_texts(slack: SlackEmulator) -> list[str]:
    return [
        str(p.payload.get("text", ""))
        for p in slack.response_url_posts()
        if p.payload.get("response_type") == "ephemeral"
    ]


def _final_bot_message(slack: SlackEmulator, channel: str, contains: str, timeout: float = 30.0) -> str:
    def done() -> str | None:
        return next((m.text for m in slack.bot_messages(channel) if contains in m.text), None)

    return slack.wait_for(done, timeout=timeout, what=f"bot message containing {contains!r}")


def test_summarize_posts_a_summary_built_from_the_channel_history(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    alice = slack.add_user("alice", display_name="Alice")
    bob = slack.add_user("bob", display_name="Bob")
    general = slack.add_channel("general", members=[alice.id, bob.id])
    said = [
        "the launch moves to Thursday, payments review needs two more days",
        f"<@{bob.id}> can you own the FAQ?",
        "yes, FAQ done by Wednesday",
    ]
    for index, text in enumerate(said):
        slack.post_user_message(general.id, (alice.id, alice.id, bob.id)[index], text)
    llm.set_answer(ANY_MODEL, SUMMARY)
    start_penny()

    delivery = slack.deliver_command("/summarize", "", channel=general.id, user=alice.id)
    assert delivery.final.status == 200
    assert delivery.final.elapsed < 3.0, "acked within Slack's 3 s"
    final = _final_bot_message(slack, general.id, "Thursday. Bob owns")

    assert final.startswith("*Summary of this channel* · last 24 hours · 3 messages")
    assert SUMMARY in final
    assert len(slack.bot_messages(general.id)) == 1, "one message in the channel, streamed into the placeholder"
    assert "thinking" in slack.edit_history(general.id, slack.bot_messages(general.id)[0].ts)[0].text.lower()
    requests = llm.chat_requests()
    assert len(requests) == 1
    prompt = "\n".join(str(m["content"]) for m in requests[0].messages)
    for text in ("the launch moves to Thursday", "can you own the FAQ?", "FAQ done by Wednesday"):
        assert text in prompt
    assert "Alice:" in prompt and "Bob:" in prompt and "@Bob can you own" in prompt, "names, not user ids"
    assert bob.id not in prompt
    assert _ephemeral_texts(slack) == []

    row = _one_row(slack, redis_url)
    assert (row.outcome, row.surface, row.task, row.user_id, row.channel_id) == (
        "answered",
        "command",
        "summarize",
        alice.id,
        general.id,
    )
    assert row.cost_usd > 0 and row.baseline_cost_usd > row.cost_usd and row.attempts == 1


def _small_catalog(tmp_path: Path, llm: OpenAIServer, window: int) -> Path:
    """The shipped catalog with tiny context windows, so a few dozen messages need map-reduce."""
    path = write_test_catalog(tmp_path / "small-catalog.yaml", llm.base_url)
    data = yaml.safe_load(path.read_text())
    for model in data["models"]:
        model["context_window"] = window
    data["policy"]["answer_tokens"] = 300
    data["policy"].pop("task_answer_tokens", None)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


_MARKER = re.compile(r"marker-\d{3}")
_PARTIAL_ID = re.compile(r"partial-\d+")


def _is_map(request: Any) -> bool:
    return request.messages[0]["content"] == MAP_SYSTEM


def _read_markers(requests: Sequence[Any]) -> list[str]:
    """Markers each request read as transcript: a map call's excerpt, or a short part quoted in a reduce."""
    seen = []
    for request in requests:
        prompt = str(request.messages[-1]["content"])
        if _is_map(request):
            seen += _MARKER.findall(prompt)
        else:
            quoted = [p for p in prompt.split("\n\nPart ") if "messages as written" in p]
            seen += _MARKER.findall(" ".join(quoted))
    return seen


def _pad(words: int) -> str:
    """Filler of ``words`` four-character words that is no loop (Penny's quality checks fail "pad pad pad…")."""
    return "".join(f" {chr(97 + i % 26)}{chr(97 + i // 26 % 26)}d" for i in range(words))


def _scripted(padding: int) -> Any:
    """Map calls answer with the markers they were shown; reduce calls list the partials they were given."""

    def answer(model: str, messages: Sequence[Mapping[str, Any]]) -> str:
        prompt = str(messages[-1]["content"])
        if messages[0]["content"] == MAP_SYSTEM:
            markers = _MARKER.findall(prompt)
            first = markers[0][7:] if markers else "none"
            return f"partial-{first} saw " + " ".join(markers) + _pad(padding)
        kind = "INTERMEDIATE" if "intermediate summary" in prompt else "FINAL"
        return f"{kind} combined " + " ".join(_PARTIAL_ID.findall(prompt)) + _pad(padding)

    return answer


@pytest.mark.parametrize(
    ("window", "padding", "rounds"), [(3000, 0, 1), (1200, 60, 2)], ids=["one-reduce", "recursive"]
)
def test_a_long_channel_is_map_reduced_with_nothing_dropped_and_one_ledger_row(
    slack: SlackEmulator,
    llm: OpenAIServer,
    start_penny: PennyFactory,
    redis_url: str,
    tmp_path: Path,
    window: int,
    padding: int,
    rounds: int,
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    markers = [f"marker-{i:03d}" for i in range(60)]
    for marker in markers:
        slack.post_user_message(general.id, alice.id, f"{marker} " + "status update about the rollout plan " * 8)
    llm.set_answer(ANY_MODEL, _scripted(padding))
    catalog_path = _small_catalog(tmp_path, llm, window)
    start_penny(PENNY_CATALOG=str(catalog_path), PENNY_STREAM_UPDATE_INTERVAL_S="0.2")

    delivery = slack.deliver_command("/summarize", "", channel=general.id, user=alice.id)
    assert delivery.final.status == 200 and delivery.final.elapsed < 3.0
    final = _final_bot_message(slack, general.id, "FINAL combined", timeout=90)

    requests = llm.chat_requests()
    maps = [r for r in requests if _is_map(r)]
    reduces = [r for r in requests if r not in maps]
    assert len(maps) >= 3, f"a long channel is summarized in parts, got {len(maps)}"
    assert sorted(_read_markers(requests)) == markers, "every message is read exactly once (mapped or quoted)"
    assert all((r.prompt_tokens or 0) + 300 <= window for r in requests), "every call fits the context window"
    intermediate = [r for r in reduces if "intermediate summary" in str(r.messages[-1]["content"])]
    assert len(reduces) - len(intermediate) == 1, "exactly one final reduce"
    assert (len(intermediate) > 0) == (rounds > 1), f"{len(intermediate)} intermediate reduce calls"
    assert requests[-1] in reduces and requests[-1] not in intermediate, "the final reduce comes last"
    expected_ids = sorted(_PARTIAL_ID.findall(" ".join(str(r.answer) for r in maps)))
    assert len(expected_ids) == len(maps)
    assert sorted(_PARTIAL_ID.findall(str(requests[-1].messages[-1]["content"]))) == expected_ids, (
        "the final reduce carries every part's summary, each once"
    )
    assert sorted(_PARTIAL_ID.findall(final)) == expected_ids
    assert final.startswith("*Summary of this channel* · last 24 hours · 60 messages")
    placeholder = slack.bot_messages(general.id)
    assert len(placeholder) == 1, "one reply message"
    shown = [r.text for r in slack.edit_history(general.id, placeholder[0].ts)]
    assert any(re.search(r"part \d+ of \d+", text) for text in shown), f"map progress in the placeholder: {shown}"

    row = _one_row(slack, redis_url)
    catalog = load_catalog(catalog_path)
    expected = sum(
        (
            call_cost(catalog.model(r.model or ""), Usage(r.prompt_tokens or 0, r.completion_tokens or 0))
            for r in requests
        ),
        Decimal(0),
    )
    assert row.outcome == "answered" and row.task == "summarize"
    assert row.attempts == len(requests)
    assert row.cost_usd == expected, "the row carries the summed cost of every map and reduce call"
    assert row.prompt_tokens == sum(r.prompt_tokens or 0 for r in requests)


def test_a_permalink_into_a_channel_the_requester_is_not_in_is_refused_without_a_model_call(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    alice = slack.add_user("alice")
    bob = slack.add_user("bob")
    general = slack.add_channel("general", members=[alice.id, bob.id])
    secret = slack.add_channel("secret", kind="private", members=[bob.id])
    root = slack.post_user_message(secret.id, bob.id, "the acquisition closes on Friday")
    link = f"https://{slack.team_domain}.slack.com/archives/{secret.id}/p{root.ts.replace('.', '')}"
    llm.set_answer(ANY_MODEL, SUMMARY)
    start_penny()

    delivery = slack.deliver_command("/summarize", f"<{link}>", channel=general.id, user=alice.id)
    assert delivery.final.status == 200
    texts = slack.wait_for(lambda: _ephemeral_texts(slack), timeout=15, what="ephemeral refusal")
    assert "not a member" in texts[0]
    assert "acquisition" not in " ".join(texts)
    row = _one_row(slack, redis_url)
    assert row.outcome == "refused" and row.cost_usd == 0
    assert llm.chat_requests() == []
    assert slack.bot_messages() == []


def test_unknown_argument_gets_ephemeral_usage_and_no_model_call(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    slack.post_user_message(general.id, alice.id, "something to summarize")
    start_penny()

    delivery = slack.deliver_command("/summarize", "since-yesterday", channel=general.id, user=alice.id)
    assert delivery.final.status == 200
    texts = slack.wait_for(lambda: _ephemeral_texts(slack), timeout=15, what="usage text")
    assert "`since-yesterday`" in texts[0] and "How to use `/summarize`" in texts[0]
    assert _one_row(slack, redis_url).outcome == "help"
    assert llm.chat_requests() == []
    assert slack.bot_messages() == []


def test_a_private_channel_summary_requested_from_a_public_channel_is_shown_only_to_the_requester(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    secret = slack.add_channel("secret", kind="private", members=[alice.id])
    slack.post_user_message(secret.id, alice.id, "the acquisition closes on Friday")
    llm.set_answer(ANY_MODEL, "Gist: an acquisition closes Friday.")
    start_penny()

    slack.deliver_command("/summarize", f"<#{secret.id}|secret>", channel=general.id, user=alice.id)
    final = slack.wait_for(
        lambda: [t for t in _ephemeral_texts(slack) if "acquisition closes Friday" in t],
        timeout=20,
        what="ephemeral summary",
    )[0]
    assert "Only you can see this summary" in final and "#secret" in final
    assert len(llm.chat_requests()) == 1
    assert slack.bot_messages() == [], "nothing from a private channel is posted in a public one"
    assert _one_row(slack, redis_url).outcome == "answered"


def test_penny_not_in_the_channel_and_a_provider_outage_each_get_one_clear_message(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    elsewhere = slack.add_channel("elsewhere", members=[alice.id], bot_member=False)
    slack.post_user_message(general.id, alice.id, "we ship on Thursday")
    llm.set_down(ANY_MODEL, Fault.server_error(503))
    start_penny()

    slack.deliver_command("/summarize", f"<#{elsewhere.id}|elsewhere>", channel=general.id, user=alice.id)
    texts = slack.wait_for(lambda: _ephemeral_texts(slack), timeout=15, what="invite message")
    assert "not_in_channel" in texts[0] and "/invite @Penny" in texts[0]

    slack.deliver_command("/summarize", "", channel=general.id, user=alice.id)
    apology = _final_bot_message(slack, general.id, "try again", timeout=60)
    assert "sorry" in apology.lower()
    assert len(slack.bot_messages(general.id)) == 1
    slack.wait_for(lambda: len(_ledger(redis_url, slack.team_id)) == 2, timeout=20, what="two ledger rows")
    rows = _ledger(redis_url, slack.team_id)
    assert [r.outcome for r in rows] == ["refused", "failed"]
    assert rows[1].attempts == len(llm.chat_requests()) > 0


def test_a_permalink_to_a_thread_in_this_channel_is_summarized_into_that_thread(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    slack.post_user_message(general.id, alice.id, "unrelated chatter outside the thread")
    root = slack.post_user_message(general.id, alice.id, "incident: checkout errors since 09:00")
    reply = slack.post_user_message(general.id, alice.id, "rolled back build 812, errors gone", thread_ts=root.ts)
    link = (
        f"https://{slack.team_domain}.slack.com/archives/{general.id}/p{reply.ts.replace('.', '')}"
        f"?thread_ts={root.ts}&cid={general.id}"
    )
    llm.set_answer(ANY_MODEL, "Gist: checkout errors fixed by a rollback.")
    start_penny()

    slack.deliver_command("/summarize", link, channel=general.id, user=alice.id)
    final = slack.wait_for(
        lambda: [m.text for m in slack.bot_replies(general.id, root.ts) if "rollback" in m.text],
        timeout=20,
        what="summary in the thread",
    )[0]
    assert final.startswith(("*Summary of this thread* · 2 messages", "**Summary of this thread** · 2 messages"))
    prompt = str(llm.chat_requests()[0].messages[-1]["content"])
    assert "checkout errors since 09:00" in prompt and "rolled back build 812" in prompt
    assert "unrelated chatter" not in prompt
    assert [m.ts for m in slack.bot_messages(general.id)] == [m.ts for m in slack.bot_replies(general.id, root.ts)]
    assert _one_row(slack, redis_url).outcome == "answered"


def test_a_long_channel_is_summarized_in_standard_sized_parts_not_on_premium(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    """With the shipped catalog, ~50k tokens of history would be a "very long context" (premium) in one call;
    in parts of at most 12k tokens each call is a medium summary, answered by a standard model."""
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    for i in range(300):
        slack.post_user_message(general.id, alice.id, f"update {i}: " + "the rollout plan moves on schedule " * 20)
    llm.set_answer(ANY_MODEL, _scripted(0))
    start_penny()

    slack.deliver_command("/summarize", "", channel=general.id, user=alice.id)
    _final_bot_message(slack, general.id, "FINAL combined", timeout=60)
    row = _one_row(slack, redis_url)
    catalog = load_catalog(None)
    tiers = {model.id: str(model.tier) for model in catalog.models}
    called = llm.models_called()
    assert len(called) >= 4, "several parts, then the combining call"
    assert {tiers[m] for m in called} <= {"economy", "standard"}, called
    assert row.tier == "standard" and row.outcome == "answered"


def test_a_slack_outage_while_reading_the_source_is_not_called_a_permission_problem(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    slack.post_user_message(general.id, alice.id, "we ship on Thursday")
    slack.fail_next("conversations.history", "internal_error", status=503, html=True)
    penny = start_penny()

    slack.deliver_command("/summarize", "", channel=general.id, user=alice.id)
    texts = slack.wait_for(lambda: _ephemeral_texts(slack), timeout=15, what="a could-not-read message")
    assert "just now" in texts[0] and "/invite" not in texts[0]
    assert _one_row(slack, redis_url).outcome == "failed"
    assert "http_503" in penny.log_text()
    assert not llm.chat_requests()
