"""Feeds from courts and enforcement bodies into the judicial record database.

Each call runs in the caller's transaction, is audited (actor = the agency client) and writes a
``judicial.record.changed`` event. Submissions are idempotent:

- a judgment by (court code, judgment number, person): the same body again returns the stored
  record (``created=False``); a different body under the same key is a 409 (corrections go through
  enforcement updates or a new judgment, never a silent overwrite);
- an enforcement update by (agency code, document number, judgment, kind);
- an expungement decision by (court code, decision number);
- a ban by (court code, decision number, person).
"""

from __future__ import annotations

import hashlib
import json
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.audit import service as audit
from lienthong.errors import Conflict, DomainError, NotFound
from lienthong.events.outbox import record_event
from lienthong.identity.policy import authorize
from lienthong.identity.principal import Principal
from lienthong.judicial import models as m
from lienthong.judicial import schemas
from lienthong.population.ids import InvalidPersonalId
from lienthong.population.service import parse_id

TOPIC = "judicial.record.changed"
PURPOSE = "tiếp nhận thông tin lý lịch tư pháp"


def _hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()


def _changed(session: Session, personal_id: str, change: str, ref: str) -> None:
    record_event(session, TOPIC, {"personal_id": personal_id, "change": change, "ref": ref})


def _check_person(data: schemas.ConvictionIn) -> None:
    if data.id_type != "personal_id":
        return
    try:
        info = parse_id(data.personal_id)
    except InvalidPersonalId as exc:
        raise DomainError(str(exc), field="personal_id") from None
    if info.birth_year_candidates() != data.birth_date.year:
        raise DomainError("năm sinh không khớp với số định danh cá nhân", field="birth_date")


def submit_conviction(session: Session, principal: Principal, data: schemas.ConvictionIn) -> tuple[m.Conviction, bool]:
    authorize(principal, "judicial.feed")
    _check_person(data)
    digest = _hash(data.model_dump(mode="json"))
    existing = session.scalars(select(m.Conviction).where(
        m.Conviction.court_code == data.court_code, m.Conviction.judgment_number == data.judgment_number,
        m.Conviction.personal_id == data.personal_id)).first()
    if existing is not None:
        if existing.source_hash != digest:
            raise Conflict(f"bản án số {data.judgment_number} của tòa án {data.court_code} về người này đã được ghi nhận "
                           "với nội dung khác", field="judgment_number")
        return existing, False
    c = m.Conviction(
        id=str(uuid.uuid4()), personal_id=data.personal_id, id_type=data.id_type, full_name=data.full_name,
        birth_date=data.birth_date, court_code=data.court_code, court_name=data.court_name,
        judgment_number=data.judgment_number, judgment_date=data.judgment_date,
        legal_effect_date=data.legal_effect_date, penalty_type=data.penalty_type.value, term_months=data.term_months,
        fine_vnd=data.fine_vnd, suspended=data.suspended, probation_months=data.probation_months,
        death_commuted=data.death_commuted, committed_under_18=data.committed_under_18,
        age_at_offence=data.age_at_offence, civil_obligations=data.civil_obligations, court_fee=data.court_fee,
        has_other_obligations=data.has_other_obligations, enforcement_status=data.enforcement_status,
        principal_completed_on=data.principal_completed_on, verification_note=data.verification_note,
        source_client=principal.subject, source_hash=digest,
    )
    for i, o in enumerate(data.offences, 1):
        c.offences.append(m.ConvictionOffence(
            seq=i, name=o.name, article=o.article, clause=o.clause, point=o.point,
            severity=o.severity.value if o.severity else None, intentional=o.intentional,
            offence_date=o.offence_date, age_at_offence=o.age_at_offence))
    for i, a in enumerate(data.additional_penalties, 1):
        c.additional_penalties.append(m.AdditionalPenalty(
            seq=i, kind=a.kind.value, months=a.months, amount_vnd=a.amount_vnd, description=a.description,
            completed_on=a.completed_on))
    session.add(c)
    session.flush()
    audit.record(session, principal, "create", "judicial.conviction", resource_id=c.id, subject_id=c.personal_id,
                 purpose=PURPOSE, detail={"court_code": c.court_code, "judgment_number": c.judgment_number})
    _changed(session, c.personal_id, "conviction", c.id)
    return c, True


def find_conviction(session: Session, ref: schemas.ConvictionRef) -> m.Conviction:
    c = session.scalars(select(m.Conviction).where(
        m.Conviction.court_code == ref.court_code, m.Conviction.judgment_number == ref.judgment_number,
        m.Conviction.personal_id == ref.personal_id)).first()
    if c is None:
        raise NotFound(f"không tìm thấy bản án số {ref.judgment_number} của tòa án {ref.court_code} về người có số "
                       f"định danh {ref.personal_id}", field="conviction")
    return c


_DATE_FIELD = {
    "principal_completed": "principal_completed_on",
    "probation_completed": "probation_completed_on",
    "obligations_completed": "other_obligations_completed_on",
    "remainder_exempted": "remainder_exempted_on",
    "special_pardon": "special_pardon_on",
    "limitation_expired": "limitation_expired_on",
    "amnesty": "amnesty_on",
}


def submit_enforcement(session: Session, principal: Principal, data: schemas.EnforcementIn) -> tuple[m.EnforcementEvent, bool]:
    authorize(principal, "judicial.feed")
    c = find_conviction(session, data.conviction)
    existing = session.scalars(select(m.EnforcementEvent).where(
        m.EnforcementEvent.agency_code == data.agency_code, m.EnforcementEvent.document_number == data.document_number,
        m.EnforcementEvent.conviction_id == c.id, m.EnforcementEvent.kind == data.kind)).first()
    if existing is not None:
        if (existing.occurred_on, existing.additional_seq, existing.status_text) != (
                data.occurred_on, data.additional_seq, data.status_text):
            raise Conflict(f"văn bản số {data.document_number} đã được ghi nhận với nội dung khác", field="document_number")
        return existing, False
    if data.occurred_on < c.judgment_date:
        raise DomainError("ngày sự kiện thi hành án trước ngày tuyên án", field="occurred_on")
    if data.kind == "probation_completed" and not c.suspended:
        raise DomainError("bản án không cho hưởng án treo", field="kind")
    if data.kind == "obligations_completed" and not c.has_other_obligations:
        c.has_other_obligations = True  # the judgment's civil part was not flagged by the court
    if data.kind == "additional_completed":
        match = [a for a in c.additional_penalties if a.seq == data.additional_seq]
        if not match:
            raise DomainError(f"bản án không có hình phạt bổ sung thứ {data.additional_seq}", field="additional_seq")
        match[0].completed_on = data.occurred_on
    elif data.kind in _DATE_FIELD:
        setattr(c, _DATE_FIELD[data.kind], data.occurred_on)
    if data.status_text:
        c.enforcement_status = data.status_text
    ev = m.EnforcementEvent(conviction_id=c.id, agency_code=data.agency_code, document_number=data.document_number,
                            kind=data.kind, occurred_on=data.occurred_on, additional_seq=data.additional_seq,
                            status_text=data.status_text, source_client=principal.subject)
    session.add(ev)
    session.flush()
    audit.record(session, principal, "update", "judicial.conviction", resource_id=c.id, subject_id=c.personal_id,
                 purpose=PURPOSE, detail={"enforcement": data.kind, "document_number": data.document_number})
    _changed(session, c.personal_id, "enforcement", c.id)
    return ev, True


def submit_expungement(session: Session, principal: Principal, data: schemas.ExpungementDecisionIn) -> tuple[m.ExpungementDecision, bool]:
    authorize(principal, "judicial.feed")
    c = find_conviction(session, data.conviction)
    existing = session.scalars(select(m.ExpungementDecision).where(
        m.ExpungementDecision.court_code == data.court_code,
        m.ExpungementDecision.decision_number == data.decision_number)).first()
    if existing is not None:
        if (existing.conviction_id, existing.decision_date, existing.granted, existing.article) != (
                c.id, data.decision_date, data.granted, data.article):
            raise Conflict(f"quyết định số {data.decision_number} đã được ghi nhận với nội dung khác", field="decision_number")
        return existing, False
    if data.decision_date < c.legal_effect_date:
        raise DomainError("ngày quyết định xóa án tích trước ngày bản án có hiệu lực", field="decision_date")
    d = m.ExpungementDecision(conviction_id=c.id, court_code=data.court_code, court_name=data.court_name,
                              decision_number=data.decision_number, decision_date=data.decision_date,
                              article=data.article, granted=data.granted, source_client=principal.subject)
    session.add(d)
    session.flush()
    audit.record(session, principal, "create", "judicial.expungement", resource_id=str(d.id), subject_id=c.personal_id,
                 purpose=PURPOSE, detail={"decision_number": d.decision_number, "granted": d.granted})
    _changed(session, c.personal_id, "expungement", c.id)
    return d, True


def submit_ban(session: Session, principal: Principal, data: schemas.BanIn) -> tuple[m.Ban, bool]:
    authorize(principal, "judicial.feed")
    existing = session.scalars(select(m.Ban).where(
        m.Ban.court_code == data.court_code, m.Ban.decision_number == data.decision_number,
        m.Ban.personal_id == data.personal_id)).first()
    if existing is not None:
        if (existing.content, existing.start_date, existing.duration_months, existing.end_date) != (
                data.content, data.start_date, data.duration_months, data.end_date):
            raise Conflict(f"quyết định số {data.decision_number} đã được ghi nhận với nội dung khác", field="decision_number")
        return existing, False
    b = m.Ban(personal_id=data.personal_id, content=data.content, court_code=data.court_code, court_name=data.court_name,
              decision_number=data.decision_number, decision_date=data.decision_date, start_date=data.start_date,
              duration_months=data.duration_months, end_date=data.end_date, source_client=principal.subject)
    session.add(b)
    session.flush()
    audit.record(session, principal, "create", "judicial.ban", resource_id=str(b.id), subject_id=b.personal_id,
                 purpose=PURPOSE, detail={"decision_number": b.decision_number})
    _changed(session, b.personal_id, "ban", str(b.id))
    return b, True
