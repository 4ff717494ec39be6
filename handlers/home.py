"""``app_home_opened``: someone opened Penny's Home tab; the home service publishes their view."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.request import HomeFn, HomeOpened
from handlers.claims import finishing_claim


def parse_home_opened(body: dict[str, Any]) -> HomeOpened | None:
    """The viewer of the **Home** tab (the Messages and About tabs send the same event with another ``tab``)."""
    event = body.get("event") or {}
    user, team = event.get("user"), body.get("team_id") or (event.get("view") or {}).get("team_id")
    if event.get("tab") != "home" or not user or not team:
        return None
    return HomeOpened(team_id=str(team), user_id=str(user))


def register(app: AsyncApp, publish: HomeFn) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(body: dict[str, Any], context: dict[str, Any]) -> None:
        opened = parse_home_opened(body)
        await finishing_claim(context, publish(opened) if opened is not None else None)
