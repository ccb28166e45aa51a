"""Referral letters (giấy chuyển tuyến) as seen by the receiving facility: the incoming list and
the accept / reject decision, allowed only to the facility the letter names (``to_facility``).
The citizen's health book shows the status; decisions emit ``health.referral.accepted`` /
``health.referral.rejected``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.audit import service as audit
from lienthong.errors import Conflict, NotFound
from lienthong.events.outbox import record_event
from lienthong.health.book import REFERRAL_STATUSES, facility_names, icd10_name
from lienthong.health.models import Referral, Visit
from lienthong.identity.policy import Target, authorize, forbidden, require_facility
from lienthong.identity.principal import Principal

RESOURCE = "health.referral"
INCOMING_LIMIT = 100


class IncomingReferral(BaseModel):
    id: int
    number: str
    personal_id: str | None
    patient_name: str | None
    birth_date: str | None
    insurance_card: str | None
    from_facility: str
    from_facility_name: str | None
    reason_code: str | None
    diagnosis: str | None
    main_icd: str | None
    main_icd_name: str | None
    issued_at: datetime
    status: str
    status_name: str
    decided_at: datetime | None


class DecisionIn(BaseModel):
    note: str | None = Field(default=None, max_length=500)


class RejectIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500)


class DecisionOut(BaseModel):
    id: int
    status: str
    status_name: str
    decided_at: datetime
    decided_by: str


def incoming(session: Session, principal: Principal, *, status: Literal["issued", "accepted", "rejected"] | None = "issued",
             limit: int = INCOMING_LIMIT) -> list[IncomingReferral]:
    """Referrals addressed to the caller's facility, newest first; each one listed is audited."""
    code = require_facility(principal)
    authorize(principal, "health.referral.decide", Target(facility_code=code))
    stmt = (select(Referral, Visit.patient_name, Visit.birth_date, Visit.insurance_card, Visit.main_icd)
            .join(Visit, Visit.id == Referral.visit_id).where(Referral.to_facility == code))
    if status:
        stmt = stmt.where(Referral.status == status)
    rows = session.execute(stmt.order_by(Referral.issued_at.desc(), Referral.id.desc())
                           .limit(max(1, min(limit, INCOMING_LIMIT)))).all()
    names = facility_names(session, [r.Referral.from_facility for r in rows])
    out = []
    for ref, name, birth, card, icd in rows:
        out.append(IncomingReferral(
            id=ref.id, number=ref.number, personal_id=ref.personal_id, patient_name=name,
            birth_date=birth.isoformat() if birth else None, insurance_card=card, from_facility=ref.from_facility,
            from_facility_name=names.get(ref.from_facility), reason_code=ref.reason_code, diagnosis=ref.diagnosis,
            main_icd=icd, main_icd_name=icd10_name(icd).name if icd else None, issued_at=ref.issued_at,
            status=ref.status, status_name=REFERRAL_STATUSES.get(ref.status, ref.status),
            decided_at=ref.decided_at))
        if ref.personal_id:
            audit.record(session, principal, "read", RESOURCE, resource_id=str(ref.id), subject_id=ref.personal_id,
                         purpose="cơ sở tiếp nhận xem giấy chuyển tuyến", detail={"facility_code": code})
    return out


def decide(session: Session, principal: Principal, referral_id: int, *, accept: bool, reason: str | None = None,
           now: datetime | None = None) -> DecisionOut:
    """Accept or reject a referral: only the receiving facility, only once."""
    code = require_facility(principal)
    ref = session.scalars(select(Referral).where(Referral.id == referral_id).with_for_update()).first()
    if ref is None:
        raise NotFound("không tìm thấy giấy chuyển tuyến", field="id")
    if ref.to_facility != code:
        raise forbidden("chỉ cơ sở được chuyển đến mới được tiếp nhận hoặc từ chối giấy chuyển tuyến này")
    authorize(principal, "health.referral.decide", Target(personal_id=ref.personal_id, facility_code=ref.to_facility))
    if ref.status != "issued":
        raise Conflict(f"giấy chuyển tuyến đã được xử lý ({REFERRAL_STATUSES.get(ref.status, ref.status).lower()})")
    now = now or datetime.now(UTC)
    ref.status = "accepted" if accept else "rejected"
    ref.decided_at = now
    ref.decided_by = principal.subject
    detail = {"decision": ref.status, "facility_code": code}
    if reason:
        detail["reason"] = reason
    audit.record(session, principal, "update", RESOURCE, resource_id=str(ref.id), subject_id=ref.personal_id,
                 purpose="tiếp nhận người bệnh chuyển tuyến" if accept else "từ chối tiếp nhận người bệnh chuyển tuyến",
                 detail=detail)
    payload = {"referral_id": ref.id, "visit_id": ref.visit_id, "personal_id": ref.personal_id, "number": ref.number,
               "from_facility": ref.from_facility, "to_facility": ref.to_facility, "decided_at": now.isoformat(),
               "decided_by": principal.subject}
    if not accept:
        payload["reason"] = reason
    record_event(session, f"health.referral.{ref.status}", payload)
    session.flush()
    return DecisionOut(id=ref.id, status=ref.status, status_name=REFERRAL_STATUSES[ref.status], decided_at=now,
                       decided_by=principal.subject)
