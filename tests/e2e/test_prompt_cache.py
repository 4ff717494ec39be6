"""Provider prompt caching, end to end: a second question in a long thread repeats the first prompt's start
(instructions, then the thread oldest first), the model server reports those tokens as cached, and the ledger
bills them at the catalog's cached-input price."""

from __future__ import annotations

from decimal import Decimal

from bot.ledger import LedgerEntry
from bot.redis.connection import sync_client
from bot.redis.keys import ledger_stream_key
from routing.catalog import load_catalog
from routing.spend.cost import Usage, call_cost
from tests.e2e.conftest import PennyFactory
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator

QUESTION = "why did we compare the vendors?"  # a medium ask: a standard model, which has a cached price
ANSWER = "Because the first vendor slipped twice and the second one was cheaper."


def _ledger(redis_url: str, team_id: str) -> list[LedgerEntry]:
    client = sync_client(redis_url)
    try:
        return [LedgerEntry.from_fields(fields) for _, fields in client.xrange(ledger_stream_key(team_id))]
    finally:
        client.close()


def test_a_follow_up_in_a_long_thread_is_billed_for_its_cached_prefix(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    alice = slack.add_user("alice", display_name="Alice")
    bob = slack.add_user("bob", display_name="Bob")
    general = slack.add_channel("general", members=[alice.id, bob.id])
    root = slack.post_user_message(general.id, alice.id, "vendor review for the payments launch")
    for i in range(12):
        slack.post_user_message(
            general.id,
            (bob.id, alice.id)[i % 2],
            f"note {i}: " + "the vendor timeline and pricing look fine " * 5,
            thread_ts=root.ts,
        )
    llm.set_answer(ANY_MODEL, ANSWER)
    llm.enable_prompt_cache(min_tokens=64, block_tokens=16)
    start_penny()

    for count in (1, 2):
        slack.mention(general.id, alice.id, QUESTION, thread_ts=root.ts)
        slack.wait_for(lambda n=count: len(_ledger(redis_url, slack.team_id)) == n, timeout=30, what=f"row {count}")

    first, second = llm.chat_requests()
    assert first.cached_tokens == 0 and second.cached_tokens >= 64
    assert second.messages[: len(first.messages) - 1] == first.messages[:-1], "the second prompt starts as the first"
    shared = sum(len(str(m["content"]).split()) for m in first.messages[:-1])
    assert second.cached_tokens == 64 + (shared - 64) // 16 * 16
    rows = _ledger(redis_url, slack.team_id)
    model = load_catalog(None).model(second.model or "")
    assert model.price_cached_in_per_mtok is not None and rows[1].model == model.id
    usage = Usage(second.prompt_tokens or 0, second.completion_tokens or 0, cached_tokens=second.cached_tokens)
    assert rows[1].cached_tokens == second.cached_tokens and rows[0].cached_tokens == 0
    assert rows[1].cost_usd == call_cost(model, usage)
    full_price = call_cost(model, Usage(usage.prompt_tokens, usage.completion_tokens))
    assert rows[1].cost_usd < full_price
    assert full_price - rows[1].cost_usd == (
        Decimal(second.cached_tokens) * (model.price_in_per_mtok - model.price_cached_in_per_mtok) / 10**6
    )
