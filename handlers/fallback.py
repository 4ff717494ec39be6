"""Every event Penny receives gets a listener: the ones no other module handles end here, acknowledged.

Without it Bolt answers an unmatched event (a ``channel_join``, a ``message_replied``, a bot's post) with HTTP
404, Slack retries it three times, and its event claim stays open for 24 hours. Registered last, so every real
listener gets the event first (Bolt runs the first listener that matches).
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from handlers.claims import finishing_claim

ANY_EVENT = re.compile(r".*")


def register(app: AsyncApp) -> None:
    @app.event(ANY_EVENT)
    async def on_unhandled_event(context: dict[str, Any]) -> None:
        await finishing_claim(context, None)
