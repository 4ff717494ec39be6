"""Privacy when things change, end to end: a channel made private, archived or shared stops sharing its answers at
once; a replica with stale channel info cannot share it again; deleting Penny's own reply evicts the answer it
showed; ``/summarize`` honours the allow-list for the channel it reads, not only where it was typed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import PennyFactory, write_test_catalog
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.slack_emulator import SlackEmulator

CACHED = {"PENNY_CACHE_ENABLED": "true", "PENNY_CACHE_SHARE_PUBLIC": "true"}
ANSWER = "The office closes at 18:00 on Fridays."
QUESTION = "When does the office close on Fridays?"


def _final(slack: SlackEmulator, channel: str, thread_ts: str, timeout: float = 60.0) -> Any:
    def done() -> Any:
        replies = slack.bot_replies(channel, thread_ts)
        return replies[0] if replies and slack.is_finished(replies[0]) else None

    return slack.wait_for(done, timeout=timeout, what="final reply")


def _ask(slack: SlackEmulator, channel: str, user: str, text: str = QUESTION, url: str | None = None) -> Any:
    delivery = slack.mention(channel, user, text, **({"url": url} if url else {}))
    assert delivery.final.status == 200
    return _final(slack, channel, delivery.ts or "")


@pytest.mark.slow
def test_a_channel_made_private_stops_sharing_its_answers_at_once(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    random = slack.add_channel("random", members=[alice.id])
    llm.set_answer(ANY_MODEL, ANSWER)
    start_penny(**CACHED)
    _ask(slack, general.id, alice.id)
    assert "from cache" in _ask(slack, random.id, alice.id).text, "shared workspace-wide while public"

    assert slack.deliver_event(slack.convert_event(general.id, alice.id)).final.status == 200
    calls = len(llm.chat_requests())
    again = _ask(slack, random.id, alice.id)
    assert "from cache" not in again.text
    assert len(llm.chat_requests()) == calls + 1, "answered afresh: the private channel's answer stayed there"


@pytest.mark.slow
def test_a_stale_replica_cannot_share_a_channel_that_turned_private(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    random = slack.add_channel("random", members=[alice.id])
    llm.set_answer(ANY_MODEL, ANSWER)
    stale = start_penny(**CACHED)
    told = start_penny(**CACHED)  # the emulator now sends to this one
    _ask(slack, general.id, alice.id, url=stale.events_url)  # the stale replica learns: #general is public

    convert = slack.convert_event(general.id, alice.id)
    assert slack.deliver_event(convert, url=told.events_url).final.status == 200  # the event reaches one replica
    llm.set_answer(ANY_MODEL, "The codename is BLUEBIRD.")
    secret_question = "What is the project codename?"
    _ask(slack, general.id, alice.id, secret_question, url=stale.events_url)  # answered from now-private #general
    elsewhere = _ask(slack, random.id, alice.id, secret_question, url=stale.events_url)
    assert "from cache" not in elsewhere.text, "a private channel's new answer is not shared by a stale replica"


@pytest.mark.slow
def test_deleting_pennys_reply_or_archiving_the_channel_evicts_the_answer(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    llm.set_answer(ANY_MODEL, ANSWER)
    start_penny(PENNY_CACHE_ENABLED="true")
    answer = _ask(slack, general.id, alice.id)
    assert "from cache" in _ask(slack, general.id, alice.id).text

    # An admin deletes Penny's answer (Bolt drops Penny's own events by default: this one must come through).
    assert slack.deliver_event(slack.delete_event(general.id, answer.ts)).final.status == 200
    calls = len(llm.chat_requests())
    assert "from cache" not in _ask(slack, general.id, alice.id).text
    assert len(llm.chat_requests()) == calls + 1

    assert "from cache" in _ask(slack, general.id, alice.id).text
    assert slack.deliver_event(slack.archive_event(general.id, alice.id)).final.status == 200
    assert slack.deliver_event(slack.archive_event(general.id, alice.id, undo=True)).final.status == 200
    calls = len(llm.chat_requests())
    assert "from cache" not in _ask(slack, general.id, alice.id).text, "archiving took the answers along"
    assert len(llm.chat_requests()) == calls + 1


def test_summarize_refuses_a_source_channel_outside_the_allow_list(
    slack: SlackEmulator, llm: OpenAIServer, start_penny: PennyFactory, tmp_path: Path
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice.id])
    secret = slack.add_channel("secret", kind="private", members=[alice.id])
    slack.post_user_message(secret.id, alice.id, "the acquisition closes on Friday")
    catalog_path = write_test_catalog(tmp_path / "allow.yaml", llm.base_url)
    catalog = yaml.safe_load(catalog_path.read_text())
    catalog["policy"]["allowed_channels"] = [general.id]
    catalog_path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    llm.set_answer(ANY_MODEL, "Gist: an acquisition closes Friday.")
    start_penny(PENNY_CATALOG=str(catalog_path))

    delivery = slack.deliver_command("/summarize", f"<#{secret.id}|secret>", channel=general.id, user=alice.id)
    assert delivery.final.status == 200
    texts = slack.wait_for(
        lambda: [str(p.payload.get("text", "")) for p in slack.response_url_posts()], timeout=20, what="the refusal"
    )
    assert "not enabled in this channel" in texts[0]
    assert "acquisition" not in " ".join(texts)
    assert llm.chat_requests() == [], "nothing was read into a model"
    assert not slack.calls("conversations.history"), "the source was not even read"
