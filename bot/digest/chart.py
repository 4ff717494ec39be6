"""The digest's PNG chart: spend per tier and per model, each next to what the baseline model would have cost.

matplotlib is imported lazily (it costs about a second and most processes never draw), and only its
object-oriented ``Figure`` API with the Agg canvas is used — no ``pyplot`` global state — so drawing in a worker
thread (``asyncio.to_thread``) is safe and a server never needs a display.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from bot.digest.blocks import tier_order
from bot.digest.report import Digest, Spend

ACTUAL_COLOUR = "#2e7d32"
BASELINE_COLOUR = "#b0bec5"


def render_chart(digest: Digest) -> bytes:
    """PNG bytes of the week's spend against the baseline; cache hits show as a bar of their own."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    now = digest.current
    tiers = {name: now.by_tier[name] for name in tier_order(list(now.by_tier))}
    if now.cache_hits:
        tiers["cache"] = Spend(now.cache_hits, Decimal(0), now.cache_baseline_usd)
    models = dict(sorted(now.by_model.items(), key=lambda item: (-item[1].cost_usd, item[0])))

    figure = Figure(figsize=(10, 4.2), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, 2)
    baseline_label = f"all on {digest.baseline_model}"
    _bars(axes[0], tiers, "by tier", baseline_label)
    _bars(axes[1], models, "by model", baseline_label)
    figure.suptitle(f"Penny spend {digest.week} vs all on {digest.baseline_model} (USD)")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _bars(axes: Any, groups: dict[str, Spend], title: str, baseline_label: str) -> None:
    names = list(groups)
    positions = range(len(names))
    width = 0.4
    axes.bar(
        [p - width / 2 for p in positions],
        [float(groups[n].cost_usd) for n in names],
        width,
        label="spent",
        color=ACTUAL_COLOUR,
    )
    axes.bar(
        [p + width / 2 for p in positions],
        [float(groups[n].baseline_usd) for n in names],
        width,
        label=baseline_label,
        color=BASELINE_COLOUR,
    )
    axes.set_xticks(list(positions), names, rotation=20, ha="right")
    axes.set_title(title)
    axes.legend()
    if not names:
        axes.text(0.5, 0.5, "no model calls", ha="center", va="center", transform=axes.transAxes)
