"""People's display names, for what the model reads: "Alice: can Bob own the FAQ?" instead of ``U0A1: <@U0B2>``.

A question like "what did Bob decide?" is unanswerable when the thread says ``U0B2``. Thread context, summaries
and pinned documents all show people, so one directory serves them: names come from ``users.info`` (Tier 4),
looked up concurrently, cached per process for an hour (a workspace has few people who talk in a given hour), and
a failed or slow lookup leaves the id in place — a name is a nicety, never a reason to delay an answer.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable, Mapping

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.conversations import SlackMessage

log = structlog.get_logger(__name__)

USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")


def mentioned_ids(texts: Iterable[str]) -> set[str]:
    """User ids mentioned (``<@U…>``) anywhere in ``texts``."""
    return {match.group(1) for text in texts for match in USER_MENTION.finditer(text)}


def people_in(messages: Iterable[SlackMessage]) -> list[str]:
    """Authors (people, not bots) and everyone they mention, in first-seen order (the order names are looked up)."""
    seen: dict[str, None] = {}
    for message in messages:
        if message.user_id and not message.from_bot:
            seen.setdefault(message.user_id, None)
        for match in USER_MENTION.finditer(message.text):
            seen.setdefault(match.group(1), None)
    return list(seen)


def with_names(text: str, names: Mapping[str, str]) -> str:
    """Mentions as ``@Name`` (Slack's own label, then the id, when the name is unknown)."""
    return USER_MENTION.sub(lambda m: "@" + (names.get(m.group(1)) or m.group(2) or m.group(1)), text)


class PeopleDirectory:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl_s: float = 3600.0,
        timeout_s: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._timeout_s = timeout_s
        self._clock = clock
        self._names: dict[str, tuple[str, float]] = {}

    async def names(self, user_ids: Iterable[str], *, max_lookups: int = 100) -> dict[str, str]:
        """Display names of ``user_ids`` that are known or could be looked up (at most ``max_lookups`` calls)."""
        now = self._clock()
        found: dict[str, str] = {}
        missing: list[str] = []
        for user_id in dict.fromkeys(user_ids):
            cached = self._names.get(user_id)
            if cached is not None and now - cached[1] < self._ttl_s:
                found[user_id] = cached[0]
            elif user_id:
                missing.append(user_id)
        looked_up = await asyncio.gather(*(self._lookup(user_id) for user_id in missing[:max_lookups]))
        for user_id, name in zip(missing, looked_up, strict=False):
            if name:
                self._names[user_id] = (name, now)
                found[user_id] = name
        return found

    async def _lookup(self, user_id: str) -> str | None:
        try:
            response = await asyncio.wait_for(self._client.users_info(user=user_id), self._timeout_s)
        except SlackApiError as exc:
            log.debug("people.lookup_failed", user_id=user_id, error=exc.response.get("error"))
            return None
        except TimeoutError:
            log.debug("people.lookup_slow", user_id=user_id)
            return None
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")
        return str(name) if name else None
