"""Case reads and the human steps of linked procedures (authorized and audited)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lienthong.audit import service as audit
from lienthong.civil import agents, birth, death, workflow
from lienthong.civil.models import ProcedureCase, ProcedureStep
from lienthong.db import utcnow
from lienthong.population.schemas import clean_name_part
from lienthong.errors import DomainError, NotFound
from lienthong.identity.policy import Target, authorize, forbidden
from lienthong.identity.principal import Principal
from lienthong.workdays import VN_TZ
from lienthong.params import Version

RESOURCE = "civil.case"


def procedure_names() -> dict[str, str]:
    """Registered procedures (name -> Vietnamese title), from their definitions."""
    return {name: proc.title for name, proc in workflow.PROCEDURES.items()}


STATUS_NAMES = {"open": "Đang giải quyết", "done": "Hoàn thành", "attention": "Có bước lỗi"}


# --- schemas -------------------------------------------------------------------------------------------------------


class StepOut(BaseModel):
    name: str
    title: str
    actor: str
    state: str
    state_name: str
    started_at: datetime | None
    due_at: datetime | None
    due_basis: str | None
    finished_at: datetime | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    overdue: bool
    result: dict


class CaseOut(BaseModel):
    id: str
    short_id: str
    procedure: str
    procedure_name: str
    status: str
    status_name: str
    version: int
    subject_personal_id: str | None
    applicant_personal_id: str | None
    province_code: int | None
    ward_code: int | None
    event_date: date | None
    received_at: datetime | None
    due_at: datetime | None
    due_basis: str | None
    created_at: datetime
    closed_at: datetime | None
    overdue: bool
    data: dict
    steps: list[StepOut]


class BirthConfirmIn(BaseModel):
    version: Version
    family_name: str = Field(min_length=1, max_length=40)
    middle_name: str = Field(default="", max_length=80)
    given_name: str = Field(min_length=1, max_length=40)
    sex: str | None = Field(default=None, pattern="^(M|F)$")
    include_father: bool = True
    residence_of: str = Field(default="mother", pattern="^(mother|father)$")

    @field_validator("family_name", "middle_name", "given_name")
    @classmethod
    def _name(cls, v: str) -> str:
        return clean_name_part(v)


class DeathConfirmIn(BaseModel):
    version: Version


class ActIn(BaseModel):
    version: Version
    note: str | None = Field(default=None, max_length=500)


class OverdueRow(BaseModel):
    case_id: str
    short_id: str
    procedure: str
    procedure_name: str
    province_code: int | None
    step: str
    step_title: str
    state: str
    state_name: str
    due_at: datetime | None
    last_error: str | None
    attempts: int


# --- views --------------------------------------------------------------------------------------------------------------




def to_out(case: ProcedureCase, now: datetime | None = None, *, officer: bool = False) -> CaseOut:
    now = now or utcnow()
    proc = workflow.procedure(case)
    steps = []
    for st in case.steps:
        steps.append(StepOut(
            name=st.name, title=proc.step(st.name).title, actor=st.actor, state=st.state,
            state_name=workflow.STATE_NAMES[st.state], started_at=st.started_at, due_at=st.due_at,
            due_basis=st.due_basis, finished_at=st.finished_at, attempts=st.attempts,
            next_attempt_at=st.next_attempt_at, last_error=st.last_error if officer else None,
            overdue=workflow.is_overdue(st, now), result=st.result or {}))
    case_due = case.due_at
    return CaseOut(
        id=case.id, short_id=workflow.short_id(case), procedure=case.procedure,
        procedure_name=workflow.PROCEDURES[case.procedure].title, status=case.status, status_name=STATUS_NAMES[case.status],
        version=case.version, subject_personal_id=case.subject_personal_id,
        applicant_personal_id=case.applicant_personal_id, province_code=case.province_code, ward_code=case.ward_code,
        event_date=case.event_date, received_at=case.received_at, due_at=case_due, due_basis=case.due_basis,
        created_at=case.created_at, closed_at=case.closed_at,
        overdue=any(s.overdue for s in steps) or (case.status != "done" and case_due is not None and case_due < now),
        data=case.data or {}, steps=steps)


def _load(session: Session, case_id: str) -> ProcedureCase:
    case = session.get(ProcedureCase, case_id, options=[selectinload(ProcedureCase.steps)])
    if case is None:
        raise NotFound("không tìm thấy hồ sơ", field="case_id")
    return case


def parties(case: ProcedureCase) -> list[str]:
    """Citizens who may read and confirm the case: the parents (birth) or the relatives (death)."""
    if case.procedure == "birth":
        return birth.parties(case)
    return list(dict.fromkeys([*death.parties(case), *death.relative_ids(case)]))


def _citizen_target(principal: Principal, case: ProcedureCase) -> Target:
    # The record-level subject for a citizen is the citizen themself when they are a party of the case.
    if principal.personal_id and principal.personal_id in parties(case):
        return Target(personal_id=principal.personal_id, province_code=case.province_code)
    return Target(personal_id=case.applicant_personal_id or "", province_code=case.province_code)


def get_case(session: Session, principal: Principal, case_id: str, *, purpose: str = "xem hồ sơ thủ tục liên thông") -> CaseOut:
    case = _load(session, case_id)
    if principal.kind == "admin":
        authorize(principal, "civil.read")
    else:
        authorize(principal, "civil.read", _citizen_target(principal, case))
    audit.record(session, principal, "read", RESOURCE, resource_id=case.id,
                 subject_id=case.subject_personal_id or case.applicant_personal_id, purpose=purpose)
    return to_out(case, officer=principal.kind != "citizen")


def my_cases(session: Session, principal: Principal) -> list[CaseOut]:
    authorize(principal, "civil.read", Target(personal_id=principal.personal_id))
    pid = principal.personal_id
    rows = session.scalars(select(ProcedureCase).options(selectinload(ProcedureCase.steps))
                           .where(ProcedureCase.status.in_(("open", "done", "attention")))
                           .order_by(ProcedureCase.created_at.desc()).limit(500))
    # Parties live partly in JSON (relatives); filter in Python over the candidate rows.
    out = [to_out(c) for c in rows if pid in parties(c)]
    return out[:50]


# --- citizen confirmation ---------------------------------------------------------------------------------------------------


def confirm(session: Session, principal: Principal, case_id: str, body: dict) -> CaseOut:
    case = _load(session, case_id)
    authorize(principal, "civil.confirm", _citizen_target(principal, case))
    now = utcnow()
    if case.procedure == "birth":
        data = BirthConfirmIn.model_validate(body)
        workflow.check_version(case, data.version)
        d = dict(case.data)
        child = dict(d["child"])
        child.update(family_name=data.family_name, middle_name=data.middle_name, given_name=data.given_name)
        if data.sex:
            child["sex"] = data.sex
        if child.get("sex") not in ("M", "F"):
            raise DomainError("cần chọn giới tính của trẻ", field="sex")
        if data.residence_of == "father" and not (d.get("father") and data.include_father):
            raise DomainError("chỉ chọn nơi thường trú của cha khi người cha có trong tờ khai", field="residence_of")
        d.update(child=child, include_father=bool(d.get("father")) and data.include_father,
                 residence_of=data.residence_of, confirmed_by=principal.personal_id)
        case.data = d
    else:
        data = DeathConfirmIn.model_validate(body)
        workflow.check_version(case, data.version)
        case.applicant_personal_id = principal.personal_id
        case.data = {**case.data, "confirmed_by": principal.personal_id}
    if case.procedure == "birth" and case.applicant_personal_id is None:
        case.applicant_personal_id = principal.personal_id
    workflow.complete_manual(session, case, "confirm", by=principal.subject, result={"by": principal.personal_id},
                             now=now)
    audit.record(session, principal, "update", RESOURCE, resource_id=case.id,
                 subject_id=case.subject_personal_id or case.applicant_personal_id,
                 purpose="xác nhận tờ khai thủ tục liên thông", detail={"step": "confirm"})
    return to_out(case, now)


# --- officer / agency steps ----------------------------------------------------------------------------------------------------


def _extract_number(session: Session, case: ProcedureCase, now: datetime) -> str:
    year = now.astimezone(VN_TZ).year
    kind = "KS" if case.procedure == "birth" else "KT"
    serial = agents.next_value(session, f"{kind}:{case.ward_code}:{year}")
    return f"{serial}/{year}/TL{kind}-{case.ward_code}"


def act(session: Session, principal: Principal, case_id: str, step: str, body: ActIn) -> CaseOut:
    """An officer or agency client performs an agency step (or confirms a death on the family's behalf)."""
    case = _load(session, case_id)
    authorize(principal, "civil.act", Target(province_code=case.province_code))
    workflow.check_version(case, body.version)
    now = utcnow()
    try:
        st = workflow.get_step(case, step)
    except KeyError:
        raise NotFound("không có bước này trong thủ tục", field="step") from None
    result: dict = {"by": principal.name or principal.subject}
    if body.note:
        result["note"] = body.note
    if st.name == "register" and st.state == "in_progress":
        if case.procedure == "birth":
            child = case.data["child"]
            if not child.get("given_name") or child.get("sex") not in ("M", "F"):
                raise DomainError("tờ khai chưa đủ họ tên và giới tính của trẻ")
            if not case.data.get("mother"):
                raise DomainError("chưa xác định được người mẹ trong CSDL dân cư; cần xác minh trước khi đăng ký")
        elif not case.subject_personal_id:
            raise DomainError("chưa xác định được người chết trong CSDL dân cư; cần xác minh trước khi đăng ký")
        result["extract_number"] = _extract_number(session, case, now)
        result["registered_on"] = now.astimezone(VN_TZ).date().isoformat()
    workflow.complete_manual(session, case, step, by=principal.subject, result=result, now=now, officer=True)
    audit.record(session, principal, "update", RESOURCE, resource_id=case.id,
                 subject_id=case.subject_personal_id or case.applicant_personal_id,
                 purpose="giải quyết thủ tục liên thông", detail={"step": step})
    return to_out(case, now, officer=True)


def retry(session: Session, principal: Principal, case_id: str, step: str, body: ActIn) -> CaseOut:
    case = _load(session, case_id)
    authorize(principal, "civil.act", Target(province_code=case.province_code))
    workflow.check_version(case, body.version)
    now = utcnow()
    try:
        workflow.retry_failed(session, case, step, now, by=principal.subject)
    except KeyError:
        raise NotFound("không có bước này trong thủ tục", field="step") from None
    audit.record(session, principal, "update", RESOURCE, resource_id=case.id,
                 subject_id=case.subject_personal_id or case.applicant_personal_id,
                 purpose="thực hiện lại bước lỗi của thủ tục liên thông", detail={"step": step})
    return to_out(case, now, officer=True)


# --- dashboard ------------------------------------------------------------------------------------------------------------------


def _dashboard_province(principal: Principal, province_code: int | None) -> int | None:
    authorize(principal, "civil.dashboard")
    if principal.kind == "officer":
        if province_code is not None and province_code != principal.province_code:
            raise forbidden("chỉ được xem hồ sơ trong tỉnh/thành phố của mình")
        return principal.province_code
    return province_code


def overdue(session: Session, principal: Principal, *, province_code: int | None = None,
            procedure: str | None = None, now: datetime | None = None, limit: int = 500) -> list[OverdueRow]:
    """Open steps past their legal deadline, and failed steps, oldest deadline first."""
    province_code = _dashboard_province(principal, province_code)
    if procedure is not None and procedure not in workflow.PROCEDURES:
        raise DomainError("thủ tục không hợp lệ", field="procedure")
    now = now or utcnow()
    stmt = (select(ProcedureStep, ProcedureCase).join(ProcedureCase, ProcedureCase.id == ProcedureStep.case_id)
            .where(workflow.overdue_clause(now), ProcedureCase.status != "done"))
    if province_code is not None:
        stmt = stmt.where(ProcedureCase.province_code == province_code)
    if procedure:
        stmt = stmt.where(ProcedureCase.procedure == procedure)
    rows = session.execute(stmt.order_by(ProcedureStep.due_at, ProcedureStep.id).limit(limit)).all()
    out = []
    for st, case in rows:
        proc = workflow.procedure(case)
        out.append(OverdueRow(case_id=case.id, short_id=workflow.short_id(case), procedure=case.procedure,
                              procedure_name=workflow.PROCEDURES[case.procedure].title, province_code=case.province_code,
                              step=st.name, step_title=proc.step(st.name).title, state=st.state,
                              state_name=workflow.STATE_NAMES[st.state], due_at=st.due_at,
                              last_error=st.last_error, attempts=st.attempts))
    audit.record(session, principal, "search", RESOURCE, purpose="theo dõi hồ sơ quá hạn",
                 detail={"province_code": province_code, "procedure": procedure, "rows": len(out)})
    return out

