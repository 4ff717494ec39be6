import asyncio
from dataclasses import replace
from decimal import Decimal

from bot.ledger import Ledger, LedgerEntry
from bot.redis.connection import plain_client
from bot.redis.keys import ledger_stream_key


def _entry(request_id: str, channel: str = "C1", team: str = "T1") -> LedgerEntry:
    return LedgerEntry(
        request_id=request_id,
        team_id=team,
        channel_id=channel,
        user_id="U1",
        surface="mention",
        task="qa",
        outcome="answered",
        model="m",
        tier="economy",
        prompt_tokens=10,
        completion_tokens=5,
        cost_usd=Decimal("0.000006"),
        baseline_cost_usd=Decimal("0.000075"),
    )


async def test_a_request_is_recorded_exactly_once_under_concurrency(redis_url: str) -> None:
    client = plain_client(redis_url)
    await client.ping()  # connected first, as Penny connects (a fresh cluster client races its slot map)
    ledger = Ledger(client)
    added = await asyncio.gather(*(ledger.record(_entry("Ev1")) for _ in range(8)))
    assert added.count(True) == 1
    rows = await ledger.entries("T1")
    assert len(rows) == 1 and rows[0].cost_usd == Decimal("0.000006")
    await client.aclose()


async def test_reads_are_scoped_by_workspace_and_channel(redis_url: str) -> None:
    client = plain_client(redis_url)
    ledger = Ledger(client)
    await ledger.record(_entry("a", channel="C1"))
    await ledger.record(_entry("b", channel="C2"))
    await ledger.record(_entry("c", team="T2"))
    assert [e.request_id for e in await ledger.entries("T1", "C1")] == ["a"]
    assert {e.request_id for e in await ledger.entries("T1")} == {"a", "b"}
    assert [e.request_id for e in await ledger.entries("T2")] == ["c"]
    await client.aclose()


async def test_cache_and_reuse_fields_round_trip_and_old_rows_read_as_zero(redis_url: str) -> None:
    client = plain_client(redis_url)
    ledger = Ledger(client)
    summary = replace(
        _entry("new"),
        task="summarize",
        cached_tokens=7,
        summary_chunks=9,
        chunks_reused=6,
        reuse_saved_usd=Decimal("0.000123456"),
        reuse_saved_ms=4200,
    )
    await ledger.record(summary)
    old = {k: v for k, v in _entry("old").to_fields().items() if k not in _NEW_FIELDS}
    await client.xadd(ledger_stream_key("T1"), old)  # a row written before these fields existed

    rows = {e.request_id: e for e in await ledger.entries("T1")}
    assert rows["new"].cached_tokens == 7 and rows["new"].summary_chunks == 9 and rows["new"].chunks_reused == 6
    assert rows["new"].reuse_saved_usd == Decimal("0.000123456") and rows["new"].reuse_saved_ms == 4200
    assert (rows["old"].cached_tokens, rows["old"].chunks_reused, rows["old"].reuse_saved_usd) == (0, 0, 0)
    assert rows["old"].cost_usd == Decimal("0.000006")
    await client.aclose()


_NEW_FIELDS = {"cached_tokens", "summary_chunks", "chunks_reused", "reuse_saved_usd", "reuse_saved_ms", "escalations"}


async def test_escalations_round_trip_per_model_and_old_rows_have_none(redis_url: str) -> None:
    client = plain_client(redis_url)
    ledger = Ledger(client)
    steps = (("llama3.1:8b", "repetition"), ("glm-4-plus", "leaked_tokens"))  # a model id may hold a colon
    await ledger.record(replace(_entry("up"), escalations=steps))
    await ledger.record(_entry("plain"))
    old = {k: v for k, v in _entry("old").to_fields().items() if k != "escalations"}
    await client.xadd(ledger_stream_key("T1"), old)
    rows = {e.request_id: e for e in await ledger.entries("T1")}
    assert rows["up"].escalations == steps
    assert rows["plain"].escalations == () and rows["old"].escalations == ()
    await client.aclose()
