"""Read side of the electronic health book (sổ sức khỏe điện tử).

:func:`health_book` assembles one citizen's book from the health tables with a handful of
indexed queries by ``personal_id`` (each bounded), resolves facility names in one query and
ICD-10 names from the compact table shipped in ``data/icd10_vi.json``, and writes one audit entry
in the caller's transaction. The same building blocks serve the consented intake summary
(:mod:`lienthong.health.consent`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

from pydantic import BaseModel
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, defer

from lienthong.audit import service as audit
from lienthong.db import aware
from lienthong.errors import DomainError
from lienthong.facilities.models import Facility
from lienthong.health.models import (
    Appointment, Certificate, Diagnosis, HealthProfile, LabResult, Medication, Referral, Visit,
)
from lienthong.identity.policy import Target, authorize
from lienthong.identity.principal import Principal
from lienthong.workdays.calendar import VN_TZ

RESOURCE = "health.book"

VISIT_PAGE = 20
MAX_VISIT_PAGE = 100
DIAGNOSES_LIMIT = 50
LABS_LIMIT = 50
MEDICATIONS_LIMIT = 50
REFERRALS_LIMIT = 20
APPOINTMENTS_LIMIT = 20
CERTIFICATES_LIMIT = 20

VISIT_TYPES = {
    "01": "Khám bệnh", "02": "Điều trị ngoại trú", "03": "Điều trị nội trú", "04": "Điều trị nội trú ban ngày",
    "05": "Điều trị ngoại trú bệnh mạn tính (khám, lĩnh thuốc)", "06": "Điều trị lưu tại trạm y tế",
    "07": "Nhận thuốc theo hẹn", "08": "Điều trị ngoại trú bệnh mạn tính (khám, dịch vụ kỹ thuật)",
    "09": "Điều trị nội trú dưới 4 giờ", "10": "Trường hợp khác",
}
OUTCOMES = {
    "1": "Khỏi", "2": "Đỡ", "3": "Không thay đổi", "4": "Nặng hơn", "5": "Tử vong", "6": "Tiên lượng nặng xin về",
    "7": "Chưa xác định", "8": "Tử vong ngoại viện",
}
REFERRAL_STATUSES = {"issued": "Chờ tiếp nhận", "accepted": "Đã tiếp nhận", "rejected": "Bị từ chối"}
CERTIFICATE_KINDS = {
    "birth": "Giấy chứng sinh", "death": "Giấy báo tử", "driver_health": "Giấy khám sức khỏe lái xe",
    "sick_leave": "Giấy chứng nhận nghỉ việc hưởng BHXH", "discharge": "Giấy ra viện",
}


# --- ICD-10 names ---------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _icd_table() -> tuple[list[tuple[str, str, str, str]], dict[str, str]]:
    data = json.loads((Path(__file__).parent / "data" / "icd10_vi.json").read_text(encoding="utf-8"))
    chapters = [(c["from"], c["to"], c["number"], c["title"]) for c in data["chapters"]]
    codes = {k.replace(".", "").upper(): v for k, v in data["codes"].items()}
    return chapters, codes


_ICD_SHAPE = re.compile(r"^[A-Z][0-9]{2}[0-9A-Z]{0,4}$")


def normalize_icd(code: str) -> str:
    """``e119`` / ``E11.9`` / `` E11.9 `` -> ``E11.9`` (display form)."""
    c = code.strip().upper().replace(".", "")
    return c[:3] + "." + c[3:] if len(c) > 3 else c


class IcdName(BaseModel):
    code: str
    name: str
    chapter: str | None  # Roman numeral of the chapter
    chapter_title: str | None
    exact: bool  # False: the name is a parent category's or the chapter's title


def icd10_name(code: str) -> IcdName:
    """The Vietnamese name of an ICD-10 code: the code, else its 3-character category, else the chapter."""
    display = normalize_icd(code)
    key = display.replace(".", "")
    chapters, codes = _icd_table()
    if not _ICD_SHAPE.match(key):
        return IcdName(code=display, name="Mã bệnh không hợp lệ", chapter=None, chapter_title=None, exact=False)
    chapter = next(((num, title) for lo, hi, num, title in chapters if lo <= key[:3] <= hi), None)
    if key in codes:
        return IcdName(code=display, name=codes[key], chapter=chapter and chapter[0],
                       chapter_title=chapter and chapter[1], exact=True)
    if key[:3] in codes:
        return IcdName(code=display, name=codes[key[:3]], chapter=chapter and chapter[0],
                       chapter_title=chapter and chapter[1], exact=False)
    if chapter:
        return IcdName(code=display, name=f"Chương {chapter[0]}: {chapter[1]}", chapter=chapter[0],
                       chapter_title=chapter[1], exact=False)
    return IcdName(code=display, name="Mã bệnh không có trong danh mục", chapter=None, chapter_title=None, exact=False)


# --- output models ---------------------------------------------------------------------------------

class ChronicCondition(BaseModel):
    icd10: str | None = None
    name: str | None = None
    since: str | None = None


class ProfileOut(BaseModel):
    blood_group: str | None
    height_cm: float | None
    weight_kg: float | None
    chronic_conditions: list[ChronicCondition]
    allergies: list[str]
    updated_at: datetime | None
    closed_on: date | None = None


class VisitOut(BaseModel):
    id: int
    facility_code: str
    facility_name: str | None
    ma_lk: str
    version: int
    visit_type: str | None
    visit_type_name: str | None
    admitted_at: datetime
    discharged_at: datetime | None
    main_icd: str | None
    main_icd_name: str | None
    diagnosis_text: str | None
    outcome: str | None
    outcome_name: str | None


class VisitPage(BaseModel):
    items: list[VisitOut]
    next_before: str | None  # pass as ``before`` for the next (older) page


class DiagnosisOut(BaseModel):
    visit_id: int
    icd10: str
    name: str  # as recorded by the facility, else from the ICD-10 table
    catalogue_name: str
    chapter: str | None
    is_primary: bool
    diagnosed_at: datetime


class LabResultOut(BaseModel):
    id: int
    visit_id: int
    service_code: str
    indicator_code: str | None
    name: str | None
    value: str | None
    unit: str | None
    conclusion: str | None
    result_at: datetime


class MedicationOut(BaseModel):
    visit_id: int
    drug_code: str
    name: str
    strength: str | None
    route: str | None
    dosage: str | None
    quantity: float | None
    unit: str | None
    ordered_at: datetime


class ReferralOut(BaseModel):
    id: int
    visit_id: int
    number: str
    from_facility: str
    from_facility_name: str | None
    to_facility: str | None
    to_facility_name: str | None
    reason_code: str | None
    diagnosis: str | None
    issued_at: datetime
    status: str
    status_name: str
    decided_at: datetime | None


class AppointmentOut(BaseModel):
    id: int
    visit_id: int
    number: str
    facility_code: str
    facility_name: str | None
    appointment_at: datetime
    diagnosis: str | None
    upcoming: bool


class CertificateOut(BaseModel):
    id: int
    kind: str
    kind_name: str
    facility_code: str
    facility_name: str | None
    number: str | None
    issued_at: datetime
    valid_until: date | None


class HealthBook(BaseModel):
    personal_id: str
    profile: ProfileOut
    visits: VisitPage
    diagnoses: list[DiagnosisOut]
    lab_results: list[LabResultOut]
    medications: list[MedicationOut]
    referrals: list[ReferralOut]
    appointments: list[AppointmentOut]
    certificates: list[CertificateOut]


# --- helpers --------------------------------------------------------------------------------------

def _num(value: Decimal | float | None) -> float | None:
    return float(value) if value is not None else None


def facility_names(session: Session, codes) -> dict[str, str]:
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    return dict(session.execute(select(Facility.code, Facility.name).where(Facility.code.in_(wanted))).all())


def encode_cursor(admitted_at: datetime, visit_id: int) -> str:
    return f"{aware(admitted_at).astimezone(UTC).strftime('%Y%m%dT%H%M%S%f')}.{visit_id}"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        ts, _, vid = cursor.partition(".")
        return datetime.strptime(ts, "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC), int(vid)
    except ValueError:
        raise DomainError("tham số phân trang 'before' không hợp lệ", field="before") from None


def _visit_out(v: Visit, names: dict[str, str]) -> VisitOut:
    return VisitOut(
        id=v.id, facility_code=v.facility_code, facility_name=names.get(v.facility_code), ma_lk=v.ma_lk,
        version=v.version, visit_type=v.visit_type, visit_type_name=VISIT_TYPES.get(v.visit_type or ""),
        admitted_at=v.admitted_at, discharged_at=v.discharged_at, main_icd=v.main_icd,
        main_icd_name=icd10_name(v.main_icd).name if v.main_icd else None, diagnosis_text=v.diagnosis_text,
        outcome=v.outcome, outcome_name=OUTCOMES.get(v.outcome or ""),
    )


def _visits(session: Session, personal_id: str, before: str | None, size: int) -> list[Visit]:
    stmt = select(Visit).where(Visit.personal_id == personal_id)
    if before:
        at, vid = decode_cursor(before)
        stmt = stmt.where(or_(Visit.admitted_at < at, and_(Visit.admitted_at == at, Visit.id < vid)))
    # ``record`` (the full source JSON) is deferred: the timeline never needs it.
    stmt = stmt.options(defer(Visit.record)).order_by(Visit.admitted_at.desc(), Visit.id.desc()).limit(size + 1)
    return list(session.scalars(stmt))


def _page(rows: list[Visit], size: int, names: dict[str, str]) -> VisitPage:
    more = len(rows) > size
    rows = rows[:size]
    return VisitPage(items=[_visit_out(v, names) for v in rows],
                     next_before=encode_cursor(rows[-1].admitted_at, rows[-1].id) if more and rows else None)


def profile_for(session: Session, personal_id: str, latest: Visit | None) -> ProfileOut:
    return _profile_out(session.get(HealthProfile, personal_id), latest)


def _profile_out(p, latest) -> ProfileOut:
    if p is not None:
        return ProfileOut(
            blood_group=p.blood_group or (latest.blood_group if latest else None),
            height_cm=_num(p.height_cm if p.height_cm is not None else (latest.height_cm if latest else None)),
            weight_kg=_num(p.weight_kg if p.weight_kg is not None else (latest.weight_kg if latest else None)),
            chronic_conditions=[_chronic(c) for c in (p.chronic_conditions or [])],
            allergies=[a if isinstance(a, str) else (a.get("name") or a.get("substance") or json.dumps(a, ensure_ascii=False))
                       for a in (p.allergies or [])],
            updated_at=p.updated_at,
            closed_on=p.closed_on,
        )
    # No profile row yet: the latest measured values from visits.
    return ProfileOut(blood_group=latest.blood_group if latest else None,
                      height_cm=_num(latest.height_cm) if latest else None,
                      weight_kg=_num(latest.weight_kg) if latest else None,
                      chronic_conditions=[], allergies=[], updated_at=None)


def _chronic(c) -> ChronicCondition:
    if isinstance(c, str):
        return ChronicCondition(icd10=normalize_icd(c), name=icd10_name(c).name)
    code = c.get("icd10")
    return ChronicCondition(icd10=normalize_icd(code) if code else None,
                            name=c.get("name") or (icd10_name(code).name if code else None),
                            since=str(c["since"]) if c.get("since") else None)


def latest_visit(session: Session, personal_id: str) -> Visit | None:
    return session.scalars(select(Visit).options(defer(Visit.record)).where(Visit.personal_id == personal_id)
                           .order_by(Visit.admitted_at.desc(), Visit.id.desc()).limit(1)).first()


def _lab_out(r) -> LabResultOut:
    return LabResultOut(id=r.id, visit_id=r.visit_id, service_code=r.service_code, indicator_code=r.indicator_code,
                        name=r.name, value=r.value, unit=r.unit, conclusion=r.conclusion, result_at=r.result_at)


def _medication_out(m) -> MedicationOut:
    return MedicationOut(visit_id=m.visit_id, drug_code=m.drug_code, name=m.name, strength=m.strength, route=m.route,
                         dosage=m.dosage, quantity=_num(m.quantity), unit=m.unit, ordered_at=m.ordered_at)


def recent_labs(session: Session, personal_id: str, limit: int = LABS_LIMIT, since: datetime | None = None) -> list[LabResultOut]:
    stmt = select(LabResult).where(LabResult.personal_id == personal_id)
    if since is not None:
        stmt = stmt.where(LabResult.result_at >= since)
    rows = session.scalars(stmt.order_by(LabResult.result_at.desc(), LabResult.id.desc()).limit(limit))
    return [_lab_out(r) for r in rows]


def recent_medications(session: Session, personal_id: str, limit: int = MEDICATIONS_LIMIT,
                       since: datetime | None = None) -> list[MedicationOut]:
    stmt = select(Medication).where(Medication.personal_id == personal_id)
    if since is not None:
        stmt = stmt.where(Medication.ordered_at >= since)
    rows = session.scalars(stmt.order_by(Medication.ordered_at.desc(), Medication.id.desc()).limit(limit))
    return [_medication_out(m) for m in rows]


def check_personal_id(personal_id: str) -> None:
    if not (isinstance(personal_id, str) and len(personal_id) == 12 and personal_id.isdigit()):
        raise DomainError("số định danh cá nhân phải gồm 12 chữ số", field="personal_id")


# --- the book -------------------------------------------------------------------------------------

@dataclass
class _BookRows:
    """What the book is built from: rows with attribute access (ORM objects or parsed JSON)."""

    visits: list
    latest: object | None
    diagnoses: list
    referrals: list
    appointments: list
    certificates: list
    labs: list
    medications: list
    profile: object | None
    names: dict[str, str]


def _fetch_generic(session: Session, personal_id: str, before: str | None, size: int) -> _BookRows:
    visits = _visits(session, personal_id, before, size)
    latest = latest_visit(session, personal_id) if before else (visits[0] if visits else None)
    diagnoses = list(session.scalars(
        select(Diagnosis).where(Diagnosis.personal_id == personal_id)
        .order_by(Diagnosis.diagnosed_at.desc(), Diagnosis.id.desc()).limit(DIAGNOSES_LIMIT)))
    referrals = list(session.scalars(
        select(Referral).where(Referral.personal_id == personal_id)
        .order_by(Referral.issued_at.desc(), Referral.id.desc()).limit(REFERRALS_LIMIT)))
    appointments = list(session.scalars(
        select(Appointment).where(Appointment.personal_id == personal_id)
        .order_by(Appointment.appointment_at.desc(), Appointment.id.desc()).limit(APPOINTMENTS_LIMIT)))
    certificates = list(session.scalars(
        select(Certificate).where(Certificate.personal_id == personal_id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc()).limit(CERTIFICATES_LIMIT)))
    labs = list(session.scalars(select(LabResult).where(LabResult.personal_id == personal_id)
                                .order_by(LabResult.result_at.desc(), LabResult.id.desc()).limit(LABS_LIMIT)))
    meds = list(session.scalars(select(Medication).where(Medication.personal_id == personal_id)
                                .order_by(Medication.ordered_at.desc(), Medication.id.desc()).limit(MEDICATIONS_LIMIT)))
    names = facility_names(session, [v.facility_code for v in visits]
                           + [r.from_facility for r in referrals] + [r.to_facility for r in referrals]
                           + [a.facility_code for a in appointments] + [c.facility_code for c in certificates])
    return _BookRows(visits, latest, diagnoses, referrals, appointments, certificates, labs, meds,
                     session.get(HealthProfile, personal_id), names)


_VISIT_COLS = ("id, facility_code, ma_lk, version, visit_type, admitted_at, discharged_at, main_icd, diagnosis_text, "
               "outcome, blood_group, weight_kg, height_cm")
# PostgreSQL: the same queries as _fetch_generic, in one statement (one round trip instead of ten); each
# part comes back as JSON, in the same order and with the same limits.
_BOOK_SQL = f"""
WITH v AS (
    SELECT {_VISIT_COLS} FROM health_visits WHERE personal_id = %(pid)s {{cursor}}
    ORDER BY admitted_at DESC, id DESC LIMIT %(vlimit)s),
latest AS (
    SELECT {_VISIT_COLS} FROM health_visits WHERE personal_id = %(pid)s AND %(paged)s
    ORDER BY admitted_at DESC, id DESC LIMIT 1),
d AS (
    SELECT id, visit_id, icd10, name, is_primary, diagnosed_at FROM health_diagnoses WHERE personal_id = %(pid)s
    ORDER BY diagnosed_at DESC, id DESC LIMIT {DIAGNOSES_LIMIT}),
r AS (
    SELECT id, visit_id, number, from_facility, to_facility, reason_code, diagnosis, issued_at, status, decided_at
    FROM health_referrals WHERE personal_id = %(pid)s ORDER BY issued_at DESC, id DESC LIMIT {REFERRALS_LIMIT}),
a AS (
    SELECT id, visit_id, number, facility_code, appointment_at, diagnosis FROM health_appointments
    WHERE personal_id = %(pid)s ORDER BY appointment_at DESC, id DESC LIMIT {APPOINTMENTS_LIMIT}),
c AS (
    SELECT id, kind, facility_code, number, issued_at, valid_until FROM health_certificates
    WHERE personal_id = %(pid)s ORDER BY issued_at DESC, id DESC LIMIT {CERTIFICATES_LIMIT}),
l AS (
    SELECT id, visit_id, service_code, indicator_code, name, value, unit, conclusion, result_at
    FROM health_lab_results WHERE personal_id = %(pid)s ORDER BY result_at DESC, id DESC LIMIT {LABS_LIMIT}),
m AS (
    SELECT id, visit_id, drug_code, name, strength, route, dosage, quantity, unit, ordered_at
    FROM health_medications WHERE personal_id = %(pid)s ORDER BY ordered_at DESC, id DESC LIMIT {MEDICATIONS_LIMIT})
SELECT
    (SELECT json_agg(v ORDER BY v.admitted_at DESC, v.id DESC) FROM v) AS visits,
    (SELECT row_to_json(latest) FROM latest) AS latest,
    (SELECT json_agg(d ORDER BY d.diagnosed_at DESC, d.id DESC) FROM d) AS diagnoses,
    (SELECT json_agg(r ORDER BY r.issued_at DESC, r.id DESC) FROM r) AS referrals,
    (SELECT json_agg(a ORDER BY a.appointment_at DESC, a.id DESC) FROM a) AS appointments,
    (SELECT json_agg(c ORDER BY c.issued_at DESC, c.id DESC) FROM c) AS certificates,
    (SELECT json_agg(l ORDER BY l.result_at DESC, l.id DESC) FROM l) AS labs,
    (SELECT json_agg(m ORDER BY m.ordered_at DESC, m.id DESC) FROM m) AS medications,
    (SELECT row_to_json(p) FROM (SELECT blood_group, height_cm, weight_kg, chronic_conditions, allergies, updated_at,
                                        closed_on FROM health_profiles WHERE personal_id = %(pid)s) AS p) AS profile,
    (SELECT json_object_agg(code, name) FROM facilities WHERE code IN (
        SELECT facility_code FROM v UNION SELECT from_facility FROM r UNION SELECT to_facility FROM r
        UNION SELECT facility_code FROM a UNION SELECT facility_code FROM c)) AS names
"""
_CURSOR_SQL = "AND (admitted_at < %(at)s OR (admitted_at = %(at)s AND id < %(vid)s))"
_TIMES = ("admitted_at", "discharged_at", "diagnosed_at", "issued_at", "decided_at", "appointment_at", "result_at",
          "ordered_at", "updated_at")
_DATES = ("valid_until", "closed_on")


class _JsonRow(SimpleNamespace):
    pass


def _row(d: dict | None) -> _JsonRow | None:
    if d is None:
        return None
    for k in _TIMES:
        if d.get(k) is not None:
            d[k] = datetime.fromisoformat(d[k])
    for k in _DATES:
        if d.get(k) is not None:
            d[k] = date.fromisoformat(d[k])
    return _JsonRow(**d)


def _fetch_pg(session: Session, personal_id: str, before: str | None, size: int) -> _BookRows:
    params = {"pid": personal_id, "vlimit": size + 1, "paged": before is not None}
    sql = _BOOK_SQL.replace("{cursor}", _CURSOR_SQL if before else "")
    if before:
        params["at"], params["vid"] = decode_cursor(before)
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(sql, params, prepare=True)
        got = dict(zip((c.name for c in cur.description), cur.fetchone()))
    rows = {k: [_row(x) for x in (got[k] or [])] for k in ("visits", "diagnoses", "referrals", "appointments",
                                                            "certificates", "labs", "medications")}
    visits = rows["visits"]
    latest = _row(got["latest"]) if before else (visits[0] if visits else None)
    return _BookRows(visits, latest, rows["diagnoses"], rows["referrals"], rows["appointments"], rows["certificates"],
                     rows["labs"], rows["medications"], _row(got["profile"]), got["names"] or {})


def build_book(session: Session, personal_id: str, *, before: str | None = None, page_size: int = VISIT_PAGE,
               now: datetime | None = None) -> HealthBook:
    """The book without authorization or audit (callers do both)."""
    now = now or datetime.now(UTC)
    size = max(1, min(page_size, MAX_VISIT_PAGE))
    if session.get_bind().dialect.name == "postgresql":
        b = _fetch_pg(session, personal_id, before, size)
    else:
        b = _fetch_generic(session, personal_id, before, size)
    names = b.names
    diag_out = []
    for d in b.diagnoses:
        cat = icd10_name(d.icd10)
        diag_out.append(DiagnosisOut(visit_id=d.visit_id, icd10=cat.code, name=d.name or cat.name,
                                     catalogue_name=cat.name, chapter=cat.chapter, is_primary=d.is_primary,
                                     diagnosed_at=d.diagnosed_at))
    return HealthBook(
        personal_id=personal_id,
        profile=_profile_out(b.profile, b.latest),
        visits=_page(b.visits, size, names),
        diagnoses=diag_out,
        lab_results=[_lab_out(r) for r in b.labs],
        medications=[_medication_out(m) for m in b.medications],
        referrals=[ReferralOut(
            id=r.id, visit_id=r.visit_id, number=r.number, from_facility=r.from_facility,
            from_facility_name=names.get(r.from_facility), to_facility=r.to_facility,
            to_facility_name=names.get(r.to_facility or ""), reason_code=r.reason_code, diagnosis=r.diagnosis,
            issued_at=r.issued_at, status=r.status, status_name=REFERRAL_STATUSES.get(r.status, r.status),
            decided_at=r.decided_at) for r in b.referrals],
        appointments=[AppointmentOut(
            id=a.id, visit_id=a.visit_id, number=a.number, facility_code=a.facility_code,
            facility_name=names.get(a.facility_code), appointment_at=a.appointment_at, diagnosis=a.diagnosis,
            upcoming=a.appointment_at >= now) for a in b.appointments],
        certificates=[CertificateOut(
            id=c.id, kind=c.kind, kind_name=CERTIFICATE_KINDS.get(c.kind, c.kind), facility_code=c.facility_code,
            facility_name=names.get(c.facility_code), number=c.number, issued_at=c.issued_at,
            valid_until=c.valid_until) for c in b.certificates],
    )


def health_book(session: Session, principal: Principal, personal_id: str, *, purpose: str,
                before: str | None = None, page_size: int = VISIT_PAGE) -> HealthBook:
    """One citizen's health book (the citizen themself), audited in the caller's transaction."""
    check_personal_id(personal_id)
    authorize(principal, "health.book.read", Target(personal_id=personal_id))
    book = build_book(session, personal_id, before=before, page_size=page_size)
    audit.record(session, principal, "read", RESOURCE, resource_id=personal_id, subject_id=personal_id,
                 purpose=purpose, detail={"part": "book"})
    return book


def visit_page(session: Session, principal: Principal, personal_id: str, *, before: str | None,
               size: int = VISIT_PAGE, purpose: str) -> VisitPage:
    """One (older) page of the visit timeline, newest first; audited."""
    check_personal_id(personal_id)
    authorize(principal, "health.book.read", Target(personal_id=personal_id))
    size = max(1, min(size, MAX_VISIT_PAGE))
    rows = _visits(session, personal_id, before, size)
    page = _page(rows, size, facility_names(session, [v.facility_code for v in rows]))
    audit.record(session, principal, "read", RESOURCE, resource_id=personal_id, subject_id=personal_id,
                 purpose=purpose, detail={"part": "visits", "before": before})
    return page


def vn_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a calendar day in Vietnam time, as UTC datetimes."""
    start = datetime(day.year, day.month, day.day, tzinfo=VN_TZ).astimezone(UTC)
    return start, start + timedelta(days=1)
