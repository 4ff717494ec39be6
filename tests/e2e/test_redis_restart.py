"""A Redis restart (AOF on) between and during requests loses neither a reply nor a ledger row."""

from __future__ import annotations

import threading
import time

import redis

from bot.redis.embedded import RedisServerProcess
from bot.redis.keys import ledger_stream_key
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
