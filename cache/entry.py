"""``Entry``, one cached answer, and the names derived from it: its id and the in-memory indexes it lives in.

An entry is stored as one Redis hash (``to_mapping``/``from_mapping``, read and written by store.py); the entry id
(``team:vector_id``) is what the rest of Penny holds (the feedback map, the Fresh answer button), and the index
keys name this process's FAISS indexes (index.py), not Redis keys. A semantic entry lives in its channel's index
and, when shared, in the team's workspace-shared public index too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from vocabulary import TaskKind, Tier, Visibility

SHARED_CHANNEL = "*public"  # index key suffix of a team's workspace-shared (public-channel) index


def index_key(team_id: str, channel_id: str) -> str:
    """The in-memory FAISS index an entry lives in (a channel, or the team's shared public index)."""
    return f"{team_id}/{channel_id}"


def parse_index_key(key: str) -> tuple[str, str]:
    """(team_id, channel_id) of an index key; the channel may be ``SHARED_CHANNEL``."""
    team_id, _, channel_id = key.partition("/")
    return team_id, channel_id


def make_entry_id(team_id: str, vector_id: int) -> str:
    return f"{team_id}:{vector_id}"


def parse_entry_id(entry_id: str) -> tuple[str, int]:
    team_id, _, number = entry_id.rpartition(":")
    if not team_id or not number.isdigit():
        raise ValueError(f"not a cache entry id: {entry_id!r}")
    return team_id, int(number)


@dataclass
class Entry:
    """One cached answer. ``vector`` is empty for exact-only entries (summaries, personal, non-English...)."""

    vector_id: int
    team_id: str
    channel_id: str
    visibility: Visibility
    task: TaskKind
    question: str
    answer: str
    model: str
    tier: Tier
    created: float
    expires: float
    exact_digest: str
    fingerprint: str = ""
    thread_ts: str = ""
    user_id: str = ""  # set when the answer is personal: only reused for the same user
    semantic: bool = False
    shared: bool = False  # also indexed in the team's workspace-shared index
    sources: list[str] = field(default_factory=list)
    vector: bytes = b""

    @property
    def entry_id(self) -> str:
        return make_entry_id(self.team_id, self.vector_id)

    def index_keys(self) -> list[str]:
        if not self.semantic:
            return []
        keys = [index_key(self.team_id, self.channel_id)]
        if self.shared:
            keys.append(index_key(self.team_id, SHARED_CHANNEL))
        return keys

    def to_mapping(self) -> dict[str, str | bytes | float | int]:
        return {
            "vector_id": self.vector_id,
            "team": self.team_id,
            "channel": self.channel_id,
            "visibility": self.visibility,
            "task": self.task,
            "question": self.question,
            "answer": self.answer,
            "model": self.model,
            "tier": self.tier,
            "created": self.created,
            "expires": self.expires,
            "exact": self.exact_digest,
            "fingerprint": self.fingerprint,
            "thread_ts": self.thread_ts,
            "user": self.user_id,
            "semantic": int(self.semantic),
            "shared": int(self.shared),
            "sources": json.dumps(self.sources),
            "vector": self.vector,
        }

    @classmethod
    def from_mapping(cls, raw: dict[bytes, bytes]) -> Entry:
        get = {k.decode(): v for k, v in raw.items()}

        def text(name: str) -> str:
            return get.get(name, b"").decode()

        return cls(
            vector_id=int(text("vector_id")),
            team_id=text("team"),
            channel_id=text("channel"),
            visibility=Visibility.parse(text("visibility")),
            task=TaskKind(text("task")),
            question=text("question"),
            answer=text("answer"),
            model=text("model"),
            tier=Tier(text("tier")),
            created=float(text("created") or 0),
            expires=float(text("expires") or 0),
            exact_digest=text("exact"),
            fingerprint=text("fingerprint"),
            thread_ts=text("thread_ts"),
            user_id=text("user"),
            semantic=text("semantic") == "1",
            shared=text("shared") == "1",
            sources=json.loads(text("sources") or "[]"),
            vector=get.get("vector", b""),
        )
