"""``make run`` on a fresh machine: tokens in ``.env``, no Redis configured → Penny runs on its embedded Redis."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import LLM_KEY, LLM_KEY_ENV, write_test_catalog
from tests.e2e.penny_process import PennyProcess
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator


def test_dotenv_and_no_redis_url_runs_on_embedded_redis(
    slack: SlackEmulator, llm: OpenAIServer, tmp_path: Path
) -> None:
    workdir = tmp_path / "fresh-checkout"
    workdir.mkdir()
    catalog = write_test_catalog(workdir / "catalog.yaml", llm.base_url)
    (workdir / ".env").write_text(
        f"PENNY_SLACK_BOT_TOKEN={slack.bot_token}\n"
        f"PENNY_SLACK_SIGNING_SECRET={slack.signing_secret}\n"
        f"PENNY_SLACK_API_URL={slack.base_url}\n"
        f"PENNY_CATALOG={catalog}\n"
        f"{LLM_KEY_ENV}={LLM_KEY}\n"
    )
    llm.set_answer(ANY_MODEL, "Answered from the embedded setup.")
    penny = PennyProcess(env={}, log_path=workdir / "penny.log").start()
    try:
        slack.events_url = penny.events_url
        alice = slack.add_user("alice")
        general = slack.add_channel("general", members=[alice.id])
        delivery = slack.mention(general.id, alice.id, "does it work?")
        expected = "Answered from the embedded setup."
        slack.wait_for(
            lambda: any(r.text == expected for r in slack.bot_replies(general.id, delivery.ts or "")),
            timeout=20,
            what="answer",
        )
    finally:
        penny.stop()
    log = penny.log_text()
    assert "redis.embedded" in log
    assert list((workdir / ".penny" / "redis").glob("appendonly*")), "append-only persistence under the data dir"
    assert slack.bot_token not in log and slack.signing_secret not in log, "secrets never reach the log"
