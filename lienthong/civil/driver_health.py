"""Driver health certificates (giấy khám sức khỏe lái xe) and the validity check for licence renewal.

Certificates are ``health_certificates`` rows of kind ``driver_health``. The XML 130/4750 adapter
has no table for them, so facilities submit them here (scope ``health.submit``, own facility only),
signed by the organisation as on the BHXH gateway (domain file §6). Validity: from the date the health
conclusion is signed, for the period of the rule in force that day (``civil.rules.DRIVER_HEALTH_RULES``:
6 months before 01/01/2025, 12 months since; a configurable figure, its warning is returned in
``legal_notes``); a certificate that concludes "not fit" never counts as valid.

The traffic police (scope ``driver_health.read``) ask whether a citizen has a valid certificate on
a date: ``valid`` / ``expired`` / ``none``, with minimal certificate data; every lookup is audited.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.audit import service as audit
from lienthong.civil import rules
from lienthong.deps import get_db
from lienthong.errors import Conflict, DomainError
from lienthong.events.outbox import record_event
from lienthong.health.models import Certificate
from lienthong.identity.policy import Target, authorize, requires
from lienthong.identity.principal import Principal
from lienthong.population.service import parse_id
from lienthong.workdays import VN_TZ

router = APIRouter(tags=["driver-health"])

LICENCE_CLASSES = ("A1", "A", "B1", "B", "C1", "C", "D1", "D2", "D", "BE", "C1E", "CE", "D1E", "D2E", "DE")


class DriverCertificateIn(BaseModel):
    personal_id: str
    number: str = Field(min_length=1, max_length=200)
    concluded_on: date = Field(description="date the health conclusion was signed")
    fit: bool = Field(description="kết luận đủ điều kiện sức khỏe lái xe")
    licence_classes: list[str] = Field(min_length=1, description="hạng giấy phép lái xe được kết luận")
    conclusion: str = Field(default="", max_length=1000)
    drug_test: str | None = Field(default=None, max_length=100, description="kết quả xét nghiệm ma túy")
    physician: str | None = Field(default=None, max_length=255)

    @field_validator("personal_id")
    @classmethod
    def _pid(cls, v: str) -> str:
        return parse_id(v).number

    @field_validator("licence_classes")
    @classmethod
    def _classes(cls, v: list[str]) -> list[str]:
        out = [c.strip().upper() for c in v]
        bad = [c for c in out if c not in LICENCE_CLASSES]
        if bad:
            raise ValueError(f"hạng giấy phép lái xe không hợp lệ: {', '.join(bad)}")
        return out


class DriverCertificateOut(BaseModel):
    id: int
    number: str | None
    facility_code: str
    issued_on: date
    valid_until: date
    licence_classes: list[str]
    fit: bool


class ValidityOut(BaseModel):
    personal_id: str
    on: date
    licence_class: str | None
    status: Literal["valid", "expired", "none"]
    certificate: DriverCertificateOut | None
    # warnings about the configurable validity period the answer rests on (lienthong.legal; issue #23)
    legal_notes: list[str] = []


def _fit(data: dict) -> bool:
    if "fit" in data:
        return bool(data["fit"])
    text = str(data.get("KET_LUAN") or data.get("conclusion") or "").lower()
    return "không đủ" not in text


def _view(c: Certificate) -> DriverCertificateOut:
    issued = c.issued_at.astimezone(VN_TZ).date() if c.issued_at.tzinfo else c.issued_at.date()
    data = c.data or {}
    return DriverCertificateOut(id=c.id, number=c.number, facility_code=c.facility_code, issued_on=issued,
                                valid_until=c.valid_until or rules.driver_health_valid_until(issued),
                                licence_classes=list(data.get("licence_classes") or []), fit=_fit(data))


def submit(session: Session, principal: Principal, body: DriverCertificateIn) -> DriverCertificateOut:
    authorize(principal, "health.submit", Target(facility_code=principal.facility_code))
    if not principal.facility_code:
        raise DomainError("chỉ cơ sở khám chữa bệnh được gửi giấy khám sức khỏe lái xe")
    if body.concluded_on > datetime.now(VN_TZ).date():
        raise DomainError("ngày kết luận ở tương lai", field="concluded_on")
    dup = session.scalars(select(Certificate).where(Certificate.kind == "driver_health",
                                                    Certificate.facility_code == principal.facility_code,
                                                    Certificate.number == body.number)).first()
    if dup is not None:
        raise Conflict("số giấy khám sức khỏe này đã được gửi", field="number")
    cert = Certificate(
        visit_id=None, personal_id=body.personal_id, kind="driver_health", facility_code=principal.facility_code,
        number=body.number, issued_at=datetime.combine(body.concluded_on, time(0, 0), tzinfo=VN_TZ),
        valid_until=rules.driver_health_valid_until(body.concluded_on),
        data={"fit": body.fit, "licence_classes": body.licence_classes, "conclusion": body.conclusion,
              "drug_test": body.drug_test, "physician": body.physician, "signed_by": principal.subject})
    session.add(cert)
    session.flush()
    audit.record(session, principal, "create", "health.driver_certificate", resource_id=str(cert.id),
                 subject_id=body.personal_id, purpose="tiếp nhận giấy khám sức khỏe lái xe")
    record_event(session, "health.certificate.issued", {
        "visit_id": None, "personal_id": body.personal_id, "facility_code": principal.facility_code, "ma_lk": None,
        "certificate_id": cert.id, "kind": "driver_health", "number": body.number,
        "issued_at": cert.issued_at.isoformat()})
    return _view(cert)


def check(session: Session, principal: Principal, personal_id: str, on: date, licence_class: str | None,
          purpose: str) -> ValidityOut:
    authorize(principal, "driver_health.read", Target(personal_id=personal_id))
    parse_id(personal_id)
    rows = session.scalars(select(Certificate).where(Certificate.personal_id == personal_id,
                                                     Certificate.kind == "driver_health")
                           .order_by(Certificate.issued_at.desc(), Certificate.id.desc()))
    candidates = []
    for c in rows:
        v = _view(c)
        if v.issued_on > on or not v.fit:
            continue
        if licence_class and licence_class not in v.licence_classes:
            continue
        candidates.append(v)
    valid = next((v for v in candidates if rules.driver_health_status(v.issued_on, v.valid_until, v.fit, on) == "valid"), None)
    if valid is not None:
        status, cert = "valid", valid
    elif candidates:
        status, cert = "expired", candidates[0]
    else:
        status, cert = "none", None
    audit.record(session, principal, "read", "health.driver_certificate", resource_id=str(cert.id) if cert else None,
                 subject_id=personal_id, purpose=purpose,
                 detail={"on": on, "licence_class": licence_class, "status": status})
    notes = rules.officer_notes("driver_health", on, driver_health=True) if cert is not None else []
    return ValidityOut(personal_id=personal_id, on=on, licence_class=licence_class, status=status, certificate=cert,
                       legal_notes=notes)


@router.post("/api/v1/driver-health/certificates", response_model=DriverCertificateOut, status_code=201)
def submit_certificate(body: DriverCertificateIn, principal: Principal = Depends(requires("health.submit")),
                       db: Session = Depends(get_db)):
    """A health facility submits a signed driver health certificate (no XML 130 table exists for it)."""
    return submit(db, principal, body)


@router.get("/api/v1/driver-health/{personal_id}/valid", response_model=ValidityOut)
def driver_health_valid(personal_id: str, on: date | None = Query(None, description="date to check (default: today)"),
                        licence_class: str | None = Query(None, max_length=4),
                        purpose: str = Query("cấp đổi, cấp lại giấy phép lái xe", min_length=3, max_length=255),
                        principal: Principal = Depends(requires("driver_health.read")),
                        db: Session = Depends(get_db)):
    """Whether the citizen has a valid driver health certificate on ``on`` (traffic police, licence renewal)."""
    return check(db, principal, personal_id, on or datetime.now(VN_TZ).date(),
                 licence_class.upper() if licence_class else None, purpose)
