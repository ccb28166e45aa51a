"""Pure social-insurance rules: reference salary (versioned), funeral allowance, under-6 BHYT card.

Sources are in /work/shared/domain/civil-insurance.md (§4, §5). Items marked [M] there come from
memory and must be checked against the primary texts before production use.

* Funeral allowance (trợ cấp mai táng, Luật BHXH 2014 Điều 66; Luật BHXH 2024 keeps it) =
  10 × the reference level (mức tham chiếu = base salary / lương cơ sở until it is abolished) in
  force on the date of death. The table is data with effective dates: a new decree is one more row.
* Eligibility (Điều 66.1): (a) a worker currently paying compulsory BHXH, or with >= 12 months of
  reserved compulsory contributions; voluntary scheme: >= 60 months of voluntary contributions [M].
  Pensioners and work-accident cases (b), (c) need benefit data that this platform does not hold:
  they are reported as "unknown" (a BHXH officer decides), never as "not eligible".
* Under-6 BHYT card (group TE, benefit level 1, state budget pays): valid from the birth date to
  the day before the child turns 72 months; when the child turns 72 months before the school year
  starts (on or before 30/09), it stays valid until 30/09 of that year (Luật BHYT Điều 16, as
  amended; domain file §4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from lienthong.workdays.calendar import add_months


@dataclass(frozen=True)
class ReferenceSalary:
    effective_from: date
    amount_vnd: int
    basis: str


# Ordered by effective date. Each row is in force from its date until the next row's date.
REFERENCE_SALARY: tuple[ReferenceSalary, ...] = (
    ReferenceSalary(date(2019, 7, 1), 1_490_000, "NĐ 38/2019/NĐ-CP"),
    ReferenceSalary(date(2023, 7, 1), 1_800_000, "NĐ 24/2023/NĐ-CP"),
    ReferenceSalary(date(2024, 7, 1), 2_340_000, "NĐ 73/2024/NĐ-CP"),
)

FUNERAL_MULTIPLIER = 10
RESERVED_COMPULSORY_MONTHS = 12
VOLUNTARY_MONTHS = 60


class NoRuleInForce(ValueError):
    """No versioned rule covers the date asked for."""


def reference_salary_on(day: date, table: tuple[ReferenceSalary, ...] = REFERENCE_SALARY) -> ReferenceSalary:
    current = None
    for row in table:
        if row.effective_from <= day:
            current = row
        else:
            break
    if current is None:
        raise NoRuleInForce(f"không có mức lương cơ sở áp dụng cho ngày {day:%d/%m/%Y}")
    return current


def funeral_allowance(death_date: date, table: tuple[ReferenceSalary, ...] = REFERENCE_SALARY) -> tuple[int, ReferenceSalary]:
    """(amount in VND, the reference salary row used) for a death on ``death_date``."""
    row = reference_salary_on(death_date, table)
    return FUNERAL_MULTIPLIER * row.amount_vnd, row


@dataclass(frozen=True)
class Period:
    """A contribution period, months inclusive; ``to_month`` None = still contributing."""

    scheme: str  # bhxh_compulsory, bhxh_voluntary, bhtn, bhyt
    from_month: date  # first day of the month
    to_month: date | None


def month_start(d: date) -> date:
    return d.replace(day=1)


def months_between(from_month: date, to_month: date) -> int:
    """Months in the inclusive range ``from_month``..``to_month`` (0 when reversed)."""
    n = (to_month.year - from_month.year) * 12 + to_month.month - from_month.month + 1
    return max(0, n)


def contribution_months(periods: list[Period], scheme: str, until: date) -> int:
    """Months of ``scheme`` contributed up to and including the month of ``until`` (overlaps counted once)."""
    months: set[tuple[int, int]] = set()
    end_cap = month_start(until)
    for p in periods:
        if p.scheme != scheme:
            continue
        start = month_start(p.from_month)
        end = month_start(p.to_month) if p.to_month else end_cap
        end = min(end, end_cap)
        y, m = start.year, start.month
        while (y, m) <= (end.year, end.month):
            months.add((y, m))
            m += 1
            if m == 13:
                y, m = y + 1, 1
    return len(months)


@dataclass(frozen=True)
class Eligibility:
    status: str  # eligible, not_eligible, unknown
    reason: str
    compulsory_months: int
    voluntary_months: int


def funeral_eligibility(periods: list[Period], death_date: date) -> Eligibility:
    comp = contribution_months(periods, "bhxh_compulsory", death_date)
    vol = contribution_months(periods, "bhxh_voluntary", death_date)
    death_month = month_start(death_date)
    active = any(p.scheme == "bhxh_compulsory" and month_start(p.from_month) <= death_month
                 and (p.to_month is None or month_start(p.to_month) >= death_month) for p in periods)
    if active:
        return Eligibility("eligible", "đang đóng bảo hiểm xã hội bắt buộc tại thời điểm chết", comp, vol)
    if comp >= RESERVED_COMPULSORY_MONTHS:
        return Eligibility("eligible", f"có {comp} tháng đóng bảo hiểm xã hội bắt buộc được bảo lưu (từ 12 tháng trở lên)",
                           comp, vol)
    if vol >= VOLUNTARY_MONTHS:
        return Eligibility("eligible", f"có {vol} tháng đóng bảo hiểm xã hội tự nguyện (từ 60 tháng trở lên)", comp, vol)
    if comp == 0 and vol == 0:
        return Eligibility("unknown", "không có quá trình đóng bảo hiểm xã hội; cần kiểm tra diện hưởng lương hưu, "
                                      "trợ cấp tai nạn lao động, bệnh nghề nghiệp", comp, vol)
    return Eligibility("not_eligible", f"chưa đủ điều kiện: {comp} tháng bắt buộc, {vol} tháng tự nguyện", comp, vol)


@dataclass(frozen=True)
class CardValidity:
    valid_from: date
    valid_to: date  # the day before the 72-month birthday
    extended_to: date | None  # 30/09 of that year when the child turns 72 months before the school year

    @property
    def last_day(self) -> date:
        return self.extended_to or self.valid_to


def under6_card_validity(birth_date: date) -> CardValidity:
    turns_72 = add_months(birth_date, 72)
    valid_to = turns_72 - timedelta(days=1)
    school_end = date(turns_72.year, 9, 30)
    extended = school_end if turns_72 <= school_end and school_end > valid_to else None
    return CardValidity(birth_date, valid_to, extended)


def card_valid_on(validity: CardValidity, day: date) -> bool:
    return validity.valid_from <= day <= validity.last_day
