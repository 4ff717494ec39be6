"""What real model servers and a struggling Slack do, and what the user sees then: every word kept, nothing
leaked, and a plain note about what went wrong."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.e2e.conftest import PennyFactory, write_test_catalog
from tests.harness.openai_server import ANY_MODEL, Fault, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator

LONG_ANSWER = "The rollout plan has three phases: pilot in Leeds, then the north region, then everyone else"


def _channel(slack: SlackEmulator) -> tuple[str, str]:
    alice = slack.add_user("alice")
    return alice.id, slack.add_channel("general", members=[alice.id]).id


def _final_text(slack: SlackEmulator, channel: str, thread_ts: str, marker: str) -> str:
    def done() -> str | None:
        replies = slack.bot_replies(channel, thread_ts)
        return replies[0].text if replies and marker in replies[0].text and slack.is_finished(replies[0]) else None

    return slack.wait_for(done, timeout=20, what=f"a reply containing {marker!r}")


def test_answer_cut_at_the_length_limit_is_continued(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    user, channel = _channel(slack)
    llm.set_answer(ANY_MODEL, LONG_ANSWER)
    llm.inject(ANY_MODEL, Fault.reply(LONG_ANSWER[:50], finish_reason="length"))
    start_penny()
    delivery = slack.mention(channel, user, "what is the rollout plan?")
    text = _final_text(slack, channel, delivery.ts or "", "everyone else")
    assert text == LONG_ANSWER, "the continuation joined on without repeating a word"
    assert len(llm.chat_requests()) == 2 and "length limit" not in text


def test_answer_still_cut_after_its_continuation_keeps_its_words_and_says_so(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    user, channel = _channel(slack)
    llm.set_answer(ANY_MODEL, LONG_ANSWER)
    llm.inject(ANY_MODEL, Fault.reply(LONG_ANSWER[:50], finish_reason="length"), times=2)
    start_penny()
    delivery = slack.mention(channel, user, "what is the rollout plan?")
    text = _final_text(slack, channel, delivery.ts or "", "length limit")
    assert text.startswith(LONG_ANSWER[:50])
    assert len(llm.chat_requests()) == 2, "one continuation, then the answer stands"


def test_answer_outliving_the_deadline_keeps_its_words_and_says_it_was_cut_short(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, tmp_path: Path
) -> None:
    """Seen with a real llama.cpp server on a slow machine: 90 s of streamed text replaced by an apology."""
    user, channel = _channel(slack)
    catalog = yaml.safe_load(write_test_catalog(tmp_path / "base.yaml", llm.base_url).read_text())
    catalog["policy"]["retry"].update({"overall_timeout_s": 3, "idle_timeout_s": 10})
    (tmp_path / "short.yaml").write_text(yaml.safe_dump(catalog))
    llm.set_answer(ANY_MODEL, LONG_ANSWER)
    llm.inject(ANY_MODEL, Fault.stall(after_chars=40, seconds=20))
    start_penny(PENNY_CATALOG=str(tmp_path / "short.yaml"))
    delivery = slack.mention(channel, user, "what is the rollout plan?")
    text = _final_text(slack, channel, delivery.ts or "", "cut short")
    assert text.startswith(LONG_ANSWER[:40]) and "Sorry" not in text
    history = [r.text for m in slack.bot_replies(channel, delivery.ts or "") for r in slack.edit_history(channel, m.ts)]
    assert not any("none of my models" in t for t in history)


def test_leaked_chat_template_tokens_never_reach_slack(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    user, channel = _channel(slack)
    llm.set_answer(
        ANY_MODEL, "Lunch is at noon.<|im_end|>\n<|im_start|>assistant\nBring a plate.<|im_end|><end_of_turn>"
    )
    start_penny()
    delivery = slack.mention(channel, user, "when is lunch?")
    text = _final_text(slack, channel, delivery.ts or "", "Bring a plate.")
    assert text == "Lunch is at noon.\nBring a plate."
    shown = [rev.text for msg in slack.bot_messages(channel) for rev in slack.edit_history(channel, msg.ts)]
    assert not any("im_end" in t or "im_start" in t or "end_of_turn" in t for t in shown), shown


def test_thread_read_failing_with_http_500_still_answers_and_logs_the_code(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    user, channel = _channel(slack)
    llm.set_answer(ANY_MODEL, "Fridays are release days.")
    slack.fail_next("conversations.replies", "internal_error", status=500, html=True)
    penny = start_penny()
    delivery = slack.mention(channel, user, "when do we release?")
    text = _final_text(slack, channel, delivery.ts or "", "Fridays are release days.")
    assert "could not read the thread just now" in text
    assert "/invite" not in text, "a Slack outage is not a permission problem"
    log = penny.log_text()
    assert "assistant.context_unavailable" in log and "http_500" in log


def test_thread_read_without_access_answers_and_asks_for_an_invite(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    user, channel = _channel(slack)
    llm.set_answer(ANY_MODEL, "Standup is at ten.")
    slack.fail_next("conversations.replies", "not_in_channel")
    start_penny()
    delivery = slack.mention(channel, user, "when is standup?")
    text = _final_text(slack, channel, delivery.ts or "", "Standup is at ten.")
    assert "/invite @Penny" in text and "not_in_channel" in text
