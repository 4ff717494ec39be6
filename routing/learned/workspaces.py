"""One learned scorer per workspace: the registry the router asks and the feedback sync fills.

Teams never see each other's votes, and each turns on at its own vote count. The router reaches this registry only
through its ``Escalator`` protocol (``routing/router.py``), which ``WorkspaceScorers`` fits as is; the replicas'
sync (``routing/learned/sync.py``) appends votes to a team's scorer or swaps in one rebuilt from the feedback log.
"""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

from routing.learned.config import ScorerConfig
from routing.learned.scorer import LearnedScorer
from routing.learned.signatures import prompt_signature


class WorkspaceScorers:
    """One scorer per workspace, all with the same configuration."""

    def __init__(self, config: ScorerConfig | None = None) -> None:
        self.config = config or ScorerConfig()
        self._scorers: dict[str, LearnedScorer] = {}

    def scorer(self, team_id: str) -> LearnedScorer:
        if team_id not in self._scorers:
            self._scorers[team_id] = LearnedScorer(self.config)
        return self._scorers[team_id]

    def should_escalate(self, team_id: str, prompt_vector: NDArray[Any], tier: str, *, text: str | None = None) -> bool:
        scorer = self._scorers.get(team_id)
        return scorer is not None and scorer.should_escalate(prompt_vector, tier, text=text)

    def install(self, team_id: str, scorer: LearnedScorer) -> None:
        """Swap in a scorer rebuilt elsewhere (``routing/learned/sync.py`` replays the feedback log into one)."""
        self._scorers[team_id] = scorer

    def signature(self, prompt_vector: NDArray[Any], text: str) -> bytes:
        """The ``prompt_signature`` this registry's scorers accept (their word-bucket width)."""
        return prompt_signature(prompt_vector, text, self.config.word_buckets)
