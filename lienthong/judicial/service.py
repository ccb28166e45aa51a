"""Criminal-record certificate applications: submission, automatic check, review, issue, revocation.

State machine of an :class:`~lienthong.judicial.models.Application`::

    submitted -> checking -> issued                       (clean case, automatic)
                          -> review -> approved -> issued (officer approves, with a reason)
                                    -> rejected           (officer rejects, with a reason)

Every transition is stored as an :class:`~lienthong.judicial.models.ApplicationEvent`, every read of
personal or record data is audited, and domain events go to the outbox:
``judicial.application.submitted``, ``judicial.application.review``, ``judicial.application.overdue``,
``judicial.application.rejected``, ``judicial.certificate.issued``, ``judicial.certificate.revoked``.

Automatic processing (:func:`process_application`, :func:`process_pending`) runs as the ``SYSTEM``
principal. It re-reads the applicant in the population registry through the normal audited
service call; when the policy refuses that, the case goes to officer review (never a bypass).

Within a minute: the submission route schedules :func:`process_application` as a background task
right after its transaction commits; the bus handler on ``judicial.application.submitted`` does the
same when the outbox relay runs; and ``python -m lienthong.judicial.worker`` sweeps pending cases
and escalates overdue ones periodically. The compare-and-set on ``status`` makes them safe to race.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import date, datetime

from fastapi import HTTPException
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from lienthong.audit import service as audit
from lienthong.config import get_settings
from lienthong.db import aware, unit_of_work, utcnow
from lienthong.errors import Conflict, DomainError, NotFound
from lienthong.events.bus import bus
from lienthong.events.outbox import record_event
from lienthong.geo import units
from lienthong.identity.policy import Target, authorize, forbidden
from lienthong.identity.principal import SYSTEM, Principal
from lienthong.judicial import models as m
from lienthong.judicial import records, schemas, signing
from lienthong.judicial.rules import certificate as rc
from lienthong.judicial.rules import expungement as rx
from lienthong.judicial.rules import procedure as rp
from lienthong.population import service as population
from lienthong.workdays import VN_TZ, default_calendar

log = logging.getLogger(__name__)

STATUS_TEXT = {
    "submitted": "Đã tiếp nhận",
    "checking": "Đang kiểm tra tự động",
    "review": "Đang xem xét, xác minh",
    "approved": "Đã phê duyệt",
    "rejected": "Từ chối cấp Phiếu",
    "issued": "Đã cấp Phiếu",
}
FEE_CATEGORY_TEXT = {
    "standard": "Không thuộc diện miễn, giảm",
    "student": "Học sinh, sinh viên (giảm phí)",
    "meritorious": "Người có công với cách mạng (giảm phí)",
    "martyr_relative": "Thân nhân liệt sĩ (giảm phí)",
    "child": "Trẻ em dưới 16 tuổi (miễn phí)",
    "elderly": "Người cao tuổi (miễn phí)",
    "disabled": "Người khuyết tật (miễn phí)",
    "poor_household": "Người thuộc hộ nghèo (miễn phí)",
    "difficult_commune": "Cư trú tại xã đặc biệt khó khăn (miễn phí)",
}
# Categories the system can check itself from the registry; the others need proof seen by an officer.
ELDERLY_AGE = 60  # [mem] Luật Người cao tuổi 2009 art. 2
CHILD_BELOW_AGE = 16  # Luật Trẻ em 2016 art. 1
SELF_EVIDENT_FEE = {"standard", "child", "elderly"}

APP_RESOURCE = "judicial.application"
RECORD_RESOURCE = "judicial.record"
CERT_RESOURCE = "judicial.certificate"
PUBLIC_VERIFIER = Principal(kind="system", subject="public-verification", name="Tra cứu công khai Phiếu LLTP")


def local_date(ts: datetime) -> date:
    """The calendar day in Vietnam of a point in time (a naive datetime being UTC)."""
    return aware(ts).astimezone(VN_TZ).date()


def _transition(session: Session, app: m.Application, to: str, actor: Principal, note: str = "", at: datetime | None = None) -> None:
    app.events.append(m.ApplicationEvent(application_id=app.id, at=at or utcnow(), from_status=app.status,
                                         to_status=to, actor_type=actor.actor_type, actor_id=actor.subject, note=note))
    app.status = to


# ---------------------------------------------------------------------------------------------
# Submission
# ---------------------------------------------------------------------------------------------
def _identity_snapshot(c, kind: int) -> tuple[dict, int]:
    current = next((r for r in c.residences if r.kind == "permanent" and r.valid_to is None), None)
    if current is None:
        raise DomainError("không xác định được nơi thường trú hiện tại trong Cơ sở dữ liệu quốc gia về dân cư; "
                          "đề nghị liên hệ Cục Hồ sơ nghiệp vụ - Bộ Công an", field="personal_id")
    address = ", ".join(x for x in (current.street, current.ward_name, current.province_name) if x)
    snap = {
        "personal_id": c.personal_id,
        "full_name": c.full_name,
        "birth_date": c.birth_date.isoformat(),
        "sex": c.sex,
        "sex_text": "Nam" if c.sex == "M" else "Nữ",
        "birth_place": c.birth_place_name or "",
        "nationality": "Việt Nam" if c.nationality == "VN" else c.nationality,
        "residence": address,
        "province_code": current.province_code,
    }
    if kind == 2:  # No. 2 also prints father, mother, spouse (Law art. 43); No. 1 does not need them
        for rel in c.relatives:
            if rel.relation in ("father", "mother", "spouse"):
                snap[f"{rel.relation}_name"] = rel.full_name
    return snap, current.province_code


def prefill(session: Session, principal: Principal) -> dict:
    """Identity for the application form, read from the registry with the citizen's own principal."""
    authorize(principal, "judicial.apply", Target(personal_id=principal.personal_id))
    c = population.get_citizen(session, principal, principal.personal_id or "",
                               purpose="điền sẵn tờ khai yêu cầu cấp Phiếu lý lịch tư pháp")
    snap, _ = _identity_snapshot(c, 2)
    return snap


def _fee(data: schemas.ApplicationIn, birth: date, on: date) -> tuple[int | None, str, bool]:
    category = data.fee_category.value
    age = rx.age_on(birth, on)
    if category == "child" and age >= CHILD_BELOW_AGE:
        raise DomainError(f"đối tượng trẻ em chỉ áp dụng cho người dưới {CHILD_BELOW_AGE} tuổi", field="fee_category")
    if category == "elderly" and age < ELDERLY_AGE:
        raise DomainError(f"đối tượng người cao tuổi chỉ áp dụng cho người từ đủ {ELDERLY_AGE} tuổi", field="fee_category")
    needs_proof = category not in SELF_EVIDENT_FEE
    try:
        quote = rp.fee_for(on, category)
        return quote.amount_vnd, quote.explanation, needs_proof
    except rp.UnknownFeeError as exc:
        # An operator must configure the schedule; the citizen is told plainly, not about settings.
        log.warning("fee schedule missing: %s", exc)
        return None, "Mức phí theo biểu phí hiện hành sẽ được cơ quan cấp Phiếu thông báo khi giải quyết hồ sơ.", needs_proof


def submit(session: Session, principal: Principal, data: schemas.ApplicationIn, now: datetime | None = None) -> m.Application:
    now = now or utcnow()
    authorize(principal, "judicial.apply", Target(personal_id=principal.personal_id))
    c = population.get_citizen(session, principal, principal.personal_id or "",
                               purpose="xác minh nhân thân khi yêu cầu cấp Phiếu lý lịch tư pháp")
    if c.status != "alive":
        raise DomainError("công dân đã được ghi nhận là đã mất", field="personal_id")
    today = local_date(now)
    try:
        rules = rp.rules_for(today)
    except rp.UnknownRuleError as exc:
        raise DomainError(str(exc)) from None
    elig = rp.eligibility(c.birth_date, today, data.kind, rules=rules)
    if not elig.allowed:
        raise DomainError(" ".join(elig.reasons), field="kind")
    identity, province_code = _identity_snapshot(c, data.kind)
    fee_vnd, fee_note, needs_proof = _fee(data, c.birth_date, today)
    deadline = rp.processing_deadline(rp.Application(kind=rp.CertificateKind(data.kind), channel=rp.Channel.ONLINE),
                                      now, rules=rules)
    app = m.Application(
        id=str(uuid.uuid4()), personal_id=c.personal_id, kind=data.kind, purpose=data.purpose,
        include_ban_info=data.include_ban_info, delivery_electronic=data.delivery_electronic,
        delivery_postal=data.delivery_postal, postal_address=data.postal_address if data.delivery_postal else None,
        email=data.email, phone=data.phone, fee_category=data.fee_category.value, fee_vnd=fee_vnd, fee_note=fee_note,
        fee_needs_proof=needs_proof, identity=identity, province_code=province_code, regime=rules.regime,
        status="submitted", submitted_at=now, due_at=deadline.due_at, sla_working_days=deadline.working_days,
        sla_basis=deadline.basis, review_reasons=[],
    )
    session.add(app)
    session.flush()
    session.add(m.ApplicationEvent(application_id=app.id, at=now, from_status=None, to_status="submitted",
                                   actor_type=principal.actor_type, actor_id=principal.subject,
                                   note=f"Tiếp nhận yêu cầu cấp Phiếu lý lịch tư pháp số {data.kind}"))
    audit.record(session, principal, "create", APP_RESOURCE, resource_id=app.id, subject_id=app.personal_id,
                 purpose="yêu cầu cấp Phiếu lý lịch tư pháp", detail={"kind": data.kind})
    record_event(session, "judicial.application.submitted", {"application_id": app.id, "province_code": province_code})
    return app


# ---------------------------------------------------------------------------------------------
# Automatic processing
# ---------------------------------------------------------------------------------------------
def _claim(session: Session, app_id: str) -> bool:
    """Compare-and-set submitted -> checking (row lock on PostgreSQL, write lock on SQLite)."""
    n = session.execute(
        update(m.Application).where(m.Application.id == app_id, m.Application.status == "submitted")
        .values(status="checking", updated_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    return n == 1


def _read_record(session: Session, actor: Principal, personal_id: str, purpose: str) -> tuple[list[m.Conviction], list[m.Ban]]:
    convictions = records.load_convictions(session, personal_id)
    bans = records.load_bans(session, personal_id)
    audit.record(session, actor, "read", RECORD_RESOURCE, resource_id=personal_id, subject_id=personal_id, purpose=purpose,
                 detail={"convictions": len(convictions), "bans": len(bans)})
    return convictions, bans


def _registry_issues(session: Session, app: m.Application) -> list[str]:
    try:
        c = population.get_citizen(session, SYSTEM, app.personal_id,
                                   purpose="kiểm tra tự động nhân thân hồ sơ cấp Phiếu lý lịch tư pháp")
    except HTTPException as exc:
        if exc.status_code == 403:
            return ["Hệ thống xử lý tự động không được phép đọc Cơ sở dữ liệu quốc gia về dân cư "
                    f"({exc.detail}); cần cán bộ xác minh nhân thân."]
        raise
    except NotFound:
        return ["Không tìm thấy người yêu cầu trong Cơ sở dữ liệu quốc gia về dân cư."]
    issues = []
    snap = app.identity
    if c.status != "alive":
        issues.append("Cơ sở dữ liệu dân cư ghi nhận người yêu cầu đã mất.")
    if c.full_name != snap["full_name"] or c.birth_date.isoformat() != snap["birth_date"]:
        issues.append("Họ tên hoặc ngày sinh trong Cơ sở dữ liệu dân cư đã thay đổi sau khi nộp hồ sơ.")
    return issues


def _record_issues(app: m.Application, convictions: list[m.Conviction], on: date) -> tuple[list[str], bool]:
    """Reasons a person must look at the record, and whether expungement needs verifying."""
    issues: list[str] = []
    for c in convictions:
        if c.verification_note:
            issues.append(f"Bản án số {c.judgment_number} ({c.court_name}) cần xác minh: {c.verification_note}")
    if not convictions:
        return issues, False
    try:
        person = records.to_rule_person(app.identity)
        exp = rx.explain(person, [records.to_rule_conviction(c, on) for c in convictions], on)
    except (rx.NoRulesError, ValueError) as exc:
        return issues + [f"Không đánh giá tự động được tình trạng án tích: {exc}"], True
    by_id = {c.id: c for c in convictions}
    for r in exp.results:
        if r.counts_as_record:
            c = by_id[r.conviction_id]
            issues.append(f"Có án tích chưa được xóa: bản án số {c.judgment_number} ngày "
                          f"{c.judgment_date.strftime('%d/%m/%Y')} ({c.court_name}). {r.reason}")
    return issues, True


def process_application(session: Session, app_id: str, now: datetime | None = None, actor: Principal = SYSTEM) -> str | None:
    """Run the automatic check on one submitted application; returns the new status (None if not ours)."""
    now = now or utcnow()
    if not _claim(session, app_id):
        return None
    app = session.get(m.Application, app_id, populate_existing=True)
    app.status = "submitted"  # the row says "checking" already; record the transition
    _transition(session, app, "checking", actor, "Kiểm tra tự động nhân thân và lý lịch tư pháp", at=now)
    on = local_date(now)
    issues = _registry_issues(session, app)
    convictions, _bans = _read_record(session, actor, app.personal_id,
                                      purpose="kiểm tra tự động hồ sơ cấp Phiếu lý lịch tư pháp")
    rec_issues, needs_verification = _record_issues(app, convictions, on)
    issues += rec_issues
    if app.fee_needs_proof:
        issues.append(f"Cần xác minh đối tượng miễn, giảm phí: {FEE_CATEGORY_TEXT.get(app.fee_category, app.fee_category)}.")
    if not issues:
        issue_certificate(session, app, actor, now, note="Không phát hiện vấn đề; cấp Phiếu tự động")
        return app.status
    app.review_reasons = issues
    if needs_verification:
        _extend_deadline(app)
    _transition(session, app, "review", actor, "Chuyển cán bộ xem xét: " + " | ".join(issues), at=now)
    record_event(session, "judicial.application.review", {"application_id": app.id, "province_code": app.province_code,
                                                           "due_at": app.due_at.isoformat()})
    return app.status


def _extend_deadline(app: m.Application) -> None:
    """Cases where expungement must be verified get the extended deadline, where the law sets one."""
    received = app.submitted_at
    try:
        d = rp.processing_deadline(rp.Application(kind=rp.CertificateKind(app.kind), channel=rp.Channel.ONLINE,
                                                  needs_expungement_verification=True), received)
    except rp.UnknownRuleError as exc:
        app.sla_basis = f"{app.sla_basis} Không áp dụng thời hạn kéo dài: {exc}."
        return
    app.due_at, app.sla_working_days, app.sla_basis = d.due_at, d.working_days, d.basis


def process_pending(session: Session, now: datetime | None = None, limit: int = 100) -> dict:
    """Check every submitted application (oldest first) and escalate overdue reviews."""
    now = now or utcnow()
    ids = list(session.scalars(select(m.Application.id).where(m.Application.status == "submitted")
                               .order_by(m.Application.submitted_at).limit(limit)))
    outcome: dict[str, int] = {"issued": 0, "review": 0, "skipped": 0}
    for app_id in ids:
        status = process_application(session, app_id, now)
        outcome[status or "skipped"] = outcome.get(status or "skipped", 0) + 1
    outcome["escalated"] = escalate_overdue(session, now)
    return outcome


def process_in_background(app_id: str) -> None:
    """Background task after submission: its own transaction, errors logged (the worker retries)."""
    try:
        with unit_of_work() as session:
            process_application(session, app_id, utcnow())
    except Exception:  # pragma: no cover - logged; the sweep picks the case up again
        log.exception("automatic processing of judicial application %s failed", app_id)


def on_submitted(session: Session, event: dict) -> None:
    """Bus handler for ``judicial.application.submitted`` (run by the outbox relay)."""
    app_id = (event.get("payload") or {}).get("application_id")
    if app_id:
        process_application(session, app_id, utcnow())


HANDLER_NAME = "lienthong.judicial.service.on_submitted"
bus.register("judicial.application.submitted", on_submitted, name=HANDLER_NAME, exist_ok=True)


def escalate_overdue(session: Session, now: datetime | None = None) -> int:
    """Flag reviews past their due time, once each, with a ``judicial.application.overdue`` event."""
    now = now or utcnow()
    apps = session.scalars(select(m.Application).where(
        m.Application.status == "review", m.Application.due_at < now, m.Application.escalated_at.is_(None))).all()
    for app in apps:
        app.overdue = True
        app.escalated_at = now
        session.add(m.ApplicationEvent(application_id=app.id, at=now, from_status="review", to_status="review",
                                       actor_type=SYSTEM.actor_type, actor_id=SYSTEM.subject,
                                       note="Quá thời hạn giải quyết: đã báo cáo lãnh đạo đơn vị"))
        record_event(session, "judicial.application.overdue", {"application_id": app.id, "province_code": app.province_code,
                                                               "due_at": app.due_at.isoformat()})
    return len(apps)


# ---------------------------------------------------------------------------------------------
# Issue
# ---------------------------------------------------------------------------------------------
def next_sequence(session: Session, agency_code: str, year: int) -> int:
    """The next record number of ``agency_code`` in ``year``: atomic upsert, gap-free (it commits or
    rolls back with the certificate; concurrent issuers wait on the row lock)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover
        raise RuntimeError(f"unsupported database {dialect}")
    stmt = insert(m.RecordSequence).values(agency_code=agency_code, year=year, last_value=1)
    stmt = stmt.on_conflict_do_update(index_elements=["agency_code", "year"],
                                      set_={"last_value": m.RecordSequence.last_value + 1})
    return session.execute(stmt.returning(m.RecordSequence.last_value)).scalar_one()


def verify_url(cert_id: str) -> str:
    return f"{get_settings().base_url.rstrip('/')}/tra-cuu-phieu/{cert_id}"


def issue_certificate(session: Session, app: m.Application, actor: Principal, now: datetime, note: str) -> m.Certificate:
    on = local_date(now)
    convictions, bans = _read_record(session, actor, app.personal_id, purpose="lập nội dung Phiếu lý lịch tư pháp")
    content = rc.certificate_content(
        app.kind, records.to_rule_person(app.identity), [records.to_rule_conviction(c, on) for c in convictions],
        [records.to_rule_ban(b) for b in bans], on, include_ban_info=app.include_ban_info)
    body = records.content_to_json(content)
    agency = records.issuing_agency(app.province_code)
    seq = next_sequence(session, agency.code, on.year)
    number = rp.format_record_number(agency.code, on.year, seq, agency_codes={agency.code: agency.name})
    cert_id = str(uuid.uuid4())
    claims = {
        "iss": f"{get_settings().base_url.rstrip('/')}/api/v1/judicial",
        "jti": cert_id,
        "sub": app.personal_id,
        "iat": int(now.timestamp()),
        "record_number": number,
        "kind": app.kind,
        "issuer": {"code": agency.code, "name": agency.name},
        "issued_on": on.isoformat(),
        "purpose": app.purpose,
        "content": body,
        "verify_url": verify_url(cert_id),
    }
    token, kid = signing.sign(claims)
    cert = m.Certificate(id=cert_id, record_number=number, application_id=app.id, personal_id=app.personal_id,
                         kind=app.kind, agency_code=agency.code, agency_name=agency.name, content=body, jws=token,
                         key_id=kid, issued_at=now, issued_by=actor.subject)
    session.add(cert)
    app.certificate = cert
    _transition(session, app, "issued", actor, f"{note}. Số Phiếu {number}", at=now)
    session.flush()
    audit.record(session, actor, "create", CERT_RESOURCE, resource_id=cert.id, subject_id=app.personal_id,
                 purpose="cấp Phiếu lý lịch tư pháp", detail={"record_number": number, "kind": app.kind})
    record_event(session, "judicial.certificate.issued", {"certificate_id": cert.id, "application_id": app.id,
                                                          "record_number": number, "personal_id": app.personal_id,
                                                          "province_code": app.province_code,
                                                          "issued_at": now.isoformat()})
    return cert


# ---------------------------------------------------------------------------------------------
# Reading applications
# ---------------------------------------------------------------------------------------------
def _load_app(session: Session, app_id: str) -> m.Application:
    try:
        uuid.UUID(app_id)
    except ValueError:
        raise NotFound("không tìm thấy hồ sơ", field="id") from None
    app = session.get(m.Application, app_id, options=[selectinload(m.Application.events),
                                                       selectinload(m.Application.certificate)])
    if app is None:
        raise NotFound("không tìm thấy hồ sơ", field="id")
    return app


def _target(app: m.Application) -> Target:
    return Target(personal_id=app.personal_id, province_code=app.province_code)


def get_application(session: Session, principal: Principal, app_id: str, purpose: str) -> m.Application:
    app = _load_app(session, app_id)
    authorize(principal, "judicial.application.read", _target(app))
    audit.record(session, principal, "read", APP_RESOURCE, resource_id=app.id, subject_id=app.personal_id, purpose=purpose)
    return app


def my_applications(session: Session, principal: Principal) -> list[m.Application]:
    authorize(principal, "judicial.application.read", Target(personal_id=principal.personal_id))
    if not principal.personal_id:
        raise forbidden("tài khoản không gắn với công dân")
    apps = list(session.scalars(select(m.Application).where(m.Application.personal_id == principal.personal_id)
                                .options(selectinload(m.Application.certificate), selectinload(m.Application.events))
                                .order_by(m.Application.submitted_at.desc())))
    audit.record(session, principal, "search", APP_RESOURCE, subject_id=principal.personal_id,
                 purpose="công dân xem hồ sơ yêu cầu cấp Phiếu lý lịch tư pháp của mình", detail={"count": len(apps)})
    return apps


def to_out(app: m.Application, with_events: bool = True) -> schemas.ApplicationOut:
    cert = app.certificate
    return schemas.ApplicationOut(
        id=app.id, personal_id=app.personal_id, kind=app.kind, purpose=app.purpose, status=app.status,
        status_text=STATUS_TEXT[app.status], submitted_at=app.submitted_at, due_at=app.due_at,
        sla_basis=app.sla_basis, overdue=app.overdue, fee_category=app.fee_category, fee_vnd=app.fee_vnd,
        fee_note=app.fee_note, delivery_electronic=app.delivery_electronic, delivery_postal=app.delivery_postal,
        province_code=app.province_code, regime=app.regime, decision_reason=app.decision_reason,
        review_reasons=list(app.review_reasons or []),
        certificate_id=cert.id if cert else None, record_number=cert.record_number if cert else None,
        certificate_revoked=bool(cert and cert.revoked_at),
        events=[schemas.ApplicationEventOut.model_validate(e) for e in app.events] if with_events else [],
    )


# ---------------------------------------------------------------------------------------------
# Officer review
# ---------------------------------------------------------------------------------------------
def review_queue(session: Session, officer: Principal, now: datetime | None = None, include_decided: bool = False) -> list[m.Application]:
    """Applications of the officer's province waiting for review (overdue first, then by due time)."""
    now = now or utcnow()
    authorize(officer, "judicial.review", Target(province_code=officer.province_code))
    escalate_overdue(session, now)
    statuses = ("review", "approved", "rejected", "issued") if include_decided else ("review",)
    apps = list(session.scalars(select(m.Application).where(
        m.Application.province_code == officer.province_code, m.Application.status.in_(statuses))
        .options(selectinload(m.Application.certificate))
        .order_by(m.Application.due_at).limit(500)))
    for app in apps:
        audit.record(session, officer, "search", APP_RESOURCE, resource_id=app.id, subject_id=app.personal_id,
                     purpose="xem hàng đợi hồ sơ cấp Phiếu lý lịch tư pháp")
    return apps


def remaining(app: m.Application, now: datetime) -> dict:
    """SLA countdown for display: working days left (negative when overdue) and hours."""
    due = app.due_at
    cal = default_calendar()
    hours = (due - now).total_seconds() / 3600
    if hours >= 0:
        days = cal.working_days_between(local_date(now), local_date(due))
    else:
        days = -cal.working_days_between(local_date(due), local_date(now))
    return {"overdue": hours < 0, "working_days": days, "hours": round(hours, 1)}


def get_record(session: Session, principal: Principal, personal_id: str, purpose: str, on: date | None = None) -> dict:
    """An officer's look-up of a person's judicial record (audited), with the engine's explanation."""
    if len((purpose or "").strip()) < 3:
        raise DomainError("cần ghi rõ mục đích tra cứu", field="purpose")
    # Refuse a malformed ID before it reaches the audit log (its column holds 12 characters).
    population.parse_id(personal_id)
    authorize(principal, "judicial.record.read", population.citizen_target(session, personal_id))
    convictions, bans = _read_record(session, principal, personal_id, purpose.strip())
    on = on or local_date(utcnow())
    results = {}
    notes: list[str] = []
    if convictions:
        birth = convictions[0].birth_date
        try:
            rule_convictions = [records.to_rule_conviction(c, on) for c in convictions]
            exp = rx.explain(rx.Person(birth_date=birth), rule_convictions, on)
            results = {r.conviction_id: r for r in exp.results}
            notes = rx.officer_notes(exp.results, rule_convictions)  # configurable figures the results use
        except (rx.NoRulesError, ValueError) as exc:
            results = {"error": str(exc)}
    return {"personal_id": personal_id, "convictions": convictions, "bans": bans, "results": results, "on": on,
            "notes": notes}


def legal_notes(app: m.Application, record: dict | None = None) -> list[str]:
    """Warnings for the officer about the configurable legal figures this application depends on
    (:mod:`lienthong.legal`): the record's expungement results, the procedure in force on the
    submission date, and calendar entries between submission and the deadline."""
    from lienthong.workdays import calendar as wcal

    submitted = local_date(app.submitted_at)
    out = list((record or {}).get("notes") or [])
    out += rc.officer_notes(app.kind, with_bans=bool(app.include_ban_info))
    try:
        standard = rp.rules_for(submitted).standard_working_days
        out += rp.officer_notes(submitted, extended=app.sla_working_days is not None and app.sla_working_days != standard)
    except rp.UnknownRuleError:
        pass
    out += wcal.officer_notes(app.submitted_at, app.due_at, working_days=True)
    return list(dict.fromkeys(out))


def decide(session: Session, officer: Principal, app_id: str, approve: bool, reason: str, now: datetime | None = None) -> m.Application:
    now = now or utcnow()
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise DomainError("cần ghi rõ lý do (ít nhất 5 ký tự)", field="reason")
    app = _load_app(session, app_id)
    authorize(officer, "judicial.review", _target(app))
    if officer.personal_id and officer.personal_id == app.personal_id:
        raise forbidden("cán bộ không được tự xét hồ sơ của chính mình")
    locked = session.execute(
        update(m.Application).where(m.Application.id == app.id, m.Application.status == "review")
        .values(updated_at=now).execution_options(synchronize_session=False)).rowcount
    if not locked:
        raise Conflict(f"hồ sơ đang ở trạng thái '{STATUS_TEXT[app.status]}', không thể xét duyệt", field="status")
    session.refresh(app, attribute_names=["status"])
    if app.status != "review":  # pragma: no cover - changed between load and lock
        raise Conflict("hồ sơ vừa được xử lý bởi người khác", field="status")
    app.decided_by, app.decided_at, app.decision_reason = officer.subject, now, reason
    audit.record(session, officer, "update", APP_RESOURCE, resource_id=app.id, subject_id=app.personal_id,
                 purpose="xét duyệt hồ sơ cấp Phiếu lý lịch tư pháp", detail={"approve": approve})
    if approve:
        _transition(session, app, "approved", officer, f"Phê duyệt: {reason}", at=now)
        issue_certificate(session, app, officer, now, note="Cấp Phiếu sau khi phê duyệt")
    else:
        _transition(session, app, "rejected", officer, f"Từ chối: {reason}", at=now)
        record_event(session, "judicial.application.rejected", {"application_id": app.id, "province_code": app.province_code})
    return app


# ---------------------------------------------------------------------------------------------
# Certificates: download, revoke, verify
# ---------------------------------------------------------------------------------------------
def _load_cert(session: Session, cert_id: str) -> m.Certificate:
    try:
        uuid.UUID(cert_id)
    except ValueError:
        raise NotFound("không tìm thấy Phiếu", field="id") from None
    cert = session.get(m.Certificate, cert_id, options=[selectinload(m.Certificate.application)])
    if cert is None:
        raise NotFound("không tìm thấy Phiếu", field="id")
    return cert


def get_certificate(session: Session, principal: Principal, cert_id: str, purpose: str) -> m.Certificate:
    cert = _load_cert(session, cert_id)
    authorize(principal, "judicial.application.read", _target(cert.application))
    audit.record(session, principal, "read", CERT_RESOURCE, resource_id=cert.id, subject_id=cert.personal_id, purpose=purpose)
    return cert


def certificate_pdf(cert: m.Certificate) -> bytes:
    from lienthong.judicial.pdf import render_certificate

    return render_certificate(content=cert.content, record_number=cert.record_number, agency_name=cert.agency_name,
                              issued_on=local_date(cert.issued_at), verify_url=verify_url(cert.id),
                              certificate_id=cert.id, revoked=cert.revoked_at is not None)


def revoke(session: Session, principal: Principal, cert_id: str, reason: str, now: datetime | None = None) -> m.Certificate:
    now = now or utcnow()
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise DomainError("cần ghi rõ lý do thu hồi (ít nhất 5 ký tự)", field="reason")
    cert = _load_cert(session, cert_id)
    authorize(principal, "judicial.certificate.revoke", _target(cert.application))
    n = session.execute(update(m.Certificate).where(m.Certificate.id == cert.id, m.Certificate.revoked_at.is_(None))
                        .values(revoked_at=now, revoked_by=principal.subject, revoke_reason=reason)
                        .execution_options(synchronize_session=False)).rowcount
    if not n:
        raise Conflict("Phiếu đã bị thu hồi trước đó", field="id")
    session.refresh(cert)
    session.add(m.ApplicationEvent(application_id=cert.application_id, at=now, from_status="issued", to_status="issued",
                                   actor_type=principal.actor_type, actor_id=principal.subject,
                                   note=f"Thu hồi Phiếu {cert.record_number}: {reason}"))
    audit.record(session, principal, "update", CERT_RESOURCE, resource_id=cert.id, subject_id=cert.personal_id,
                 purpose="thu hồi Phiếu lý lịch tư pháp", detail={"reason": reason})
    record_event(session, "judicial.certificate.revoked", {"certificate_id": cert.id, "record_number": cert.record_number,
                                                           "personal_id": cert.personal_id})
    return cert


def mask_name(full_name: str) -> str:
    """``Nguyễn Văn An`` -> ``Nguyễn V. A.``: enough to match the paper, not to identify from scratch."""
    parts = full_name.split()
    if len(parts) <= 1:
        return (parts[0][:1] + ".") if parts else ""
    return " ".join([parts[0]] + [p[:1] + "." for p in parts[1:]])


def verify_public(session: Session, cert_id: str) -> schemas.VerificationOut:
    """The public verification answer: valid or revoked and the minimum to match the document."""
    cert = _load_cert(session, cert_id)
    audit.record(session, PUBLIC_VERIFIER, "read", CERT_RESOURCE, resource_id=cert.id, subject_id=cert.personal_id,
                 purpose="tra cứu công khai tính xác thực của Phiếu lý lịch tư pháp")
    revoked = cert.revoked_at is not None
    return schemas.VerificationOut(
        certificate_id=cert.id, valid=not revoked, status="revoked" if revoked else "valid",
        record_number=cert.record_number, kind=cert.kind, issued_on=local_date(cert.issued_at),
        issuing_agency=cert.agency_name, holder=mask_name(_holder(cert)),
        revoked_on=local_date(cert.revoked_at) if revoked else None,
        content_sha256=hashlib.sha256(cert.jws.encode()).hexdigest(),
    )


def _holder(cert: m.Certificate) -> str:
    for label, value in cert.content.get("identity", []):
        if label == "Họ và tên":
            return value
    return ""


def province_name(code: int) -> str:
    try:
        return units.province(code).name
    except units.UnknownUnit:
        return str(code)
