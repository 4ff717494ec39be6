"""Drafts are for the person who asked: shown to them alone, posted to the thread only when they click.

"Draft a reply to the customer" is a private ask, so the draft arrives as an ephemeral message in the thread
(``chat.postEphemeral``) with a **Post to thread** button. The draft waits here in Redis for a day, keyed by a
random id the button carries; a click by its asker posts it to the thread as a quote, attributed to them
(Penny's bot token cannot post *as* them), and removes the ephemeral copy. Nobody else can post someone's draft.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from typing import Any

import redis.asyncio as aioredis
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import replies
from bot.redis.keys import draft_key
from bot.request import ButtonClick
from bot.slack.blocks import draft_blocks
from bot.slack.formatting import to_mrkdwn

log = structlog.get_logger(__name__)

DRAFT_TTL_S = 86400


@dataclass(frozen=True)
class Draft:
    channel_id: str
    thread_ts: str
    user_id: str  # the asker: the only one who may post it
    text: str


class Drafts:
    """The store and both ends of a draft's life: show it privately, post it on its asker's click."""

    def __init__(self, redis: aioredis.Redis, slack: AsyncWebClient, *, ttl_s: int = DRAFT_TTL_S) -> None:
        self._redis = redis
        self._slack = slack
        self._ttl_s = ttl_s

    async def show(self, team_id: str, draft: Draft) -> None:
        """Store the draft and show it to its asker only, with the button that posts it."""
        draft_id = secrets.token_urlsafe(12)
        await self._redis.set(draft_key(team_id, draft_id), json.dumps(asdict(draft)), ex=self._ttl_s)
        await self._slack.chat_postEphemeral(
            channel=draft.channel_id,
            user=draft.user_id,
            thread_ts=draft.thread_ts,
            text=to_mrkdwn(draft.text),
            blocks=draft_blocks(draft.text, draft_id, replies.DRAFT_PRIVATE_NOTE),
        )

    async def tell(self, channel_id: str, user_id: str, thread_ts: str, text: str) -> None:
        """A short private note to the asker (drafting…, a refusal, a failure): never raises."""
        try:
            await self._slack.chat_postEphemeral(channel=channel_id, user=user_id, thread_ts=thread_ts, text=text)
        except SlackApiError as exc:
            log.warning("drafts.notice_failed", error=exc.response.get("error"))

    async def post(self, click: ButtonClick, respond: Any) -> None:
        """The asker clicked **Post to thread**: quote the draft in the thread under their name."""
        raw = await self._redis.get(draft_key(click.team_id, click.key)) if len(click.key) <= 64 else None
        draft = Draft(**json.loads(raw)) if raw else None
        if draft is None:
            await _say(respond, replies.DRAFT_EXPIRED_TEXT)
            return
        if draft.user_id != click.user_id:
            await _say(respond, replies.DRAFT_NOT_YOURS_TEXT)
            return
        await self._slack.chat_postMessage(
            channel=draft.channel_id,
            thread_ts=draft.thread_ts,
            text=replies.posted_draft(draft.user_id, to_mrkdwn(draft.text)),
            unfurl_links=False,
        )
        await self._redis.delete(draft_key(click.team_id, click.key))
        try:
            await respond(delete_original=True)
        except Exception:
            log.warning("drafts.ephemeral_not_removed", exc_info=True)


async def _say(respond: Any, text: str) -> None:
    try:
        await respond(text=text, response_type="ephemeral", replace_original=False)
    except Exception:
        log.warning("drafts.respond_failed", exc_info=True)
