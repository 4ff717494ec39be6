"""Publish a viewer's Home tab when they open it (``views.publish``), from the ledger as it is right now.

The viewer's figures are their own rows of this week (Monday 00:00 in the digest's time zone); workspace admins
and owners (``users.info``) also get the workspace's week so far — the digest's own aggregation
(``bot/digest/report.py``), so the numbers agree with the Monday digest. A failure is logged and the tab keeps
its previous view; opening the tab never costs a model call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest.report import DigestReader, IsoWeek, aggregate
from bot.home.blocks import home_view
from bot.ledger import Ledger
from bot.request import HomeOpened

log = structlog.get_logger(__name__)


class HomePublisher:
    def __init__(
        self,
        slack: AsyncWebClient,
        ledger: Ledger,
        reader: DigestReader,
        *,
        tz: ZoneInfo,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._slack = slack
        self._ledger = ledger
        self._reader = reader
        self._tz = tz
        self._wall_clock = wall_clock

    async def publish(self, opened: HomeOpened) -> None:
        week = IsoWeek.containing(datetime.fromtimestamp(self._wall_clock(), UTC), self._tz)
        start, end = week.bounds(self._tz)
        try:
            rows = await self._ledger.entries_between(opened.team_id, start.timestamp(), end.timestamp())
            mine = aggregate([r for r in rows if r.user_id == opened.user_id], [])
            workspace = await self._reader.week(opened.team_id, week) if await self._is_admin(opened) else None
            view = home_view(mine, workspace, str(week))
            await self._slack.views_publish(user_id=opened.user_id, view=view)
        except SlackApiError as exc:
            log.warning("home.publish_failed", error=exc.response.get("error"))

    async def _is_admin(self, opened: HomeOpened) -> bool:
        try:
            user = (await self._slack.users_info(user=opened.user_id))["user"]
        except SlackApiError:
            return False
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
