"""A Redis restart (AOF on) between and during requests loses neither a reply nor a ledger row; rows a process
could not write before it stopped are written by the next one."""

from __future__ import annotations

import threading
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import redis
from prometheus_client.parser import text_string_to_metric_families

from bot.bookkeeping.spool import FileSpool
from bot.ledger import LedgerEntry
from bot.redis.embedded import RedisServerProcess
from bot.redis.keys import ledger_seen_key, ledger_stream_key
from tests.e2e.conftest import PennyFactory
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import Delivery, SlackEmulator


def test_redis_restart_loses_no_reply_and_no_ledger_row(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_server: RedisServerProcess, redis_url: str
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    llm.set_answer(ANY_MODEL, "Still here after the restart.")
    start_penny()

    first = slack.mention(general.id, alice.id, "first question")
    slack.wait_for(
        lambda: any(r.text.startswith("Still here") for r in slack.bot_replies(general.id, first.ts or "")),
        timeout=20,
        what="first answer",
    )
    redis_server.stop()  # the same port and data directory: the AOF is replayed
    redis_server.start()
    redis_server.stop()  # down while the next event arrives: the claim waits for Redis instead of failing
    pending: list[Delivery] = []
    sender = threading.Thread(target=lambda: pending.append(slack.mention(general.id, alice.id, "second question")))
    sender.start()
    time.sleep(1.5)
    redis_server.start()
    sender.join(timeout=30)
    second = pending[0]
    assert second.final.status == 200
    slack.wait_for(
        lambda: any(r.text.startswith("Still here") for r in slack.bot_replies(general.id, second.ts or "")),
        timeout=30,
        what="answer after the restart",
    )

    client = redis.Redis.from_url(redis_url)

    def rows() -> int:
        return int(client.xlen(ledger_stream_key(slack.team_id)))

    slack.wait_for(lambda: rows() == 2, timeout=10, what="two ledger rows")
    assert rows() == 2
    assert len(slack.bot_replies(general.id, second.ts or "")) == 1, "re-deliveries while Redis was down: one reply"
    client.close()


def test_redis_down_for_30_s_during_20_requests_every_answer_arrives_and_every_row_once(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_server: RedisServerProcess, redis_url: str
) -> None:
    """The acceptance run: requests before, during and across a 30 s outage; Redis then returns with its AOF."""
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    llm.set_answer(ANY_MODEL, "Answered through the outage.")
    llm.set_default_speed(8.0)  # a second or so of streaming: some requests are mid-answer when Redis stops
    penny = start_penny()

    deliveries: list[Delivery] = []
    senders: list[threading.Thread] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        delivery = slack.mention(general.id, alice.id, f"question number {n}")
        with lock:
            deliveries.append(delivery)

    stopped_at = 0.0
    for n in range(20):
        if n == 4:
            redis_server.stop()
            stopped_at = time.monotonic()
        sender = threading.Thread(target=send, args=(n,))
        sender.start()
        senders.append(sender)
        time.sleep(0.5)
    time.sleep(max(0.0, stopped_at + 30 - time.monotonic()))
    redis_server.start()
    for sender in senders:
        sender.join(timeout=60)
    assert len(deliveries) == 20

    def answered() -> bool:
        return all(
            any(r.text.startswith("Answered through") for r in slack.bot_replies(general.id, d.ts or ""))
            for d in deliveries
        )

    slack.wait_for(answered, timeout=120, what="all 20 answers")
    assert all(len(slack.bot_replies(general.id, d.ts or "")) == 1 for d in deliveries), "one reply per mention"

    client = redis.Redis.from_url(redis_url)
    try:
        slack.wait_for(lambda: client.xlen(ledger_stream_key(slack.team_id)) >= 20, timeout=60, what="20 rows")
        time.sleep(2.0)  # anything still spooled would be flushed by now, and would show as a 21st row
        rows = [fields[b"request_id"] for _, fields in client.xrange(ledger_stream_key(slack.team_id))]
        assert len(rows) == 20 and len(set(rows)) == 20, "20 ledger rows, each request exactly once"
        assert {d.event_id for d in deliveries} == {r.decode() for r in rows}
    finally:
        client.close()
    assert _metric(penny.port, "penny_ledger_spool_rows") == 0.0


def _metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise AssertionError(f"{name} not in /metrics")


def test_rows_left_in_the_spool_by_a_previous_run_are_written_once_at_start(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str, tmp_path: Path
) -> None:
    """A process stopped while Redis was away left rows on disk: the next ``penny run`` writes them, once."""
    data_dir = tmp_path / "data"
    left = FileSpool(data_dir / "ledger-spool")
    rows = [_row(f"EvLEFT{n}") for n in range(3)]
    for row in rows:
        left.append(row)
    left.seal()  # that process is gone
    client = redis.Redis.from_url(redis_url)
    try:
        already = rows[0]  # its reply was lost, but Redis had taken it: it must not count twice
        client.eval(
            "redis.call('SET', KEYS[1], '1'); return redis.call('XADD', KEYS[2], '*', unpack(ARGV))",
            2,
            ledger_seen_key(already.team_id, already.request_id),
            ledger_stream_key(already.team_id),
            *[part for pair in already.to_fields().items() for part in pair],
        )
        start_penny(PENNY_DATA_DIR=str(data_dir))
        slack.wait_for(lambda: not left.pending(), timeout=30, what="the spool emptied")
        ids = [fields[b"request_id"] for _, fields in client.xrange(ledger_stream_key(slack.team_id))]
        assert ids == [b"EvLEFT0", b"EvLEFT1", b"EvLEFT2"]
    finally:
        client.close()


def _row(request_id: str) -> LedgerEntry:
    return LedgerEntry(
        request_id=request_id,
        team_id="T0001",
        channel_id="C0001",
        user_id="U0001",
        surface="mention",
        task=None,
        outcome="answered",
        model="glm-4-plus",
        tier="economy",
        cost_usd=Decimal("0.000042"),
        baseline_cost_usd=Decimal("0.00051"),
    )
