"""Redis key names owned by ``routing/`` (DESIGN.md: key names live in their owning module, nowhere else).

Every key starts with ``penny:`` and carries a hash tag: ``{team}`` for workspace state (budgets, user limits) so
one team's keys share a Redis Cluster slot, and ``{health:<model>}`` for model health, which is shared by all
workspaces and must sit in one slot because a Lua script touches all of a model's keys at once.
"""

from __future__ import annotations

PREFIX = "penny"


def budget_spent_key(team_id: str, period: str) -> str:
    """Integer nano-dollars spent (settled + reserved) in ``period`` (``day:2026-11-23`` / ``month:2026-11``)."""
    return f"{PREFIX}:{{{team_id}}}:budget:spent:{period}"


def budget_hold_key(team_id: str, reservation_id: str) -> str:
    """Hash of one reservation (nano-dollars held, settled or not): what makes a re-sent budget change a no-op."""
    return f"{PREFIX}:{{{team_id}}}:budget:hold:{reservation_id}"


def budget_soft_note_key(team_id: str, period: str) -> str:
    """Set once the soft-limit note was shown in ``period``, so it is said once, not on every reply."""
    return f"{PREFIX}:{{{team_id}}}:budget:soft_noted:{period}"


def user_requests_key(team_id: str, user_id: str, window: str) -> str:
    """Request counter for one user in a fixed window (``hour:2026-11-23T15`` / ``day:2026-11-23``)."""
    return f"{PREFIX}:{{{team_id}}}:user_requests:{user_id}:{window}"


def _health_tag(model_id: str) -> str:
    return f"{PREFIX}:{{health:{model_id}}}"


def health_calls_key(model_id: str) -> str:
    """Sorted set of recent calls (score: time), each member ``<time>:<nonce>:<ok>:<ttft_ms>``."""
    return f"{_health_tag(model_id)}:calls"


def health_cooldown_key(model_id: str) -> str:
    """Present while the model is out of rotation: the time its cool-down ends."""
    return f"{_health_tag(model_id)}:cooldown_until"


def health_probe_key(model_id: str) -> str:
    """The probe lock (``SET NX PX``): whoever holds it sends the one request that may bring the model back."""
    return f"{_health_tag(model_id)}:probe"


def feedback_votes_key(team_id: str, request_id: str) -> str:
    """Hash of one answer's live votes: field ``<user_id>:<good|bad>`` → ``1``; expires with the answer map."""
    return f"{PREFIX}:{{{team_id}}}:feedback:votes:{request_id}"


def feedback_legacy_votes_key(team_id: str) -> str:
    """The one hash all votes lived in before per-answer hashes (``<request_id>:<user_id>:<good|bad>``): it is
    still read, so an old vote is neither counted twice nor impossible to take back, and only ever shrinks."""
    return f"{PREFIX}:{{{team_id}}}:feedback:votes"


def feedback_op_key(team_id: str, op_id: str) -> str:
    """What one vote change answered, kept for a day: a re-sent change gets the same answer and applies nothing."""
    return f"{PREFIX}:{{{team_id}}}:feedback:op:{op_id}"


def feedback_log_key(team_id: str) -> str:
    """Stream of vote changes (added / removed): the digest's quality figures and the learned scorer's votes."""
    return f"{PREFIX}:{{{team_id}}}:feedback:log"


def feedback_counters_key(team_id: str) -> str:
    """Hash of live vote counts per model × task: field ``<model>|<task>|<good|bad>`` → count."""
    return f"{PREFIX}:{{{team_id}}}:feedback:counters"
