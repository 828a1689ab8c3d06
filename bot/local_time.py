"""Day arithmetic in the firm's time zone, and dates as people type them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The start of `day` in the firm's time zone, as aware UTC."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def day_bounds(moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    day = local_day(moment, zone)
    return local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)


_MONTHS = {
    m: n
    for n, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for m in names
}


def parse_day(text: str, today: date) -> date | None:
    """A date as people type it: 2026-12-01, 1/12/2026, 1 Dec (2026), today, tomorrow."""
    value = text.strip().lower().rstrip(".")
    if value in ("today", "now"):
        return today
    if value == "tomorrow":
        return today + timedelta(days=1)
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})", value):
            year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            return date(year, int(m[2]), int(m[1]))
        if m := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?(?:\s+(\d{4}))?", value):
            month = _MONTHS.get(m[2])
            if month is None:
                return None
            return date(int(m[3]) if m[3] else today.year, month, int(m[1]))
    except ValueError:
        return None
    return None
