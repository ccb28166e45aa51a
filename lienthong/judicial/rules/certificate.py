"""What certificate No. 1 and No. 2 show (Law 28/2009 arts. 42, 43; kept by Law 107/2025).

:func:`certificate_content` is pure: it takes the person, their convictions and bankruptcy-related
bans, runs the expungement engine on ``on`` and returns structured content (labels in Vietnamese,
in the order of the forms).  Rendering (paper/PDF/e-certificate) is somebody else's job.

- **No. 1**: identity (name, sex, date and place of birth, nationality, residence, ID/passport);
  only convictions **not expunged** (and in force), each with offence, principal and additional
  penalties; "Không có án tích" when none.  Ban information only when ``include_ban_info``; it then
  states the bans in force on ``on`` (or that there is none) [mem: "currently banned" reading].
- **No. 2**: identity plus father, mother, spouse; **every** conviction in force, expunged or not,
  with judgment date, number, court, offence and article/clause, penalties, civil obligations, court
  fee, enforcement status and expungement status; ban information always (every ban with its term).
  Field list from the form structure [mem; wording not verified].
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Sequence

from lienthong.judicial.rules.expungement import (
    ADDITIONAL_PENALTY_VI,
    AdditionalPenalty,
    Basis,
    Conviction,
    ExpungementResult,
    ExpungementRules,
    PenaltyType,
    Person,
    add_months,
    explain,
    fmt_date,
    fmt_months,
)
from lienthong.judicial.rules.procedure import CertificateKind, UnknownRuleError, rules_for
from lienthong.legal import Figure, notes

__all__ = ["Ban", "BanEntry", "CertificateContent", "ConvictionEntry", "certificate_content", "NO_RECORD_TEXT", "NO_BAN_TEXT"]

NO_RECORD_TEXT = "Không có án tích"
HAS_RECORD_TEXT = "Có án tích"
NO_BAN_TEXT = "Không bị cấm đảm nhiệm chức vụ, thành lập, quản lý doanh nghiệp, hợp tác xã"


@dataclass(frozen=True)
class Ban:
    """Court ban on holding posts / founding or managing an enterprise or co-operative after bankruptcy."""

    content: str  # e.g. "Cấm đảm nhiệm chức vụ giám đốc, thành lập, quản lý doanh nghiệp"
    court: str
    decision_number: str
    decision_date: date
    start_date: date
    duration_months: int | None = None
    end_date: date | None = None

    def ends_on(self) -> date | None:
        if self.end_date is not None:
            return self.end_date
        return add_months(self.start_date, self.duration_months) if self.duration_months is not None else None

    def active_on(self, d: date) -> bool:
        end = self.ends_on()
        return self.start_date <= d and (end is None or d < end)


@dataclass(frozen=True)
class BanEntry:
    content: str
    court: str | None
    decision_number: str | None
    decision_date: date | None
    term: str
    active: bool


@dataclass(frozen=True)
class ConvictionEntry:
    conviction_id: str
    offences: tuple[str, ...]  # tội danh (No. 2: with điều, khoản)
    principal_penalty: str
    additional_penalties: tuple[str, ...]
    # No. 2 only (None on No. 1)
    judgment_date: date | None = None
    judgment_number: str | None = None
    court: str | None = None
    civil_obligations: str | None = None
    court_fee: str | None = None
    enforcement_status: str | None = None
    expungement_status: str | None = None
    expunged_on: date | None = None


@dataclass(frozen=True)
class CertificateContent:
    kind: CertificateKind
    on: date
    regime: str
    identity: tuple[tuple[str, str], ...]
    criminal_status: str
    convictions: tuple[ConvictionEntry, ...]
    ban_status: str | None  # None = not printed (No. 1 without request)
    bans: tuple[BanEntry, ...]
    electronic_equal_value: bool
    results: tuple[ExpungementResult, ...]


def _vnd(n: int) -> str:
    return f"{n:,}".replace(",", ".") + " đồng"


def principal_text(c: Conviction) -> str:
    p = c.penalty
    if p is PenaltyType.IMPRISONMENT:
        t = f"{fmt_months(c.term_months)} tù" if c.term_months is not None else "Phạt tù"
        if c.suspended:
            t += " cho hưởng án treo"
            if c.probation_months is not None:
                t += f", thời gian thử thách {fmt_months(c.probation_months)}"
        return t
    if p is PenaltyType.FINE:
        return f"Phạt tiền {_vnd(c.fine_vnd)}" if c.fine_vnd is not None else "Phạt tiền"
    if p is PenaltyType.NON_CUSTODIAL_REFORM:
        return f"Cải tạo không giam giữ {fmt_months(c.term_months)}" if c.term_months is not None else "Cải tạo không giam giữ"
    return {
        PenaltyType.WARNING: "Cảnh cáo",
        PenaltyType.EXPULSION: "Trục xuất",
        PenaltyType.LIFE: "Tù chung thân",
        PenaltyType.DEATH: "Tử hình" + (" (đã được giảm án)" if c.death_commuted else ""),
        PenaltyType.EXEMPTED: "Miễn hình phạt",
        PenaltyType.JUDICIAL_MEASURE: "Áp dụng biện pháp tư pháp",
    }[p]


def additional_text(ap: AdditionalPenalty) -> str:
    t = ap.description or ADDITIONAL_PENALTY_VI[ap.kind].capitalize()
    if ap.months is not None:
        t += f" {fmt_months(ap.months)}"
    if ap.amount_vnd is not None:
        t += f" {_vnd(ap.amount_vnd)}"
    return t


def _status_text(r: ExpungementResult) -> str:
    if r.basis in (Basis.NO_RECORD, Basis.MINOR_NEVER_RECORD):
        ref = "khoản 2 Điều 69" if r.basis is Basis.NO_RECORD else "khoản 1 Điều 107"
        return f"Không bị coi là có án tích ({ref} Bộ luật Hình sự)"
    if r.expunged:
        return f"Đã được xóa án tích ngày {fmt_date(r.since)}"
    return "Chưa được xóa án tích"


def certificate_content(
    kind: CertificateKind | int,
    person: Person,
    convictions: Sequence[Conviction],
    bans: Sequence[Ban],
    on: date,
    include_ban_info: bool = False,
    *,
    rules: ExpungementRules | None = None,
) -> CertificateContent:
    kind = CertificateKind(kind)
    try:
        proc = rules_for(on)
        regime, e_equal = proc.regime, proc.electronic_equal_value
    except UnknownRuleError:
        regime, e_equal = "unknown", False
    exp = explain(person, convictions, on, rules)
    by_id = {r.conviction_id: r for r in exp.results}

    identity: list[tuple[str, str]] = [
        ("Họ và tên", person.full_name),
        ("Giới tính", person.sex),
        ("Ngày, tháng, năm sinh", fmt_date(person.birth_date)),
        ("Nơi sinh", person.place_of_birth),
        ("Quốc tịch", person.nationality),
        ("Nơi cư trú", person.residence),
        ("Số định danh cá nhân/CCCD/Hộ chiếu", person.id_number),
    ]
    if kind is CertificateKind.NO2:
        identity += [
            ("Họ và tên cha", person.father_name),
            ("Họ và tên mẹ", person.mother_name),
            ("Họ và tên vợ/chồng", person.spouse_name),
        ]

    entries: list[ConvictionEntry] = []
    for c in sorted(convictions, key=lambda c: (c.judgment_date, c.id)):
        r = by_id[c.id]
        if not r.in_force:
            continue
        if kind is CertificateKind.NO1:
            if not r.counts_as_record:
                continue
            entries.append(ConvictionEntry(
                c.id,
                tuple(o.name for o in c.offences),
                principal_text(c),
                tuple(additional_text(a) for a in c.additional_penalties),
            ))
        else:
            offences = tuple(
                f"{o.name} ({o.article_text()} Bộ luật Hình sự)" if o.article is not None else o.name for o in c.offences
            )
            entries.append(ConvictionEntry(
                c.id, offences, principal_text(c), tuple(additional_text(a) for a in c.additional_penalties),
                judgment_date=c.judgment_date, judgment_number=c.judgment_number, court=c.court,
                civil_obligations=c.civil_obligations, court_fee=c.court_fee, enforcement_status=c.enforcement_status,
                expungement_status=_status_text(r), expunged_on=r.since if r.expunged else None,
            ))

    if kind is CertificateKind.NO1:
        status = HAS_RECORD_TEXT if entries else NO_RECORD_TEXT
    elif not entries:
        status = NO_RECORD_TEXT
    elif exp.has_record:
        status = HAS_RECORD_TEXT
    else:
        status = "Đã bị kết án; án tích đã được xóa hoặc không bị coi là có án tích"

    ban_status: str | None = None
    ban_entries: list[BanEntry] = []
    if kind is CertificateKind.NO2 or include_ban_info:
        shown = [b for b in bans if b.start_date <= on and (kind is CertificateKind.NO2 or b.active_on(on))]
        for b in sorted(shown, key=lambda b: b.decision_date):
            end = b.ends_on()
            term = (f"{fmt_months(b.duration_months)}, " if b.duration_months is not None else "") + \
                f"từ {fmt_date(b.start_date)} đến {fmt_date(end) if end else 'không xác định'}"
            if kind is CertificateKind.NO2:
                ban_entries.append(BanEntry(b.content, b.court, b.decision_number, b.decision_date, term, b.active_on(on)))
            else:
                ban_entries.append(BanEntry(b.content, None, None, None, term, True))
        if kind is CertificateKind.NO1:
            ban_status = "Bị cấm đảm nhiệm chức vụ, thành lập, quản lý doanh nghiệp, hợp tác xã" if ban_entries else NO_BAN_TEXT
        else:
            active = any(e.active for e in ban_entries)
            ban_status = "Bị cấm đảm nhiệm chức vụ, thành lập, quản lý doanh nghiệp, hợp tác xã" if active else (
                NO_BAN_TEXT if not ban_entries else NO_BAN_TEXT + " (các lệnh cấm đã hết thời hạn)")

    return CertificateContent(kind, on, regime, tuple(identity), status, tuple(entries), ban_status, tuple(ban_entries), e_equal, exp.results)


# ---------------------------------------------------------------------------------------------
# Where each figure comes from (lienthong.legal)
# ---------------------------------------------------------------------------------------------

FIGURES: tuple[Figure, ...] = (
    Figure("certificate.no1_content", "Certificate No. 1 prints only unexpunged convictions", "art. 42 Law 28/2009",
           "configurable", "xuatnhapcanhvietnam.com summary of Luật LLTP 2009 Điều 42; pbgdpl.camau.gov.vn (how to write it)",
           "Nội dung Phiếu số 1 (chỉ ghi án tích chưa được xóa) theo bản tóm tắt Điều 42 Luật LLTP; chưa đối chiếu nguyên văn.",
           "certificate.certificate_content"),
    Figure("certificate.no2_fields", "Certificate No. 2 field list", "identity + parents/spouse, every conviction with details",
           "configurable", "Luật LLTP 2009 Điều 43 (recalled; form structure)",
           "Danh sách trường thông tin của Phiếu số 2 theo cấu trúc mẫu phiếu; chưa đối chiếu nguyên văn Điều 43.",
           "certificate.certificate_content"),
    Figure("certificate.ban_reading", "No. 1 with ban information shows bans in force on the date", "bans active on the date",
           "configurable", "Luật LLTP 2009 Điều 42 khoản 3 (recalled)",
           "Phiếu số 1 có yêu cầu ghi thông tin cấm đảm nhiệm chức vụ: hệ thống chỉ ghi lệnh cấm còn hiệu lực vào ngày cấp.",
           "certificate.certificate_content"),
)



def officer_notes(kind: int | CertificateKind, *, with_bans: bool = False) -> list[str]:
    """Warnings for the configurable figures the content of a certificate of ``kind`` depends on."""
    keys = ["certificate.no1_content" if int(kind) == 1 else "certificate.no2_fields"]
    if with_bans and int(kind) == 1:
        keys.append("certificate.ban_reading")
    return notes(keys)


__all__ += ["FIGURES", "officer_notes"]
