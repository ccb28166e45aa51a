"""Live signals: facts observed in other contexts, proposed as rollout status changes that an
officer confirms (or rejects) — never applied silently.

Where each signal comes from (through the other context's service function or event, not its
tables):

* ``health.first_data``: :func:`lienthong.health.ingest.first_accepted_by_province`, polled by the
  periodic job ``ops.signals`` (every minute). The health ingest emits one ``health.visit.accepted``
  event per visit, at ingest speed; a handler on it would add a delivery per visit for a fact that
  matters once per province, whereas one grouped query over the submission receipts a minute
  costs next to nothing.
* ``judicial.first_certificate``: the ``judicial.certificate.issued`` event (outbox handler
  :func:`on_certificate_issued`; the payload carries the application's province).
* ``kiosk.deployed``: this context's kiosk registry (:func:`lienthong.ops.service.set_kiosks`), the
  first kiosk deployed in a province.

A proposal is made once per province unit and signal (a unique key), only while the unit is below
the status the signal is evidence of (:func:`lienthong.ops.rules.proposal_values`). Confirming applies
the proposed values as changes of source ``signal`` that took effect the day the signal was observed.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.audit import service as audit
from lienthong.db import aware, utcnow
from lienthong.errors import Conflict, DomainError, NotFound
from lienthong.events.bus import bus
from lienthong.events.outbox import record_event
from lienthong.geo import units
from lienthong.identity.policy import Target, authorize
from lienthong.identity.principal import Principal
from lienthong.ops import rules, service
from lienthong.ops.models import RolloutProposal, RolloutUnit
from lienthong.web.dates import vndate
from lienthong.workdays.calendar import VN_TZ

log = logging.getLogger(__name__)

CERTIFICATE_HANDLER = "ops.signals.first_certificate"


def _vn_date(ts: datetime) -> date:
    return aware(ts).astimezone(VN_TZ).date()


def propose(db: Session, signal_key: str, province_code: int, *, observed_at: datetime,
            evidence: dict) -> RolloutProposal | None:
    """Propose the change ``signal_key`` is evidence of in a (34-set) province; None when there is
    nothing to propose (unknown province, already proposed once, or the unit is already there)."""
    signal = rules.SIGNALS[signal_key]
    try:
        units.province(province_code)
    except units.UnknownUnit:
        log.warning("signal %s for unknown province %r ignored", signal_key, province_code)
        return None
    unit = service.province_unit(db, signal.service_key, int(province_code))
    if unit is None or db.scalar(select(RolloutProposal.id).where(RolloutProposal.unit_id == unit.id,
                                                                  RolloutProposal.signal == signal_key)):
        return None
    current = {f: getattr(unit, f) for f in rules.STATE_FIELDS}
    values = rules.proposal_values(signal, current, _vn_date(observed_at))
    if values is None:
        return None
    insert = service._insert(db)
    inserted = db.execute(insert(RolloutProposal).values(
        unit_id=unit.id, signal=signal_key, proposed=rules.values_to_json(values), evidence=evidence,
        observed_at=observed_at, created_at=utcnow(), state="pending", decided_by_name="", decision_note="",
    ).on_conflict_do_nothing()).rowcount
    if not inserted:  # a concurrent proposer won
        return None
    new_id = db.scalar(select(RolloutProposal.id).where(RolloutProposal.unit_id == unit.id,
                                                        RolloutProposal.signal == signal_key))
    record_event(db, "ops.rollout.proposed", {"proposal_id": new_id, "service": signal.service_key,
                                              "province_code": unit.province_code, "signal": signal_key})
    return db.get(RolloutProposal, new_id)


def get_proposal(db: Session, proposal_id: int) -> RolloutProposal:
    p = db.get(RolloutProposal, proposal_id)
    if p is None:
        raise NotFound("không tìm thấy đề xuất")
    return p


def list_proposals(db: Session, *, state: str | None = "pending", service_key: str | None = None,
                   province_code: int | None = None, limit: int = 500) -> list[tuple[RolloutProposal, RolloutUnit]]:
    stmt = select(RolloutProposal, RolloutUnit).join(RolloutUnit, RolloutUnit.id == RolloutProposal.unit_id)
    if state:
        stmt = stmt.where(RolloutProposal.state == state)
    if service_key:
        stmt = stmt.where(RolloutUnit.service_key == service_key)
    if province_code is not None:
        stmt = stmt.where(RolloutUnit.province_code == province_code)
    return list(db.execute(stmt.order_by(RolloutProposal.created_at.desc(), RolloutProposal.id.desc()).limit(limit)))


def evidence_text(p: RolloutProposal) -> str:
    """What was observed, in Vietnamese (no personal data: the evidence never holds any)."""
    signal = rules.SIGNALS.get(p.signal)
    e = p.evidence or {}
    parts = [signal.label if signal else p.signal]
    if e.get("facility_code"):
        parts.append(f"cơ sở {e['facility_code']}" + (f" – {e['facility_name']}" if e.get("facility_name") else ""))
    if e.get("accepted"):
        parts.append(f"{e['accepted']} hồ sơ được chấp nhận")
    if e.get("record_number"):
        parts.append(f"Phiếu số {e['record_number']}")
    if e.get("deployed"):
        parts.append(f"{e['deployed']} ki-ốt đã triển khai")
    parts.append(f"ngày {vndate(p.observed_at)}")
    return ", ".join(parts)


def _decide(db: Session, principal: Principal, proposal_id: int) -> tuple[RolloutProposal, RolloutUnit]:
    p = get_proposal(db, proposal_id)
    unit = service.get_unit(db, p.unit_id)
    authorize(principal, "ops.confirm", Target(province_code=unit.province_code))
    if p.state != "pending":
        raise Conflict("đề xuất này đã được xử lý")
    return p, unit


def confirm(db: Session, principal: Principal, proposal_id: int, note: str = "") -> RolloutProposal:
    """Apply a proposal: its values become changes of source ``signal`` effective on the day the
    signal was observed. When the unit moved meanwhile, only what still advances it is applied."""
    p, unit = _decide(db, principal, proposal_id)
    signal = rules.SIGNALS[p.signal]
    observed_on = _vn_date(p.observed_at)
    current = {f: getattr(unit, f) for f in rules.STATE_FIELDS}
    values = rules.proposal_values(signal, current, observed_on)
    if values is not None:
        values = {k: v for k, v in rules.values_from_json(p.proposed).items() if k in values}
    text = f"Xác nhận tín hiệu: {evidence_text(p)}."
    if note.strip():
        text += f" {note.strip()}"
    if values:
        after = {**current, **values}
        missing = rules.checklist_missing(after) if after["status"] in ("production", "completed") else []
        needs = rules.signal_needs_checklist()
        if missing and needs:
            raise DomainError("chưa đủ điều kiện đưa vào vận hành: cần " + ", ".join(missing)
                              + "; cập nhật các mục này trước khi xác nhận", field="status")
        if missing:
            text += " Đang vận hành nhưng còn thiếu: " + ", ".join(missing) + "."
        service.update_unit(db, principal, unit.id, values, note=text[:2000], source="signal",
                            source_ref=f"proposal:{p.id}", effective_on=observed_on, checklist=needs)
    else:
        audit.record(db, principal, "update", "ops.rollout", resource_id=str(unit.id),
                     purpose="xác nhận đề xuất từ tín hiệu vận hành",
                     detail={"proposal_id": p.id, "signal": p.signal, "changes": {}, "note": "đã đạt trước đó"})
    p.state, p.decided_at, p.decided_by = "confirmed", utcnow(), principal.subject
    p.decided_by_name, p.decision_note = principal.name, note.strip()[:2000]
    db.flush()
    return p


def reject(db: Session, principal: Principal, proposal_id: int, note: str) -> RolloutProposal:
    """Turn a proposal down; the reason is required and kept."""
    if not note.strip():
        raise DomainError("cần nêu lý do không xác nhận", field="note")
    p, unit = _decide(db, principal, proposal_id)
    p.state, p.decided_at, p.decided_by = "rejected", utcnow(), principal.subject
    p.decided_by_name, p.decision_note = principal.name, note.strip()[:2000]
    db.flush()
    audit.record(db, principal, "update", "ops.rollout", resource_id=str(unit.id),
                 purpose="không xác nhận đề xuất từ tín hiệu vận hành",
                 detail={"proposal_id": p.id, "signal": p.signal, "note": p.decision_note})
    return p


# --- the sources --------------------------------------------------------------------------------


def on_certificate_issued(session: Session, event: dict) -> None:
    """Outbox handler of ``judicial.certificate.issued``: the first certificate of a province."""
    payload = event.get("payload") or {}
    province = payload.get("province_code")
    if province is None:  # events written before the payload carried the province
        return
    issued = payload.get("issued_at") or event.get("occurred_at")
    observed = datetime.fromisoformat(issued) if isinstance(issued, str) else utcnow()
    propose(session, "judicial.first_certificate", int(province), observed_at=aware(observed),
            evidence={"certificate_id": payload.get("certificate_id"), "record_number": payload.get("record_number"),
                      "application_id": payload.get("application_id")})


def scan_health(session: Session) -> int:
    """Propose ``health.first_data`` for every province whose facilities have had data accepted."""
    from lienthong.health.ingest import first_accepted_by_province

    made = 0
    for first in first_accepted_by_province(session):
        p = propose(session, "health.first_data", first.province_code, observed_at=first.received_at,
                    evidence={"facility_code": first.facility_code, "facility_name": first.facility_name,
                              "batch_id": first.batch_id, "accepted": first.accepted})
        made += p is not None
    return made


def kiosks_deployed(db: Session, province_code: int, facility_code: str, deployed: int) -> RolloutProposal | None:
    """Called by the kiosk registry when a facility's first kiosks are deployed."""
    return propose(db, "kiosk.deployed", province_code, observed_at=utcnow(),
                   evidence={"facility_code": facility_code, "deployed": deployed})


def install() -> None:
    bus.register("judicial.certificate.issued", on_certificate_issued, name=CERTIFICATE_HANDLER, exist_ok=True)


install()
