"""The weekly digest end to end: the real ``penny digest`` CLI and the real ``penny run`` scheduler, posting to
the Slack emulator from a real redis-server's ledger and feedback log."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.digest.blocks import usd
from bot.digest.report import IsoWeek
from bot.ledger import Ledger, LedgerEntry
from bot.redis.connection import plain_client
from routing.catalog import load_catalog
from routing.learned.feedback_log import FeedbackLog, Vote
from routing.spend.cost import Usage, call_cost
from tests.e2e.conftest import PennyFactory
from tests.e2e.penny_process import REPO_ROOT
from tests.harness.ledger_seed import record_at
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator

pytestmark = pytest.mark.e2e
UTC_ZONE = ZoneInfo("UTC")
TEAM = "T0001"  # the emulator's workspace, as auth.test reports it


def _row(
    request_id: str, outcome: str, model: str = "", tier: str = "", cost: str = "0", baseline: str = "0"
) -> LedgerEntry:
    return LedgerEntry(
        request_id=request_id,
        team_id=TEAM,
        channel_id="C1",
        user_id="U1",
        surface="mention",
        task="qa",
        outcome=outcome,
        model=model,
        tier=tier,
        cost_usd=Decimal(cost),
        baseline_cost_usd=Decimal(baseline),
    )


async def _seed_this_week(redis_url: str) -> None:
    """This week through the real writers (ledger rows and votes are stamped now); last week with past ids."""
    client = plain_client(redis_url)
    this_week = IsoWeek.containing(datetime.now(UTC), UTC_ZONE)
    last_monday, _ = this_week.previous().bounds(UTC_ZONE)
    await record_at(
        client,
        _row("old", "answered", "glm-4-plus", "economy", "0.002000000", "0.010000000"),
        last_monday + timedelta(days=2),
    )
    ledger = Ledger(client)
    for row in [
        _row("a1", "answered", "glm-4-plus", "economy", "0.000234500", "0.002931250"),
        _row("a2", "answered", "deepseek-v4-pro", "premium", "0.001200000", "0.005454545"),
        _row("c1", "cache_hit", "glm-4-plus", "economy", "0", "0.002931250"),
        _row("f1", "failed"),
    ]:
        assert await ledger.record(row)
    feedback = FeedbackLog(client)
    for user, good in (("U1", True), ("U2", True), ("U3", False)):
        await feedback.add(
            Vote(
                team_id=TEAM,
                channel_id="C1",
                request_id="a1",
                user_id=user,
                good=good,
                model="glm-4-plus",
                tier="economy",
                task="qa",
            )
        )
    await client.aclose()


def _penny_digest(env: dict[str, str], tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(REPO_ROOT),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.main", "digest", *args],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _digests(slack: SlackEmulator, channel: str) -> list[str]:
    return [m.text for m in slack.bot_messages(channel) if m.text.startswith("Penny weekly digest")]


def test_penny_digest_posts_the_weeks_figures_and_a_chart_once(
    slack: SlackEmulator, penny_env: dict[str, str], redis_url: str, tmp_path: Path
) -> None:
    channel = slack.add_channel("penny-costs").id
    asyncio.run(_seed_this_week(redis_url))
    week = str(IsoWeek.containing(datetime.now(UTC), UTC_ZONE))
    env = {**penny_env, "PENNY_DIGEST_CHANNEL": channel, "PENNY_LOG_LEVEL": "INFO"}

    first = _penny_digest(env, tmp_path, "--week", week)
    assert first.returncode == 0, first.stderr
    assert f"posted the digest for {week} to {channel} (with chart)" in first.stdout
    # cost 0.0014345, baseline 0.011317045 → saved 0.009882545 (87.3%)
    assert _digests(slack, channel) == [
        f"Penny weekly digest {week}: 4 requests, $0.0014 spent, $0.0099 saved (87.3%) against gpt-4o."
    ]
    message = next(m for m in slack.bot_messages(channel) if m.blocks)
    blocks = str(message.blocks)
    assert "*Requests*\\n4 (▲ 300.0% vs last week)" in blocks
    assert "*Spend*\\n$0.0014 (▼ 28.3% vs last week)" in blocks
    assert "• `premium` $0.0012 · 1 request · $0.0055 on gpt-4o" in blocks
    assert "⚡ 1 answered from cache, $0.0029 not spent on gpt-4o" in blocks
    assert "⚠️ 1 failed" in blocks
    assert "*Quality* 👍 2 · 👎 1 · 66.7% 👍" in blocks
    files = [f for f in slack.uploaded_files() if f.channel == channel]
    assert [f.filename for f in files] == [f"penny-digest-{week}.png"]
    assert files[0].content is not None and files[0].content.startswith(b"\x89PNG")

    again = _penny_digest(env, tmp_path, "--week", week)
    assert again.returncode == 1 and "already posted" in again.stdout
    assert len(_digests(slack, channel)) == 1

    forced = _penny_digest(env, tmp_path, "--week", week, "--force")
    assert forced.returncode == 0, forced.stderr
    assert len(_digests(slack, channel)) == 2

    dry = _penny_digest(env, tmp_path, "--week", week, "--dry-run")
    assert dry.returncode == 0 and dry.stdout.startswith(f"Penny weekly digest {week}: 4 requests")
    assert len(_digests(slack, channel)) == 2, "a dry run posts nothing"


def test_penny_digest_says_what_is_wrong_in_one_line(
    slack: SlackEmulator, penny_env: dict[str, str], tmp_path: Path
) -> None:
    channel = slack.add_channel("penny-costs").id
    bad_week = _penny_digest({**penny_env, "PENNY_DIGEST_CHANNEL": channel}, tmp_path, "--week", "2026-W60")
    assert bad_week.returncode == 2
    assert bad_week.stderr.strip() == "penny: --week: '2026-W60' is not a week of 2026"
    bad_cron = _penny_digest(
        {**penny_env, "PENNY_DIGEST_CHANNEL": channel, "PENNY_DIGEST_CRON": "every monday"}, tmp_path
    )
    assert bad_cron.returncode == 2 and bad_cron.stderr.startswith("penny: PENNY_DIGEST_CRON is invalid")
    assert len(bad_cron.stderr.strip().splitlines()) == 1
    no_channel = _penny_digest(penny_env, tmp_path)
    assert no_channel.returncode == 2 and "PENNY_DIGEST_CHANNEL is not set" in no_channel.stderr
    embedded = {k: v for k, v in penny_env.items() if k != "PENNY_REDIS_URL"}
    no_url = _penny_digest({**embedded, "PENNY_DIGEST_CHANNEL": channel}, tmp_path)
    assert no_url.returncode == 2 and "PENNY_REDIS_URL is not set" in no_url.stderr
    assert not (tmp_path / ".penny").exists(), "no embedded Redis was started next to a running Penny's files"


@pytest.mark.slow
def test_two_running_replicas_post_last_weeks_digest_once(
    slack: SlackEmulator, redis_url: str, start_penny: PennyFactory
) -> None:
    """Both replicas fire on the same minute (``* * * * *``); the week's Redis lock lets one post."""
    channel = slack.add_channel("penny-costs").id
    last_week = IsoWeek.last_complete(datetime.now(UTC), UTC_ZONE)
    start, _ = last_week.bounds(UTC_ZONE)

    async def seed() -> None:
        client = plain_client(redis_url)
        await record_at(
            client,
            _row("w1", "answered", "deepseek-v4-flash", "standard", "0.000510000", "0.004250000"),
            start + timedelta(days=1),
        )
        await client.aclose()

    asyncio.run(seed())
    replicas = [start_penny(PENNY_DIGEST_CHANNEL=channel, PENNY_DIGEST_CRON="* * * * *") for _ in range(2)]
    slack.wait_for(lambda: _digests(slack, channel), timeout=90, what="a digest from the scheduler")
    deadline = time.monotonic() + 75  # a replica that started after the minute turned fires a minute later
    while time.monotonic() < deadline and not all("digest.run" in p.log_text() for p in replicas):
        time.sleep(0.2)
    logs = [p.log_text() for p in replicas]
    assert all("digest.run" in log for log in logs), "both replicas ran the job"
    assert sum("status=posted" in log for log in logs) == 1
    assert _digests(slack, channel) == [
        f"Penny weekly digest {last_week}: 1 request, $0.0005 spent, $0.0037 saved (88.0%) against gpt-4o."
    ]
    assert len([f for f in slack.uploaded_files() if f.channel == channel]) == 1


def test_a_real_answer_and_its_reactions_show_up_in_the_digest(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, penny_env: dict[str, str], tmp_path: Path
) -> None:
    """Nothing seeded: Penny answers a mention, people react, and ``penny digest`` reports what the ledger and the
    vote log recorded (a 👍 added and taken back counts zero)."""
    alice, bob = slack.add_user("alice"), slack.add_user("bob")
    general = slack.add_channel("general", members=[alice.id, bob.id])
    costs = slack.add_channel("penny-costs").id
    llm.set_answer(ANY_MODEL, "Deploys freeze at 16:00 on Fridays.")
    start_penny()
    question = slack.mention(general.id, alice.id, "what is the deploy freeze rule?")
    reply = slack.wait_for(
        lambda: next(
            (m for m in slack.bot_replies(general.id, question.ts or "") if "16:00" in m.text and slack.is_finished(m)),
            None,
        ),
        timeout=30,
        what="the answer",
    )
    model = llm.models_called()[-1]
    slack.react(general.id, reply.ts, bob.id, "+1")
    slack.react(general.id, reply.ts, alice.id, "thumbsup")
    slack.unreact(general.id, reply.ts, alice.id, "thumbsup")

    week = str(IsoWeek.containing(datetime.now(UTC), UTC_ZONE))
    env = {**penny_env, "PENNY_DIGEST_CHANNEL": costs}

    def quality_line() -> str | None:
        shown = _penny_digest(env, tmp_path, "--week", week, "--dry-run").stdout
        return next((line for line in shown.splitlines() if "*Quality*" in line and "👍 1 · 👎 0" in line), None)

    assert slack.wait_for(quality_line, timeout=30, interval=0.5, what="the votes in the digest")
    posted = _penny_digest(env, tmp_path, "--week", week)
    assert posted.returncode == 0, posted.stderr
    [message] = [m for m in slack.bot_messages(costs) if m.blocks]
    assert message.text.startswith(f"Penny weekly digest {week}: 1 request, <$0.0001 spent, "), message.text
    blocks = str(message.blocks)
    [call] = llm.chat_requests()
    baseline = call_cost(load_catalog(None).baseline_model, Usage(call.prompt_tokens or 0, call.completion_tokens or 0))
    assert f"• `{model}` <$0.0001 · 1 request · {usd(baseline)} on gpt-4o" in blocks and "1 answered" in blocks
    assert "*Quality* 👍 1 · 👎 0 · 100.0% 👍" in blocks
