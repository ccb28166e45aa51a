"""Vietnamese number and date formatting (1.234.567; 12,5 %; dd/mm/yyyy)."""

from __future__ import annotations

from functools import partial

from lienthong.web import dates
from lienthong.web.dates import vndate  # noqa: F401  (dd/mm/yyyy, naive datetimes as UTC)


def vnnum(value, decimals: int = 0) -> str:
    if value is None:
        return "—"
    text = f"{float(value):,.{decimals}f}" if decimals else f"{round(float(value)):,d}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


# dd/mm/yyyy HH:MM in Vietnam time: the ops pages and reports show minutes, not seconds.
vndatetime = partial(dates.vndatetime, seconds=False)


def metric_value(kind: str, value, unit: str = "") -> str:
    """A metric value as shown on the dashboard and in reports."""
    if value is None:
        return "—"
    if kind == "ratio":
        return f"{vnnum(value, 1)} %"
    if kind == "mean":
        return f"{vnnum(value, 1)} {unit}".strip()
    if kind == "money":
        return f"{vnnum(value)} đ"
    return vnnum(value)
