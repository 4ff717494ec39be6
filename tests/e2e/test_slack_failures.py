"""Slack failing on the placeholder, a progress edit or the final edit, with the real ``penny run``: every time
the complete answer is visible exactly once, and the request's one ledger row is ``answered`` with its real cost.

One Penny process per streaming mode serves every case of this module (a fresh channel per case, faults matched
to that channel), so thirty cases cost two start-ups. The failures are the ones Slack documents: ``internal_error``,
``ratelimited`` with ``Retry-After``, an HTTP 5xx outage page, ``message_not_found`` (the message was deleted),
and a slow answer.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from bot.ledger import Ledger, LedgerEntry
from bot.redis.embedded import RedisServerProcess
from bot.slack.formatting import to_markdown, to_mrkdwn
from routing.catalog import load_catalog
from routing.spend.budget import Budget
from routing.spend.cost import Usage, call_cost
from tests.e2e.conftest import LLM_KEY, LLM_KEY_ENV, catalog_model_ids, write_test_catalog
from tests.e2e.penny_process import PennyProcess
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator, SlackFault

pytestmark = pytest.mark.e2e

ANSWER = (
    "The launch moved to **Thursday** because the payments review needs two more days.\n\n"
    "Marketing keeps the original copy, and support gets the new FAQ on Wednesday.\n\n"
    "The rollback plan stays as written:\n\n```bash\n./rollback.sh --region eu  # takes < 5 min\n```\n\n"
    "Ping me if anything changes."
)
LAST_WORDS = "Ping me if anything changes."
FAULTS: dict[str, Callable[[], SlackFault]] = {
    "internal_error": SlackFault.internal_error,
    "ratelimited": lambda: SlackFault.ratelimited(retry_after=1),
    "http_503": lambda: SlackFault.http_5xx(503),
    "message_not_found": SlackFault.message_not_found,
    "slow": lambda: SlackFault.slow(2.0),
}
WHERE = ("placeholder", "progress", "final")
_ids = itertools.count()


class Rig:
    def __init__(self, slack: SlackEmulator, llm: OpenAIServer, penny: PennyProcess, redis_url: str, catalog: Path):
        self.slack, self.llm, self.penny, self.redis_url, self.catalog = slack, llm, penny, redis_url, catalog

    def cost_of(self, marker: str) -> Decimal:
        """What the model calls for this case really cost, from the model server's own usage report."""
        catalog = load_catalog(self.catalog)
        records = [r for r in self.llm.chat_requests() if marker in r.last_user_message]
        assert records and all(r.prompt_tokens is not None for r in records)
        return sum(
            (
                call_cost(catalog.model(r.model or ""), Usage(r.prompt_tokens or 0, r.completion_tokens or 0))
                for r in records
            ),
            Decimal(0),
        )

    def row(self, request_id: str, timeout: float = 30.0) -> LedgerEntry:
        async def read() -> LedgerEntry | None:
            redis = aioredis.Redis.from_url(self.redis_url)
            try:
                rows = await Ledger(redis).entries(self.slack.team_id)
            finally:
                await redis.aclose()
            return next((r for r in rows if r.request_id == request_id), None)

        return self.slack.wait_for(lambda: asyncio.run(read()), timeout=timeout, what=f"ledger row {request_id}")


@pytest.fixture(scope="module", params=["edit", "native"])
def rig(
    request: pytest.FixtureRequest, redis_server: RedisServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Rig]:
    tmp = tmp_path_factory.mktemp(f"slack-failures-{request.param}")
    flush = redis.Redis.from_url(redis_server.url)
    flush.flushall()  # the ledger-vs-budget check below adds up everything this module's Penny recorded
    flush.close()
    with SlackEmulator(ack_timeout=3.0) as slack, OpenAIServer(models=catalog_model_ids(), api_key=LLM_KEY) as llm:
        llm.set_answer(ANY_MODEL, ANSWER)
        llm.set_default_speed(40.0)  # about 2 s of streaming: room for progress edits
        catalog = write_test_catalog(tmp / "catalog.yaml", llm.base_url)
        penny = PennyProcess(
            env={
                "PENNY_SLACK_BOT_TOKEN": slack.bot_token,
                "PENNY_SLACK_SIGNING_SECRET": slack.signing_secret,
                "PENNY_SLACK_API_URL": slack.base_url,
                "PENNY_REDIS_URL": redis_server.url,
                "PENNY_CATALOG": str(catalog),
                LLM_KEY_ENV: LLM_KEY,
                "PENNY_LOG_LEVEL": "INFO",
                "PENNY_CACHE_ENABLED": "false",
                "PENNY_STREAM_MODE": request.param,
                "PENNY_STREAM_UPDATE_INTERVAL_S": "0.3",
            },
            log_path=tmp / "penny.log",
        ).start()
        slack.events_url = penny.events_url
        try:
            yield Rig(slack, llm, penny, redis_server.url, catalog)
        finally:
            penny.stop()
            print(f"----- penny log -----\n{penny.log_text()[-20000:]}")


def _matcher(where: str, mode: str, channel: str, *, gone: bool) -> tuple[str, Callable[[dict[str, Any]], bool]]:
    """Which call of the reply the fault hits. A deleted placeholder shows up at the first change made to it."""

    def here(params: dict[str, Any]) -> bool:
        return params.get("channel") == channel

    if mode == "edit":
        if where == "placeholder" and not gone:
            return "chat.postMessage", lambda p: here(p) and "thinking" in str(p.get("text", ""))
        if where in ("placeholder", "progress"):
            return "chat.update", lambda p: here(p) and "▍" in str(p.get("text", ""))
        return "chat.update", lambda p: here(p) and str(p.get("text", "")).endswith(LAST_WORDS)
    if where == "placeholder" and not gone:
        return "chat.startStream", here
    if where in ("placeholder", "progress"):
        return "chat.appendStream", lambda p: here(p) and LAST_WORDS not in str(p.get("markdown_text", ""))
    return "chat.appendStream", lambda p: here(p) and LAST_WORDS in str(p.get("markdown_text", ""))


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("fault", list(FAULTS))
def test_the_answer_arrives_once_and_the_row_has_its_cost(rig: Rig, fault: str, where: str) -> None:
    slack = rig.slack
    case = next(_ids)
    user = slack.add_user(f"user{case}").id
    channel = slack.add_channel(f"case-{case}", members=[user]).id
    mode = str(rig.penny.env["PENNY_STREAM_MODE"])
    method, match = _matcher(where, mode, channel, gone=fault == "message_not_found")
    slack.inject(method, FAULTS[fault](), match=match)

    marker = f"case {case}: when is the launch?"
    delivery = slack.mention(channel, user, marker)
    assert delivery.final.status == 200
    expected = {to_mrkdwn(ANSWER), to_markdown(ANSWER)}

    def visible() -> list[str] | None:
        texts = [m.text for m in slack.bot_replies(channel, delivery.ts or "")]
        return texts if any(t in expected for t in texts) else None

    texts = slack.wait_for(visible, timeout=40, what=f"the answer ({fault} on the {where})")
    row = rig.row(delivery.event_id or "")
    texts = [m.text for m in slack.bot_replies(channel, delivery.ts or "")]
    assert len(texts) == 1 and texts[0] in expected, texts
    assert [i for i in slack.injected() if i.method == method and i.params.get("channel") == channel], "injected"
    assert row.outcome == "answered"
    assert row.cost_usd == rig.cost_of(marker) > 0


def test_ledger_spend_equals_the_budget_counters_settled_spend(rig: Rig) -> None:
    """Whatever Slack did in the cases above, every dollar the budget counted is on a ledger row, and back."""

    async def totals() -> tuple[Decimal, Decimal]:
        redis = aioredis.Redis.from_url(rig.redis_url)
        try:
            rows = await Ledger(redis).entries(rig.slack.team_id)
            state = await Budget(redis, load_catalog(rig.catalog).policy.budgets).state(rig.slack.team_id)
        finally:
            await redis.aclose()
        month = next(v for k, v in state.spent.items() if k.startswith("month:"))
        return sum((r.cost_usd for r in rows), Decimal(0)), month

    ledger, budget = asyncio.run(totals())
    assert ledger > 0 and ledger == budget
