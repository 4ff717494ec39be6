"""Standard 5-field crontab → APScheduler ``CronTrigger``, with crontab's weekday numbers.

APScheduler 3.x's ``CronTrigger.from_crontab`` numbers weekdays from Monday = 0, while crontab (and every operator
who writes ``0 9 * * 1``) means Sunday = 0 (and 7), so ``1`` would fire on Tuesday (its docs admit the mismatch;
4.x fixes it, but 4.x is a pre-release). Numeric day-of-week items are therefore rewritten into day names, which
both agree on, before the expression reaches APScheduler. Names (``mon``, ``mon-fri``) pass through unchanged.
One difference is left as is: when both day-of-month and day-of-week are restricted, crontab fires on either,
APScheduler only on days matching both (a weekly digest has no reason to set both).
"""

from __future__ import annotations

import re
from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NUMERIC = re.compile(r"^(\*|\d+(?:-\d+)?)(?:/(\d+))?$")


def crontab_trigger(expr: str, timezone: tzinfo | str | None = None) -> CronTrigger:
    """A trigger for a standard crontab; ``ValueError`` (naming the problem) when it is not one."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"wrong number of fields: got {len(fields)}, expected 5")
    fields[4] = _weekdays(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=timezone)


def _weekdays(field: str) -> str:
    if field == "*":
        return field
    items = []
    for item in field.split(","):
        match = _NUMERIC.match(item)
        if match is None:
            items.append(item.lower())  # names: the same in crontab and APScheduler
            continue
        items.extend(_DAYS[day % 7] for day in _expand(match.group(1), match.group(2), item))
    return ",".join(dict.fromkeys(items))


def _expand(span: str, step_text: str | None, item: str) -> list[int]:
    step = int(step_text) if step_text else 1
    if step < 1:
        raise ValueError(f"day of week '{item}': the step must be at least 1")
    if span == "*":
        first, last = 0, 6
    elif "-" in span:
        first, last = (int(part) for part in span.split("-"))
    else:
        first = last = int(span)
        if step_text:
            last = 6  # crontab: "1/2" means every second day from Monday
    if not 0 <= first <= last <= 7:
        raise ValueError(f"day of week '{item}': days are 0-7 (0 and 7 are Sunday)")
    return list(range(first, last + 1, step))
