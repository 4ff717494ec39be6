"""The walking skeleton, end to end: signed Slack events in, a streamed, sanitized reply out."""

from __future__ import annotations

import itertools
import threading
import time

from tests.e2e.conftest import PennyFactory
from tests.harness.openai_server import ANY_MODEL, Fault, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator

ANSWER = (
    "The launch moved to Thursday because the payments review needs two more days. Marketing keeps the "
    "original copy, support gets the new FAQ on Wednesday, and the rollback plan stays as written in the doc."
)
# Longer than the quality gate's first hold (200 characters), as most answers are, so that it streams visibly.
STREAMED = (
    ANSWER + " Dana owns the revised checklist and shares it on Monday; Omar asks the vendor for a written date, "
    "and Priya updates the pricing page once legal signs off."
)


def _setup_channel(slack: SlackEmulator) -> tuple[str, str]:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    return alice.id, general.id


def _final_reply(slack: SlackEmulator, channel: str, thread_ts: str, expected: str, timeout: float = 20.0) -> str:
    def done() -> str | None:
        replies = slack.bot_replies(channel, thread_ts)
        return replies[0].text if replies and replies[0].text == expected else None

    return slack.wait_for(done, timeout=timeout, what=f"final reply {expected[:30]!r}")


def test_mention_streams_into_placeholder_and_ends_with_exact_answer(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    user, channel = _setup_channel(slack)
    llm.set_answer(ANY_MODEL, STREAMED)
    llm.set_default_speed(20.0)  # ~65 tokens: about 3.5 s of streaming
    start_penny(PENNY_STREAM_UPDATE_INTERVAL_S="1.0", PENNY_STREAM_MODE="edit")

    delivery = slack.mention(channel, user, "when is the launch now?")
    assert delivery.final.status == 200
    assert delivery.final.elapsed < 3.0
    _final_reply(slack, channel, delivery.ts or "", STREAMED)

    replies = slack.bot_replies(channel, delivery.ts or "")
    assert len(replies) == 1, "exactly one reply message in the thread"
    history = slack.edit_history(channel, replies[0].ts)
    assert "thinking" in history[0].text.lower(), "a placeholder is posted first"
    streaming_edits = [r for r in history[1:-1] if r.text != STREAMED]
    assert len(streaming_edits) >= 2, f"edited while streaming, got {[r.text[:20] for r in history]}"
    assert all(STREAMED.startswith(r.text.rstrip(" ▍")) for r in streaming_edits if "thinking" not in r.text)
    gaps = [b.monotonic - a.monotonic for a, b in itertools.pairwise(history)]
    assert min(gaps) >= 0.9, f"chat.update faster than the throttle: {gaps}"
    assert llm.models_called() == [llm.models_called()[0]], "one model call for one mention"


def test_duplicate_deliveries_get_one_reply(slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory) -> None:
    user, channel = _setup_channel(slack)
    llm.set_answer(ANY_MODEL, "Only once.")
    start_penny()
    event = slack.mention_event(channel, user, "say it once")
    event_id = slack.next_event_id()

    threads = [
        threading.Thread(target=slack.deliver_event, args=(event,), kwargs={"event_id": event_id, "redeliver": False})
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    _final_reply(slack, channel, event["ts"], "Only once.")

    retry = slack.deliver_event(event, event_id=event_id, retry_num=1, retry_reason="http_timeout", redeliver=False)
    assert retry.final.status == 200
    time.sleep(1.5)
    assert len(slack.bot_replies(channel, event["ts"])) == 1
    assert len(llm.chat_requests()) == 1


def test_crash_after_ack_is_answered_once_by_the_retry(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    user, channel = _setup_channel(slack)
    llm.set_answer(ANY_MODEL, "Recovered after the crash.")
    llm.set_down(ANY_MODEL, Fault.hang(30, phase="after_headers"))  # the first worker never gets an answer
    first = start_penny(PENNY_EVENT_LEASE_S="1.5")
    event = slack.mention_event(channel, user, "are you there?")
    event_id = slack.next_event_id()

    delivery = slack.deliver_event(event, event_id=event_id, redeliver=False)
    assert delivery.final.status == 200
    slack.wait_for(lambda: slack.bot_replies(channel, event["ts"]), timeout=10, what="placeholder")
    llm.wait_for_requests(1, finished=False)
    first.kill()
    llm.clear()
    llm.release_hangs()

    start_penny(PENNY_EVENT_LEASE_S="1.5")
    time.sleep(1.6)  # the dead worker's lease runs out (Slack's own retry comes later still)
    retry = slack.deliver_event(event, event_id=event_id, retry_num=1, retry_reason="http_timeout", redeliver=False)
    assert retry.final.status == 200
    _final_reply(slack, channel, event["ts"], "Recovered after the crash.")
    time.sleep(1.0)
    assert len(slack.bot_replies(channel, event["ts"])) == 1, "the retry reuses the placeholder: one reply"


def test_bad_signature_and_stale_timestamp_are_rejected(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    user, channel = _setup_channel(slack)
    start_penny()
    forged = slack.mention(channel, user, "forged", bad_signature=True, redeliver=False)
    stale = slack.mention(channel, user, "replayed", stale_timestamp=True, redeliver=False)
    assert forged.final.status == 401
    assert stale.final.status == 401
    time.sleep(1.0)
    assert slack.bot_messages(channel) == []
    assert llm.chat_requests() == []


def test_empty_completion_gets_a_clear_apology(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    user, channel = _setup_channel(slack)
    llm.set_down(ANY_MODEL, Fault.empty())
    start_penny()
    delivery = slack.mention(channel, user, "anything?")

    def apology() -> str | None:
        replies = slack.bot_replies(channel, delivery.ts or "")
        return replies[0].text if replies and "sorry" in replies[0].text.lower() else None

    text = slack.wait_for(apology, timeout=20, what="apology")
    assert text.strip() and "try again" in text.lower()


def test_injected_markup_never_reaches_slack(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    user, channel = _setup_channel(slack)
    llm.set_answer(ANY_MODEL, "Sure <!channel> look: <script>alert('x')</script> & <!here> done")
    start_penny()
    delivery = slack.mention(channel, user, "repeat the pinned text")
    slack.wait_for(
        lambda: any("done" in r.text for r in slack.bot_replies(channel, delivery.ts or "")),
        timeout=20,
        what="final reply",
    )
    sent = [
        str(call.params.get("text") or call.params.get("markdown_text") or "")
        for call in slack.calls()
        if call.method.startswith("chat.")
    ]
    assert sent
    for text in sent:
        assert "<!channel>" not in text and "<!here>" not in text
        assert "<script>" not in text
    final = slack.bot_replies(channel, delivery.ts or "")[0].text
    assert "&lt;script&gt;" in final or "\\<script\\>" in final  # mrkdwn escapes, a native stream's Markdown too


def test_empty_mention_gets_help_without_a_model_call(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    user, channel = _setup_channel(slack)
    start_penny()
    delivery = slack.mention(channel, user, "")
    text = slack.wait_for(lambda: slack.bot_replies(channel, delivery.ts or ""), timeout=10, what="help")[0].text
    assert "mention me" in text.lower()
    assert llm.chat_requests() == []
