"""Pure social-protection rules, versioned by date: reference level, funeral allowance, under-6 BHYT card,
social-assistance funeral support.

Every rule quotes its article; :data:`FIGURES` says where each figure was read (``lienthong.legal``).

* **Reference level** (mức tham chiếu): Luật BHXH 2024 (41/2024/QH15) Điều 141 khoản 13: "Khi chưa bãi
  bỏ mức lương cơ sở thì mức tham chiếu quy định tại Luật này bằng mức lương cơ sở" (until the base
  salary is abolished, the reference level equals it).  The base salary is a table by effective date
  (:data:`REFERENCE_SALARY`); rows can be added as data (``$LIENTHONG_REFERENCE_LEVELS``).
* **Funeral allowance** (trợ cấp mai táng), by the law in force on the date of death (Luật BHXH 2024
  Điều 5 khoản 7: "Việc giải quyết các chế độ bảo hiểm xã hội được xác định theo quy định của pháp luật
  về bảo hiểm xã hội tại thời điểm hưởng chế độ"): :data:`SI_LAW_2014` before 01/07/2025 and
  :data:`SI_LAW_2024` from that day (:func:`funeral_rules_on`).  Amount: 10 × the reference level in
  the month of death.  Pensioners and work-accident / occupational-disease cases are eligible by law
  but their benefits are not on this platform: when the contribution history does not make the
  person eligible the decision is ``needs_review`` (a social-insurance officer decides), never a
  silent "not eligible" (``FuneralRules.undecided_goes_to_officer``).
* **Under-6 BHYT card**: Luật BHYT Điều 16 khoản 3 điểm d (VBHN 22/VBHN-VPQH 2025): "Đối với trẻ em dưới
  6 tuổi thì thẻ bảo hiểm y tế có giá trị sử dụng đến ngày trẻ đủ 72 tháng tuổi. Trường hợp trẻ đủ 72
  tháng tuổi mà chưa đến kỳ nhập học thì thẻ bảo hiểm y tế có giá trị sử dụng đến ngày 30 tháng 9 của năm
  đó"; detailed by NĐ 146/2018/NĐ-CP Điều 13 khoản 2 (born before 30/9: to 30/9 of the year the child
  turns 72 months; born after 30/9: to the last day of the month the child turns 72 months), replaced
  on 15/08/2025 by NĐ 188/2025/NĐ-CP (its under-6 article was not read: :data:`CARD_RULES`).
* **Social-assistance funeral support** (hỗ trợ chi phí mai táng, NĐ 20/2021/NĐ-CP Điều 11): at least 20 ×
  the social-assistance standard level (:func:`social_assistance_funeral`).
"""

from __future__ import annotations

import json
import os
from calendar import monthrange
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Mapping, Sequence

from lienthong.legal import Figure, notes
from lienthong.workdays.calendar import add_months

__all__ = [
    "CARD_RULES", "CardRules", "CardValidity", "Eligibility", "FIGURES", "FUNERAL_RULES", "FuneralRules", "NoRuleInForce",
    "Period", "REFERENCE_LEVELS_ENV", "REFERENCE_SALARY", "ReferenceSalary", "SA_STANDARD_LEVELS", "SI_LAW_2014",
    "SI_LAW_2024", "SaCategory", "SaDecision", "SaStandardLevel", "add_months", "card_rules_on", "card_valid_on",
    "contribution_months", "funeral_allowance", "funeral_eligibility", "funeral_rules_on", "month_start",
    "months_between", "officer_notes", "reference_levels", "reference_salary_on", "social_assistance_funeral",
    "under6_card_validity",
]


class NoRuleInForce(ValueError):
    """No versioned rule covers the date asked for."""


# --- reference level (mức tham chiếu = mức lương cơ sở) -----------------------------------------------------------


@dataclass(frozen=True)
class ReferenceSalary:
    effective_from: date
    amount_vnd: int
    basis: str
    source: str = ""


# Ordered by effective date; each row is in force from its date until the next row's date.
REFERENCE_SALARY: tuple[ReferenceSalary, ...] = (
    ReferenceSalary(date(2019, 7, 1), 1_490_000, "NĐ 38/2019/NĐ-CP"),
    ReferenceSalary(date(2023, 7, 1), 1_800_000, "NĐ 24/2023/NĐ-CP"),
    ReferenceSalary(date(2024, 7, 1), 2_340_000, "NĐ 73/2024/NĐ-CP"),
    # NĐ 161/2026/NĐ-CP ngày 15/5/2026, khoản 2 Điều 3: "mức lương cơ sở là 2.530.000 đồng/tháng" từ 01/7/2026
    # (vanban.chinhphu.vn docid=218107; baochinhphu.vn 102260516214238878).
    ReferenceSalary(date(2026, 7, 1), 2_530_000, "NĐ 161/2026/NĐ-CP"),
)
REFERENCE_LEVELS_ENV = "LIENTHONG_REFERENCE_LEVELS"


def reference_levels(extra: str | Path | Sequence[Mapping[str, Any]] | None = None) -> tuple[ReferenceSalary, ...]:
    """The packaged table plus rows supplied as data (a JSON list of ``{"effective_from": "YYYY-MM-DD",
    "amount_vnd": n, "basis": "..."}``; ``$LIENTHONG_REFERENCE_LEVELS`` when ``extra`` is None).
    A supplied row replaces a packaged one with the same date (e.g. when the Government sets a
    reference level of its own under Luật BHXH 2024 Điều 7)."""
    if extra is None:
        extra = os.environ.get(REFERENCE_LEVELS_ENV) or None
    rows = {r.effective_from: r for r in REFERENCE_SALARY}
    if extra is not None:
        items = json.loads(Path(extra).read_text("utf-8")) if isinstance(extra, (str, Path)) else extra
        for it in items:
            d = date.fromisoformat(it["effective_from"])
            amount = int(it["amount_vnd"])
            if amount <= 0:
                raise ValueError(f"bad reference level {it!r}")
            rows[d] = ReferenceSalary(d, amount, it.get("basis", "cấu hình"), it.get("source", "configured"))
    return tuple(sorted(rows.values(), key=lambda r: r.effective_from))


def reference_salary_on(day: date, table: Sequence[ReferenceSalary] | None = None) -> ReferenceSalary:
    table = reference_levels() if table is None else table
    current = None
    for row in table:
        if row.effective_from <= day:
            current = row
        else:
            break
    if current is None:
        raise NoRuleInForce(f"không có mức lương cơ sở áp dụng cho ngày {day:%d/%m/%Y}")
    return current


# --- contribution periods -----------------------------------------------------------------------------------------


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


def _month_set(periods: Sequence[Period], schemes: tuple[str, ...], until: date) -> set[tuple[int, int]]:
    months: set[tuple[int, int]] = set()
    end_cap = month_start(until)
    for p in periods:
        if p.scheme not in schemes:
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
    return months


def contribution_months(periods: Sequence[Period], scheme: str | tuple[str, ...], until: date) -> int:
    """Months of ``scheme`` (or of any of several schemes, counted once) up to and including the month of ``until``."""
    schemes = (scheme,) if isinstance(scheme, str) else tuple(scheme)
    return len(_month_set(periods, schemes, until))


# --- funeral allowance ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FuneralRules:
    """One version of the funeral-allowance conditions (compulsory and voluntary schemes)."""

    name: str
    effective_from: date
    effective_until: date | None
    legal_basis: str
    compulsory_months: int  # months of compulsory contributions that suffice
    compulsory_ref: str
    currently_contributing_suffices: bool  # 2014: a worker paying compulsory contributions at death
    current_ref: str
    voluntary_months: int
    voluntary_counts_compulsory: bool  # 2024: "thời gian đóng" = compulsory + voluntary (art. 3.6)
    voluntary_ref: str
    other_routes: str  # pensioners, work accidents: not on the platform, an officer decides
    multiplier: int = 10
    amount_ref: str = ""
    undecided_goes_to_officer: bool = True

    def covers(self, d: date) -> bool:
        return self.effective_from <= d and (self.effective_until is None or d < self.effective_until)


SI_LAW_2014 = FuneralRules(
    name="Luật BHXH 2014 (58/2014/QH13)",
    effective_from=date(2016, 1, 1),
    effective_until=date(2025, 7, 1),
    legal_basis="Luật Bảo hiểm xã hội số 58/2014/QH13, Điều 66 và Điều 80",
    # Điều 66.1: "a) Người lao động quy định tại khoản 1 Điều 2 của Luật này đang đóng bảo hiểm xã hội hoặc người
    # lao động đang bảo lưu thời gian đóng bảo hiểm xã hội mà có thời gian đóng từ đủ 12 tháng trở lên; b) ... chết
    # do tai nạn lao động, bệnh nghề nghiệp ...; c) Người đang hưởng lương hưu; hưởng trợ cấp tai nạn lao động,
    # bệnh nghề nghiệp hằng tháng đã nghỉ việc."
    compulsory_months=12,
    compulsory_ref="điểm a khoản 1 Điều 66 Luật BHXH 2014",
    currently_contributing_suffices=True,
    current_ref="điểm a khoản 1 Điều 66 Luật BHXH 2014",
    # Điều 80.1: "a) Người lao động có thời gian đóng bảo hiểm xã hội từ đủ 60 tháng trở lên; b) Người đang hưởng
    # lương hưu" (voluntary scheme; counted on voluntary months, as before #23).
    voluntary_months=60,
    voluntary_counts_compulsory=False,
    voluntary_ref="điểm a khoản 1 Điều 80 Luật BHXH 2014",
    other_routes="điểm b, c khoản 1 Điều 66 và điểm b khoản 1 Điều 80 Luật BHXH 2014 (lương hưu, tai nạn lao động, bệnh nghề nghiệp)",
    amount_ref="khoản 2 Điều 66 Luật BHXH 2014: 10 lần mức lương cơ sở tại tháng người chết",
)

SI_LAW_2024 = FuneralRules(
    name="Luật BHXH 2024 (41/2024/QH15)",
    effective_from=date(2025, 7, 1),
    effective_until=None,
    legal_basis="Luật Bảo hiểm xã hội số 41/2024/QH15, Điều 85, Điều 109, Điều 111, Điều 3 khoản 6",
    # Điều 85.1: "a) Đối tượng quy định tại khoản 1 và khoản 2 Điều 2 của Luật này có thời gian đóng bảo hiểm xã
    # hội bắt buộc từ đủ 12 tháng trở lên; b) Chết do tai nạn lao động, bệnh nghề nghiệp ...; c) Người đang hưởng
    # hoặc đang tạm dừng hưởng lương hưu; người đang hưởng hoặc đang tạm dừng hưởng trợ cấp tai nạn lao động,
    # bệnh nghề nghiệp hằng tháng đã nghỉ việc."  Being employed at death no longer suffices.  Điều 111.1.c:
    # "Có từ đủ 12 tháng đóng bảo hiểm xã hội bắt buộc trở lên thì được hưởng trợ cấp mai táng theo chính sách
    # bảo hiểm xã hội bắt buộc."
    compulsory_months=12,
    compulsory_ref="điểm a khoản 1 Điều 85 Luật BHXH 2024",
    currently_contributing_suffices=False,
    current_ref="",
    # Điều 109.1: "a) Người có thời gian đóng bảo hiểm xã hội từ đủ 60 tháng trở lên; b) Người đang hưởng lương hưu,
    # tạm dừng hưởng lương hưu"; Điều 3.6: "Thời gian đóng bảo hiểm xã hội là tổng thời gian đã đóng bảo hiểm xã
    # hội bắt buộc, bảo hiểm xã hội tự nguyện".
    voluntary_months=60,
    voluntary_counts_compulsory=True,
    voluntary_ref="điểm a khoản 1 Điều 109 và khoản 6 Điều 3 Luật BHXH 2024",
    other_routes="điểm b, c khoản 1 Điều 85 và điểm b khoản 1 Điều 109 Luật BHXH 2024 (lương hưu, tai nạn lao động, bệnh nghề nghiệp)",
    # Điều 85.2: "Mức trợ cấp mai táng bằng 10 lần mức tham chiếu tại tháng mà người quy định tại khoản 1 Điều này chết."
    amount_ref="khoản 2 Điều 85 Luật BHXH 2024: 10 lần mức tham chiếu tại tháng người chết",
)

FUNERAL_RULES: tuple[FuneralRules, ...] = (SI_LAW_2014, SI_LAW_2024)


def funeral_rules_on(death_date: date, versions: Sequence[FuneralRules] = FUNERAL_RULES) -> FuneralRules:
    for r in versions:
        if r.covers(death_date):
            return r
    raise NoRuleInForce(f"không có quy định về trợ cấp mai táng áp dụng cho ngày chết {death_date:%d/%m/%Y}")


def funeral_allowance(death_date: date, table: Sequence[ReferenceSalary] | None = None) -> tuple[int, ReferenceSalary]:
    """(amount in VND, the reference level row used) for a death on ``death_date``: 10 × the reference level
    in force in the month of death (Luật BHXH 2014 Điều 66.2; Luật BHXH 2024 Điều 85.2, 109.2)."""
    row = reference_salary_on(death_date, table)
    rules = next((r for r in FUNERAL_RULES if r.covers(death_date)), SI_LAW_2014)
    return rules.multiplier * row.amount_vnd, row


@dataclass(frozen=True)
class Eligibility:
    status: str  # eligible, not_eligible, needs_review (an officer decides: pension / work accident)
    reason: str
    compulsory_months: int
    voluntary_months: int
    total_months: int = 0
    basis: str = ""  # the article the decision rests on
    rules: str = ""


def funeral_eligibility(periods: Sequence[Period], death_date: date, rules: FuneralRules | None = None) -> Eligibility:
    """Decide from the contribution history what the law lets the platform decide.

    Months are counted up to and including the month of death (an open period is taken as paid
    through that month).  Routes that need data this platform does not hold (pension, work
    accident or occupational disease) are left to a social-insurance officer: ``needs_review``.
    """
    rules = rules or funeral_rules_on(death_date)
    comp = contribution_months(periods, "bhxh_compulsory", death_date)
    vol = contribution_months(periods, "bhxh_voluntary", death_date)
    total = contribution_months(periods, ("bhxh_compulsory", "bhxh_voluntary"), death_date)
    death_month = month_start(death_date)
    common = dict(compulsory_months=comp, voluntary_months=vol, total_months=total, rules=rules.name)
    if rules.currently_contributing_suffices and any(
            p.scheme == "bhxh_compulsory" and month_start(p.from_month) <= death_month
            and (p.to_month is None or month_start(p.to_month) >= death_month) for p in periods):
        return Eligibility("eligible", "đang đóng bảo hiểm xã hội bắt buộc tại thời điểm chết", basis=rules.current_ref, **common)
    if comp >= rules.compulsory_months:
        return Eligibility("eligible", f"có {comp} tháng đóng bảo hiểm xã hội bắt buộc (từ đủ {rules.compulsory_months} "
                                       f"tháng trở lên)", basis=rules.compulsory_ref, **common)
    voluntary_count = total if rules.voluntary_counts_compulsory else vol
    if vol > 0 or rules.voluntary_counts_compulsory:
        if voluntary_count >= rules.voluntary_months:
            what = (f"có {voluntary_count} tháng đóng bảo hiểm xã hội ({comp} tháng bắt buộc và {vol} tháng tự nguyện)"
                    if rules.voluntary_counts_compulsory else f"có {vol} tháng đóng bảo hiểm xã hội tự nguyện")
            return Eligibility("eligible", f"{what}, từ đủ {rules.voluntary_months} tháng trở lên", basis=rules.voluntary_ref,
                               **common)
    history = ("không có quá trình đóng bảo hiểm xã hội trên hệ thống" if total == 0
               else f"quá trình đóng chưa đủ điều kiện ({comp} tháng bắt buộc, {vol} tháng tự nguyện)")
    if rules.undecided_goes_to_officer:
        return Eligibility("needs_review", f"{history}; cần cơ quan bảo hiểm xã hội xác định người chết có đang hưởng "
                                           f"lương hưu, trợ cấp tai nạn lao động, bệnh nghề nghiệp hằng tháng hoặc chết do "
                                           f"tai nạn lao động, bệnh nghề nghiệp ({rules.other_routes})", **common)
    return Eligibility("not_eligible", f"chưa đủ điều kiện: {history}", **common)


# --- under-6 BHYT card ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardRules:
    name: str
    effective_from: date
    effective_until: date | None
    method: str  # "law": Luật BHYT 16.3.d only; "decree_146": NĐ 146/2018 Điều 13.2
    basis: str
    verified: bool = True

    def covers(self, d: date) -> bool:
        return self.effective_from <= d and (self.effective_until is None or d < self.effective_until)


CARD_RULES: tuple[CardRules, ...] = (
    CardRules("Luật BHYT Điều 16.3.d (sửa đổi 2014)", date(2015, 1, 1), date(2018, 12, 1), "law",
              "điểm d khoản 3 Điều 16 Luật BHYT (sửa đổi bởi Luật 46/2014/QH13)"),
    CardRules("NĐ 146/2018/NĐ-CP Điều 13.2", date(2018, 12, 1), date(2025, 8, 15), "decree_146",
              "khoản 2 Điều 13 Nghị định 146/2018/NĐ-CP"),
    # NĐ 188/2025/NĐ-CP (01/07/2025) replaces NĐ 146/2018 from 15/08/2025 (Điều 70 khoản 4, 5); its
    # article on the under-6 card was not read: the NĐ 146 end date is kept and officers are warned.
    CardRules("NĐ 188/2025/NĐ-CP (giữ cách tính của NĐ 146/2018 Điều 13.2)", date(2025, 8, 15), None, "decree_146",
              "Nghị định 188/2025/NĐ-CP (điều khoản về thẻ trẻ em dưới 6 tuổi chưa đối chiếu); khoản 2 Điều 13 NĐ 146/2018",
              verified=False),
)


def card_rules_on(day: date, versions: Sequence[CardRules] = CARD_RULES) -> CardRules:
    for r in versions:
        if r.covers(day):
            return r
    raise NoRuleInForce(f"không có quy định về thời hạn thẻ BHYT trẻ em áp dụng cho ngày {day:%d/%m/%Y}")


@dataclass(frozen=True)
class CardValidity:
    valid_from: date
    valid_to: date  # the day the child turns 72 months (Luật BHYT 16.3.d, inclusive)
    extended_to: date | None  # the later end the decree / the school-year rule gives
    basis: str = ""

    @property
    def last_day(self) -> date:
        return self.extended_to or self.valid_to


def under6_card_validity(birth_date: date, on: date | None = None, rules: CardRules | None = None) -> CardValidity:
    """Validity of the free under-6 card issued on ``on`` (default: the birth date) for a child born on ``birth_date``.

    * Luật BHYT 16.3.d: "có giá trị sử dụng đến ngày trẻ đủ 72 tháng tuổi. Trường hợp trẻ đủ 72 tháng tuổi mà
      chưa đến kỳ nhập học thì ... đến ngày 30 tháng 9 của năm đó" (valid through the 72-month day; to 30/9
      when that day comes before the school year).
    * NĐ 146/2018 Điều 13.2: "a) Trường hợp trẻ em sinh trước ngày 30 tháng 9: Thẻ bảo hiểm y tế có giá trị sử
      dụng đến hết ngày 30 tháng 9 của năm trẻ đủ 72 tháng tuổi; b) Trường hợp trẻ sinh sau ngày 30 tháng 9:
      Thẻ bảo hiểm y tế có giá trị sử dụng đến hết ngày cuối của tháng trẻ đủ 72 tháng tuổi."  A child born
      on 30/9 gets 30/9 under either point.
    """
    rules = rules or card_rules_on(on or birth_date)
    turns_72 = add_months(birth_date, 72)
    if rules.method == "law":
        school = date(turns_72.year, 9, 30)
        end = school if turns_72 < school else turns_72
    else:
        if (birth_date.month, birth_date.day) < (9, 30):
            end = date(turns_72.year, 9, 30)
        else:
            end = date(turns_72.year, turns_72.month, monthrange(turns_72.year, turns_72.month)[1])
    return CardValidity(birth_date, turns_72, end if end > turns_72 else None, rules.name)


def card_valid_on(validity: CardValidity, day: date) -> bool:
    return validity.valid_from <= day <= validity.last_day


# --- social-assistance funeral support (NĐ 20/2021/NĐ-CP Điều 11) -----------------------------------------------------


@dataclass(frozen=True)
class SaStandardLevel:
    effective_from: date
    amount_vnd: int
    basis: str
    verified: bool = True


# NĐ 20/2021/NĐ-CP Điều 4 khoản 2: "Mức chuẩn trợ giúp xã hội áp dụng từ ngày 01 tháng 7 năm 2021 là 360.000
# đồng/tháng."  NĐ 76/2024/NĐ-CP (01/07/2024) amends NĐ 20/2021; the 500.000 đồng level is recalled, not read.
SA_STANDARD_LEVELS: tuple[SaStandardLevel, ...] = (
    SaStandardLevel(date(2021, 7, 1), 360_000, "khoản 2 Điều 4 NĐ 20/2021/NĐ-CP"),
    SaStandardLevel(date(2024, 7, 1), 500_000, "NĐ 76/2024/NĐ-CP sửa đổi Điều 4 NĐ 20/2021/NĐ-CP", verified=False),
)
SA_FUNERAL_MULTIPLIER = 20  # "tối thiểu bằng 20 lần mức chuẩn" (at least)


class SaCategory(StrEnum):
    """NĐ 20/2021 Điều 11 khoản 1: "a) Đối tượng quy định tại Điều 5 Nghị định này đang hưởng trợ cấp xã hội hàng
    tháng; b) Con của người đơn thân nghèo đang nuôi con quy định tại khoản 4 Điều 5 ...; c) Người từ đủ 80 tuổi
    đang hưởng trợ cấp tuất bảo hiểm xã hội hàng tháng, trợ cấp hàng tháng khác.\""""

    MONTHLY_SOCIAL_ALLOWANCE = "monthly_social_allowance"  # điểm a
    CHILD_OF_POOR_SINGLE_PARENT = "child_of_poor_single_parent"  # điểm b
    AGED_80_MONTHLY_ALLOWANCE = "aged_80_monthly_allowance"  # điểm c


SA_CATEGORY_VI = {
    SaCategory.MONTHLY_SOCIAL_ALLOWANCE: "đối tượng bảo trợ xã hội đang hưởng trợ cấp xã hội hằng tháng (điểm a khoản 1 Điều 11)",
    SaCategory.CHILD_OF_POOR_SINGLE_PARENT: "con của người đơn thân nghèo đang nuôi con (điểm b khoản 1 Điều 11)",
    SaCategory.AGED_80_MONTHLY_ALLOWANCE: "người từ đủ 80 tuổi đang hưởng trợ cấp tuất BHXH hằng tháng, trợ cấp hằng tháng "
                                          "khác (điểm c khoản 1 Điều 11)",
}


@dataclass(frozen=True)
class SaDecision:
    status: str  # eligible, not_eligible, higher_support_paid
    reason: str
    amount_vnd: int | None
    standard_vnd: int | None
    basis: str


def sa_standard_on(day: date, table: Sequence[SaStandardLevel] = SA_STANDARD_LEVELS) -> SaStandardLevel:
    current = None
    for row in table:
        if row.effective_from <= day:
            current = row
    if current is None:
        raise NoRuleInForce(f"không có mức chuẩn trợ giúp xã hội áp dụng cho ngày {day:%d/%m/%Y}")
    return current


def social_assistance_funeral(death_date: date, category: SaCategory | str | None, *, age_at_death: int | None = None,
                              higher_support_vnd: int | None = None, province_standard_vnd: int | None = None,
                              exclusive_with_other_support: bool = True,
                              table: Sequence[SaStandardLevel] = SA_STANDARD_LEVELS) -> SaDecision:
    """Funeral support for a social-assistance beneficiary (NĐ 20/2021 Điều 11).

    Amount: "tối thiểu bằng 20 lần mức chuẩn quy định tại khoản 2 Điều 4" (at least 20 × the standard level;
    a province may set a higher standard, Điều 4 khoản 3.a: ``province_standard_vnd``).  Điều 11.2: "Trường hợp
    đối tượng ... được hỗ trợ chi phí mai táng quy định tại nhiều văn bản khác nhau với các mức khác nhau thì chỉ
    được hưởng một mức cao nhất" (``higher_support_vnd``: e.g. the social-insurance funeral allowance paid;
    ``exclusive_with_other_support=False`` is the reading that pays both).
    """
    row = sa_standard_on(death_date, table)
    standard = max(row.amount_vnd, province_standard_vnd or 0)
    amount = SA_FUNERAL_MULTIPLIER * standard
    basis = f"khoản 2 Điều 11 NĐ 20/2021/NĐ-CP; mức chuẩn {standard:,} đồng ({row.basis})".replace(",", ".")
    if category is None:
        return SaDecision("not_eligible", "không thuộc đối tượng quy định tại khoản 1 Điều 11 NĐ 20/2021/NĐ-CP", None, standard, basis)
    category = SaCategory(category)
    if category is SaCategory.AGED_80_MONTHLY_ALLOWANCE and (age_at_death is None or age_at_death < 80):
        return SaDecision("not_eligible", "điểm c khoản 1 Điều 11 chỉ áp dụng cho người từ đủ 80 tuổi", None, standard, basis)
    if exclusive_with_other_support and higher_support_vnd is not None and higher_support_vnd >= amount:
        return SaDecision("higher_support_paid", f"đã được hưởng trợ cấp mai táng mức cao hơn ({higher_support_vnd:,} đồng); "
                          "chỉ được hưởng một mức cao nhất (khoản 2 Điều 11 NĐ 20/2021/NĐ-CP)".replace(",", "."),
                          None, standard, basis)
    return SaDecision("eligible", SA_CATEGORY_VI[category], amount, standard, basis)


# --- where the figures come from (lienthong.legal) ------------------------------------------------------------------

_SI_2024_TEXT = ("Luật BHXH 41/2024/QH15 (thông qua 29/6/2024, hiệu lực 01/7/2025), bản sao toàn văn: "
                 "github.com/teije05-art/clone-pjj-tax-legal-22dec data/tax_legal/.../Doc_Undated_Luat_Bao_hiem.md")

FIGURES: tuple[Figure, ...] = (
    Figure("insurance.base_salary_2019", "Base salary from 01/07/2019", "1.490.000 đ (NĐ 38/2019/NĐ-CP)", "configurable",
           "secondary copies (public payroll code, policy tables); decree text not read",
           "Mức lương cơ sở 1.490.000 đồng (NĐ 38/2019) lấy từ nguồn thứ cấp; chưa đối chiếu văn bản.",
           f"insurance.rules.REFERENCE_SALARY / {REFERENCE_LEVELS_ENV}"),
    Figure("insurance.base_salary_2023", "Base salary from 01/07/2023", "1.800.000 đ (NĐ 24/2023/NĐ-CP)", "configurable",
           "domain file S23, S25 (secondary)", "Mức lương cơ sở 1.800.000 đồng (NĐ 24/2023) lấy từ nguồn thứ cấp; chưa đối chiếu văn bản.",
           f"insurance.rules.REFERENCE_SALARY / {REFERENCE_LEVELS_ENV}"),
    Figure("insurance.base_salary_2024", "Base salary from 01/07/2024", "2.340.000 đ (NĐ 73/2024/NĐ-CP)", "configurable",
           "domain file S23; public payroll tables (NĐ 73/2024, 01/07/2024 - 30/06/2026)",
           "Mức lương cơ sở 2.340.000 đồng (NĐ 73/2024) lấy từ nguồn thứ cấp; chưa đối chiếu văn bản.",
           f"insurance.rules.REFERENCE_SALARY / {REFERENCE_LEVELS_ENV}"),
    Figure("insurance.base_salary_2026", "Base salary from 01/07/2026", "2.530.000 đ (NĐ 161/2026/NĐ-CP, 15/5/2026, Điều 3.2)",
           "configurable", "https://baochinhphu.vn/chinh-thuc-tang-luong-co-so-len-2530000-dong-thang-tu-01-7-2026-"
           "102260516214238878.htm; https://vanban.chinhphu.vn/?classid=1&docid=218107 (decree text not read)",
           "Mức lương cơ sở 2.530.000 đồng từ 01/7/2026 (NĐ 161/2026/NĐ-CP) theo Báo Chính phủ; chưa đọc nguyên văn nghị định.",
           f"insurance.rules.REFERENCE_SALARY / {REFERENCE_LEVELS_ENV}"),
    Figure("insurance.reference_level", "Reference level equals the base salary until it is abolished", "art. 141.13",
           "confirmed", f"Luật BHXH 2024 Điều 141 khoản 13, Điều 7; {_SI_2024_TEXT}"),
    Figure("insurance.funeral_2024", "Funeral allowance from 01/07/2025: ≥12 months compulsory; 60 months compulsory + voluntary; "
           "pensioners; 10 × reference level", "arts. 85, 109, 111, 3.6", "confirmed",
           f"Luật BHXH 2024 Điều 85, 109, 111 khoản 1 điểm c, Điều 3 khoản 6, Điều 5 khoản 7; {_SI_2024_TEXT}"),
    Figure("insurance.funeral_2014", "Funeral allowance before 01/07/2025 (Law 58/2014 arts. 66, 80)",
           "paying compulsory, or ≥12 months reserved; 60 months voluntary; 10 × base salary", "configurable",
           "vietbao.vn quoting Điều 66 (domain S22); Điều 80 recalled",
           "Điều kiện trợ cấp mai táng trước 01/7/2025 (Luật BHXH 2014 Điều 66, 80) theo bản trích dẫn thứ cấp; chưa "
           "đối chiếu nguyên văn.", "insurance.rules.SI_LAW_2014"),
    Figure("insurance.funeral_officer_path", "Pensioners / work accidents are decided by a social-insurance officer",
           "needs_review (not 'not eligible')", "confirmed",
           "Luật BHXH 2024 Điều 85 khoản 1 điểm b, c; Điều 109 khoản 1 điểm b (pension data not on the platform)"),
    Figure("insurance.card_law", "Under-6 card: to the 72-month day; to 30/9 when before the school year", "Luật BHYT 16.3.d",
           "confirmed", "Luật BHYT VBHN 22/VBHN-VPQH 2025 Điều 16 khoản 3 điểm d; https://thuvienphapluat.vn/van-ban/Bao-hiem/"
           "Van-ban-hop-nhat-22-VBHN-VPQH-2025-Luat-Bao-hiem-y-te-651354.aspx"),
    Figure("insurance.card_nd146", "Under-6 card end date (NĐ 146/2018 art. 13.2)", "born before 30/9: 30/9 of the 72-month "
           "year; after: last day of the 72-month month", "confirmed",
           "NĐ 146/2018/NĐ-CP Điều 13 khoản 2 (17/10/2018); https://thuvienphapluat.vn/hoi-dap-phap-luat/"
           "42D76-hd-xac-dinh-thoi-han-su-dung-the-bao-hiem-y-te-cua-tre-duoi-6-tuoi.html"),
    Figure("insurance.card_nd188", "Under-6 card end date from 15/08/2025 (NĐ 188/2025 replaces NĐ 146/2018)",
           "NĐ 146 art. 13.2 kept", "configurable",
           "NĐ 188/2025/NĐ-CP Điều 70 khoản 4, 5 (repeals NĐ 146/2018); https://vanban.chinhphu.vn/?pageid=27160&docid=214515 "
           "(article on the under-6 card not read)",
           "Thẻ BHYT trẻ em dưới 6 tuổi cấp từ 15/8/2025: NĐ 188/2025/NĐ-CP thay NĐ 146/2018 nhưng điều khoản về thời hạn "
           "thẻ chưa được đối chiếu; hệ thống giữ cách tính của Điều 13 NĐ 146/2018.", "insurance.rules.CARD_RULES"),
    Figure("insurance.card_nd146_start", "NĐ 146/2018 in force from", "01/12/2018", "configurable",
           "NĐ 146/2018/NĐ-CP ngày 17/10/2018 (effective date recalled)",
           "Ngày hiệu lực của NĐ 146/2018/NĐ-CP (01/12/2018) chưa đối chiếu; chỉ ảnh hưởng thẻ cấp năm 2018.",
           "insurance.rules.CARD_RULES"),
    Figure("insurance.sa_funeral", "Social-assistance funeral support: beneficiaries and at least 20 × standard level",
           "NĐ 20/2021 art. 11", "confirmed",
           "NĐ 20/2021/NĐ-CP Điều 4, 5, 11 (Bộ pháp điển, đề mục Chính sách trợ giúp xã hội đối với đối tượng bảo trợ xã hội)"),
    Figure("insurance.sa_standard_2024", "Social-assistance standard level from 01/07/2024", "500.000 đ (NĐ 76/2024/NĐ-CP)",
           "configurable", "NĐ 76/2024/NĐ-CP ngày 01/7/2024 amends NĐ 20/2021 (title seen; amount recalled)",
           "Mức chuẩn trợ giúp xã hội 500.000 đồng từ 01/7/2024 (NĐ 76/2024/NĐ-CP) chưa đối chiếu nguyên văn; mức hỗ trợ "
           "mai táng là mức tối thiểu, tỉnh có thể quy định cao hơn.", "insurance.rules.SA_STANDARD_LEVELS"),
    Figure("insurance.sa_exclusive", "Only the highest of several funeral supports is paid", "art. 11.2", "configurable",
           "NĐ 20/2021/NĐ-CP Điều 11 khoản 2 (whether the social-insurance allowance counts is a reading)",
           "Hỗ trợ chi phí mai táng (NĐ 20/2021) không chi khi đã hưởng trợ cấp mai táng BHXH mức cao hơn (khoản 2 Điều 11): "
           "đây là cách hiểu được cấu hình, cán bộ có thể quyết định khác.", "social_assistance_funeral(exclusive_with_other_support)"),
)


def officer_notes(*, death_date: date | None = None, card_issued_on: date | None = None,
                  social_assistance: bool = False) -> list[str]:
    """Warnings for the configurable figures a death case (allowance) or a birth case (card) depends on."""
    keys: list[str] = []
    if death_date is not None:
        try:
            row = reference_salary_on(death_date)
            key = {date(2019, 7, 1): "insurance.base_salary_2019", date(2023, 7, 1): "insurance.base_salary_2023",
                   date(2024, 7, 1): "insurance.base_salary_2024", date(2026, 7, 1): "insurance.base_salary_2026"}.get(
                       row.effective_from)
            if key is not None and row.source == "":  # a configured row replaces the packaged one: no warning
                keys.append(key)
        except NoRuleInForce:
            pass
        if death_date < SI_LAW_2024.effective_from:
            keys.append("insurance.funeral_2014")
        if social_assistance:
            keys += ["insurance.sa_exclusive"]
            if sa_standard_on(death_date).verified is False:
                keys.append("insurance.sa_standard_2024")
    if card_issued_on is not None:
        r = card_rules_on(card_issued_on)
        if not r.verified:
            keys.append("insurance.card_nd188")
        if date(2018, 10, 17) <= card_issued_on < date(2019, 1, 1):  # around the recalled start of NĐ 146/2018
            keys.append("insurance.card_nd146_start")
    return notes(keys)


def with_funeral_rules(rules: FuneralRules, **changes) -> FuneralRules:
    """A copy of a rule version with named parameters changed (e.g. ``undecided_goes_to_officer=False``)."""
    return replace(rules, **changes)


__all__.append("with_funeral_rules")
