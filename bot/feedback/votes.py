"""👍/👎 on Penny's answers as quality feedback: counted per model × task, taught to the router, acted on.

The flow (DESIGN: reactions → ``handlers/reactions.py`` → here → ``routing/learned/feedback_log.py``):

* every answer is remembered under its message ts (``bot/feedback/answer_map.py``), with its prompt's signature;
* a thumb on such a message becomes a ``Vote`` in the workspace's feedback log — idempotent per person and
  polarity, so redelivered or repeated events count once, and removing the reaction takes the vote back;
* the learned scorer follows the log (``routing/learned/sync.py``): once a workspace has enough votes, prompts that
  resemble badly rated ones go up a tier;
* a 👎 on an answer that is (or was stored in) the semantic cache evicts that entry, so nobody else is served an
  answer somebody just called bad.

Feedback is best-effort by design: a Redis hiccup here is logged and never breaks or delays an answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Protocol

import structlog
from redis.exceptions import RedisError

from bot.feedback.answer_map import AnsweredMessage, AnswerMap
from bot.request import Reaction
from routing.learned.feedback_log import FeedbackLog, Vote
from routing.learned.sync import ScorerSync
from vocabulary import Vector

log = structlog.get_logger(__name__)

Signature = Callable[[Vector, str], bytes]  # (prompt vector, question) -> routing.learned.signatures prompt signature
Evict = Callable[[str], Awaitable[None]]  # cache entry id -> evicted


class AnswerFeedback(Protocol):
    """What the request lifecycle needs from feedback: remember answers, and learn before routing."""

    async def remember_answer(
        self, answer: AnsweredMessage, message_ts: Sequence[str], *, vector: Vector | None, question: str
    ) -> None: ...

    async def before_routing(self, team_id: str) -> None: ...


class NoFeedback:
    """Feedback switched off: answers are not remembered, so reactions on them count for nothing."""

    async def remember_answer(
        self, answer: AnsweredMessage, message_ts: Sequence[str], *, vector: Vector | None, question: str
    ) -> None:
        return None

    async def before_routing(self, team_id: str) -> None:
        return None


class Feedback:
    def __init__(
        self,
        *,
        answers: AnswerMap,
        votes: FeedbackLog,
        scorer_sync: ScorerSync | None = None,
        signature: Signature | None = None,
        evict: Evict | None = None,
    ) -> None:
        self._answers = answers
        self._votes = votes
        self._scorer_sync = scorer_sync
        self._signature = signature
        self._evict = evict

    async def remember_answer(
        self, answer: AnsweredMessage, message_ts: Sequence[str], *, vector: Vector | None, question: str
    ) -> None:
        """Record what produced these reply messages, so a later 👍/👎 on any of them can be counted; with the
        question's vector, its signature too, so the vote can teach the learned router."""
        if vector is not None and self._signature is not None:
            answer = replace(answer, signature=self._signature(vector, question))
        try:
            await self._answers.remember(answer, message_ts)
            await self._count_parked(answer, message_ts)
        except RedisError:
            log.warning("feedback.remember_failed", request_id=answer.request_id)

    async def before_routing(self, team_id: str) -> None:
        """Bring the workspace's learned scorer up to date with votes other replicas received."""
        if self._scorer_sync is None:
            return
        try:
            await self._scorer_sync.refresh(team_id)
        except RedisError:
            log.warning("feedback.scorer_refresh_failed", team_id=team_id)

    async def on_reaction(self, reaction: Reaction) -> bool:
        """Count (or take back) a thumb on one of Penny's answers; False when the message is not one of them.

        A thumb on Penny's message whose answer is not recorded yet (the reply is still streaming) is parked and
        counted when the answer is recorded; the map is read again after parking, so a recording that happened
        in between is not missed (parked thumbs are handed out once, whoever takes them).
        """
        answer = await self._answers.lookup(reaction.team_id, reaction.channel_id, reaction.message_ts)
        if answer is not None:
            await self._count(reaction, answer)
            return True
        if not reaction.on_penny_message:
            return False
        await self._answers.park(reaction)
        answer = await self._answers.lookup(reaction.team_id, reaction.channel_id, reaction.message_ts)
        if answer is not None:
            await self._count_parked(answer, [reaction.message_ts])
        else:
            log.info("feedback.vote_parked", team_id=reaction.team_id, channel_id=reaction.channel_id)
        return True

    async def _count_parked(self, answer: AnsweredMessage, message_ts: Sequence[str]) -> None:
        for parked in await self._answers.take_parked(answer.team_id, answer.channel_id, message_ts):
            await self._count(parked, answer)

    async def _count(self, reaction: Reaction, answer: AnsweredMessage) -> None:
        vote = Vote(
            team_id=reaction.team_id,
            channel_id=reaction.channel_id,
            request_id=answer.request_id,
            user_id=reaction.user_id,
            good=reaction.good,
            model=answer.model,
            tier=answer.tier,
            task=answer.task,
            signature=answer.signature,
        )
        changed = await (self._votes.add(vote) if reaction.added else self._votes.remove(vote))
        log.info(
            "feedback.vote",
            team_id=reaction.team_id,
            channel_id=reaction.channel_id,
            request_id=answer.request_id,
            good=reaction.good,
            added=reaction.added,
            counted=changed,
            model=answer.model,
            tier=answer.tier,
        )
        if changed and reaction.added and not reaction.good and answer.cache_entry and self._evict is not None:
            await self._evict(answer.cache_entry)
            log.info("feedback.cache_entry_evicted", request_id=answer.request_id, entry=answer.cache_entry)
        if changed and self._scorer_sync is not None:
            await self._scorer_sync.refresh(reaction.team_id, force=True)
