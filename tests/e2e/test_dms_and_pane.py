"""Penny where people talk to it one to one: its DM, and Slack's assistant pane (an AI-app thread in that DM).

Through the real app, the Slack emulator, real Redis and the local model server: a DM is answered in the DM; the
pane greets and suggests prompts, follows the channel the user is viewing, summarizes it for members only, and
shows "is thinking…" while it works; an unreadable thread still gets an answer from the message itself.
"""

from __future__ import annotations

import time

import pytest

from bot import replies
from tests.e2e.conftest import PennyFactory
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator

ANSWER = "Everyone gets 25 PTO days a year."
SUMMARY = "Gist: the launch moved to Thursday."


def _final(slack: SlackEmulator, channel: str, thread: str, contains: str, timeout: float = 30.0) -> str:
    def done() -> str | None:
        return next(
            (m.text for m in slack.bot_replies(channel, thread) if contains in m.text and slack.is_finished(m)), None
        )

    return slack.wait_for(done, timeout=timeout, what=f"reply containing {contains!r}")


def test_a_dm_is_answered_in_the_dm_and_thanks_cost_nothing(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    alice = slack.add_user("alice")
    dm = slack.add_dm(alice.id)
    llm.set_answer(ANY_MODEL, ANSWER)
    start_penny()
    question = slack.send_message(dm.id, alice.id, "how many PTO days do we get?")
    assert question.final.status == 200
    _final(slack, dm.id, question.ts or "", "25 PTO days")
    follow = slack.send_message(dm.id, alice.id, "and for part-timers?", thread_ts=question.ts)
    assert follow.final.status == 200
    slack.wait_for(lambda: len(llm.chat_requests()) == 2, timeout=20, what="the DM thread follow-up answered")
    slack.send_message(dm.id, alice.id, "thanks!")
    time.sleep(2.0)
    assert len(llm.chat_requests()) == 2, "an acknowledgement is not a request"
    assert all(m.channel == dm.id for m in slack.bot_messages()), "nothing left the DM"


@pytest.mark.slow
def test_a_dm_answer_is_never_served_from_cache_in_a_channel(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    alice = slack.add_user("alice")
    dm = slack.add_dm(alice.id)
    general = slack.add_channel("general", members=[alice.id])
    llm.set_answer(ANY_MODEL, ANSWER)
    start_penny(PENNY_CACHE_ENABLED="true", PENNY_CACHE_SHARE_PUBLIC="true")
    in_dm = slack.send_message(dm.id, alice.id, "How many PTO days do we get per year?")
    _final(slack, dm.id, in_dm.ts or "", "25 PTO days", timeout=90)
    repeat_dm = slack.send_message(dm.id, alice.id, "How many PTO days do we get per year?")
    _final(slack, dm.id, repeat_dm.ts or "", "from cache", timeout=30)  # the DM's own cache works
    calls = len(llm.chat_requests())
    in_channel = slack.mention(general.id, alice.id, "How many PTO days do we get per year?")
    reply = _final(slack, general.id, in_channel.ts or "", "25 PTO days")
    assert "from cache" not in reply
    assert len(llm.chat_requests()) == calls + 1, "the channel question was answered by a model, not the DM's cache"


def test_the_pane_greets_follows_the_viewed_channel_and_summarizes_it_for_members(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    alice = slack.add_user("alice", display_name="Alice")
    bob = slack.add_user("bob", display_name="Bob")
    general = slack.add_channel("general", members=[alice.id, bob.id])
    launch = slack.add_channel("launch", members=[alice.id, bob.id])
    secret = slack.add_channel("secret", kind="private", members=[bob.id])
    for text in ("The launch moves to Thursday.", "Bob owns the FAQ."):
        slack.post_user_message(launch.id, bob.id, text)
    slack.post_user_message(secret.id, bob.id, "Nobody else may read this.")
    llm.add_rule("summar", SUMMARY)
    llm.set_answer(ANY_MODEL, ANSWER)
    start_penny()

    dm, thread, started = slack.open_assistant_thread(alice.id, viewing=general.id)
    assert started.final.status == 200
    state = slack.wait_for(lambda: slack.pane_state(dm, thread).prompts, timeout=10, what="suggested prompts")
    assert [p["title"] for p in state][:2] == ["Summarize this channel", "What did I miss today?"]
    assert any(replies.PANE_GREETING in m.text for m in slack.bot_replies(dm, thread))

    # The user moves to #launch and asks for "this channel": the summary of #launch, in the pane thread.
    assert slack.change_assistant_context(dm, thread, alice.id, launch.id).final.status == 200
    slack.send_message(dm, alice.id, "Summarize this channel", thread_ts=thread)
    summary = _final(slack, dm, thread, SUMMARY)
    assert "#launch" in summary
    assert "Thursday" in str(llm.chat_requests()[-1].messages), "the model read #launch's history"
    slack.wait_for(  # the clear follows the final edit
        lambda: slack.pane_state(dm, thread).statuses[-2:] == [replies.PANE_STATUS_SUMMARIZING, ""],
        timeout=5,
        what="status set while working, cleared when done",
    )
    assert slack.pane_state(dm, thread).title == "Summarize this channel"

    # In a channel she is not a member of, the same ask is refused (the /summarize rule).
    calls = len(llm.chat_requests())
    slack.change_assistant_context(dm, thread, alice.id, secret.id)
    slack.send_message(dm, alice.id, "Summarize this channel", thread_ts=thread)
    _final(slack, dm, thread, "not a member")
    assert len(llm.chat_requests()) == calls

    # Anything else is an ordinary request: same router, with "is thinking…" while it works.
    slack.send_message(dm, alice.id, "how many PTO days do we get?", thread_ts=thread)
    _final(slack, dm, thread, "25 PTO days")
    slack.wait_for(lambda: slack.pane_state(dm, thread).statuses[-2:] == [replies.PANE_STATUS, ""], timeout=5)


def test_an_unreadable_pane_thread_is_still_answered_from_the_message(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    """The context rule of ``bot/assistant/context.py`` holds on the new surfaces: no history, still an answer."""
    alice = slack.add_user("alice")
    llm.set_answer(ANY_MODEL, ANSWER)
    start_penny()
    dm, thread, _ = slack.open_assistant_thread(alice.id)
    slack.wait_for(lambda: slack.pane_state(dm, thread).prompts, timeout=10)
    slack.fail_next("conversations.replies", "missing_scope")
    slack.send_message(dm, alice.id, "how many PTO days do we get?", thread_ts=thread)
    reply = _final(slack, dm, thread, "25 PTO days")
    assert "answered from your message alone" in reply
    assert llm.chat_requests()[-1].messages[-1]["content"] == "how many PTO days do we get?"
