"""Procedure rules for criminal-record certificates, versioned by application date.

Regimes (selected by :func:`rules_for`):

- ``law_28_2009_moj``  01/07/2010 - 28/02/2025: Luật Lý lịch tư pháp 28/2009/QH12, issued by Sở Tư pháp
  and Trung tâm LLTP quốc gia.
- ``law_28_2009_mps``  01/03/2025 - 30/06/2026: same law, issuance moved to Công an tỉnh and Cục Hồ sơ
  nghiệp vụ (Bộ Công an).
- ``law_107_2025``     from 01/07/2026: Luật 107/2025/QH15 amending the LLTP law (5 working days,
  applicants aged 16+, nobody may demand certificate No. 2, e-certificate of equal value).

Each fact carries a ``verified`` note ("src", "mem", "?"); unknown values are ``None`` and the
functions refuse (:class:`UnknownRuleError`) instead of inventing them.

Fees: :func:`fee_for` uses :data:`FEE_SCHEDULES` (TT 244/2016/TT-BTC) plus schedules supplied as data
(argument, or a JSON file named by ``$LIENTHONG_LLTP_FEES``).  TT 16/2025/TT-BTC replaced TT 244 but
its rates and start date were not retrieved: the period from :data:`TT16_2025_ASSUMED_FROM` has no
rates until someone supplies them, and :func:`fee_for` raises :class:`UnknownFeeError` there.

Record numbers: ``<agency code><year>/<5-digit sequence>`` (TT 13/2011 art. 5 as amended by
TT 16/2013), e.g. ``25HN2013/00001``; agency codes are data (:data:`AGENCY_CODES`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any, Mapping, Sequence

from lienthong.judicial.rules.expungement import age_on, fmt_date
from lienthong.legal import Figure, notes
from lienthong.workdays.calendar import VN_TZ, WorkCalendar, default_calendar

__all__ = [
    "AGENCY_CODES",
    "Application",
    "CertificateKind",
    "Channel",
    "DemandDecision",
    "Eligibility",
    "FEE_SCHEDULES",
    "FEES_ENV",
    "FeeCategory",
    "FeeQuote",
    "FeeSchedule",
    "ProcedureRules",
    "ProcessingDeadline",
    "REGIMES",
    "RecordNumber",
    "Representation",
    "Requester",
    "TT16_2025_ASSUMED_FROM",
    "UnknownFeeError",
    "UnknownRuleError",
    "eligibility",
    "fee_for",
    "format_record_number",
    "load_fee_schedules",
    "may_demand_certificate",
    "parse_record_number",
    "processing_deadline",
    "rules_for",
]


class CertificateKind(IntEnum):
    NO1 = 1  # Phiếu lý lịch tư pháp số 1
    NO2 = 2  # Phiếu lý lịch tư pháp số 2


class Requester(StrEnum):
    INDIVIDUAL = "individual"  # cá nhân, for their own record
    PROCEDURE_AGENCY = "procedure_agency"  # cơ quan tiến hành tố tụng
    STATE_AGENCY = "state_agency"  # cơ quan nhà nước, tổ chức chính trị, chính trị - xã hội


class Representation(StrEnum):
    SELF = "self"
    AUTHORISED = "authorised"  # ủy quyền
    GUARDIAN = "guardian"  # cha, mẹ, người giám hộ


class Channel(StrEnum):
    VNEID = "vneid"
    ONLINE = "online"  # Cổng dịch vụ công
    IN_PERSON = "in_person"
    POST = "post"


class UnknownRuleError(LookupError):
    """The rule needed is not known for this period (unverified law); supply it as data."""


class UnknownFeeError(UnknownRuleError):
    """No fee rates are configured for the application date."""


# ---------------------------------------------------------------------------------------------
# Procedure regimes
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProcedureRules:
    regime: str
    name: str
    effective_from: date
    effective_until: date | None
    legal_basis: str
    issuers: tuple[str, ...]
    standard_working_days: int
    extended_working_days: int | None  # None = unknown for this regime
    extended_cases: tuple[str, ...]
    urgent_hours: int | None
    urgent_requesters: tuple[Requester, ...]
    vneid_from: date | None
    vneid_no_record_working_days: int | None  # unverified pilot fast track
    min_applicant_age: int | None  # None = no minimum in the law
    guardian_below_age: int | None  # below this age a parent/guardian applies
    no1_delegable: bool
    no2_delegable: bool
    requester_kinds: tuple[tuple[Requester, tuple[CertificateKind, ...]], ...]
    agencies_get_information_not_certificate: bool
    no2_may_be_demanded: bool
    no1_demand_requires_legal_basis: bool
    electronic_equal_value: bool
    online_by_default: bool
    verified: tuple[tuple[str, str], ...] = ()

    def covers(self, d: date) -> bool:
        return self.effective_from <= d and (self.effective_until is None or d < self.effective_until)

    def kinds_for(self, requester: Requester) -> tuple[CertificateKind, ...]:
        for r, kinds in self.requester_kinds:
            if r is requester:
                return kinds
        return ()


_EXTENDED_28 = (
    "công dân Việt Nam đã cư trú ở nhiều nơi hoặc có thời gian cư trú ở nước ngoài",
    "người nước ngoài",
    "trường hợp phải xác minh về điều kiện đương nhiên được xóa án tích",
)

_LAW28_COMMON: dict[str, Any] = dict(
    legal_basis="Luật Lý lịch tư pháp số 28/2009/QH12; Nghị định 111/2010/NĐ-CP; Thông tư 13/2011/TT-BTP (sửa đổi)",
    standard_working_days=10,
    extended_working_days=15,
    extended_cases=_EXTENDED_28,
    urgent_hours=24,
    urgent_requesters=(Requester.PROCEDURE_AGENCY,),
    vneid_from=date(2024, 4, 22),
    vneid_no_record_working_days=3,
    min_applicant_age=None,
    guardian_below_age=14,
    no1_delegable=True,
    no2_delegable=False,
    requester_kinds=(
        (Requester.INDIVIDUAL, (CertificateKind.NO1, CertificateKind.NO2)),
        (Requester.PROCEDURE_AGENCY, (CertificateKind.NO2,)),
        (Requester.STATE_AGENCY, (CertificateKind.NO1,)),
    ),
    agencies_get_information_not_certificate=False,
    no2_may_be_demanded=True,
    no1_demand_requires_legal_basis=False,
    electronic_equal_value=True,
    online_by_default=False,
)
_LAW28_VERIFIED = (
    ("deadlines", "src: hdpl.moj.gov.vn (10 / 15 working days, 24 h urgent)"),
    ("vneid_no_record_working_days", "?: 3 working days for 'no record' not confirmed; VNeID pages say 10 working days"),
    ("vneid_from", "src: pilot Hà Nội / Thừa Thiên Huế 22/04/2024; nationwide 01/10/2024"),
    ("no1_delegable/no2_delegable", "mem: No. 1 through an authorised representative, No. 2 not"),
    ("guardian_below_age", "mem: parents/guardians apply for persons under 14"),
    ("electronic_equal_value", "src: Quy trình 570 e-certificate digitally signed, same legal value"),
)

LAW_28_MOJ = ProcedureRules(
    regime="law_28_2009_moj",
    name="Luật Lý lịch tư pháp 2009 (Bộ Tư pháp cấp phiếu)",
    effective_from=date(2010, 7, 1),
    effective_until=date(2025, 3, 1),
    issuers=("Trung tâm Lý lịch tư pháp quốc gia", "Sở Tư pháp"),
    verified=_LAW28_VERIFIED,
    **_LAW28_COMMON,
)

LAW_28_MPS = ProcedureRules(
    regime="law_28_2009_mps",
    name="Luật Lý lịch tư pháp 2009 (Bộ Công an cấp phiếu từ 01/03/2025)",
    effective_from=date(2025, 3, 1),
    effective_until=date(2026, 7, 1),
    issuers=("Cục Hồ sơ nghiệp vụ - Bộ Công an", "Công an cấp tỉnh"),
    verified=_LAW28_VERIFIED + (("issuers", "src: vnexpress / thanhnien, handover 01/03/2025"),),
    **_LAW28_COMMON,
)

LAW_107 = ProcedureRules(
    regime="law_107_2025",
    name="Luật Lý lịch tư pháp sửa đổi (Luật 107/2025/QH15)",
    effective_from=date(2026, 7, 1),
    effective_until=None,
    legal_basis="Luật Lý lịch tư pháp số 28/2009/QH12, sửa đổi, bổ sung bởi Luật số 107/2025/QH15",
    issuers=("Cục Hồ sơ nghiệp vụ - Bộ Công an", "Công an cấp tỉnh"),
    standard_working_days=5,
    extended_working_days=None,
    extended_cases=_EXTENDED_28,
    urgent_hours=24,
    urgent_requesters=(Requester.PROCEDURE_AGENCY,),
    vneid_from=date(2024, 4, 22),
    vneid_no_record_working_days=None,
    min_applicant_age=16,
    guardian_below_age=None,
    no1_delegable=True,
    no2_delegable=False,
    requester_kinds=((Requester.INDIVIDUAL, (CertificateKind.NO1, CertificateKind.NO2)),),
    agencies_get_information_not_certificate=True,
    no2_may_be_demanded=False,
    no1_demand_requires_legal_basis=True,
    electronic_equal_value=True,
    online_by_default=True,
    verified=(
        ("standard_working_days", "src: en.qdnd.vn 'shortened to five working days'"),
        ("extended_working_days", "?: not found for foreigners / verification cases; None -> refused"),
        ("urgent_hours", "?: 24 h kept from Law 28/2009 art. 46.1; agencies now request information"),
        ("min_applicant_age", "src: thanhnien.vn, individuals aged 16 or over"),
        ("no2_may_be_demanded", "src: kienthuc.net.vn / vnexpress: nobody may demand certificate No. 2"),
        ("no1_delegable", "?: delegation under the new law not confirmed"),
        ("electronic_equal_value", "src: dantri / tienphong: e-certificate equal to paper; VNeID display counts"),
    ),
)

REGIMES: tuple[ProcedureRules, ...] = (LAW_28_MOJ, LAW_28_MPS, LAW_107)


def rules_for(application_date: date, regimes: Sequence[ProcedureRules] = REGIMES) -> ProcedureRules:
    if isinstance(application_date, datetime):
        application_date = application_date.astimezone(VN_TZ).date() if application_date.tzinfo else application_date.date()
    for r in regimes:
        if r.covers(application_date):
            return r
    raise UnknownRuleError(f"không có quy định về cấp Phiếu lý lịch tư pháp áp dụng cho ngày {fmt_date(application_date)}")


# ---------------------------------------------------------------------------------------------
# Eligibility and demands
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Eligibility:
    allowed: bool
    reasons: tuple[str, ...]
    regime: str
    needs_guardian: bool = False


def eligibility(
    person_birth_date: date | None,
    application_date: date,
    kind: CertificateKind | int,
    *,
    requester: Requester = Requester.INDIVIDUAL,
    representation: Representation = Representation.SELF,
    rules: ProcedureRules | None = None,
) -> Eligibility:
    """Whether this requester may ask for certificate ``kind`` about the person on ``application_date``."""
    rules = rules or rules_for(application_date)
    kind = CertificateKind(kind)
    reasons: list[str] = []
    needs_guardian = False
    if requester is not Requester.INDIVIDUAL and rules.agencies_get_information_not_certificate:
        return Eligibility(False, (
            "Từ ngày 01/07/2026, cơ quan tiến hành tố tụng và cơ quan nhà nước, tổ chức yêu cầu cung cấp thông tin "
            "lý lịch tư pháp qua chia sẻ dữ liệu, không yêu cầu cấp Phiếu (Luật 107/2025/QH15).",
        ), rules.regime)
    if kind not in rules.kinds_for(requester):
        names = {Requester.INDIVIDUAL: "cá nhân", Requester.PROCEDURE_AGENCY: "cơ quan tiến hành tố tụng",
                 Requester.STATE_AGENCY: "cơ quan nhà nước, tổ chức chính trị, chính trị - xã hội"}
        reasons.append(f"{names[requester].capitalize()} không được yêu cầu cấp Phiếu lý lịch tư pháp số {int(kind)} ({rules.name}).")
    if requester is Requester.INDIVIDUAL:
        age = age_on(person_birth_date, application_date) if person_birth_date else None
        if rules.min_applicant_age is not None:
            if age is None:
                reasons.append("Thiếu ngày sinh để xác định độ tuổi người yêu cầu.")
            elif age < rules.min_applicant_age:
                reasons.append(f"Người yêu cầu phải từ đủ {rules.min_applicant_age} tuổi trở lên (hiện {age} tuổi).")
        if rules.guardian_below_age is not None and age is not None and age < rules.guardian_below_age:
            needs_guardian = True
            if representation is not Representation.GUARDIAN:
                reasons.append(f"Người dưới {rules.guardian_below_age} tuổi: cha, mẹ hoặc người giám hộ làm thủ tục.")
        elif representation is Representation.GUARDIAN:
            reasons.append("Chỉ cha, mẹ, người giám hộ của người chưa đủ tuổi mới làm thủ tục thay theo tư cách người giám hộ.")
        if representation is Representation.AUTHORISED:
            if kind is CertificateKind.NO2 and not rules.no2_delegable:
                reasons.append("Phiếu lý lịch tư pháp số 2 không được ủy quyền cho người khác yêu cầu cấp.")
            if kind is CertificateKind.NO1 and not rules.no1_delegable:
                reasons.append("Phiếu lý lịch tư pháp số 1 không được ủy quyền yêu cầu cấp theo quy định đang áp dụng.")
    return Eligibility(not reasons, tuple(reasons), rules.regime, needs_guardian)


@dataclass(frozen=True)
class DemandDecision:
    allowed: bool
    reason: str


def may_demand_certificate(
    kind: CertificateKind | int,
    on: date,
    *,
    legal_basis: str | None = None,
    rules: ProcedureRules | None = None,
) -> DemandDecision:
    """May an agency, organisation or person require an individual to produce certificate ``kind``?

    From 01/07/2026 nobody may demand No. 2, and No. 1 only where a law, NA resolution, ordinance,
    UBTVQH resolution or government decree/resolution says so (pass it as ``legal_basis``).
    """
    rules = rules or rules_for(on)
    kind = CertificateKind(kind)
    if kind is CertificateKind.NO2 and not rules.no2_may_be_demanded:
        return DemandDecision(False, "Không cơ quan, tổ chức, cá nhân nào được yêu cầu cá nhân nộp Phiếu lý lịch tư pháp số 2 (Luật 107/2025/QH15).")
    if kind is CertificateKind.NO1 and rules.no1_demand_requires_legal_basis and not legal_basis:
        return DemandDecision(False, "Chỉ được yêu cầu nộp Phiếu lý lịch tư pháp số 1 khi luật, nghị quyết của Quốc hội, pháp lệnh, "
                                     "nghị quyết của Ủy ban Thường vụ Quốc hội, nghị định, nghị quyết của Chính phủ có quy định; "
                                     "trường hợp khác khai thác thông tin qua chia sẻ dữ liệu.")
    basis = f" (căn cứ: {legal_basis})" if legal_basis else ""
    return DemandDecision(True, f"Được yêu cầu nộp Phiếu lý lịch tư pháp số {int(kind)}{basis}.")


# ---------------------------------------------------------------------------------------------
# Processing deadline
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Application:
    kind: CertificateKind
    requester: Requester = Requester.INDIVIDUAL
    channel: Channel = Channel.IN_PERSON
    foreigner: bool = False
    lived_in_several_places_or_abroad: bool = False
    needs_expungement_verification: bool = False
    urgent: bool = False
    no_record_fast_track: bool = False  # VNeID pilot "no record" fast track (unverified)

    @property
    def extended(self) -> bool:
        return self.foreigner or self.lived_in_several_places_or_abroad or self.needs_expungement_verification


@dataclass(frozen=True)
class ProcessingDeadline:
    due_at: datetime
    regime: str
    working_days: int | None
    hours: int | None
    basis: str
    verified: bool = True


def processing_deadline(
    application: Application,
    received_at: datetime,
    calendar: WorkCalendar | None = None,
    rules: ProcedureRules | None = None,
) -> ProcessingDeadline:
    """When the certificate is due, by the rules in force on the receipt date."""
    calendar = calendar or default_calendar()
    local = received_at.astimezone(calendar.tz) if received_at.tzinfo else received_at.replace(tzinfo=calendar.tz)
    rules = rules or rules_for(local.date())
    if application.urgent:
        if application.requester not in rules.urgent_requesters:
            raise ValueError("chỉ cơ quan tiến hành tố tụng được yêu cầu cấp Phiếu trong trường hợp khẩn cấp")
        if rules.urgent_hours is None:
            raise UnknownRuleError(f"chưa có quy định thời hạn khẩn cấp cho {rules.name}")
        due = calendar.deadline(local, hours=rules.urgent_hours)
        return ProcessingDeadline(due, rules.regime, None, rules.urgent_hours,
                                  f"Trường hợp khẩn cấp: không quá {rules.urgent_hours} giờ kể từ khi nhận yêu cầu ({rules.name}).")
    if application.extended:
        if rules.extended_working_days is None:
            raise UnknownRuleError(
                f"chưa xác định thời hạn kéo dài (người nước ngoài, cư trú nhiều nơi/ở nước ngoài, xác minh xóa án tích) theo {rules.name}; "
                "cần bổ sung quy định"
            )
        days = rules.extended_working_days
        cases = [c for c, flag in zip(rules.extended_cases, (
            application.lived_in_several_places_or_abroad, application.foreigner, application.needs_expungement_verification)) if flag]
        basis = f"Không quá {days} ngày làm việc ({'; '.join(cases)})."
        return ProcessingDeadline(calendar.deadline(local, days), rules.regime, days, None, basis)
    if (
        application.no_record_fast_track
        and application.channel is Channel.VNEID
        and rules.vneid_no_record_working_days is not None
        and rules.vneid_from is not None
        and local.date() >= rules.vneid_from
    ):
        days = rules.vneid_no_record_working_days
        return ProcessingDeadline(calendar.deadline(local, days), rules.regime, days, None,
                                  f"Thí điểm VNeID, người không có án tích: {days} ngày làm việc (chưa được xác minh).", verified=False)
    days = rules.standard_working_days
    return ProcessingDeadline(calendar.deadline(local, days), rules.regime, days, None,
                              f"Không quá {days} ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ ({rules.name}).")


# ---------------------------------------------------------------------------------------------
# Fees
# ---------------------------------------------------------------------------------------------
class FeeCategory(StrEnum):
    STANDARD = "standard"
    STUDENT = "student"  # học sinh, sinh viên
    MERITORIOUS = "meritorious"  # người có công với cách mạng
    MARTYR_RELATIVE = "martyr_relative"  # thân nhân liệt sĩ
    CHILD = "child"  # trẻ em (Luật Trẻ em: dưới 16 tuổi)
    ELDERLY = "elderly"  # người cao tuổi
    DISABLED = "disabled"  # người khuyết tật
    POOR_HOUSEHOLD = "poor_household"  # người thuộc hộ nghèo
    DIFFICULT_COMMUNE = "difficult_commune"  # cư trú tại xã đặc biệt khó khăn ...


@dataclass(frozen=True)
class FeeSchedule:
    name: str
    valid_from: date
    valid_until: date | None
    standard_vnd: int | None  # None = rates unknown: fee_for refuses
    reduced_vnd: int | None = None
    reduced_categories: tuple[FeeCategory, ...] = ()
    exempt_categories: tuple[FeeCategory, ...] = ()
    extra_per_copy_vnd: int = 0
    extra_from_copy: int = 3
    verified: tuple[tuple[str, str], ...] = ()

    def covers(self, d: date) -> bool:
        return self.valid_from <= d and (self.valid_until is None or d < self.valid_until)


# [?] TT 16/2025/TT-BTC replaced TT 244/2016; its start date was not retrieved.  It is assumed here to
# coincide with the transfer of issuance to the police (01/03/2025): from then on rates must be supplied.
TT16_2025_ASSUMED_FROM = date(2025, 3, 1)

TT_244_2016 = FeeSchedule(
    name="Thông tư 244/2016/TT-BTC",
    valid_from=date(2017, 1, 1),
    valid_until=TT16_2025_ASSUMED_FROM,
    standard_vnd=200_000,
    reduced_vnd=100_000,
    reduced_categories=(FeeCategory.STUDENT, FeeCategory.MERITORIOUS, FeeCategory.MARTYR_RELATIVE),
    exempt_categories=(FeeCategory.CHILD, FeeCategory.ELDERLY, FeeCategory.DISABLED, FeeCategory.POOR_HOUSEHOLD,
                       FeeCategory.DIFFICULT_COMMUNE),
    extra_per_copy_vnd=5_000,
    extra_from_copy=3,
    verified=(
        ("rates", "src: thuvienphapluat hỏi đáp 59130 (200.000 / 100.000 / +5.000 from the 3rd)"),
        ("exempt_categories", "mem: TT 244 art. 5 exemption list"),
        ("valid_from", "mem: TT 244/2016 in force 01/01/2017"),
        ("valid_until", "?: start of TT 16/2025/TT-BTC not retrieved; assumed 01/03/2025"),
    ),
)

TT_16_2025 = FeeSchedule(
    name="Thông tư 16/2025/TT-BTC",
    valid_from=TT16_2025_ASSUMED_FROM,
    valid_until=None,
    standard_vnd=None,
    verified=(("rates", "?: title only seen; rates must be supplied as data"),),
)

FEE_SCHEDULES: tuple[FeeSchedule, ...] = (TT_244_2016, TT_16_2025)
FEES_ENV = "LIENTHONG_LLTP_FEES"


def load_fee_schedules(source: str | Path | Sequence[Mapping[str, Any]]) -> tuple[FeeSchedule, ...]:
    """Fee schedules from JSON (a path, or the parsed list).  Each item::

        {"name": "Thông tư 16/2025/TT-BTC", "valid_from": "2025-..", "valid_until": null,
         "standard_vnd": ..., "reduced_vnd": ..., "reduced_categories": ["student", ...],
         "exempt_categories": [...], "extra_per_copy_vnd": ..., "extra_from_copy": 3,
         "verified": {"rates": "src: ..."}}
    """
    items = json.loads(Path(source).read_text("utf-8")) if isinstance(source, (str, Path)) else source
    out = []
    for it in items:
        out.append(FeeSchedule(
            name=it["name"],
            valid_from=date.fromisoformat(it["valid_from"]),
            valid_until=date.fromisoformat(it["valid_until"]) if it.get("valid_until") else None,
            standard_vnd=it.get("standard_vnd"),
            reduced_vnd=it.get("reduced_vnd"),
            reduced_categories=tuple(FeeCategory(x) for x in it.get("reduced_categories", ())),
            exempt_categories=tuple(FeeCategory(x) for x in it.get("exempt_categories", ())),
            extra_per_copy_vnd=int(it.get("extra_per_copy_vnd", 0)),
            extra_from_copy=int(it.get("extra_from_copy", 3)),
            verified=tuple((k, v) for k, v in (it.get("verified") or {}).items()),
        ))
    return tuple(out)


def _default_schedules() -> tuple[FeeSchedule, ...]:
    path = os.environ.get(FEES_ENV)
    supplied = load_fee_schedules(path) if path else ()
    return supplied + FEE_SCHEDULES  # supplied schedules win (first match)


@dataclass(frozen=True)
class FeeQuote:
    amount_vnd: int
    per_certificate_vnd: int
    extra_vnd: int
    copies: int
    schedule: str
    category: FeeCategory
    explanation: str


def fee_for(
    application_date: date,
    category: FeeCategory | str = FeeCategory.STANDARD,
    copies: int = 1,
    schedules: Sequence[FeeSchedule] | None = None,
) -> FeeQuote:
    """Fee for one request of ``copies`` certificates; :class:`UnknownFeeError` when no rates are known.

    ``schedules`` are tried in order (first covering one wins); default: ``$LIENTHONG_LLTP_FEES``
    schedules, then :data:`FEE_SCHEDULES`.
    """
    if copies < 1:
        raise ValueError("copies must be >= 1")
    category = FeeCategory(category)
    schedules = _default_schedules() if schedules is None else tuple(schedules)
    sched = next((s for s in schedules if s.covers(application_date)), None)
    if sched is None or sched.standard_vnd is None:
        which = sched.name if sched else "không có biểu phí"
        raise UnknownFeeError(
            f"chưa có mức thu phí cung cấp thông tin lý lịch tư pháp áp dụng cho ngày {fmt_date(application_date)} ({which}); "
            f"cần cấu hình biểu phí (biến môi trường {FEES_ENV})"
        )
    extra_copies = max(0, copies - (sched.extra_from_copy - 1))
    if category in sched.exempt_categories:
        return FeeQuote(0, 0, 0, copies, sched.name, category, f"Miễn phí ({sched.name}).")
    if category in sched.reduced_categories:
        if sched.reduced_vnd is None:
            raise UnknownFeeError(f"chưa có mức thu giảm cho {category.value} theo {sched.name}")
        per = sched.reduced_vnd
    else:
        per = sched.standard_vnd
    extra = extra_copies * sched.extra_per_copy_vnd
    text = f"{per:,} đồng/lần yêu cầu".replace(",", ".")
    if extra:
        text += f", thêm {sched.extra_per_copy_vnd:,} đồng/Phiếu từ Phiếu thứ {sched.extra_from_copy} ({extra_copies} Phiếu)".replace(",", ".")
    return FeeQuote(per + extra, per, extra, copies, sched.name, category, f"{text} ({sched.name}).")


# ---------------------------------------------------------------------------------------------
# Record numbers
# ---------------------------------------------------------------------------------------------
# Agency codes as data.  Only the Hà Nội example is sourced (§1.1, TT 13/2011 art. 5 as amended by
# TT 16/2013); extend with the official list (and the police codes used since 01/03/2025) [?].
AGENCY_CODES: dict[str, str] = {
    "25HN": "Sở Tư pháp thành phố Hà Nội",
}

_RECORD_RE = re.compile(r"^(?P<agency>[0-9A-ZĐ]+)(?P<year>\d{4})/(?P<seq>\d{5,})$")


@dataclass(frozen=True)
class RecordNumber:
    agency_code: str
    year: int
    sequence: int

    def __str__(self) -> str:
        return format_record_number(self.agency_code, self.year, self.sequence, agency_codes=None)


def format_record_number(
    agency_code: str,
    year: int,
    sequence: int,
    *,
    digits: int = 5,
    agency_codes: Mapping[str, str] | None = AGENCY_CODES,
) -> str:
    """``<agency code><year>/<sequence zero-padded to 5>``; the sequence restarts every 1 January.

    ``agency_codes=None`` skips the check against the known codes.
    """
    if agency_codes is not None and agency_code not in agency_codes:
        raise ValueError(f"mã cơ quan {agency_code!r} không có trong danh mục")
    if not re.fullmatch(r"[0-9A-ZĐ]+", agency_code) or not agency_code[-1:].isalpha():
        raise ValueError("mã cơ quan phải gồm chữ in hoa/chữ số và kết thúc bằng chữ cái")
    if not 1000 <= year <= 9999:
        raise ValueError("năm phải có 4 chữ số")
    if not 1 <= sequence < 10**digits:
        raise ValueError(f"số thứ tự phải từ 1 đến {10**digits - 1}")
    return f"{agency_code}{year:04d}/{sequence:0{digits}d}"


def parse_record_number(text: str, *, agency_codes: Mapping[str, str] | None = None) -> RecordNumber:
    """Inverse of :func:`format_record_number` (agency code must end with a letter so the year is unambiguous)."""
    m = _RECORD_RE.match(text.strip())
    if not m or not m.group("agency")[-1].isalpha():
        raise ValueError(f"số Phiếu lý lịch tư pháp không đúng định dạng: {text!r}")
    agency = m.group("agency")
    if agency_codes is not None and agency not in agency_codes:
        raise ValueError(f"mã cơ quan {agency!r} không có trong danh mục")
    seq = int(m.group("seq"))
    if seq < 1:
        raise ValueError("số thứ tự phải từ 1")
    return RecordNumber(agency, int(m.group("year")), seq)


# ---------------------------------------------------------------------------------------------
# Where each figure comes from (lienthong.legal); warnings shown on the officer's case page
# ---------------------------------------------------------------------------------------------

_NEWS_107 = ("Luật 107/2025/QH15 (thông qua 05/12/2025, hiệu lực 01/07/2026) - văn bản chưa đọc được; theo tin "
             "en.qdnd.vn, thanhnien.vn, dantri.com.vn, vnexpress.net (05-09/12/2025)")

FIGURES: tuple[Figure, ...] = (
    Figure("procedure.law28_deadlines", "Certificate deadlines under Law 28/2009", "10 / 15 working days; 24 h urgent",
           "confirmed", "Luật Lý lịch tư pháp 2009 Điều 46 khoản 1, Điều 48; Bộ Tư pháp, hdpl.moj.gov.vn ItemID=86968"),
    Figure("procedure.issuer_transfer", "Issuance moves to the Ministry of Public Security", "from 01/03/2025",
           "configurable", "vnexpress.net bo-cong-an-dam-nhan-cap-phieu-ly-lich-tu-phap-tu-ngay-1-3-4854560 (news)",
           "Việc chuyển thẩm quyền cấp Phiếu sang Công an từ 01/03/2025 lấy theo tin báo chí; chưa đối chiếu văn bản.",
           "procedure.REGIMES (effective dates)"),
    Figure("procedure.vneid_fast_track", "VNeID pilot 'no record' fast track", "3 working days (off unless flagged)",
           "configurable", "not found in any source; VNeID guides say 10 working days (chobinhtay.gov.vn)",
           "Thời hạn rút gọn 3 ngày làm việc cho người không có án tích (thí điểm VNeID) chưa được xác minh; hồ sơ vẫn "
           "được tính theo thời hạn chung trừ khi được đánh dấu.", "ProcedureRules.vneid_no_record_working_days"),
    Figure("procedure.law107_standard", "Standard deadline under Law 107/2025", "5 working days", "configurable", _NEWS_107,
           "Thời hạn 5 ngày làm việc theo Luật 107/2025/QH15 lấy từ tin báo chí về luật được thông qua; chưa đối chiếu "
           "văn bản luật.", "procedure.LAW_107.standard_working_days"),
    Figure("procedure.law107_extended", "Extended deadline under Law 107/2025 (foreigners, verification)", "unknown: refused",
           "configurable", _NEWS_107,
           "Luật 107/2025/QH15: chưa xác định thời hạn kéo dài (người nước ngoài, cần xác minh xóa án tích); hệ thống giữ "
           "thời hạn chung và ghi chú vào hồ sơ.", "procedure.LAW_107.extended_working_days"),
    Figure("procedure.law107_urgent", "Urgent 24 h under Law 107/2025", "24 hours (kept from Law 28/2009)", "configurable",
           _NEWS_107, "Thời hạn khẩn cấp 24 giờ theo Luật 107/2025/QH15 giữ như Luật 2009; chưa đối chiếu văn bản.",
           "procedure.LAW_107.urgent_hours"),
    Figure("procedure.law107_applicants", "Law 107/2025: applicants 16+, nobody may demand No. 2", "16 years; No. 2 not demandable",
           "configurable", _NEWS_107,
           "Điều kiện người yêu cầu từ đủ 16 tuổi và cấm yêu cầu nộp Phiếu số 2 (Luật 107/2025/QH15) lấy từ tin báo chí; "
           "chưa đối chiếu văn bản.", "procedure.LAW_107.min_applicant_age / no2_may_be_demanded"),
    Figure("procedure.delegation", "No. 1 may be requested through an authorised person, No. 2 not", "no1 yes, no2 no",
           "configurable", "Luật LLTP 2009 Điều 45 (recalled; text not read)",
           "Quy định ủy quyền yêu cầu cấp Phiếu (số 1 được ủy quyền, số 2 không) chưa được đối chiếu văn bản.",
           "ProcedureRules.no1_delegable / no2_delegable"),
    Figure("procedure.guardian_age", "Parents/guardians apply for persons under 14 (Law 28/2009)", "14", "configurable",
           "Luật LLTP 2009 (recalled; text not read)",
           "Người dưới 14 tuổi do cha, mẹ, người giám hộ làm thủ tục: quy định chưa được đối chiếu văn bản.",
           "ProcedureRules.guardian_below_age"),
    Figure("procedure.fees_tt244", "Fees TT 244/2016/TT-BTC", "200.000 / 100.000 đ, +5.000 đ from the 3rd copy; exemptions",
           "configurable", "thuvienphapluat.vn hỏi đáp 59130 (rates); exemption list recalled",
           "Mức phí và đối tượng miễn theo Thông tư 244/2016/TT-BTC: mức phí lấy từ trang hỏi đáp, danh sách miễn phí chưa "
           "đối chiếu văn bản.", f"environment variable {FEES_ENV}"),
    Figure("procedure.fees_tt16_2025", "Fees TT 16/2025/TT-BTC", "no rates: refused until supplied", "configurable",
           "title only seen (hcc.nghean.gov.vn)",
           "Thông tư 16/2025/TT-BTC thay thế biểu phí nhưng chưa có mức thu trong hệ thống; cần cấu hình biểu phí.",
           f"environment variable {FEES_ENV}"),
    Figure("procedure.agency_codes", "Record-number agency codes", "only 25HN known", "configurable",
           "TT 13/2011 Điều 5 sửa đổi bởi TT 16/2013 (example only)",
           "Danh mục mã cơ quan cấp Phiếu mới có ví dụ 25HN; mã các cơ quan Công an cần bổ sung.", "procedure.AGENCY_CODES"),
)


def officer_notes(application_date: date, *, extended: bool = False, fast_track: bool = False,
                  fee: bool = True) -> list[str]:
    """Warnings for the configurable procedure figures a case received on ``application_date`` uses
    (``fee``: the fee schedule in force that day; the record-number agency codes are always used)."""
    rules = rules_for(application_date)
    keys: list[str] = ["procedure.agency_codes"]
    if fee:
        keys.append("procedure.fees_tt244" if TT_244_2016.covers(application_date) else "procedure.fees_tt16_2025")
    if rules.regime in ("law_28_2009_mps", "law_107_2025"):
        keys.append("procedure.issuer_transfer")
    if rules.regime == "law_107_2025":
        keys += ["procedure.law107_standard", "procedure.law107_applicants"]
        if extended:
            keys.append("procedure.law107_extended")
    if fast_track:
        keys.append("procedure.vneid_fast_track")
    return notes(keys)


__all__ += ["FIGURES", "officer_notes"]
