"""How numbers, times and durations are written for people: one place, so the briefing, the
terminal and ``riskkit register list`` never word the same fact two ways.

Readers are in the UK: times are shown in Europe/London with its own zone name (BST or GMT,
never "UTC+01:00"), dates in words ("Mon 12 Oct 2026"), counts with thousands separators, and
durations in days and hours ("overdue by 41 days 4 hours"), because "988 hours" has to be
divided by 24 before it means anything.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def number(value: float) -> str:
    """'1,067': every count the same way, whatever its size."""
    return f"{value:,}" if isinstance(value, int) else f"{value:,g}"


def plural(count: int, singular: str, many: str | None = None) -> str:
    """'1 day', '2 days', '1,020 staff' (``many`` for irregular plurals)."""
    return f"{number(count)} {singular if count == 1 else (many or singular + 's')}"


def duration(hours: float) -> str:
    """A length of time in the two largest units a reader needs: '41 days 4 hours',
    '5 hours 30 minutes', '12 minutes' (rounded down, so a deadline is never overstated)."""
    minutes = int(abs(hours) * 60)
    days, rest = divmod(minutes, 24 * 60)
    whole_hours, mins = divmod(rest, 60)
    if days:
        return plural(days, "day") + (f" {plural(whole_hours, 'hour')}" if whole_hours else "")
    if whole_hours:
        return plural(whole_hours, "hour") + (f" {plural(mins, 'minute')}" if mins else "")
    return plural(mins, "minute")


def time_left(hours: float) -> str:
    """'2 days 1 hour left' before the deadline, 'overdue by 41 days 4 hours' after it."""
    return f"{duration(hours)} left" if hours >= 0 else f"overdue by {duration(hours)}"


def days_left(hours: float) -> str:
    """The headline's coarse form: 'within 2 days', 'within 5 hours', 'overdue by 3 days'."""
    text = plural(int(abs(hours) // 24), "day") if abs(hours) >= 24 else plural(int(abs(hours)), "hour")
    if hours < 0:
        return f"overdue by {text}"
    return f"within {text}" if abs(hours) >= 1 else "within the hour"


def local(when: datetime) -> datetime:
    """``when`` in UK local time (a naive time is taken as UTC)."""
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(LONDON)


def when(moment: datetime | None, weekday: bool = True) -> str:
    """'Mon 12 Oct 2026 10:30 BST' (or 'not recorded')."""
    if moment is None:
        return "not recorded"
    t = local(moment)
    day = f"{t:%a} {t.day} {t:%b %Y}" if weekday else f"{t.day} {t:%b %Y}"
    return f"{day} {t:%H:%M} {t.tzname()}"


def when_iso(text: str | None) -> str:
    """An ISO 8601 time from a register or summary.json, worded as :func:`when`."""
    if not text:
        return "not recorded"
    return when(datetime.fromisoformat(text))
