"""Penny's Home tab as Block Kit: what Penny does and how to ask, the viewer's week, and for admins the
workspace's week so far (the weekly digest's figures, on demand).

Only counts and money appear, never a question or an answer. The sentences are ``bot/replies.py``'s; money and
percentages are printed the digest's way (``bot/digest/blocks.py``).
"""

from __future__ import annotations

from typing import Any

from bot import replies
from bot.digest.blocks import percent, usd
from bot.digest.report import WeekFigures


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _fields(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in pairs][:10]}


def home_view(mine: WeekFigures, workspace: WeekFigures | None, week_label: str) -> dict[str, Any]:
    """The ``home`` view for one viewer; ``workspace`` only for admins."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": replies.HOME_TITLE}},
        _section(replies.HOME_INTRO),
        _section(replies.HOME_HOW_TO),
        {"type": "divider"},
        _section(replies.HOME_YOUR_WEEK.format(week=week_label)),
    ]
    if mine.requests:
        blocks.append(
            _fields(
                [
                    (replies.HOME_REQUESTS, str(mine.requests)),
                    (replies.HOME_FROM_CACHE, str(mine.cache_hits)),
                    (replies.HOME_SPENT, usd(mine.cost_usd)),
                ]
            )
        )
    else:
        blocks.append(_section(replies.HOME_NO_REQUESTS))
    if workspace is not None:
        blocks += [
            {"type": "divider"},
            _section(replies.HOME_WORKSPACE_WEEK.format(week=week_label)),
            _fields(
                [
                    (replies.HOME_REQUESTS, str(workspace.requests)),
                    (replies.HOME_SPENT, usd(workspace.cost_usd)),
                    (
                        replies.HOME_SAVED,
                        f"{usd(workspace.savings_usd)} ({percent(workspace.savings_share)} of the baseline)",
                    ),
                    (replies.HOME_FROM_CACHE, str(workspace.cache_hits)),
                ]
            ),
            {"type": "context", "elements": [{"type": "mrkdwn", "text": replies.HOME_ADMIN_NOTE}]},
        ]
    return {"type": "home", "blocks": blocks}
