"""Vietnamese number and date formatting (1.234.567; 12,5 %; dd/mm/yyyy)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def vnnum(value, decimals: int = 0) -> str:
    if value is None:
        return "—"
    text = f"{float(value):,.{decimals}f}" if decimals else f"{round(float(value)):,d}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def vndate(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo("UTC"))
        value = value.astimezone(VN_TZ)
    return value.strftime("%d/%m/%Y")


def vndatetime(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


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
