"""The cascade through the real ``penny run``: the economy model's server loops or runs past its turn (leaking
template tokens and a made-up user turn); the user sees the next tier's clean answer — or the clean part and
its continuation — never the degenerate text, and the request's one ledger row pays for both attempts and
names the model that failed and why."""

from __future__ import annotations

import redis

from bot.ledger import LedgerEntry
from bot.redis.keys import ledger_stream_key
from routing.catalog import load_catalog
from routing.spend.cost import Usage, call_cost, estimate_prompt_tokens, estimate_tokens
from tests.e2e.conftest import PennyFactory
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator

ECONOMY = "glm-4-plus"
QUESTION = "when is standup?"  # a simple question: the economy tier
CLEAN = "Standup is at 10:00 in the big room, and it lasts fifteen minutes."
LOOP = "Standup is at ten. " * 60
LONG_START = (
    "Standup is at 10:00 in the big room. It lasts fifteen minutes: each person says what they did yesterday, "
    "what they will do today and what blocks them. Longer discussions move to a thread after the meeting, and "
    "anyone who cannot attend posts their update in #standup before ten."
)
MADE_UP_TURN = "<|im_end|>\n<|im_start|>user\nThanks! And lunch?<|im_end|>\n<|im_start|>assistant\nLunch is at noon."
CONTINUATION = " Remote people join the video call linked in the channel topic."


def _ledger(redis_url: str, team_id: str) -> list[LedgerEntry]:
    client = redis.Redis.from_url(redis_url)
    try:
        return [LedgerEntry.from_fields(fields) for _, fields in client.xrange(ledger_stream_key(team_id))]
    finally:
        client.close()


def _ask(slack: SlackEmulator, marker: str) -> tuple[str, str, list[str]]:
    alice = slack.add_user("alice")
    channel = slack.add_channel("general", members=[alice.id]).id
    delivery = slack.mention(channel, alice.id, QUESTION)

    def done() -> str | None:
        replies = slack.bot_replies(channel, delivery.ts or "")
        return replies[0].text if replies and marker in replies[0].text and slack.is_finished(replies[0]) else None

    text = slack.wait_for(done, timeout=30, what=f"a reply containing {marker!r}")
    shown = [rev.text for msg in slack.bot_messages(channel) for rev in slack.edit_history(channel, msg.ts)]
    return text, channel, shown


def _paid_for_both(row: LedgerEntry, llm: OpenAIServer, degenerate_text: str) -> None:
    """The row's cost is the clean call's reported usage plus the degenerate call's (estimated: it was stopped
    before its usage arrived, so between its prompt alone and its prompt with the whole degenerate answer)."""
    catalog = load_catalog(None)
    first, second = llm.chat_requests()
    assert first.model == ECONOMY and second.model != ECONOMY
    upper = catalog.model(second.model or "")
    answered = call_cost(upper, Usage(second.prompt_tokens or 0, second.completion_tokens or 0))
    economy = catalog.model(ECONOMY)
    prompt = estimate_prompt_tokens(first.messages)
    low = call_cost(economy, Usage(prompt, 1))
    high = call_cost(economy, Usage(prompt, estimate_tokens(degenerate_text)))
    assert low <= row.cost_usd - answered <= high, (row.cost_usd, answered, low, high)
    assert row.attempts == 2 and row.model == upper.id and row.estimated


def test_a_looping_economy_model_is_never_shown_and_the_next_tier_answers(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    llm.set_answer(ANY_MODEL, CLEAN)
    llm.set_answer(ECONOMY, LOOP)
    penny = start_penny()
    text, _, shown = _ask(slack, "fifteen minutes")
    assert text == CLEAN
    assert not any("Standup is at ten" in t for t in shown), "no revision ever showed the loop"
    slack.wait_for(lambda: len(_ledger(redis_url, slack.team_id)) == 1, timeout=10, what="the ledger row")
    (row,) = _ledger(redis_url, slack.team_id)
    assert row.escalations == ((ECONOMY, "repetition"),)
    _paid_for_both(row, llm, LOOP)
    assert "generate.done" in penny.log_text() and "repetition" in penny.log_text()


def test_a_late_leak_keeps_the_clean_part_and_the_next_tier_continues_it(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    llm.set_answer(ANY_MODEL, LONG_START + CONTINUATION)  # asked to continue, it restates, then carries on
    llm.set_answer(ECONOMY, LONG_START + MADE_UP_TURN)
    start_penny()
    text, _, shown = _ask(slack, "video call")
    assert text == LONG_START + CONTINUATION, "the clean part once, then its continuation"
    assert not any("Thanks!" in t or "Lunch" in t or "im_end" in t for t in shown), "the made-up turn never showed"
    continued = llm.chat_requests()[1].messages
    assert continued[-2] == {"role": "assistant", "content": LONG_START}, "continued from the clean part"
    slack.wait_for(lambda: len(_ledger(redis_url, slack.team_id)) == 1, timeout=10, what="the ledger row")
    (row,) = _ledger(redis_url, slack.team_id)
    assert row.escalations == ((ECONOMY, "leaked_tokens"),)
    _paid_for_both(row, llm, LONG_START + MADE_UP_TURN)
