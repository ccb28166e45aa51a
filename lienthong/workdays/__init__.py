"""Working-day calendar for SLA deadlines (Vietnamese public agencies).

Module-level helpers use :func:`default_calendar`; build a :class:`WorkCalendar` for other settings
(cutoff, office hours, counting convention, extra override file).  See ``calendar.py`` for the
counting convention and ``vn_overrides.json`` for the override table.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from lienthong.workdays.calendar import (
    OVERRIDES_ENV, VN_TZ, Override, WorkCalendar, add_months, default_calendar, load_overrides,
)


def is_working_day(d: date | datetime) -> bool:
    return default_calendar().is_working_day(d)


def add_working_days(start: date | datetime, n: int, *, count_start: bool | None = None) -> date:
    return default_calendar().add_working_days(start, n, count_start=count_start)


def working_days_between(a: date | datetime, b: date | datetime) -> int:
    return default_calendar().working_days_between(a, b)


def deadline(
    received_at: datetime,
    working_days: int | None = None,
    *,
    hours: float | None = None,
    hours_mode: str = "calendar",
    tz: ZoneInfo = VN_TZ,
) -> datetime:
    return default_calendar().deadline(received_at, working_days, hours=hours, hours_mode=hours_mode, tz=tz)


__all__ = [
    "OVERRIDES_ENV",
    "VN_TZ",
    "Override",
    "WorkCalendar",
    "add_months",
    "add_working_days",
    "deadline",
    "default_calendar",
    "is_working_day",
    "load_overrides",
    "working_days_between",
]
