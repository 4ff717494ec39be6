import asyncio

from bot.redis.connection import plain_client
from bot.slack.event_claims import ClaimStatus, EventClaims


async def test_first_claim_wins_and_duplicates_are_dropped(redis_url: str) -> None:
    client = plain_client(redis_url)
    await client.ping()  # connected first, as Penny connects (a fresh cluster client races its slot map)
    claims = EventClaims(client, lease_s=5, record_ttl_s=60)
    outcomes = await asyncio.gather(*(claims.claim("T1", "Ev1") for _ in range(10)))
    assert sorted(o.status for o in outcomes).count(ClaimStatus.WON) == 1
    assert all(o.status in (ClaimStatus.WON, ClaimStatus.BUSY) for o in outcomes)
    winner = next(o for o in outcomes if o.status is ClaimStatus.WON)
    await winner.finish()
    assert (await claims.claim("T1", "Ev1")).status is ClaimStatus.DONE
    await client.aclose()


async def test_expired_lease_is_taken_over_with_the_placeholder(redis_url: str) -> None:
    client = plain_client(redis_url)
    claims = EventClaims(client, lease_s=0.3, record_ttl_s=60)
    first = await claims.claim("T1", "Ev2")
    await first.remember_reply("111.222")
    assert (await claims.claim("T1", "Ev2")).status is ClaimStatus.BUSY
    await asyncio.sleep(0.4)  # the first worker "died": no heartbeat
    second = await claims.claim("T1", "Ev2")
    assert second.status is ClaimStatus.TAKEOVER
    assert second.previous_reply_ts == "111.222"
    await first.finish()  # a zombie finishing late must not mark the new owner's work done
    assert (await claims.claim("T1", "Ev2")).status is ClaimStatus.BUSY
    await second.finish()
    assert (await claims.claim("T1", "Ev2")).status is ClaimStatus.DONE
    await client.aclose()


async def test_heartbeat_keeps_a_slow_worker_owner(redis_url: str) -> None:
    client = plain_client(redis_url)
    claims = EventClaims(client, lease_s=0.3, record_ttl_s=60)
    claim = await claims.claim("T1", "Ev3")
    claim.start_heartbeat()
    await asyncio.sleep(0.8)
    assert (await claims.claim("T1", "Ev3")).status is ClaimStatus.BUSY
    await claim.finish()
    await client.aclose()


async def test_claims_are_scoped_by_team(redis_url: str) -> None:
    client = plain_client(redis_url)
    claims = EventClaims(client, lease_s=5, record_ttl_s=60)
    assert (await claims.claim("T1", "Ev4")).status is ClaimStatus.WON
    assert (await claims.claim("T2", "Ev4")).status is ClaimStatus.WON
    await client.aclose()


async def test_a_claim_re_sent_after_a_lost_reply_is_still_won_by_its_owner(redis_url: str) -> None:
    """redis-py re-sends a command after a connection error even when Redis ran it: same arguments, twice."""
    client = plain_client(redis_url)
    claims = EventClaims(client, lease_s=5, record_ttl_s=60)
    first = await claims.claim("T1", "Ev5", owner="worker-a")
    again = await claims.claim("T1", "Ev5", owner="worker-a")
    assert first.status is again.status is ClaimStatus.WON
    assert (await claims.claim("T1", "Ev5", owner="worker-b")).status is ClaimStatus.BUSY
    await again.finish()
    assert (await claims.claim("T1", "Ev5", owner="worker-b")).status is ClaimStatus.DONE
    await client.aclose()


async def test_a_re_sent_takeover_is_still_a_takeover_with_the_placeholder(redis_url: str) -> None:
    client = plain_client(redis_url)
    claims = EventClaims(client, lease_s=0.2, record_ttl_s=60)
    crashed = await claims.claim("T1", "Ev6", owner="worker-a")
    await crashed.remember_reply("111.222")
    await asyncio.sleep(0.3)
    taken = await claims.claim("T1", "Ev6", owner="worker-b")
    await crashed.remember_reply("999.999")  # a zombie's late write must not change what was granted
    resent = await claims.claim("T1", "Ev6", owner="worker-b")
    assert taken.status is resent.status is ClaimStatus.TAKEOVER
    assert taken.previous_reply_ts == resent.previous_reply_ts == "111.222"
    await client.aclose()
