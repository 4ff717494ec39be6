"""The Home tab's view: the viewer's week always, the workspace's only when passed (admins), figures only."""

from __future__ import annotations

from decimal import Decimal

from bot.digest.report import WeekFigures
from bot.home.blocks import home_view


def test_a_member_sees_their_week_and_an_admin_the_workspace_too() -> None:
    mine = WeekFigures(outcomes={"answered": 2, "cache_hit": 1}, cost_usd=Decimal("0.0021"), cache_hits=1)
    workspace = WeekFigures(
        outcomes={"answered": 40}, cost_usd=Decimal("0.50"), baseline_usd=Decimal("5.00"), cache_hits=7
    )
    member = str(home_view(mine, None, "2026-W49"))
    assert "Requests*\\n3" in member and "$0.0021" in member and "This workspace" not in member
    admin = home_view(WeekFigures(), workspace, "2026-W49")
    text = str(admin)
    assert admin["type"] == "home" and len(admin["blocks"]) <= 100
    assert (
        "haven't asked me anything" in text and "$4.5000 (90.0% of the baseline)" in text and "*From cache*\\n7" in text
    )
