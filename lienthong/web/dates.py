"""Dates in the Vietnamese UI: shown and typed as dd/mm/yyyy.

Every date field of every form is a text input (``<input type="date">`` renders in the browser's
locale, often mm/dd/yyyy); the server parses what was typed with :func:`parse_vn_date`, which
accepts ``dd/mm/yyyy`` (day and month may have one digit) and, for API and bookmarked-URL
compatibility, ISO ``yyyy-mm-dd``. Anything else raises :class:`InvalidDate` (a ``DomainError``,
HTTP 422) with a Vietnamese message.

Shown values (templates and message texts) go through :func:`vndate`, :func:`vndatetime`,
:func:`vntime` and :func:`vntimedate`, registered as template filters of the same names; datetimes
are shown in Vietnam time, a naive datetime being UTC. Forms use the ``date_input`` macro of
``_macros.html``; the constants below are the attributes that macro renders.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from lienthong.errors import DomainError
from lienthong.workdays.calendar import VN_TZ

DATE_FORMAT = "%d/%m/%Y"
DATE_PLACEHOLDER = "dd/mm/yyyy"
# HTML ``pattern`` attribute of date inputs (anchored by the browser).
DATE_PATTERN = r"(0?[1-9]|[12][0-9]|3[01])/(0?[1-9]|1[0-2])/[0-9]{4}"
DATE_TITLE = "Ngày theo dạng dd/mm/yyyy, ví dụ 05/03/2026"

_VN = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class InvalidDate(DomainError):
    """The text is not a date in dd/mm/yyyy (or yyyy-mm-dd)."""


def parse_vn_date(text: str, *, field: str | None = None) -> date:
    """``"05/03/2026"`` (or ``"5/3/2026"``, or ISO ``"2026-03-05"``) -> ``date(2026, 3, 5)``.

    Surrounding whitespace is ignored. Raises :class:`InvalidDate` with a Vietnamese message for
    an empty text, another format, or a day that does not exist (31/02/2026).
    """
    raw = (text or "").strip()
    if not raw:
        raise InvalidDate("chưa nhập ngày (dạng dd/mm/yyyy)", field=field)
    if m := _VN.fullmatch(raw):
        day, month, year = (int(g) for g in m.groups())
    elif m := _ISO.fullmatch(raw):
        year, month, day = (int(g) for g in m.groups())
    else:
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        raise InvalidDate(f"ngày «{shown}» không đúng dạng dd/mm/yyyy (ví dụ 05/03/2026)", field=field)
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidDate(f"ngày {day:02d}/{month:02d}/{year:04d} không tồn tại", field=field) from None


def parse_optional_vn_date(text: str | None, *, field: str | None = None) -> date | None:
    """Like :func:`parse_vn_date`, but an empty or blank text is ``None``."""
    if text is None or not text.strip():
        return None
    return parse_vn_date(text, field=field)


def _vn_time(value: datetime | str | None) -> datetime | None:
    """A datetime, or an ISO 8601 timestamp (e.g. from an event payload), in Vietnam time."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(VN_TZ)


def vndate(value: date | datetime | str | None) -> str:
    """dd/mm/yyyy. A datetime, or an ISO timestamp string, is shown in Vietnam time (naive = UTC);
    an ISO or dd/mm/yyyy date string is reformatted; any other string is returned unchanged (e.g.
    what the user typed, re-shown after an error)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            return parse_vn_date(value).strftime(DATE_FORMAT)
        except InvalidDate:
            moment = _vn_time(value)
            return moment.strftime(DATE_FORMAT) if moment is not None else value
    if isinstance(value, datetime):
        value = _vn_time(value)
    return value.strftime(DATE_FORMAT)


def vntime(value: datetime | str | None) -> str:
    """HH:MM in Vietnam time ("" when absent or not a timestamp)."""
    moment = _vn_time(value)
    return moment.strftime("%H:%M") if moment is not None else ""


def vntimedate(value: datetime | str | None) -> str:
    """HH:MM dd/mm/yyyy in Vietnam time, as message texts say it ("" when absent or not a timestamp)."""
    moment = _vn_time(value)
    return moment.strftime("%H:%M " + DATE_FORMAT) if moment is not None else ""


def vndatetime(value: datetime | None, seconds: bool = True) -> str:
    """dd/mm/yyyy HH:MM[:SS] in Vietnam time (a naive datetime is taken as UTC)."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return vndate(value)
    return _vn_time(value).strftime(DATE_FORMAT + (" %H:%M:%S" if seconds else " %H:%M"))
