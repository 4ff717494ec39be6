"""What may be cached, under which key, and who may reuse it. Pure: no Redis, no model.

- ``draft`` is never cached (a draft is personal and meant to differ each time).
- ``summarize`` and ``chat`` get exact reuse only: a summary depends on the channel, thread and latest
  message ts (all in the key), chat on the conversation so far.
- ``qa`` gets exact reuse and semantic reuse, both keyed with the caller's context fingerprint.
- Time-relative questions ("today", "this week") never reuse semantically and their exact key carries the UTC
  day; personal ones ("my PTO", "am I eligible") only reuse an answer given to the same user; text the English
  model cannot judge (other languages) gets exact reuse only.
- Privacy: an entry is visible to its own channel; a public channel's entry is also visible workspace-wide when
  the deployment opts in, except from Slack Connect channels (their external members cannot read the
  workspace's public channels). Private channels, DMs and Slack Connect channels never share.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from cache.entry import Entry
from cache.text import normalize_for_exact, traits
from cache.values import CacheQuery
from vocabulary import Visibility

SEMANTIC_TASKS = frozenset({"qa"})
EXACT_TASKS = frozenset({"qa", "summarize", "chat"})


@dataclass(frozen=True)
class KeyPlan:
    """How one query is keyed. ``exact_digest`` is within the query's own channel."""

    cacheable: bool
    semantic: bool
    exact_digest: str
    personal_user: str  # "" when any user of the scope may reuse the answer
    shareable: bool  # may be served outside its channel (public channel + opt-in)
    time_relative: bool = False  # the key carries the UTC day, so the entry is useless after it


def plan(query: CacheQuery, *, share_public: bool, now: float | None = None) -> KeyPlan:
    if query.task not in EXACT_TASKS or not query.question.strip():
        return KeyPlan(False, False, "", "", False, False)
    features = traits(query.question)
    personal_user = query.user_id if features.personal else ""
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() if now is None else now))
    digest = exact_digest(
        channel=query.scope.channel_id,
        task=query.task,
        question=query.question,
        fingerprint=query.context_fingerprint,
        thread_ts=query.thread_ts or "",
        user=personal_user,
        day=day if features.time_relative else "",
    )
    semantic = query.task in SEMANTIC_TASKS and features.english and not features.time_relative
    shareable = share_public and query.scope.visibility == "public" and query.task == "qa"
    return KeyPlan(True, semantic, digest, personal_user, shareable, features.time_relative)


def exact_digest(
    *, channel: str, task: str, question: str, fingerprint: str, thread_ts: str, user: str, day: str
) -> str:
    material = "\x1f".join((channel, task, normalize_for_exact(question), fingerprint, thread_ts, user, day))
    return hashlib.blake2b(material.encode(), digest_size=16).hexdigest()


def may_read_shared(query: CacheQuery, *, share_public: bool) -> bool:
    """Whether this query may see the workspace-shared public entries at all."""
    return share_public and query.scope.visibility in ("public", "private", "dm")


def may_reuse(
    entry: Entry,
    query: CacheQuery,
    plan: KeyPlan,
    now: float,
    *,
    share_public: bool,
    same_channel_only: bool,
    channel_visibility: Visibility | None = None,
) -> bool:
    """The Redis entry, not the index, decides: scope, freshness and what the answer depended on.

    ``channel_visibility`` is the entry's channel as last recorded in Redis, when the caller read it: a channel
    that turned private stops sharing even before its entries are unshared.
    """
    scope = query.scope
    if entry.team_id != scope.team_id or entry.expires <= now:
        return False
    if entry.channel_id != scope.channel_id:
        if same_channel_only or not entry.shared or entry.visibility != Visibility.PUBLIC:
            return False
        if not may_read_shared(query, share_public=share_public):
            return False
        if (channel_visibility or entry.visibility) != Visibility.PUBLIC:
            return False  # the source channel turned private since: stop serving it anywhere else
    if entry.task != query.task or entry.fingerprint != query.context_fingerprint:
        return False
    if entry.thread_ts != (query.thread_ts or ""):
        return False  # a follow-up only reuses answers from its own thread
    return not (entry.user_id and entry.user_id != query.user_id) and not (
        plan.personal_user and entry.user_id != plan.personal_user
    )


def expires_at(now: float, ttl: float, plan: KeyPlan) -> float:
    """Penny's TTL; a time-relative answer ("who is on call today?") also ends with its UTC day."""
    end_of_day = (now // 86_400 + 1) * 86_400
    return min(now + ttl, end_of_day) if plan.time_relative else now + ttl
