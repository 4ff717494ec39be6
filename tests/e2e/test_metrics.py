"""``/metrics`` of the real process after real requests: what a cost dashboard reads, counted where it happened."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import PennyFactory
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator


def _metrics(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): float(s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_fallback_answer_shows_its_spend_savings_timings_429s_and_budget(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    llm.set_answer(ANY_MODEL, "Expenses are approved by your manager within five days.")
    llm.set_down("glm-4-plus")  # the economy model fails: the answer comes from the next one
    penny = start_penny(PENNY_STREAM_MODE="edit")  # the edit path, so the 429 lands on chat.update
    slack.force_rate_limit("chat.update", times=1, retry_after=1)

    delivery = slack.mention(general.id, alice.id, "who approves expenses?")
    slack.wait_for(
        lambda: any(
            "five days" in r.text and slack.is_finished(r) for r in slack.bot_replies(general.id, delivery.ts or "")
        ),
        timeout=60,
        what="the answer",
    )
    answered_by = llm.models_called()[-1]
    assert answered_by != "glm-4-plus"

    def counted() -> dict[tuple[str, frozenset[tuple[str, str]]], float] | None:
        metrics = _metrics(penny.port)
        return metrics if any(name == "penny_spend_usd_total" for name, _ in metrics) else None

    metrics = slack.wait_for(counted, timeout=20, what="the row's metrics")
    by_model = [labels for name, labels in metrics if name == "penny_spend_usd_total"]
    assert any(dict(labels)["model"] == answered_by for labels in by_model)
    spend = sum(v for (name, labels), v in metrics.items() if name == "penny_spend_usd_total")
    saved = sum(v for (name, labels), v in metrics.items() if name == "penny_saved_usd_total")
    assert spend > 0 and saved > 0, "cheaper than the baseline model, and paid for"
    assert metrics[("penny_llm_fallbacks_total", frozenset({("from_model", "glm-4-plus"), ("to_model", answered_by)}))]
    assert metrics[("penny_llm_time_to_first_token_seconds_count", frozenset({("model", answered_by)}))] >= 1
    assert metrics[("penny_llm_calls_total", frozenset({("model", "glm-4-plus"), ("result", "server_error")}))] >= 1
    assert metrics[("penny_slack_rate_limited_total", frozenset({("method", "chat.update")}))] >= 1
    assert metrics[("penny_budget_spent_usd", frozenset({("team", slack.team_id), ("period", "day")}))] > 0
    assert metrics[("penny_ledger_spool_rows", frozenset())] == 0
    assert metrics[("penny_requests_total", frozenset({("surface", "mention"), ("outcome", "answered")}))] == 1
