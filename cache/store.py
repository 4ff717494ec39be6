"""Cache entries in Redis: the one source of truth every replica's FAISS indexes are rebuilt from.

``EntryStore`` does every Redis read and write of the cache; an entry's own fields and their hash layout are
entry.py.

Key names live here and nowhere else. Every key of a team's cache, its change stream included, carries the
``{team}`` hash tag, so a team's keys share a Redis Cluster slot and the MULTI/EXEC blocks below stay legal there.
Only the list of teams and the entry-id sequence live outside a team (``{cache}``), written outside transactions.

Redis runs with ``noeviction`` and Penny does its own expiry: an entry carries ``expires``, a per-team sorted set
orders entries by expiry and a per-scope sorted set by last use (LRU). Every add and removal of a vector is written
to the team's change stream in the same transaction as the entry itself, so no replica can miss a removal and keep
a ghost vector in FAISS. Each change carries a per-team sequence number: a reader that sees a jump knows the
capped stream dropped changes it never read, and rebuilds (this works on any Redis version).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from cache.entry import SHARED_CHANNEL, Entry, index_key
from vocabulary import Visibility

if TYPE_CHECKING:
    import redis.asyncio as aioredis

PREFIX = "penny:"
SEQUENCE_KEY = PREFIX + "{cache}:seq"
TEAMS_KEY = PREFIX + "{cache}:teams"
# A team's first entry is announced here, so an idle tail can block on one stream even before any team exists.
NEW_TEAMS_STREAM_KEY = PREFIX + "{cache}:teams:new"


def stream_key(team_id: str) -> str:
    return f"{PREFIX}{{{team_id}}}:cache:changes"


def change_seq_key(team_id: str) -> str:
    return f"{PREFIX}{{{team_id}}}:cache:changes:seq"


def entry_key(team_id: str, vector_id: int) -> str:
    return f"{PREFIX}{{{team_id}}}:cache:entry:{vector_id}"


def exact_key(team_id: str, digest: str) -> str:
    return f"{PREFIX}{{{team_id}}}:cache:exact:{digest}"


def lru_key(team_id: str, channel_id: str) -> str:
    return f"{PREFIX}{{{team_id}}}:cache:lru:{channel_id}"


def expiry_key(team_id: str) -> str:
    return f"{PREFIX}{{{team_id}}}:cache:expiry"


def source_key(team_id: str, channel_id: str, ts: str) -> str:
    return f"{PREFIX}{{{team_id}}}:cache:source:{channel_id}:{ts}"


def deleted_source_key(team_id: str, channel_id: str, ts: str) -> str:
    """A message deleted lately: an answer built from it that is stored after the deletion is not kept."""
    return f"{PREFIX}{{{team_id}}}:cache:deleted:{channel_id}:{ts}"


def channel_entries_key(team_id: str, channel_id: str) -> str:
    return f"{PREFIX}{{{team_id}}}:cache:channel:{channel_id}"


def visibility_key(team_id: str, channel_id: str) -> str:
    return f"{PREFIX}{{{team_id}}}:cache:visibility:{channel_id}"


def visibility_lowered_key(team_id: str, channel_id: str) -> str:
    """When (Redis time, ms) the channel's recorded visibility last became less than public."""
    return f"{PREFIX}{{{team_id}}}:cache:visibility_lowered:{channel_id}"


@dataclass(frozen=True)
class Change:
    """One record of a team's change stream: ``op`` is "add", "remove" or "unshare"."""

    stream_id: str
    seq: int
    op: str
    team_id: str
    vector_id: int
    index_keys: list[str]
    vector: bytes


@dataclass
class ChangeBatch:
    """One read of the change streams: entry changes, newly announced teams, and where announcements stand."""

    teams_position: str
    changes: list[Change] = field(default_factory=list)
    new_teams: list[str] = field(default_factory=list)


class EntryStore:
    """All Redis reads and writes of the cache. Stateless apart from the injected client."""

    def __init__(self, redis: aioredis.Redis, *, stream_maxlen: int = 200_000) -> None:
        # redis-py's stubs type replies as unions of bytes/str/awaitables; the client here always returns bytes.
        self._redis: Any = redis
        self._stream_maxlen = stream_maxlen

    @property
    def blocking_reads(self) -> bool:
        """Whether ``read_changes`` waits in Redis for a change (one server), or returns at once (a cluster)."""
        return not isinstance(self._redis, RedisCluster)

    async def next_vector_id(self) -> int:
        return int(await self._redis.incr(SEQUENCE_KEY))

    async def add(self, entry: Entry) -> None:
        """Write the entry, its exact key, LRU/expiry/source bookkeeping and the "add" change atomically."""
        t, c = entry.team_id, entry.channel_id
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(entry_key(t, entry.vector_id), mapping=entry.to_mapping())
        pipe.set(exact_key(t, entry.exact_digest), entry.vector_id)
        pipe.zadd(lru_key(t, c), {str(entry.vector_id): entry.created})
        pipe.zadd(expiry_key(t), {str(entry.vector_id): entry.expires})
        pipe.sadd(channel_entries_key(t, c), entry.vector_id)
        for ts in entry.sources:
            pipe.sadd(source_key(t, c, ts), entry.vector_id)
        if entry.index_keys():
            self._post(pipe, "add", entry)
        await pipe.execute()
        # Tailers pick a new team up from the announcement and replay its stream from the start.
        await self._redis.eval(_ADD_TEAM, 2, TEAMS_KEY, NEW_TEAMS_STREAM_KEY, t)

    async def remove(self, entry: Entry) -> None:
        """Delete the entry and everything pointing at it, and post the removal for every replica."""
        t, c = entry.team_id, entry.channel_id
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(entry_key(t, entry.vector_id))
        # Only drop the exact key if it still points at this entry (a newer answer may have replaced it).
        pipe.zrem(lru_key(t, c), str(entry.vector_id))
        pipe.zrem(expiry_key(t), str(entry.vector_id))
        pipe.srem(channel_entries_key(t, c), entry.vector_id)
        for ts in entry.sources:
            pipe.srem(source_key(t, c, ts), entry.vector_id)
        if entry.index_keys():
            self._post(pipe, "remove", entry)
        await pipe.execute()
        await self._redis.eval(_DEL_IF_EQUALS, 1, exact_key(t, entry.exact_digest), str(entry.vector_id))

    async def unshare(self, entry: Entry) -> None:
        """Stop serving the entry outside its own channel (its channel stopped being public)."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(entry_key(entry.team_id, entry.vector_id), mapping={"shared": 0, "visibility": Visibility.PRIVATE})
        self._post(pipe, "unshare", entry, keys=[index_key(entry.team_id, SHARED_CHANNEL)])
        await pipe.execute()

    def _post(self, pipe: Any, op: str, entry: Entry, keys: list[str] | None = None) -> None:
        """Queue one change record (numbered by the team's sequence) in the caller's transaction."""
        t = entry.team_id
        fields = {
            "op": op,
            "team": t,
            "id": entry.vector_id,
            "idx": ",".join(keys or entry.index_keys()),
            "vec": entry.vector if op == "add" else b"",
        }
        flat = [item for pair in fields.items() for item in pair]
        # Exact trimming for small caps (tests); "~" trimming, which only drops whole nodes, for real ones.
        trim = "~" if self._stream_maxlen >= 1000 else "="
        pipe.eval(_XADD_NUMBERED, 2, stream_key(t), change_seq_key(t), trim, self._stream_maxlen, *flat)

    async def get(self, team_id: str, vector_id: int) -> Entry | None:
        raw = await self._redis.hgetall(entry_key(team_id, vector_id))
        return Entry.from_mapping(raw) if raw else None

    async def get_many(self, team_id: str, vector_ids: Sequence[int]) -> list[Entry | None]:
        pipe = self._redis.pipeline(transaction=False)
        for vector_id in vector_ids:
            pipe.hgetall(entry_key(team_id, vector_id))
        raws = await pipe.execute()
        return [Entry.from_mapping(raw) if raw else None for raw in raws]

    async def resolve_exact(self, team_id: str, digest: str) -> Entry | None:
        vector_id = await self._redis.get(exact_key(team_id, digest))
        return None if vector_id is None else await self.get(team_id, int(vector_id))

    async def touch(self, entry: Entry, now: float) -> None:
        """Record a hit: the entry's LRU position (only while the entry still exists)."""
        await self._redis.zadd(lru_key(entry.team_id, entry.channel_id), {str(entry.vector_id): now}, xx=True)

    async def scope_size(self, team_id: str, channel_id: str) -> int:
        return int(await self._redis.zcard(lru_key(team_id, channel_id)))

    async def least_recently_used(self, team_id: str, channel_id: str, count: int) -> list[int]:
        members = await self._redis.zrange(lru_key(team_id, channel_id), 0, count - 1)
        return [int(m) for m in members]

    async def expired(self, team_id: str, now: float, limit: int = 500) -> list[int]:
        members = await self._redis.zrangebyscore(expiry_key(team_id), "-inf", now, start=0, num=limit)
        return [int(m) for m in members]

    async def mark_deleted(self, team_id: str, channel_id: str, ts: str, ttl_s: int) -> None:
        await self._redis.set(deleted_source_key(team_id, channel_id, ts), "1", ex=ttl_s)

    async def any_deleted(self, team_id: str, channel_id: str, sources: Sequence[str]) -> bool:
        """Whether any of these messages was deleted lately (one command: the keys share the team's slot)."""
        if not sources:
            return False
        return bool(await self._redis.exists(*(deleted_source_key(team_id, channel_id, ts) for ts in sources)))

    async def by_source(self, team_id: str, channel_id: str, ts: str) -> list[int]:
        members = await self._redis.smembers(source_key(team_id, channel_id, ts))
        return sorted(int(m) for m in members)

    async def in_channel(self, team_id: str, channel_id: str) -> list[int]:
        members = await self._redis.smembers(channel_entries_key(team_id, channel_id))
        return sorted(int(m) for m in members)

    async def teams(self) -> list[str]:
        return sorted(m.decode() for m in await self._redis.smembers(TEAMS_KEY))

    async def set_visibility(
        self, team_id: str, channel_id: str, visibility: Visibility, *, quarantine_s: float
    ) -> tuple[Visibility | None, Visibility]:
        """Record what someone saw of a channel's visibility; returns (the previous record, the record now).

        Less than public is always recorded, and when. Public again only once the last lowering is older than
        ``quarantine_s``: a replica whose cached ``conversations.info`` predates the change (it is at most the
        channel directory's TTL old) cannot write "public" back, while a channel really made public again shares
        again once every replica's cache has had time to see it.
        """
        previous, now = await self._redis.eval(
            _SET_VISIBILITY,
            2,
            visibility_key(team_id, channel_id),
            visibility_lowered_key(team_id, channel_id),
            str(visibility),
            int(quarantine_s * 1000),
        )
        return (Visibility.parse(previous.decode()) if previous else None), Visibility.parse(now.decode())

    async def visibilities(self, team_id: str, channel_ids: Iterable[str]) -> dict[str, Visibility | None]:
        channels = sorted(set(channel_ids))
        if not channels:
            return {}
        values = await self._redis.mget([visibility_key(team_id, c) for c in channels])
        return {
            c: (Visibility.parse(v.decode()) if v is not None else None) for c, v in zip(channels, values, strict=True)
        }

    async def stream_positions(self, teams: Sequence[str]) -> dict[str, tuple[str, int]]:
        """Per team: the newest change id and its sequence number, read atomically (recorded before a rebuild
        scan, so nothing written between the scan and the tail is missed)."""
        positions: dict[str, tuple[str, int]] = {}
        for team in teams:
            pipe = self._redis.pipeline(transaction=True)
            pipe.xrevrange(stream_key(team), count=1)
            pipe.get(change_seq_key(team))
            last, seq = await pipe.execute()
            positions[team] = (last[0][0].decode() if last else "0-0", int(seq or 0))
        return positions

    async def new_teams_position(self) -> str:
        """The newest team announcement; read before ``teams()`` so a team added in between is not missed."""
        last = await self._redis.xrevrange(NEW_TEAMS_STREAM_KEY, count=1)
        return last[0][0].decode() if last else "0-0"

    async def read_changes(
        self, positions: dict[str, str], *, new_teams_after: str, block_ms: int, count: int = 500
    ) -> ChangeBatch:
        """Changes after each team's position and teams announced after ``new_teams_after``, in one ``XREAD``
        that blocks up to ``block_ms`` when there is neither (with no team yet it blocks on announcements)."""
        streams = {stream_key(t): pos for t, pos in positions.items()}
        streams[NEW_TEAMS_STREAM_KEY] = new_teams_after
        if self.blocking_reads:
            answer = await self._redis.xread(streams, count=count, block=block_ms)
        else:
            answer = await self._read_per_slot(streams, count=count)
        batch = ChangeBatch(teams_position=new_teams_after)
        announcements = NEW_TEAMS_STREAM_KEY.encode()
        for stream, records in answer or []:
            if stream == announcements:
                batch.new_teams.extend(fields[b"team"].decode() for _id, fields in records)
                batch.teams_position = records[-1][0].decode() if records else new_teams_after
                continue
            for stream_id, fields in records:
                batch.changes.append(
                    Change(
                        stream_id=stream_id.decode(),
                        seq=int(fields.get(b"seq", 0)),
                        op=fields[b"op"].decode(),
                        team_id=fields[b"team"].decode(),
                        vector_id=int(fields[b"id"]),
                        index_keys=[k for k in fields.get(b"idx", b"").decode().split(",") if k],
                        vector=fields.get(b"vec", b""),
                    )
                )
        return batch

    async def _read_per_slot(self, streams: dict[str, str], *, count: int) -> list[Any]:
        """On a cluster, one ``XREAD`` per hash slot (each team's streams share its slot; a cluster refuses a read
        across slots), sent in one pipeline that redis-py splits per node. None blocks: a blocking read per slot
        would hold a connection per workspace, so the tail polls instead (``IndexReplica``)."""
        by_slot: dict[int, dict[str, str]] = {}
        for key, position in streams.items():
            by_slot.setdefault(key_slot(key.encode()), {})[key] = position
        pipe = self._redis.pipeline(transaction=False)
        for group in by_slot.values():
            pipe.xread(group, count=count)
        return [stream for answer in await pipe.execute() for stream in answer or []]

    async def scope_vectors(self, team_id: str, channel_id: str, batch: int = 500) -> list[tuple[int, bytes]]:
        """Every vector of one index (a channel's, or the team's shared one), for a lazy load, in id order.

        A channel's entries come from its entry set; the shared index's from the team's expiry set, reading only
        the flags first, so the vectors of entries that are not shared are never fetched. Pipelined in batches,
        so a big scope is many short round trips and never one long reply that holds the event loop.
        """
        shared = channel_id == SHARED_CHANNEL
        if shared:
            members = await self._redis.zrange(expiry_key(team_id), 0, -1)
        else:
            members = await self._redis.smembers(channel_entries_key(team_id, channel_id))
        ids = sorted(int(m) for m in members)
        found: list[tuple[int, bytes]] = []
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            if shared:
                flags = await self._hmget_many(team_id, chunk, ("semantic", "shared"))
                chunk = [
                    i for i, (semantic, is_shared) in zip(chunk, flags, strict=True) if semantic == is_shared == b"1"
                ]
                rows = [(b"1", b"1", vector) for (vector,) in await self._hmget_many(team_id, chunk, ("vector",))]
            else:
                rows = await self._hmget_many(team_id, chunk, ("semantic", "shared", "vector"))
            for vector_id, (semantic, _shared, vector) in zip(chunk, rows, strict=True):
                if semantic == b"1" and vector:
                    found.append((vector_id, vector))
        return found

    async def _hmget_many(self, team_id: str, vector_ids: Sequence[int], fields: Sequence[str]) -> list[Any]:
        if not vector_ids:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for vector_id in vector_ids:
            pipe.hmget(entry_key(team_id, vector_id), *fields)
        return list(await pipe.execute())


# XADD numbered by the team's change counter, in one step so the number and the record cannot diverge.
_XADD_NUMBERED = """
local seq = redis.call('INCR', KEYS[2])
return redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], ARGV[2], '*', 'seq', seq, unpack(ARGV, 3))
"""

# Record the team, and announce it only the first time, atomically (both keys share the {cache} slot).
_ADD_TEAM = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', 1000, '*', 'team', ARGV[1])
end
return 0
"""

# KEYS: the visibility record, the time of its last lowering. ARGV: what was seen, the quarantine (ms).
_SET_VISIBILITY = """
local previous = redis.call('GET', KEYS[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[1] == 'public' then
  if previous and previous ~= 'public' then
    local lowered = tonumber(redis.call('GET', KEYS[2]) or '0')
    if now - lowered < tonumber(ARGV[2]) then return {previous, previous} end
  end
  redis.call('SET', KEYS[1], 'public')
  return {previous or '', 'public'}
end
if previous ~= ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[2], now)
end
return {previous or '', ARGV[1]}
"""

_DEL_IF_EQUALS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
