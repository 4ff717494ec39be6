"""One reply per event: claim each Slack event id in Redis with a lease and a status.

Slack re-delivers an event when it saw no ack within 3 s (``X-Slack-Retry-Num``), and a load balancer or Socket
Mode may deliver the same event to two replicas at once. The claim is one atomic Lua script over a hash:
``done`` → drop; ``processing`` with a live lease → drop (someone is on it); ``processing`` with an expired lease →
take over (the first worker died before finishing); otherwise → win. The worker renews its lease while it works,
and remembers the placeholder message it posted so a takeover edits that message instead of posting a second one.
Time comes from Redis itself (``TIME``) so replicas with skewed clocks agree on expiry.

redis-py re-sends a command after a connection error even when Redis already ran it. A re-sent claim would then
find its own lease and answer "busy", and the event would be dropped with nobody working on it; so the claim
remembers what it granted, and answers its own owner with that grant again.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from enum import StrEnum

import redis.asyncio as aioredis
import structlog

from bot.asyncio_tasks import cancel_and_wait
from bot.redis.keys import event_claim_key

log = structlog.get_logger(__name__)

_CLAIM = """
local key = KEYS[1]
local lease_ms = tonumber(ARGV[1])
local owner = ARGV[2]
local ttl_s = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local status = redis.call('HGET', key, 'status')
if status and redis.call('HGET', key, 'owner') == owner then
  -- this very claim, re-sent after its reply was lost: the same answer again
  return {redis.call('HGET', key, 'granted') or 'won', redis.call('HGET', key, 'granted_reply_ts') or ''}
end
if status == 'done' then return {'done', ''} end
if status == 'processing' then
  local lease_until = tonumber(redis.call('HGET', key, 'lease_until') or '0')
  if lease_until > now then return {'busy', ''} end
  local reply_ts = redis.call('HGET', key, 'reply_ts') or ''
  redis.call('HSET', key, 'owner', owner, 'lease_until', now + lease_ms, 'granted', 'takeover',
             'granted_reply_ts', reply_ts)
  redis.call('HINCRBY', key, 'attempts', 1)
  return {'takeover', reply_ts}
end
redis.call('HSET', key, 'status', 'processing', 'owner', owner, 'lease_until', now + lease_ms, 'attempts', 1,
           'granted', 'won')
redis.call('EXPIRE', key, ttl_s)
return {'won', ''}
"""

_RENEW = """
local key = KEYS[1]
if redis.call('HGET', key, 'owner') ~= ARGV[1] or redis.call('HGET', key, 'status') ~= 'processing' then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', key, 'lease_until', now + tonumber(ARGV[2]))
return 1
"""

_FINISH = """
local key = KEYS[1]
if redis.call('HGET', key, 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', key, 'status', 'done')
return 1
"""


class ClaimStatus(StrEnum):
    WON = "won"  # first delivery: process it
    TAKEOVER = "takeover"  # an earlier worker died mid-way: process it again, reusing its placeholder
    BUSY = "busy"  # another worker holds a live lease: drop this delivery
    DONE = "done"  # already answered: drop this delivery

    @property
    def should_process(self) -> bool:
        return self in (ClaimStatus.WON, ClaimStatus.TAKEOVER)


@dataclass
class EventClaim:
    """A held claim; the holder renews it while working and marks it done at the end."""

    store: EventClaims
    team_id: str
    event_id: str
    owner: str
    status: ClaimStatus
    previous_reply_ts: str | None = None
    _heartbeat: asyncio.Task[None] | None = None

    async def remember_reply(self, ts: str) -> None:
        """Record the placeholder so a takeover after a crash edits it rather than posting again."""
        await self.store.redis.hset(event_claim_key(self.team_id, self.event_id), "reply_ts", ts)

    def start_heartbeat(self) -> None:
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._renew_forever())

    async def _renew_forever(self) -> None:
        interval = max(self.store.lease_s / 3, 0.2)
        while True:
            await asyncio.sleep(interval)
            try:
                held = await self.store.renew(self)
            except aioredis.RedisError:
                log.warning("event_claim.renew_failed", event_id=self.event_id)
                continue
            if not held:
                log.warning("event_claim.lost", event_id=self.event_id)
                return

    async def finish(self) -> None:
        await cancel_and_wait(self._heartbeat)
        self._heartbeat = None
        await self.store.finish(self)


class EventClaims:
    """The Redis side of event deduplication."""

    def __init__(self, redis: aioredis.Redis, *, lease_s: float, record_ttl_s: int) -> None:
        self.redis = redis
        self.lease_s = lease_s
        self.record_ttl_s = record_ttl_s
        self._claim = redis.register_script(_CLAIM)
        self._renew = redis.register_script(_RENEW)
        self._finish = redis.register_script(_FINISH)

    async def claim(self, team_id: str, event_id: str, *, owner: str | None = None) -> EventClaim:
        """Claim one delivery; ``owner`` (a fresh id by default) is what makes a re-sent claim recognisable."""
        owner = owner or uuid.uuid4().hex
        raw = await self._claim(
            keys=[event_claim_key(team_id, event_id)], args=[int(self.lease_s * 1000), owner, self.record_ttl_s]
        )
        status, reply_ts = (part.decode() if isinstance(part, bytes) else str(part) for part in raw)
        return EventClaim(
            store=self,
            team_id=team_id,
            event_id=event_id,
            owner=owner,
            status=ClaimStatus(status),
            previous_reply_ts=reply_ts or None,
        )

    async def renew(self, claim: EventClaim) -> bool:
        key = event_claim_key(claim.team_id, claim.event_id)
        return bool(await self._renew(keys=[key], args=[claim.owner, int(self.lease_s * 1000)]))

    async def finish(self, claim: EventClaim) -> None:
        await self._finish(keys=[event_claim_key(claim.team_id, claim.event_id)], args=[claim.owner])
