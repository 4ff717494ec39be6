import json

from bot.replies import FRESH_ANSWER_ACTION, cache_label, cached_answer_blocks, humanize_age, with_notes
from handlers.actions import parse_fresh_answer


def test_cache_label_says_how_old_the_answer_is() -> None:
    assert cache_label(1000.0, now=1000.0 + 3 * 86400 + 5) == "⚡ from cache · asked 3 days ago"
    assert humanize_age(30) == "just now"
    assert humanize_age(60) == "1 minute ago"
    assert humanize_age(7200) == "2 hours ago"


def test_cached_blocks_are_sanitized_split_and_carry_the_button() -> None:
    answer = "<!channel> " + "x" * 6000
    blocks = cached_answer_blocks(answer, "label", {"entry": "T1:5", "q": "why?", "thread": "1.1"})
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) == 3 and all(len(b["text"]["text"]) <= 2900 for b in sections)
    assert "<!channel>" not in json.dumps(blocks)
    button = blocks[-1]["elements"][0]
    assert button["action_id"] == FRESH_ANSWER_ACTION
    assert json.loads(button["value"])["entry"] == "T1:5"


def test_notes_are_appended_quietly() -> None:
    assert with_notes("Answer.", []) == "Answer."
    assert with_notes("Answer.", ["Budget soft limit reached."]) == "Answer.\n\n_Budget soft limit reached._"


def _block_actions(value: str) -> dict:
    return {
        "type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U2"}, "trigger_id": "tr1",
        "channel": {"id": "C1"}, "container": {"message_ts": "200.1"},
        "actions": [{"action_id": FRESH_ANSWER_ACTION, "value": value, "action_ts": "201.0"}],
    }


def test_fresh_answer_click_becomes_a_cache_bypassing_request() -> None:
    value = json.dumps({"entry": "T1:5", "q": "how many PTO days?", "thread": "100.1", "question_ts": "100.1"})
    parsed = parse_fresh_answer(_block_actions(value))
    assert parsed is not None
    request, options = parsed
    assert request.text == "how many PTO days?" and request.thread_ts == "100.1"
    assert request.scope.channel_id == "C1" and request.user_id == "U2"
    assert options.bypass_cache and options.reply_ts == "200.1" and options.evict_entry == "T1:5"


def test_tampered_button_value_is_ignored() -> None:
    assert parse_fresh_answer(_block_actions("not json")) is None
    assert parse_fresh_answer(_block_actions(json.dumps({"entry": "x"}))) is None
