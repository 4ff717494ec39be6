"""Thread manners through the real app: in a thread Penny answered, it speaks when spoken to, and every event,
handled or not, is acknowledged with 200 and its claim finished."""

from __future__ import annotations

import time

from bot.redis.connection import sync_client
from bot.redis.keys import event_claim_key
from tests.e2e.conftest import PennyFactory
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator, payloads

QUIET_S = 2.5  # long enough for a wrongly answered message to show up


def _claim_status(redis_url: str, team: str, event_id: str) -> str | None:
    client = sync_client(redis_url)
    try:
        raw = client.hget(event_claim_key(team, event_id), "status")
        return raw.decode() if raw else None
    finally:
        client.close()


def _answers(slack: SlackEmulator, channel: str, thread: str) -> list[str]:
    return [m.text for m in slack.bot_replies(channel, thread) if "▍" not in m.text and "thinking" not in m.text]


def test_penny_answers_what_is_addressed_to_it_and_stays_out_of_conversations(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    alice = slack.add_user("alice", display_name="Alice")
    bob = slack.add_user("bob", display_name="Bob")
    general = slack.add_channel("general", members=[alice.id, bob.id])
    llm.set_answer(ANY_MODEL, "The launch is on Thursday.")
    llm.add_rule("what time", "At 10:00 UTC.")
    llm.add_rule("contractors", "Yes, contractors are included.")
    start_penny()

    thread = slack.mention(general.id, alice.id, "when is the launch?").ts or ""
    slack.wait_for(lambda: "The launch is on Thursday." in _answers(slack, general.id, thread), timeout=20)
    assert len(llm.chat_requests()) == 1

    # Two people talking to each other: no answer, no model call.
    chatter = [
        slack.send_message(general.id, bob.id, "Alice, did you book the room for the launch?", thread_ts=thread),
        slack.send_message(general.id, alice.id, "yes, room 4 at 10", thread_ts=thread),
        slack.send_message(general.id, alice.id, "thanks!", thread_ts=thread),  # an acknowledgement
        slack.send_message(general.id, bob.id, ":tada:", thread_ts=thread),
    ]
    assert all(d.final.status == 200 for d in chatter)
    time.sleep(QUIET_S)
    assert len(llm.chat_requests()) == 1, "nobody asked Penny anything"
    assert len(slack.bot_replies(general.id, thread)) == 1
    assert all(_claim_status(redis_url, slack.team_id, d.event_id or "") == "done" for d in chatter)

    # The asker's follow-up question: one answer.
    slack.send_message(general.id, alice.id, "and what time does it start?", thread_ts=thread)
    slack.wait_for(lambda: "At 10:00 UTC." in _answers(slack, general.id, thread), timeout=20)
    assert len(llm.chat_requests()) == 2

    # Right after Penny's answer, a question sent with "also send to channel" (subtype thread_broadcast): one answer.
    broadcast = slack.send_message(
        general.id, bob.id, "does that include contractors?", thread_ts=thread, broadcast=True
    )
    assert '"thread_broadcast"' in broadcast.body
    slack.wait_for(lambda: "Yes, contractors are included." in _answers(slack, general.id, thread), timeout=20)
    time.sleep(1.0)
    assert len(llm.chat_requests()) == 3
    assert len(slack.bot_replies(general.id, thread)) == 3


def test_mention_only_mode_needs_a_mention_for_every_answer(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    llm.set_answer(ANY_MODEL, "Thursday.")
    start_penny(PENNY_FOLLOW_UPS="mention-only")
    thread = slack.mention(general.id, alice.id, "when is the launch?").ts or ""
    slack.wait_for(lambda: _answers(slack, general.id, thread), timeout=20)
    slack.send_message(general.id, alice.id, "and what time?", thread_ts=thread)
    time.sleep(QUIET_S)
    assert len(llm.chat_requests()) == 1


def test_unhandled_events_get_200_and_their_claim_finished(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    """A join, a "replied" notice, a topic change: Bolt used to answer 404, so Slack retried them."""
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    start_penny()
    parent = slack.post_user_message(general.id, alice.id, "hello")
    events = [
        {
            "type": "message",
            "subtype": "channel_join",
            "user": alice.id,
            "text": "<@U1> has joined the channel",
            "channel": general.id,
            "ts": slack.workspace.next_ts(),
            "event_ts": slack.workspace.next_ts(),
            "channel_type": "channel",
        },
        {
            "type": "message",
            "subtype": "channel_topic",
            "user": alice.id,
            "text": "set the topic",
            "topic": "Launch",
            "channel": general.id,
            "ts": slack.workspace.next_ts(),
            "channel_type": "channel",
        },
        {
            "type": "message",
            "subtype": "message_replied",
            "hidden": True,
            "channel": general.id,
            "message": parent.to_api(),
            "event_ts": slack.workspace.next_ts(),
            "ts": slack.workspace.next_ts(),
            "channel_type": "channel",
        },
        {
            "type": "member_joined_channel",
            "user": alice.id,
            "channel": general.id,
            "channel_type": "C",
            "team": slack.team_id,
            "event_ts": slack.workspace.next_ts(),
        },
    ]
    for event in events:
        delivery = slack.deliver_event(event)
        assert [a.status for a in delivery.attempts] == [200], (event, delivery.response_body)
        slack.wait_for(
            lambda d=delivery: _claim_status(redis_url, slack.team_id, d.event_id or "") == "done",  # type: ignore[misc]
            timeout=5,
            what=f"claim of {event.get('subtype') or event['type']} finished",
        )


def test_mentions_from_other_bots_are_ignored_unless_allow_listed(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    alice = slack.add_user("alice")
    robot = slack.add_user("robot", is_bot=True)
    general = slack.add_channel("general", members=[alice.id, robot.id])
    llm.set_answer(ANY_MODEL, "Beep.")
    start_penny(PENNY_ALLOWED_BOTS="B0FRIEND")

    def bot_mention(bot_id: str) -> str:
        message = slack.post_user_message(general.id, robot.id, f"<@{slack.bot_user_id}> status report?")
        event = payloads.app_mention_event(message)
        event["bot_id"] = bot_id
        delivery = slack.deliver_event(event)
        assert delivery.final.status == 200
        return message.ts

    stranger = bot_mention("B0STRANGER")
    time.sleep(QUIET_S)
    assert slack.bot_replies(general.id, stranger) == [] and not llm.chat_requests()
    friend = bot_mention("B0FRIEND")
    slack.wait_for(lambda: _answers(slack, general.id, friend), timeout=20, what="the allow-listed bot answered")
