"""👍/👎 on Penny's answers, end to end: the real process counts votes and acts on them."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis

from bot.redis.connection import sync_client
from routing.keys import feedback_counters_key, feedback_log_key
from tests.e2e.conftest import PennyFactory
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator

ANSWER = "Deploys freeze at 16:00 on Fridays; hotfixes need a second reviewer."


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _counters(client: redis.Redis, team: str) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in client.hgetall(feedback_counters_key(team)).items()}


def _final_reply(slack: SlackEmulator, channel: str, thread_ts: str, contains: str) -> str:
    def done() -> str | None:
        replies = slack.bot_replies(channel, thread_ts)
        final = replies[0] if replies and contains in replies[0].text and slack.is_finished(replies[0]) else None
        return final.ts if final is not None else None

    return str(slack.wait_for(done, timeout=60.0, what=f"reply containing {contains!r}"))


def test_thumbs_count_per_model_and_task_and_can_be_taken_back(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    alice, bob = slack.add_user("alice"), slack.add_user("bob")
    general = slack.add_channel("general", members=[alice.id, bob.id])
    llm.set_answer(ANY_MODEL, ANSWER)
    start_penny()
    question = slack.mention(general.id, alice.id, "what is the deploy freeze rule?")
    reply_ts = _final_reply(slack, general.id, question.ts or "", "16:00")
    model = llm.models_called()[-1]

    client = sync_client(redis_url)
    try:
        assert slack.react(general.id, reply_ts, bob.id, "+1::skin-tone-3").final.status == 200
        assert slack.react(general.id, reply_ts, alice.id, "thumbsup").final.status == 200
        _wait_until(lambda: _counters(client, slack.team_id).get(f"{model}|qa|good") == 2, "two 👍 counted")

        slack.react(general.id, question.ts or "", bob.id, "+1")  # alice's question is not Penny's answer
        slack.react(general.id, reply_ts, bob.id, "heart")  # not a vote
        slack.unreact(general.id, reply_ts, alice.id, "thumbsup")
        _wait_until(lambda: _counters(client, slack.team_id).get(f"{model}|qa|good") == 1, "the 👍 taken back")
        time.sleep(0.5)
        assert _counters(client, slack.team_id) == {f"{model}|qa|good": 1}
        assert client.xlen(feedback_log_key(slack.team_id)) == 3, "two adds and one removal, nothing else"
    finally:
        client.close()


@pytest.mark.slow
def test_thumbs_down_on_an_answer_evicts_it_from_the_cache(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    alice, bob = slack.add_user("alice"), slack.add_user("bob")
    general = slack.add_channel("general", members=[alice.id, bob.id])
    llm.set_answer(ANY_MODEL, ANSWER)
    start_penny(PENNY_CACHE_ENABLED="true")

    first = slack.mention(general.id, alice.id, "What is the deploy freeze rule?")
    _final_reply(slack, general.id, first.ts or "", "16:00")
    second = slack.mention(general.id, bob.id, "what is the deploy freeze rule")
    cached_ts = _final_reply(slack, general.id, second.ts or "", "from cache")
    calls = len(llm.chat_requests())

    client = sync_client(redis_url)
    try:
        slack.react(general.id, cached_ts, bob.id, "-1")
        _wait_until(
            lambda: any(k.endswith("|bad") and v == 1 for k, v in _counters(client, slack.team_id).items()),
            "the 👎 counted",
        )
    finally:
        client.close()
    time.sleep(0.5)  # the eviction travels through the cache's change stream
    third = slack.mention(general.id, alice.id, "What is the deploy freeze rule?")
    reply = _final_reply(slack, general.id, third.ts or "", "16:00")
    assert reply
    assert "from cache" not in slack.bot_replies(general.id, third.ts or "")[0].text
    assert len(llm.chat_requests()) == calls + 1, "the disliked answer is no longer served from the cache"


def test_thumbs_on_a_posted_summary_count_for_the_summarizing_model(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    alice, bob = slack.add_user("alice"), slack.add_user("bob")
    general = slack.add_channel("general", members=[alice.id, bob.id])
    slack.post_user_message(general.id, alice.id, "the launch moves to Thursday")
    llm.set_answer(ANY_MODEL, "Gist: the launch moved to Thursday.")
    start_penny()
    slack.deliver_command("/summarize", "", channel=general.id, user=alice.id)

    def summary_ts() -> str | None:
        return next((m.ts for m in slack.bot_messages(general.id) if "moved to Thursday" in m.text), None)

    ts = str(slack.wait_for(summary_ts, timeout=30, what="the summary"))
    model = llm.models_called()[-1]
    slack.react(general.id, ts, bob.id, "-1")
    client = sync_client(redis_url)
    try:
        _wait_until(lambda: _counters(client, slack.team_id).get(f"{model}|summarize|bad") == 1, "the 👎 counted")
    finally:
        client.close()
