"""Pure rules of the linked procedures: versioned legal deadlines, retry backoff, driver-health validity.

Deadline rules are data (``data/deadlines.json``), each with an effective period. The version that
applies is the one in force on the day the step starts (the day its dossier is received). Working
days come from :mod:`lienthong.workdays` with the procedures' 15:00 cutoff (a dossier received
after 15:00 counts from the next working day; domain file §1.2 and §2.2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources

from lienthong.retry import backoff_delay
from lienthong.workdays import VN_TZ, WorkCalendar, add_months


@dataclass(frozen=True)
class DeadlineRule:
    procedure: str
    step: str | None  # None: the whole procedure
    unit: str  # working_days, calendar_days
    days: int
    effective_from: date
    effective_to: date | None
    basis: str
    verified: str = "mem"

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


def parse_rules(data: dict) -> tuple[time, tuple[DeadlineRule, ...]]:
    hh, mm = (int(x) for x in data.get("cutoff", "15:00").split(":"))
    out = []
    for r in data["rules"]:
        if r["unit"] not in ("working_days", "calendar_days") or int(r["days"]) < 0:
            raise ValueError(f"bad deadline rule {r!r}")
        rule = DeadlineRule(r["procedure"], r.get("step"), r["unit"], int(r["days"]),
                            date.fromisoformat(r["effective_from"]),
                            date.fromisoformat(r["effective_to"]) if r.get("effective_to") else None,
                            r.get("basis", ""), r.get("verified", "mem"))
        if rule.effective_to is not None and rule.effective_to < rule.effective_from:
            raise ValueError(f"rule ends before it starts: {r!r}")
        out.append(rule)
    _check_no_overlap(out)
    return time(hh, mm), tuple(out)


def _check_no_overlap(rules: list[DeadlineRule]) -> None:
    by_key: dict[tuple, list[DeadlineRule]] = {}
    for r in rules:
        by_key.setdefault((r.procedure, r.step), []).append(r)
    for key, rs in by_key.items():
        rs.sort(key=lambda r: r.effective_from)
        for a, b in zip(rs, rs[1:]):
            if a.effective_to is None or a.effective_to >= b.effective_from:
                raise ValueError(f"overlapping deadline rules for {key}")


@lru_cache(maxsize=1)
def _packaged() -> tuple[time, tuple[DeadlineRule, ...]]:
    text = resources.files("lienthong.civil").joinpath("data/deadlines.json").read_text("utf-8")
    return parse_rules(json.loads(text))


def deadline_rules() -> tuple[DeadlineRule, ...]:
    return _packaged()[1]


@lru_cache(maxsize=1)
def calendar() -> WorkCalendar:
    """The working-day calendar with the procedures' 15:00 receipt cutoff."""
    return WorkCalendar(cutoff=_packaged()[0])


def rule_for(procedure: str, step: str | None, day: date,
             rules: tuple[DeadlineRule, ...] | None = None) -> DeadlineRule | None:
    """The rule in force on ``day`` for ``procedure``/``step`` (None: no legal deadline is known)."""
    for r in rules if rules is not None else deadline_rules():
        if r.procedure == procedure and r.step == step and r.in_force(day):
            return r
    return None


def due_at(rule: DeadlineRule, received_at: datetime, anchor: date | None = None,
           cal: WorkCalendar | None = None) -> datetime:
    """When a step received at ``received_at`` is due under ``rule``.

    working_days: end of office hours of the N-th working day after the deemed receipt day (N = 0:
    the deemed receipt day itself). calendar_days: the end (23:59:59, Vietnam time) of day
    ``anchor + N`` (``anchor`` defaults to the receipt date).
    """
    cal = cal or calendar()
    if rule.unit == "working_days":
        return cal.deadline(received_at, rule.days)
    local = received_at.astimezone(VN_TZ) if received_at.tzinfo else received_at.replace(tzinfo=VN_TZ)
    start = anchor or local.date()
    return datetime.combine(start + timedelta(days=rule.days), time(23, 59, 59), tzinfo=VN_TZ)


# --- retries ---------------------------------------------------------------------------------------------------

RETRY_BASE_S = 60.0
RETRY_MAX_S = 6 * 3600.0
DEFAULT_MAX_ATTEMPTS = 8


def retry_delay_s(attempts: int) -> float:
    """Delay after ``attempts`` failed attempts: 1 min, 2, 4, ... capped at 6 hours."""
    return backoff_delay(attempts, RETRY_BASE_S, RETRY_MAX_S)


# --- driver health certificate ----------------------------------------------------------------------------------

DRIVER_HEALTH_VALID_MONTHS = 12  # TTLT 24/2015, kept by TT 36/2024/TT-BYT [M]


def driver_health_valid_until(signed_on: date) -> date:
    """Last valid day of a driver health certificate concluded on ``signed_on`` (12 months)."""
    return add_months(signed_on, DRIVER_HEALTH_VALID_MONTHS) - timedelta(days=1)


def driver_health_status(issued_on: date, valid_until: date, fit: bool, on: date) -> str:
    """valid / expired / not_yet_valid / unfit."""
    if not fit:
        return "unfit"
    if on < issued_on:
        return "not_yet_valid"
    return "valid" if on <= valid_until else "expired"
