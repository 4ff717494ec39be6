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


def slack_budget_key(team_id: str) -> str:
    return f"{_tag(team_id)}:slack:update_budget"


def joined_thread_key(team_id: str, channel_id: str, thread_ts: str) -> str:
    return f"{_tag(team_id)}:thread:{channel_id}:{thread_ts}"


def answer_message_key(team_id: str, channel_id: str, message_ts: str) -> str:
    """Hash describing the request behind one of Penny's reply messages (the message→request map)."""
    return f"{_tag(team_id)}:answer:{channel_id}:{message_ts}"


def digest_lock_key(team_id: str, week: str) -> str:
    """Held by the replica that posts a workspace's digest for ISO ``week`` (``2026-W47``), so only one posts."""
    return f"{_tag(team_id)}:digest:lock:{week}"
