"""Working-day calendar for service-level deadlines of Vietnamese public agencies.

A day is a *working day* when it is not a weekend day (Saturday/Sunday by default), not a public
holiday of ``holidays.country_holidays("VN")`` and not an extra day off from the override table,
**or** when the override table lists it as a working day (compensating Saturdays, "làm bù").

Counting convention (documented here because the law is terse about it)
-----------------------------------------------------------------------
Administrative deadlines are stated as "không quá N ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ".
Following the Civil Code 2015 art. 147 ("ngày đầu tiên của thời hạn không được tính") and the usual
one-stop-shop practice, the **day of receipt is not counted**: day 1 is the first working day after
receipt, and the deadline is the end of office hours of day N.  ``count_receipt_day=True`` selects the
other reading (the receipt day, when it is a working day, is day 1).

A file received after the cutoff (17:00 by default) or on a non-working day is deemed received on the
next working day (it is then counted from the working day after that one).  Hour-based deadlines
(e.g. the 24-hour urgent lookup, Law 28/2009 art. 46.1) run in calendar hours by default; working
hours (office window only) are available as an option.

``working_days_between(a, b)`` counts working days ``d`` with ``a < d <= b`` so that
``working_days_between(a, add_working_days(a, n)) == n`` for every ``n >= 0``.
"""

from __future__ import annotations

import json
import os
from calendar import monthrange as _monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

import holidays

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OVERRIDES_ENV = "LIENTHONG_WORKDAY_OVERRIDES"


def add_months(d: date, months: int) -> date:
    """Calendar month arithmetic; a day the target month lacks becomes its last day
    (BLDS 2015 Điều 148: 31/01 + 1 month = 28/02 or 29/02; 29/02 + 12 months = 28/02)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, _monthrange(year, month)[1]))

__all__ = [
    "VN_TZ",
    "add_months",
    "OVERRIDES_ENV",
    "Override",
    "WorkCalendar",
    "load_overrides",
    "default_calendar",
]


@dataclass(frozen=True)
class Override:
    """One day of the override table: ``working`` True = worked day, False = extra day off."""

    day: date
    working: bool
    name: str = ""
    source: str = ""
    verified: str = "mem"


def _parse_table(data: Mapping[str, Any]) -> tuple[tuple[int, ...] | None, dict[date, Override]]:
    weekend = tuple(int(x) for x in data["weekend"]) if "weekend" in data else None
    out: dict[date, Override] = {}
    for year, block in (data.get("years") or {}).items():
        for key, working in (("days_off", False), ("working_days", True)):
            for item in block.get(key, []):
                d = date.fromisoformat(item["date"])
                if str(d.year) != str(year):
                    raise ValueError(f"override {d} is filed under year {year}")
                out[d] = Override(d, working, item.get("name", ""), item.get("source", ""), item.get("verified", "mem"))
    return weekend, out


def load_overrides(source: str | Path | Mapping[str, Any] | None = None) -> tuple[tuple[int, ...] | None, dict[date, Override]]:
    """Read an override table: the packaged one when ``source`` is None, else a path or a mapping."""
    if source is None:
        text = resources.files("lienthong.workdays").joinpath("vn_overrides.json").read_text("utf-8")
        return _parse_table(json.loads(text))
    if isinstance(source, Mapping):
        return _parse_table(source)
    return _parse_table(json.loads(Path(source).read_text("utf-8")))


def _as_local(dt: datetime, tz: ZoneInfo) -> datetime:
    return dt.replace(tzinfo=tz) if dt.tzinfo is None else dt.astimezone(tz)


@dataclass
class WorkCalendar:
    """Working days = weekdays that are not VN holidays, adjusted by a year-versioned override table.

    ``extra_overrides`` (a path or a mapping of the same JSON shape) wins over the packaged table;
    when it is None the path in ``$LIENTHONG_WORKDAY_OVERRIDES`` is used if set.  Pass
    ``use_packaged=False`` to start from the library alone (tests, or a fully custom table).
    ``use_library_workdays`` also honours the ``weekend_workdays`` the holidays library knows.
    """

    extra_overrides: str | Path | Mapping[str, Any] | None = None
    use_packaged: bool = True
    use_library_workdays: bool = True
    weekend: tuple[int, ...] | None = None
    cutoff: time = time(17, 0)
    office_open: time = time(8, 0)
    office_close: time = time(17, 0)
    count_receipt_day: bool = False
    tz: ZoneInfo = VN_TZ
    overrides: dict[date, Override] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        table_weekend: tuple[int, ...] | None = None
        if self.use_packaged:
            table_weekend, packaged = load_overrides(None)
            self.overrides.update(packaged)
        extra = self.extra_overrides if self.extra_overrides is not None else os.environ.get(OVERRIDES_ENV) or None
        if extra is not None:
            w, more = load_overrides(extra)
            table_weekend = w or table_weekend
            self.overrides.update(more)
        if self.weekend is None:
            self.weekend = table_weekend or (5, 6)
        self._holidays = holidays.country_holidays("VN")
        self._library_workdays: frozenset[date] = frozenset(getattr(self._holidays, "weekend_workdays", ()) or ())
        if not self.office_open < self.office_close:
            raise ValueError("office_open must be before office_close")

    # -- single days -----------------------------------------------------------------------------
    def holiday_name(self, d: date) -> str | None:
        """Why ``d`` is a holiday or extra day off (None when it is not)."""
        o = self.overrides.get(d)
        if o is not None:
            return None if o.working else (o.name or "ngày nghỉ")
        return self._holidays.get(d)

    def is_working_day(self, d: date | datetime) -> bool:
        if isinstance(d, datetime):
            d = _as_local(d, self.tz).date()
        o = self.overrides.get(d)
        if o is not None:
            return o.working
        if self.use_library_workdays and d in self._library_workdays:
            return True
        if d.weekday() in self.weekend:  # type: ignore[operator]
            return False
        return d not in self._holidays

    def next_working_day(self, d: date, *, inclusive: bool = False) -> date:
        cur = d if inclusive else d + timedelta(days=1)
        while not self.is_working_day(cur):
            cur += timedelta(days=1)
        return cur

    def previous_working_day(self, d: date, *, inclusive: bool = False) -> date:
        cur = d if inclusive else d - timedelta(days=1)
        while not self.is_working_day(cur):
            cur -= timedelta(days=1)
        return cur

    # -- day arithmetic --------------------------------------------------------------------------
    def add_working_days(self, start: date | datetime, n: int, *, count_start: bool | None = None) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself not counted by default).

        ``n == 0`` returns ``start``'s date unchanged.  Negative ``n`` counts backwards.  With
        ``count_start=True`` (default: the calendar's ``count_receipt_day``) a working ``start`` is
        day 1, i.e. the result is one working day earlier than with the default convention.
        """
        d = _as_local(start, self.tz).date() if isinstance(start, datetime) else start
        if n == 0:
            return d
        count_start = self.count_receipt_day if count_start is None else count_start
        if n > 0:
            if count_start and self.is_working_day(d):
                n -= 1
                if n == 0:
                    return d
            cur = d
            for _ in range(n):
                cur = self.next_working_day(cur)
            return cur
        cur = d
        for _ in range(-n):
            cur = self.previous_working_day(cur)
        return cur

    def working_days_between(self, a: date | datetime, b: date | datetime) -> int:
        """Working days ``d`` with ``a < d <= b``; negative (mirrored) when ``b < a``."""
        a = _as_local(a, self.tz).date() if isinstance(a, datetime) else a
        b = _as_local(b, self.tz).date() if isinstance(b, datetime) else b
        if b < a:
            return -self.working_days_between(b, a)
        return sum(1 for i in range(1, (b - a).days + 1) if self.is_working_day(a + timedelta(days=i)))

    def working_days_in(self, days: Iterable[date]) -> list[date]:
        return [d for d in days if self.is_working_day(d)]

    # -- deadlines -------------------------------------------------------------------------------
    def deemed_receipt_day(self, received_at: datetime) -> date:
        """The working day a file counts as received: the next one if it came after the cutoff or on a day off."""
        local = _as_local(received_at, self.tz)
        d = local.date()
        if not self.is_working_day(d) or local.time() >= self.cutoff:
            return self.next_working_day(d)
        return d

    def deadline(
        self,
        received_at: datetime,
        working_days: int | None = None,
        *,
        hours: float | None = None,
        hours_mode: str = "calendar",
        tz: ZoneInfo | None = None,
    ) -> datetime:
        """Due time (timezone-aware) for a file received at ``received_at``.

        Exactly one of ``working_days`` and ``hours`` must be given.
        - ``working_days=N``: end of office hours (``office_close``) of the N-th working day after the
          deemed receipt day (see module doc; receipt after ``cutoff`` or on a day off moves the
          receipt to the next working day).
        - ``hours=H``: ``hours_mode="calendar"`` adds H clock hours to the receipt time (24 h urgent
          lookups); ``hours_mode="working"`` consumes H hours of office time only
          (``office_open``..``office_close`` on working days).
        A naive ``received_at`` is taken to be in ``tz`` (Asia/Ho_Chi_Minh by default).
        """
        tz = tz or self.tz
        if (working_days is None) == (hours is None):
            raise ValueError("give exactly one of working_days and hours")
        local = _as_local(received_at, tz)
        if hours is not None:
            if hours < 0:
                raise ValueError("hours must be >= 0")
            if hours_mode == "calendar":
                # Wall-clock arithmetic in UTC so a DST-observing tz would still give elapsed hours.
                return (local.astimezone(ZoneInfo("UTC")) + timedelta(hours=hours)).astimezone(tz)
            if hours_mode == "working":
                return self._add_working_hours(local, timedelta(hours=hours), tz)
            raise ValueError(f"unknown hours_mode {hours_mode!r}")
        assert working_days is not None
        if working_days < 0:
            raise ValueError("working_days must be >= 0")
        receipt = self.deemed_receipt_day(local)
        if working_days == 0:
            due = receipt
        else:
            due = self.add_working_days(receipt, working_days)
        return datetime.combine(due, self.office_close, tzinfo=tz)

    def _add_working_hours(self, local: datetime, remaining: timedelta, tz: ZoneInfo) -> datetime:
        cur = local
        while True:
            d = cur.date()
            if self.is_working_day(d):
                open_at = datetime.combine(d, self.office_open, tzinfo=tz)
                close_at = datetime.combine(d, self.office_close, tzinfo=tz)
                start = max(cur, open_at)
                if start < close_at:
                    available = close_at - start
                    if remaining <= available:
                        return start + remaining
                    remaining -= available
            nxt = self.next_working_day(d)
            cur = datetime.combine(nxt, self.office_open, tzinfo=tz)


@lru_cache(maxsize=1)
def _default() -> WorkCalendar:
    return WorkCalendar()


def default_calendar() -> WorkCalendar:
    """A shared calendar with the packaged overrides (and ``$LIENTHONG_WORKDAY_OVERRIDES`` if set at first use)."""
    return _default()
