"""Keep each replica's learned scorers current with the workspace's 👍/👎 log in Redis.

The scorer lives in memory (scoring must cost about a millisecond, not a Redis round trip of 20k vectors), but votes
arrive at whichever replica Slack picked and must survive restarts. So the feedback log (``feedback_log.py``) is the
truth and every replica follows it: ``refresh`` reads the changes since the last one it applied — usually none, one
cheap ``XRANGE`` — and appends the new votes. A removed vote cannot be taken out of a fitted scorer, and a log
trimmed past our position has lost votes we never saw; either way the scorer is rebuilt by replaying the whole log,
which is rare (a reaction removed) and bounded by the log's cap.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from routing.learned.feedback_log import FeedbackEvent, FeedbackLog
from routing.learned.scorer import LearnedScorer
from routing.learned.workspaces import WorkspaceScorers

log = structlog.get_logger(__name__)

_PAGE = 2_000


class ScorerSync:
    """Applies the feedback log to a ``WorkspaceScorers`` registry, at most once per ``min_interval_s`` per team."""

    def __init__(
        self,
        feedback: FeedbackLog,
        scorers: WorkspaceScorers,
        *,
        min_interval_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._feedback = feedback
        self._scorers = scorers
        self._min_interval_s = min_interval_s
        self._clock = clock
        self._position: dict[str, str] = {}  # team → last applied log id
        self._checked: dict[str, float] = {}

    async def refresh(self, team_id: str, *, force: bool = False) -> int:
        """Apply new votes of one workspace; returns how many changes were applied (Redis errors propagate)."""
        now = self._clock()
        if not force and now - self._checked.get(team_id, float("-inf")) < self._min_interval_s:
            return 0
        self._checked[team_id] = now
        position = self._position.get(team_id)
        if position is not None:
            oldest = await self._feedback.first_id(team_id)
            if oldest is not None and _id_key(oldest) > _id_key(position):
                return await self.rebuild(team_id)  # the log was trimmed past us: votes we never saw are gone
        changes = await self._read_all(team_id, after_id=position)
        if any(not change.added for change in changes):
            return await self.rebuild(team_id)
        scorer = self._scorers.scorer(team_id)
        _record(scorer, changes)
        if changes:
            self._position[team_id] = changes[-1].event_id
            log.info("scorer_sync.applied", team_id=team_id, votes=len(changes), total=scorer.n_votes)
        return len(changes)

    async def rebuild(self, team_id: str) -> int:
        """Replay the whole log into a fresh scorer: adds in order, minus the votes later removed."""
        changes = await self._read_all(team_id, after_id=None)
        live: dict[str, FeedbackEvent] = {}
        for change in changes:
            if change.added:
                live[change.vote.field] = change
            else:
                live.pop(change.vote.field, None)
        scorer = LearnedScorer(self._scorers.config)
        _record(scorer, sorted(live.values(), key=lambda c: _id_key(c.event_id)))
        self._scorers.install(team_id, scorer)
        if changes:
            self._position[team_id] = changes[-1].event_id
        log.info("scorer_sync.rebuilt", team_id=team_id, votes=scorer.n_votes, changes=len(changes))
        return len(changes)

    async def _read_all(self, team_id: str, *, after_id: str | None) -> list[FeedbackEvent]:
        changes: list[FeedbackEvent] = []
        while True:
            page = await self._feedback.events(team_id, after_id=after_id, count=_PAGE)
            changes.extend(page)
            if len(page) < _PAGE:
                return changes
            after_id = page[-1].event_id


def _record(scorer: LearnedScorer, changes: list[FeedbackEvent]) -> None:
    """Votes into the scorer in one batch; one it cannot use (no signature, unknown tier, other config) is skipped."""
    votes = [(c.vote.signature, c.vote.tier, c.vote.good) for c in changes if c.vote.signature and c.vote.tier]
    used = scorer.record_signatures([(sig, str(tier), good) for sig, tier, good in votes])
    if used < len(changes):
        log.debug("scorer_sync.votes_skipped", skipped=len(changes) - used)


def _id_key(entry_id: str) -> tuple[int, int]:
    millis, _, sequence = entry_id.partition("-")
    return int(millis), int(sequence or 0)
