"""The names of the bot's Redis keys, here and nowhere else (``cache/`` and ``routing/`` own theirs).

Every key carries a ``{team}`` hash tag so one workspace's keys stay in one Redis Cluster slot.
"""

from __future__ import annotations

PREFIX = "penny"


def _tag(team_id: str) -> str:
    return f"{PREFIX}:{{{team_id}}}"


def event_claim_key(team_id: str, event_id: str) -> str:
    return f"{_tag(team_id)}:event:{event_id}"


def ledger_stream_key(team_id: str) -> str:
    return f"{_tag(team_id)}:ledger"


LEDGER_STREAM_PATTERN = f"{PREFIX}:{{*}}:ledger"  # every workspace's ledger stream, found by a (rare) SCAN
LEDGER_TEAMS_KEY = f"{PREFIX}:{{ledger}}:teams"  # the workspaces with a ledger, so retention need not scan Redis


def team_of_key(key: str) -> str:
    """The workspace in a key's ``{team}`` hash tag."""
    return key[key.index("{") + 1 : key.index("}")]


def ledger_seen_key(team_id: str, request_id: str) -> str:
    return f"{_tag(team_id)}:ledger:seen:{request_id}"


def ledger_day_key(team_id: str, day: str) -> str:
    """One local day's ledger totals (``2026-11-23``), kept before that day's rows are trimmed."""
    return f"{_tag(team_id)}:ledger:day:{day}"


def slack_budget_key(team_id: str, method: str) -> str:
    """The calls of one Slack method in the last minute (a sorted set of call times)."""
    return f"{_tag(team_id)}:slack:calls:{method}"


def slack_inflight_key(team_id: str, method: str) -> str:
    """Replies still owing a final call of ``method`` (a sorted set of reply ids by expiry)."""
    return f"{_tag(team_id)}:slack:inflight:{method}"


def joined_thread_key(team_id: str, channel_id: str, thread_ts: str) -> str:
    """Hash of a thread Penny answered in (askers, latest author). Was a plain ``:thread:`` string before thread
    manners; those keys are no longer read and age out within their 14 days."""
    return f"{_tag(team_id)}:joined:{channel_id}:{thread_ts}"


def fresh_answer_key(team_id: str, key: str) -> str:
    """What a cached answer's **Fresh answer** button re-asks (the button itself carries only ``key``)."""
    return f"{_tag(team_id)}:fresh:{key}"


def draft_key(team_id: str, draft_id: str) -> str:
    """A draft shown only to its asker, until they post it to the thread (or it expires)."""
    return f"{_tag(team_id)}:draft:{draft_id}"


def pane_thread_key(team_id: str, channel_id: str, thread_ts: str) -> str:
    """An assistant-pane thread: its user, the channel they are viewing, whether it has a title yet."""
    return f"{_tag(team_id)}:pane:{channel_id}:{thread_ts}"


def answer_message_key(team_id: str, channel_id: str, message_ts: str) -> str:
    """Hash describing the request behind one of Penny's reply messages (the message→request map)."""
    return f"{_tag(team_id)}:answer:{channel_id}:{message_ts}"


def parked_reactions_key(team_id: str, channel_id: str, message_ts: str) -> str:
    """List of thumbs put on one of Penny's messages before its answer was recorded (while it was streaming)."""
    return f"{_tag(team_id)}:answer:parked:{channel_id}:{message_ts}"


def digest_lock_key(team_id: str, week: str) -> str:
    """Held by the replica that posts a workspace's digest for ISO ``week`` (``2026-W47``), so only one posts."""
    return f"{_tag(team_id)}:digest:lock:{week}"


def summary_partial_key(team_id: str, channel_id: str, key: str) -> str:
    """One chunk's partial summary, scoped by the conversation it came from (``key``: content, prompt and tier)."""
    return f"{_tag(team_id)}:summary:partial:{channel_id}:{key}"


def summary_partial_index_key(team_id: str, channel_id: str, message_ts: str) -> str:
    """The partial summaries built from one message: what an edit or deletion of it makes stale."""
    return f"{_tag(team_id)}:summary:by_message:{channel_id}:{message_ts}"
