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

Holidays the library has but the law in force does not (dated rules)
-------------------------------------------------------------------
The override table's ``holiday_rules`` name library holidays that are paid public holidays only from
a date (``paid_holiday_from``; ``null``: not yet).  Bộ luật Lao động 2019 Điều 112 khoản 1 lists 11 days
(Tết Dương lịch 1, Tết Âm lịch 5, Chiến thắng 1, Quốc tế Lao động 1, Quốc khánh 2, Giỗ Tổ Hùng Vương 1).
``holidays`` 0.10x adds 24/11 "Ngày Văn hóa Việt Nam" from 2026 on the strength of Politburo Resolution
80-NQ/TW; the Government's programme (Nghị quyết 30/NQ-CP, 26/02/2026) asks to amend art. 112.1 to add
it and no amending law was found, so it is a working day until ``paid_holiday_from`` is set.  The
library's observed substitute ("(nghỉ bù)") of such a day goes with it.
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
    "HolidayRule",
    "load_holiday_rules",
    "Override",
    "WorkCalendar",
    "load_overrides",
    "default_calendar",
]


@dataclass(frozen=True)
class HolidayRule:
    """A library holiday that is a paid public holiday only from ``paid_holiday_from`` (None: not yet)."""

    name: str
    match: str  # substring of the library's holiday name (observed "nghỉ bù" days included)
    paid_holiday_from: date | None
    basis: str = ""
    sources: tuple[str, ...] = ()
    verified: str = "?"
    warning_vi: str = ""

    def in_force(self, d: date) -> bool:
        return self.paid_holiday_from is not None and d >= self.paid_holiday_from


@dataclass(frozen=True)
class Override:
    """One day of the override table: ``working`` True = worked day, False = extra day off."""

    day: date
    working: bool
    name: str = ""
    source: str = ""
    verified: str = "mem"


def _parse_holiday_rules(data: Mapping[str, Any]) -> dict[str, HolidayRule]:
    out: dict[str, HolidayRule] = {}
    for item in data.get("holiday_rules") or []:
        start = item.get("paid_holiday_from")
        rule = HolidayRule(item["name"], item["match"], date.fromisoformat(start) if start else None,
                           item.get("basis", ""), tuple(item.get("sources", ())), item.get("verified", "?"),
                           item.get("warning_vi", ""))
        if not rule.match:
            raise ValueError(f"holiday rule {rule.name!r} needs a match")
        out[rule.match] = rule
    return out


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


def _read(source: str | Path | Mapping[str, Any] | None) -> Mapping[str, Any]:
    if source is None:
        return json.loads(resources.files("lienthong.workdays").joinpath("vn_overrides.json").read_text("utf-8"))
    if isinstance(source, Mapping):
        return source
    return json.loads(Path(source).read_text("utf-8"))


def load_overrides(source: str | Path | Mapping[str, Any] | None = None) -> tuple[tuple[int, ...] | None, dict[date, Override]]:
    """Read an override table: the packaged one when ``source`` is None, else a path or a mapping."""
    return _parse_table(_read(source))


def load_holiday_rules(source: str | Path | Mapping[str, Any] | None = None) -> dict[str, HolidayRule]:
    """The dated holiday rules of an override table (packaged when ``source`` is None), by ``match``."""
    return _parse_holiday_rules(_read(source))


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
    holiday_rules: dict[str, HolidayRule] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        table_weekend: tuple[int, ...] | None = None
        if self.use_packaged:
            table_weekend, packaged = load_overrides(None)
            self.overrides.update(packaged)
            self.holiday_rules.update(load_holiday_rules(None))
        extra = self.extra_overrides if self.extra_overrides is not None else os.environ.get(OVERRIDES_ENV) or None
        if extra is not None:
            w, more = load_overrides(extra)
            table_weekend = w or table_weekend
            self.overrides.update(more)
            self.holiday_rules.update(load_holiday_rules(extra))
        if self.weekend is None:
            self.weekend = table_weekend or (5, 6)
        self._holidays = holidays.country_holidays("VN", language="vi")  # Vietnamese names: the UI and holiday_rules match them
        self._library_workdays: frozenset[date] = frozenset(getattr(self._holidays, "weekend_workdays", ()) or ())
        if not self.office_open < self.office_close:
            raise ValueError("office_open must be before office_close")

    # -- single days -----------------------------------------------------------------------------
    def _library_holidays(self, d: date) -> list[str]:
        """The library's holiday names on ``d`` that are in force (dated rules applied)."""
        names = self._holidays.get_list(d) if d in self._holidays else []
        kept = []
        for name in names:
            rule = next((r for m, r in self.holiday_rules.items() if m in name), None)
            if rule is None or rule.in_force(d):
                kept.append(name)
        return kept

    def holiday_rule_on(self, d: date) -> HolidayRule | None:
        """The dated rule that removes a library holiday on ``d`` (None when nothing is removed)."""
        names = self._holidays.get_list(d) if d in self._holidays else []
        for name in names:
            for m, r in self.holiday_rules.items():
                if m in name and not r.in_force(d):
                    return r
        return None

    def holiday_name(self, d: date) -> str | None:
        """Why ``d`` is a holiday or extra day off (None when it is not)."""
        o = self.overrides.get(d)
        if o is not None:
            return None if o.working else (o.name or "ngày nghỉ")
        names = self._library_holidays(d)
        return "; ".join(names) if names else None

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
        return not self._library_holidays(d)

    def is_statutory_day_off(self, d: date) -> bool:
        """A weekend day or a statutory public holiday (BLDS 2015 Điều 148.5 "ngày nghỉ cuối tuần hoặc ngày nghỉ
        lễ"), ignoring the swapped days of the override table and the library's swapped days."""
        if d.weekday() in self.weekend:  # type: ignore[operator]
            return True
        return any("thay cho" not in name for name in self._library_holidays(d))

    def notes_between(self, start: date, end: date) -> list[str]:
        """Warnings for officers about unverified calendar entries that fall in ``[start, end]``."""
        out: list[str] = []
        if end < start:
            start, end = end, start
        d = start
        while d <= end:
            rule = self.holiday_rule_on(d)
            if rule is not None and rule.warning_vi:
                text = rule.warning_vi.replace("{date}", d.strftime("%d/%m/%Y"))
                if text not in out:
                    out.append(text)
            o = self.overrides.get(d)
            if o is not None and o.verified not in ("src",):
                kind = "ngày làm bù" if o.working else "ngày nghỉ hoán đổi"
                text = (f"Ngày {d.strftime('%d/%m/%Y')} được tính là {kind} theo bảng điều chỉnh lịch làm việc "
                        f"({o.source or 'chưa có nguồn'}); chưa đối chiếu văn bản gốc.")
                if text not in out:
                    out.append(text)
            d += timedelta(days=1)
        return out

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


# --- where the figures come from (lienthong.legal) ------------------------------------------------------------------
from lienthong.legal import Figure  # noqa: E402  (plain data module, no cycle)

FIGURES: tuple[Figure, ...] = (
    # QĐ 188/1999/QĐ-TTg Điều 1: "Nay quy định chế độ tuần làm việc 40 giờ trong 5 ngày, nghỉ ngày thứ bẩy và chủ nhật
    # hàng tuần đối với cán bộ, công chức và người lao động trong các cơ quan, đơn vị hành chính, sự nghiệp ..."
    # (a 40-hour week in 5 days, Saturday and Sunday off, for civil servants in administrative agencies).
    Figure("workdays.weekend", "Public agencies work Monday to Friday", "Saturday and Sunday off", "confirmed",
           "Quyết định 188/1999/QĐ-TTg ngày 17/09/1999 Điều 1; https://hethongphapluat.com/quyet-dinh-188-1999-qd-ttg-ve-che-"
           "do-tuan-lam-viec-40-gio-do-thu-tuong-chinh-phu-ban-hanh.html; English: http://vbpl.vn/kiengiang/Pages/"
           "vbpqen-toanvan.aspx?ItemID=843"),
    Figure("workdays.art112", "Paid public holidays", "11 days (Labour Code 2019 art. 112.1)", "confirmed",
           "Bộ luật Lao động 2019 Điều 112 khoản 1 (list quoted by znews.vn / vneconomy.vn 26/02/2026; "
           "vbpl.vn ItemID=139264 cited by holidays.VN)"),
    Figure("workdays.culture_day", "24/11 Ngày Văn hóa Việt Nam", "a working day (paid_holiday_from = null)", "configurable",
           "NQ 30/NQ-CP 26/02/2026 asks to amend BLLĐ Điều 112.1; no amending law found (vneconomy.vn, znews.vn, dantri.com.vn)",
           "Ngày 24/11 (Ngày Văn hóa Việt Nam) được tính là ngày làm việc vì Bộ luật Lao động chưa được sửa đổi; cấu hình "
           "lại khi luật sửa đổi có hiệu lực.", "vn_overrides.json holiday_rules[].paid_holiday_from / $" + OVERRIDES_ENV),
    Figure("workdays.swaps_2024_2025", "Swapped days 2024 (29/04 ↔ 04/05) and 2025 (02/05 ↔ 26/04)", "as listed",
           "configurable", "CV 2450/VPCP-KGVX (2024) and TB 6150/TB-BLĐTBXH cited by holidays.VN 0.109",
           "Ngày nghỉ hoán đổi/làm bù năm 2024, 2025 lấy theo tài liệu do thư viện holidays dẫn; chưa đối chiếu văn bản gốc.",
           "vn_overrides.json years"),
    Figure("workdays.swaps_2026", "Swapped day 2026 (31/08 off, 22/08 worked)", "as listed", "confirmed",
           "Thông báo 109/TB-UBND ngày 06/11/2025 UBND TP Cần Thơ (applies the Prime Minister's 2026 holiday plan)"),
    Figure("workdays.counting", "Receipt day not counted; receipt after the cutoff counts from the next working day",
           "count_receipt_day=False; cutoff 17:00 (15:00 for the linked procedures)", "configurable",
           "BLDS 2015 Điều 147 (first day not counted); 15:00 cutoff from procedure pages (dichvucong.gov.vn TTHC 1.007073)",
           "Cách tính thời hạn theo ngày làm việc (không tính ngày tiếp nhận; hồ sơ nhận sau 15 giờ tính từ ngày làm việc "
           "tiếp theo) theo thực tiễn một cửa; cấu hình được.", "WorkCalendar(count_receipt_day, cutoff)"),
)


def officer_notes(start: date | datetime | None, end: date | datetime | None, cal: WorkCalendar | None = None, *,
                  working_days: bool = False) -> list[str]:
    """Warnings for unverified calendar entries inside a deadline window (officer pages); with ``working_days``
    also the warning on how working-day deadlines are counted (``workdays.counting``)."""
    from lienthong.legal import notes

    if start is None or end is None:
        return []
    cal = cal or default_calendar()
    a = _as_local(start, cal.tz).date() if isinstance(start, datetime) else start
    b = _as_local(end, cal.tz).date() if isinstance(end, datetime) else end
    return cal.notes_between(a, b) + (notes(["workdays.counting"]) if working_days else [])
