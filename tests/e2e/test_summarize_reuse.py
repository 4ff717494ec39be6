"""``/summarize`` that never pays twice, end to end: the real ``penny run`` with its Redis, the Slack emulator and
the local model server. A repeated summary makes only the reduce call and its ledger row says what it reused;
an edit or deletion invalidates exactly the part it touches; a private channel's parts serve no other channel."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from bot.ledger import LedgerEntry
from bot.redis.connection import sync_client
from bot.redis.keys import ledger_stream_key, summary_partial_index_key
from bot.summarize.prompts import MAP_SYSTEM
from routing.catalog import load_catalog
from routing.spend.cost import Usage, call_cost
from tests.e2e.conftest import PennyFactory
from tests.harness.openai_server import ANY_MODEL, OpenAIServer, RequestRecord
from tests.harness.slack_emulator import SlackEmulator

MARKER = re.compile(r"marker-\d{3}")
FILLER = "the rollout checklist moves on schedule and the team signs off "
# Parts of about 150 tokens: two dozen messages make several parts, each summarized by its own map call.
SMALL_PARTS = {"PENNY_SUMMARY_CHUNK_TOKENS": "150", "PENNY_STREAM_UPDATE_INTERVAL_S": "0.2"}


def _answer(model: str, messages: Sequence[Mapping[str, Any]]) -> str:
    prompt = str(messages[-1]["content"])
    if messages[0]["content"] == MAP_SYSTEM:
        return "part saw " + " ".join(MARKER.findall(prompt))
    return "FINAL combined " + " ".join(MARKER.findall(prompt))


def _is_map(request: RequestRecord) -> bool:
    return request.messages[0]["content"] == MAP_SYSTEM


def _ledger(redis_url: str, team_id: str) -> list[LedgerEntry]:
    client = sync_client(redis_url)
    try:
        return [LedgerEntry.from_fields(fields) for _, fields in client.xrange(ledger_stream_key(team_id))]
    finally:
        client.close()


def _rows(slack: SlackEmulator, redis_url: str, count: int) -> list[LedgerEntry]:
    return slack.wait_for(
        lambda: rows if len(rows := _ledger(redis_url, slack.team_id)) >= count else None,
        timeout=60,
        what=f"{count} ledger rows",
    )


def _summarize(slack: SlackEmulator, source: str, *, where: str, user: str, redis_url: str, count: int) -> None:
    """``/summarize 7d`` of ``source`` typed in ``where``; returns once its ledger row (the ``count``-th) is
    written."""
    text = "7d" if source == where else f"<#{source}> 7d"
    delivery = slack.deliver_command("/summarize", text, channel=where, user=user)
    assert delivery.final.status == 200 and delivery.final.elapsed < 3.0
    _rows(slack, redis_url, count)


def _post_channel(slack: SlackEmulator, channel: str, user: str, count: int = 24) -> list[str]:
    return [slack.post_user_message(channel, user, f"marker-{i:03d} {FILLER * 3}").ts for i in range(count)]


def _cost(requests: Sequence[RequestRecord]) -> Decimal:
    catalog = load_catalog(None)
    return sum(
        (
            call_cost(catalog.model(r.model or ""), Usage(r.prompt_tokens or 0, r.completion_tokens or 0))
            for r in requests
        ),
        Decimal(0),
    )


def _partial_keys(redis_url: str, team_id: str, channel: str) -> set[bytes]:
    client = sync_client(redis_url)
    try:
        return set(client.scan_iter(match=f"penny:{{{team_id}}}:summary:partial:{channel}:*"))
    finally:
        client.close()


def test_the_same_summary_twice_makes_only_the_reduce_call_and_its_row_shows_the_reuse(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    _post_channel(slack, general.id, alice.id)
    llm.set_answer(ANY_MODEL, _answer)
    llm.set_default_speed(300)  # map calls take time, so reuse shows in the latency too
    start_penny(**SMALL_PARTS)

    _summarize(slack, general.id, where=general.id, user=alice.id, redis_url=redis_url, count=1)
    first = llm.chat_requests()
    maps = [r for r in first if _is_map(r)]
    assert len(maps) >= 3 and len(first) == len(maps) + 1
    llm.clear_requests()
    # the same command again, in the same channel, where the first summary is now posted (and left out)
    _summarize(slack, general.id, where=general.id, user=alice.id, redis_url=redis_url, count=2)
    second = llm.chat_requests()

    assert len(second) == 1 and not _is_map(second[0]), "only the reduce call"
    assert second[0].messages == first[-1].messages, "the same reduce prompt as the first time"
    row1, row2 = _rows(slack, redis_url, 2)
    assert (row1.summary_chunks, row1.chunks_reused) == (len(maps), 0)
    assert (row2.outcome, row2.summary_chunks, row2.chunks_reused) == ("answered", len(maps), len(maps))
    assert row2.attempts == 1 and row2.cost_usd == _cost(second)
    assert row2.reuse_saved_usd == _cost(maps) > 0, "what the reused parts cost the first time"
    # the baseline is one call to the baseline model with the whole week: the same for both, whatever was reused
    assert row1.baseline_cost_usd == row2.baseline_cost_usd > row1.cost_usd > row2.cost_usd
    assert row2.estimated
    assert row2.reuse_saved_ms > 0 and row2.latency_ms < row1.latency_ms, "and it answers sooner"
    finals = [m.text for m in slack.bot_messages(general.id) if "FINAL combined" in m.text]
    assert len(finals) == 2 and finals[0] == finals[1]
    assert "24 messages" in finals[1], "the first summary is not part of the second's source"


def test_an_edit_or_a_deletion_invalidates_only_the_part_that_holds_the_message(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    ops = slack.add_channel("ops", members=[alice.id])
    said = _post_channel(slack, general.id, alice.id)
    llm.set_answer(ANY_MODEL, _answer)
    start_penny(**SMALL_PARTS)
    _summarize(slack, general.id, where=ops.id, user=alice.id, redis_url=redis_url, count=1)
    kept = _partial_keys(redis_url, slack.team_id, general.id)
    assert len(kept) >= 3

    index = summary_partial_index_key(slack.team_id, general.id, said[10])
    client = sync_client(redis_url)
    try:
        assert client.exists(index)
        # same length, so the part boundaries stay where they were
        slack.deliver_event(slack.edit_event(general.id, said[10], f"marker-010 {FILLER.upper() * 3}"))
        slack.wait_for(lambda: not client.exists(index), timeout=15, what="the edited message's parts forgotten")
    finally:
        client.close()
    assert len(kept - _partial_keys(redis_url, slack.team_id, general.id)) == 1, "exactly one part dropped"

    llm.clear_requests()
    _summarize(slack, general.id, where=ops.id, user=alice.id, redis_url=redis_url, count=2)
    again = llm.chat_requests()
    maps = [r for r in again if _is_map(r)]
    assert len(maps) == 1 and len(again) == 2, "the edited part, then the reduce"
    assert "marker-010" in str(maps[0].messages[-1]["content"]) and FILLER.upper() in str(
        maps[0].messages[-1]["content"]
    )
    row = _rows(slack, redis_url, 2)[1]
    assert row.chunks_reused == row.summary_chunks - 1

    before = _partial_keys(redis_url, slack.team_id, general.id)
    slack.deliver_event(slack.delete_event(general.id, said[3]))
    slack.wait_for(
        lambda: len(before - _partial_keys(redis_url, slack.team_id, general.id)) == 1,
        timeout=15,
        what="the deleted message's part forgotten",
    )
    assert len(_partial_keys(redis_url, slack.team_id, general.id)) == len(before) - 1


def test_a_private_channels_parts_never_serve_another_channel(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    alice = slack.add_user("alice")
    secret = slack.add_channel("secret", kind="private", members=[alice.id])
    general = slack.add_channel("general", members=[alice.id])
    for i, ts in enumerate(_post_channel(slack, secret.id, alice.id)):  # the very same messages, ids and all
        slack.post_user_message(general.id, alice.id, f"marker-{i:03d} {FILLER * 3}", ts=ts)
    llm.set_answer(ANY_MODEL, _answer)
    start_penny(**SMALL_PARTS)

    # Each is typed in the other channel, so each summary is ephemeral and neither channel's history grows.
    _summarize(slack, secret.id, where=general.id, user=alice.id, redis_url=redis_url, count=1)
    private_maps = [r for r in llm.chat_requests() if _is_map(r)]
    llm.clear_requests()
    _summarize(slack, general.id, where=secret.id, user=alice.id, redis_url=redis_url, count=2)
    public_maps = [r for r in llm.chat_requests() if _is_map(r)]
    llm.clear_requests()
    _summarize(slack, secret.id, where=general.id, user=alice.id, redis_url=redis_url, count=3)

    assert len(public_maps) == len(private_maps) >= 3, "nothing of #secret is reused for #general"
    assert sorted(str(r.messages) for r in public_maps) == sorted(str(r.messages) for r in private_maps), (
        "though the parts are identical"
    )
    assert [r for r in llm.chat_requests() if _is_map(r)] == [], "#secret's own next summary reuses them all"
    rows = _rows(slack, redis_url, 3)
    assert [r.chunks_reused for r in rows] == [0, 0, len(private_maps)]  # rows are scoped where each was asked
