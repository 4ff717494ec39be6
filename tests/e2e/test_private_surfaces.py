"""What is for one person stays with them: drafts (ephemeral, posted on the asker's click), the "Summarize this
thread" shortcut (only the requester sees it) and App Home (their own week; the workspace's for admins)."""

from __future__ import annotations

import time

from bot import replies
from bot.slack.blocks import POST_DRAFT_ACTION
from handlers.shortcuts import SUMMARIZE_THREAD_SHORTCUT
from tests.e2e.conftest import PennyFactory
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator

DRAFT = "Hi Sam,\nsorry for the delay: the fix ships on Friday."


def test_a_draft_is_shown_only_to_its_asker_and_posted_to_the_thread_on_click(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    alice = slack.add_user("alice")
    bob = slack.add_user("bob")
    support = slack.add_channel("support", members=[alice.id, bob.id])
    llm.set_answer(ANY_MODEL, DRAFT)
    start_penny()
    root = slack.post_user_message(support.id, bob.id, "Sam from Acme asks when the fix ships.")
    asked = slack.mention(support.id, alice.id, "draft a reply to Sam about the delay", thread_ts=root.ts)
    assert asked.final.status == 200

    def draft() -> object:
        return next((e for e in slack.ephemeral_messages(support.id) if e.blocks and "Friday" in e.text), None)

    shown = slack.wait_for(draft, timeout=20, what="the ephemeral draft")
    assert (shown.user, shown.thread_ts) == (alice.id, root.ts), "only the asker sees it, in the thread"
    assert all(e.user == alice.id for e in slack.ephemeral_messages(support.id))
    time.sleep(1.0)
    assert slack.bot_replies(support.id, root.ts) == [], "nothing was posted for everyone"
    assert len(llm.chat_requests()) == 1

    # Slack shows the ephemeral draft to Alice only; even a forged click by someone else posts nothing.
    assert slack.click(shown, bob.id, POST_DRAFT_ACTION).final.status == 200
    slack.wait_for(
        lambda: any(replies.DRAFT_NOT_YOURS_TEXT in str(p.payload.get("text")) for p in slack.response_url_posts()),
        timeout=10,
        what="the refusal",
    )
    assert slack.bot_replies(support.id, root.ts) == []

    assert slack.click(shown, alice.id, POST_DRAFT_ACTION).final.status == 200
    posted = slack.wait_for(lambda: slack.bot_replies(support.id, root.ts), timeout=10, what="the draft posted")
    assert posted[0].text.startswith(f"<@{alice.id}> shared a draft")
    assert "> Hi Sam," in posted[0].text and "> sorry for the delay" in posted[0].text
    slack.wait_for(lambda: not draft(), timeout=5, what="the ephemeral draft removed")
    assert len(llm.chat_requests()) == 1, "posting costs no model call"


def test_summarize_this_thread_shortcut_answers_only_the_requester(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    alice = slack.add_user("alice")
    bob = slack.add_user("bob")
    general = slack.add_channel("general", members=[alice.id, bob.id])
    root = slack.post_user_message(general.id, bob.id, "Launch plan: Thursday 10:00.")
    reply = slack.post_user_message(general.id, alice.id, "I'll write the FAQ.", thread_ts=root.ts)
    llm.set_answer(ANY_MODEL, "Launch Thursday; Alice writes the FAQ.")
    start_penny()
    assert slack.message_shortcut(general.id, reply.ts, alice.id, SUMMARIZE_THREAD_SHORTCUT).final.status == 200

    def summary() -> str | None:
        posts = [p.payload for p in slack.response_url_posts() if p.payload.get("response_type") == "ephemeral"]
        return next((str(p["text"]) for p in posts if "Alice writes the FAQ" in str(p.get("text"))), None)

    text = slack.wait_for(summary, timeout=20, what="the private summary")
    assert "Summary of this thread" in text and replies.SUMMARIZE_PRIVATE_NOTE in text
    assert "Launch plan" in str(llm.chat_requests()[-1].messages), "the whole thread was read from its root"
    assert slack.bot_replies(general.id, root.ts) == [] and not slack.history(general.id)[1:], "nothing public"


def test_app_home_shows_what_penny_does_the_viewers_week_and_for_admins_the_workspace(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    alice = slack.add_user("alice")
    admin = slack.add_user("ada", is_admin=True)
    general = slack.add_channel("general", members=[alice.id, admin.id])
    llm.set_answer(ANY_MODEL, "Thursday.")
    start_penny()
    asked = slack.mention(general.id, alice.id, "when is the launch?")
    slack.wait_for(lambda: any("Thursday" in m.text for m in slack.bot_replies(general.id, asked.ts or "")), timeout=20)
    time.sleep(0.5)  # the ledger row is written as the request ends

    assert slack.open_app_home(alice.id).final.status == 200
    view = slack.wait_for(lambda: slack.published_view(alice.id), timeout=10, what="alice's Home tab")
    text = str(view["blocks"])
    assert "How to ask" in text and "Your requests this week" in text and "'*Requests*\\n1'" in text
    assert "This workspace" not in text, "the workspace's figures are for admins"

    slack.open_app_home(admin.id)
    admin_view = slack.wait_for(lambda: slack.published_view(admin.id), timeout=10, what="the admin's Home tab")
    admin_text = str(admin_view["blocks"])
    assert "This workspace, the week so far" in admin_text and "Saved" in admin_text
    assert "haven't asked me anything" in admin_text, "their own week is empty"
