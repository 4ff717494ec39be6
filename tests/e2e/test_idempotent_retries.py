"""A reply lost after Redis ran the command: redis-py sends the command again, and nothing applies twice.

The real process talks to Redis through a proxy that loses one reply of each script under test, after Redis ran
it. Without idempotent scripts a re-sent event claim answered "busy" to its own owner (the mention was dropped,
nobody answered), a re-sent budget settle counted the difference twice, a re-sent vote said it was a duplicate.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import redis

from bot.ledger import _RECORD_ONCE
from bot.redis.keys import ledger_stream_key
from bot.slack.event_claims import _CLAIM
from routing.keys import budget_spent_key, feedback_counters_key, feedback_log_key
from routing.learned.feedback_log import _APPLY
from routing.spend.budget import _SETTLE
from tests.e2e.conftest import PennyFactory
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.redis_proxy import RedisFaultProxy
from tests.harness.slack_emulator import SlackEmulator


def _sha(script: str) -> bytes:
    return hashlib.sha1(script.encode()).hexdigest().encode()


@pytest.fixture
def proxy(redis_url: str) -> Iterator[RedisFaultProxy]:
    faults = RedisFaultProxy(redis_url).start()
    yield faults
    faults.stop()


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_re_sent_claim_settle_record_and_vote_each_apply_once(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, proxy: RedisFaultProxy, redis_url: str
) -> None:
    alice, bob = slack.add_user("alice"), slack.add_user("bob")
    general = slack.add_channel("general", members=[alice.id, bob.id])
    llm.set_answer(ANY_MODEL, "The on-call rota is in the ops handbook.")
    start_penny(PENNY_REDIS_URL=proxy.url)
    for script in (_CLAIM, _SETTLE, _RECORD_ONCE):
        proxy.drop_reply(_sha(script))

    question = slack.mention(general.id, alice.id, "where is the on-call rota?")
    slack.wait_for(
        lambda: any(
            "ops handbook" in r.text and slack.is_finished(r) for r in slack.bot_replies(general.id, question.ts or "")
        ),
        timeout=60,
        what="the answer (a claim that answered 'busy' to its own owner would drop the mention)",
    )
    _wait_until(lambda: len(proxy.dropped) == 3, "all three lost replies")
    assert sorted(proxy.dropped) == sorted(_sha(s) for s in (_CLAIM, _SETTLE, _RECORD_ONCE))

    client = redis.Redis.from_url(redis_url)
    try:
        _wait_until(lambda: client.xlen(ledger_stream_key(slack.team_id)) == 1, "the ledger row")
        [(_, row)] = client.xrange(ledger_stream_key(slack.team_id))
        cost_nanos = int(Decimal(row[b"cost_usd"].decode()) * 10**9)
        assert cost_nanos > 0
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        spent = int(client.get(budget_spent_key(slack.team_id, f"day:{day}")) or 0)
        assert spent == cost_nanos, "the budget counts what the ledger says was paid, once"
        assert len(slack.bot_replies(general.id, question.ts or "")) == 1

        proxy.drop_reply(_sha(_APPLY))
        reply = slack.bot_replies(general.id, question.ts or "")[0]
        assert slack.react(general.id, reply.ts, bob.id, "+1").final.status == 200
        _wait_until(lambda: len(proxy.dropped) == 4, "the vote's lost reply")
        model = row[b"model"].decode()
        _wait_until(
            lambda: client.hget(feedback_counters_key(slack.team_id), f"{model}|qa|good") == b"1", "one 👍 counted"
        )
        assert client.xlen(feedback_log_key(slack.team_id)) == 1
    finally:
        client.close()
