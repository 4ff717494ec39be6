"""Follow-ups in a thread Penny joined are answered without an @mention, with the thread as context."""

from __future__ import annotations

import time

from tests.e2e.conftest import PennyFactory
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator, payloads


def test_follow_up_in_joined_thread_is_answered_with_context(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    alice = slack.add_user("alice", display_name="Alice")
    general = slack.add_channel("general", members=[alice.id])
    llm.set_answer(ANY_MODEL, "The launch is on Thursday.")
    llm.add_rule("what time", "At 10:00 UTC.")
    start_penny()

    first = slack.mention(general.id, alice.id, "when is the launch?")
    thread = first.ts or ""
    slack.wait_for(
        lambda: any(r.text == "The launch is on Thursday." for r in slack.bot_replies(general.id, thread)),
        timeout=20,
        what="first answer",
    )

    follow = slack.send_message(general.id, alice.id, "and what time?", thread_ts=thread)
    assert follow.final.status == 200
    slack.wait_for(
        lambda: any(r.text == "At 10:00 UTC." for r in slack.bot_replies(general.id, thread)),
        timeout=20,
        what="follow-up answer",
    )
    last = llm.chat_requests()[-1]
    roles = [m["role"] for m in last.messages]
    assert "assistant" in roles, "the earlier answer is in the context"
    assert any("Thursday" in m["content"] for m in last.messages if m["role"] == "assistant")
    asked = [m["content"] for m in last.messages if m["role"] == "user"][:-1]
    assert asked and all(line.startswith("Alice: ") for line in asked), asked
    assert alice.id not in str(last.messages), "people appear by name, not by id"

    other = slack.post_user_message(general.id, alice.id, "an unrelated thread")
    slack.send_message(general.id, alice.id, "chatting among humans", thread_ts=other.ts)
    mention_in_thread = slack.mention(general.id, alice.id, "what time?", thread_ts=thread)
    assert mention_in_thread.final.status == 200
    # Slack also sends the plain `message` event for a message that mentions the app.
    as_message = payloads.message_event(slack.message(general.id, mention_in_thread.ts or ""), channel_type="channel")
    assert slack.deliver_event(as_message).final.status == 200
    time.sleep(2.0)
    assert slack.bot_replies(general.id, other.ts) == [], "threads Penny never joined stay human"
    assert len(slack.bot_replies(general.id, thread)) == 3, "a mention in the thread is answered once, not twice"
