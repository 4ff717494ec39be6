"""The real ``penny run`` (and ``penny digest``) on a real three-master Redis Cluster: a subset of the mention,
cache, feedback and digest end-to-end tests, re-run with ``PENNY_REDIS_URL=redis+cluster://…`` (``redis_url`` is
overridden below, so ``penny_env`` hands Penny the cluster). Kept small: each test starts a Penny process."""

from __future__ import annotations

import pytest

from bot.redis.connection import sync_client
from bot.redis.keys import ledger_stream_key
from tests.e2e.conftest import PennyFactory
from tests.e2e.test_cache_in_slack import test_repeat_question_is_served_from_cache_and_fresh_answer_replaces_it
from tests.e2e.test_digest import (
    test_a_real_answer_and_its_reactions_show_up_in_the_digest,
    test_penny_digest_posts_the_weeks_figures_and_a_chart_once,
)
from tests.e2e.test_feedback import test_thumbs_count_per_model_and_task_and_can_be_taken_back
from tests.e2e.test_mention_flow import test_duplicate_deliveries_get_one_reply
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator

pytestmark = pytest.mark.e2e

__all__ = [
    "test_a_real_answer_and_its_reactions_show_up_in_the_digest",
    "test_duplicate_deliveries_get_one_reply",
    "test_penny_digest_posts_the_weeks_figures_and_a_chart_once",
    "test_repeat_question_is_served_from_cache_and_fresh_answer_replaces_it",
    "test_thumbs_count_per_model_and_task_and_can_be_taken_back",
]


@pytest.fixture
def redis_url(cluster_url: str) -> str:
    return cluster_url


def test_penny_runs_on_the_cluster_client_and_records_its_row(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, redis_url: str
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    llm.set_answer(ANY_MODEL, "The launch is on Thursday.")
    penny = start_penny()
    question = slack.mention(general.id, alice.id, "when is the launch?")
    slack.wait_for(
        lambda: any(
            "Thursday" in m.text and slack.is_finished(m) for m in slack.bot_replies(general.id, question.ts or "")
        ),
        timeout=30,
        what="the answer",
    )
    assert "cluster=True" in penny.log_text()
    client = sync_client(redis_url)
    try:
        slack.wait_for(lambda: client.xlen(ledger_stream_key(slack.team_id)) == 1, timeout=10, what="the ledger row")
    finally:
        client.close()
