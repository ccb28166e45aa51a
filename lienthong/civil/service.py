"""Case reads and the human steps of linked procedures (authorized and audited)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lienthong.audit import service as audit
from lienthong.civil import agents, birth, death, rules, workflow
from lienthong.civil.models import ProcedureCase, ProcedureStep
from lienthong.db import utcnow
from lienthong.population.schemas import clean_name_part
from lienthong.errors import Conflict, DomainError, NotFound
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
    # Luật Hộ tịch Điều 15.1: a grandparent declares only when the parents cannot (the reason is recorded)
    parents_unable_reason: str | None = Field(default=None, max_length=300)

    @field_validator("family_name", "middle_name", "given_name")
    @classmethod
    def _name(cls, v: str) -> str:
        return clean_name_part(v)


class DeathConfirmIn(BaseModel):
    version: Version
    social_assistance_requested: bool = False  # NĐ 20/2021 Điều 11: the family asks for the funeral support


class ActIn(BaseModel):
    """An officer's or agency's completion of a step; the optional fields belong to particular steps."""

    version: Version
    note: str | None = Field(default=None, max_length=500)
    # confirm completed at the office (Luật Hộ tịch Điều 15.1, Điều 33): who declares
    declarant_relation: str | None = Field(default=None, max_length=32)
    declarant_name: str | None = Field(default=None, max_length=120)
    declarant_personal_id: str | None = Field(default=None, pattern=r"^\d{12}$")
    parents_unable_reason: str | None = Field(default=None, max_length=300)
    has_relatives: bool | None = None  # death: False lets an organisation declare (Điều 33.1)
    responsible_found: bool = True  # death: False lets the civil-status officer register (Điều 33.2)
    family_name: str | None = Field(default=None, max_length=40)  # birth: the child's name when confirmed at the office
    middle_name: str | None = Field(default=None, max_length=80)
    given_name: str | None = Field(default=None, max_length=40)
    sex: str | None = Field(default=None, pattern="^(M|F)$")
    social_assistance_requested: bool | None = None
    # funeral_allowance awaiting an officer: the route the law gives (insurance.service.FUNERAL_ROUTES)
    funeral_route: str | None = Field(default=None, max_length=32)
    # social_assistance_funeral: NĐ 20/2021 Điều 11.1 category ("none": not a beneficiary)
    sa_category: str | None = Field(default=None, max_length=40)
    province_standard_vnd: int | None = Field(default=None, ge=0, le=100_000_000)


class VerificationIn(BaseModel):
    version: Version
    reason: str = Field(min_length=5, max_length=500)


class ChildIn(BaseModel):
    family_name: str = Field(min_length=1, max_length=40)
    middle_name: str = Field(default="", max_length=80)
    given_name: str = Field(min_length=1, max_length=40)
    sex: str = Field(pattern="^(M|F)$")
    birth_date: date
    birth_time: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}$")
    birth_place: str | None = Field(default=None, max_length=200)

    @field_validator("family_name", "middle_name", "given_name")
    @classmethod
    def _name(cls, v: str) -> str:
        return clean_name_part(v)


class StartIn(BaseModel):
    """A linked procedure started at the commune office with the papers the law accepts instead of a
    hospital certificate (Luật Hộ tịch Điều 16.1; Điều 34.1 and NĐ 123/2015 Điều 4.2)."""

    procedure: str = Field(pattern="^(birth|death)$")
    document_kind: str = Field(max_length=40)
    document_number: str = Field(min_length=1, max_length=60)
    has_certificate: bool = False  # birth: a hospital certificate exists (then it must be used)
    has_witness: bool = False  # birth: a witness exists (then a sworn statement is not accepted)
    mother_personal_id: str | None = Field(default=None, pattern=r"^\d{12}$")
    child: ChildIn | None = None
    deceased_personal_id: str | None = Field(default=None, pattern=r"^\d{12}$")
    death_time: datetime | None = None
    cause: str | None = Field(default=None, max_length=300)


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
            state_name=workflow.state_name(st), started_at=st.started_at, due_at=st.due_at,
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


def _local_day(moment: datetime) -> date:
    return (moment if moment.tzinfo else moment.replace(tzinfo=VN_TZ)).astimezone(VN_TZ).date()


def legal_notes(case: CaseOut, today: date | None = None) -> list[str]:
    """Warnings for the officer about the configurable legal figures this case's deadlines and decisions use
    (:mod:`lienthong.legal`): deadline rules, calendar entries inside its deadline windows, the reference
    level / funeral rules (death) and the under-6 card rule (birth)."""
    from lienthong.insurance import rules as ins_rules
    from lienthong.workdays import calendar as wcal

    today = today or _local_day(utcnow())
    d = case.data or {}
    day = _local_day(case.received_at or case.created_at)
    out = rules.officer_notes(case.procedure, day, [s.name for s in case.steps], verification=bool(d.get("verification")),
                              substitute_document=(d.get("document") or {}).get("kind"))
    if case.procedure == "death" and case.event_date is not None:
        out += ins_rules.officer_notes(death_date=case.event_date,
                                       social_assistance=bool(d.get("social_assistance_requested")))
    if case.procedure == "birth":
        card = next((s for s in case.steps if s.name == "health_card"), None)
        issued = _local_day(card.finished_at) if card is not None and card.finished_at else today
        out += ins_rules.officer_notes(card_issued_on=issued)
    windows = [(s.started_at, s.due_at) for s in case.steps if s.started_at and s.due_at]
    if case.received_at and case.due_at:
        windows.append((case.received_at, case.due_at))
    if case.event_date is not None and case.steps and case.steps[0].due_at:
        windows.append((case.event_date, case.steps[0].due_at))
    for start, end in windows:
        out += wcal.officer_notes(start, end, working_days=True)
    return list(dict.fromkeys(out))


def dashboard_notes(rows: list[OverdueRow], today: date | None = None) -> list[str]:
    """Warnings for the overdue dashboard: the deadline rules of the listed steps and the calendar entries
    around their deadlines."""
    from lienthong.workdays import calendar as wcal

    today = today or _local_day(utcnow())
    out: list[str] = []
    for procedure, step in dict.fromkeys((r.procedure, r.step) for r in rows):
        out += rules.officer_notes(procedure, today, [step])
    dues = [r.due_at for r in rows if r.due_at is not None]
    if dues:
        out += wcal.officer_notes(_local_day(min(dues)) - timedelta(days=60), _local_day(max(dues)), working_days=True)
    return list(dict.fromkeys(out))


def _load(session: Session, case_id: str) -> ProcedureCase:
    case = session.get(ProcedureCase, case_id, options=[selectinload(ProcedureCase.steps)])
    if case is None:
        raise NotFound("không tìm thấy hồ sơ", field="case_id")
    return case


def parties(case: ProcedureCase) -> list[str]:
    """Citizens who may read and confirm the case: the parents, or grandparents (birth), or the relatives (death)."""
    if case.procedure == "birth":
        return birth.readers(case)
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
        relation = birth.relation_of(case, principal.personal_id)
        decision = rules.birth_declarant_allowed(relation or "", data.parents_unable_reason)
        if not decision.allowed:
            raise DomainError(decision.reason, field="parents_unable_reason")
        d.update(child=child, include_father=bool(d.get("father")) and data.include_father,
                 residence_of=data.residence_of, confirmed_by=principal.personal_id,
                 declarant=_declarant(relation, principal.personal_id, principal.name, data.parents_unable_reason,
                                      decision, "birth"))
        case.data = d
    else:
        data = DeathConfirmIn.model_validate(body)
        workflow.check_version(case, data.version)
        relation = death.relation_of(case, principal.personal_id)
        decision = rules.death_declarant_allowed(relation or "")
        if not decision.allowed:
            raise DomainError(decision.reason)
        case.applicant_personal_id = principal.personal_id
        case.data = {**case.data, "confirmed_by": principal.personal_id,
                     "social_assistance_requested": data.social_assistance_requested,
                     "declarant": _declarant(relation, principal.personal_id, principal.name, None, decision, "death")}
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
    outcome, reason = "done", None
    if st.name == "confirm" and st.state == "waiting_citizen":
        _office_declaration(case, body)
    elif case.procedure == "death" and st.name == "funeral_allowance" and workflow.awaiting_officer(st):
        decided = _officer_funeral_allowance(session, principal, case, body)
        result.update(decided)
        if decided["status"] != "eligible":
            outcome, reason = "skipped", decided["reason"]
    elif case.procedure == "death" and st.name == "social_assistance_funeral" and workflow.awaiting_officer(st):
        decided = _officer_social_assistance(case, body)
        result.update(decided)
        if decided["status"] != "eligible":
            outcome, reason = "skipped", decided["reason"]
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
    workflow.complete_manual(session, case, step, by=principal.subject, result=result, now=now, officer=True,
                             outcome=outcome, reason=reason)
    audit.record(session, principal, "update", RESOURCE, resource_id=case.id,
                 subject_id=case.subject_personal_id or case.applicant_personal_id,
                 purpose="giải quyết thủ tục liên thông", detail={"step": step, "outcome": outcome})
    return to_out(case, now, officer=True)


def _declarant(relation: str | None, personal_id: str | None, name: str | None, reason: str | None,
               decision: rules.Decision, procedure: str) -> dict:
    names = rules.BIRTH_DECLARANTS if procedure == "birth" else rules.DEATH_DECLARANTS
    return {"relation": relation, "relation_name": names.get(relation or "", ""), "personal_id": personal_id,
            "name": name, "parents_unable_reason": reason, "basis": decision.reason}


def _office_declaration(case: ProcedureCase, body: ActIn) -> None:
    """The declarant came to the office: the officer records who they are (Luật Hộ tịch Điều 15.1, Điều 33)."""
    if not body.declarant_relation or not (body.declarant_name or "").strip():
        raise DomainError("cần ghi người đi đăng ký (quan hệ và họ tên) khi xác nhận tờ khai tại cơ quan",
                          field="declarant_relation")
    d = dict(case.data or {})
    if case.procedure == "birth":
        decision = rules.birth_declarant_allowed(body.declarant_relation, body.parents_unable_reason)
        if not decision.allowed:
            raise DomainError(decision.reason, field="declarant_relation")
        child = dict(d.get("child") or {})
        for key in ("family_name", "middle_name", "given_name"):
            value = getattr(body, key)
            if value is not None:
                child[key] = clean_name_part(value)
        if body.sex:
            child["sex"] = body.sex
        if not child.get("given_name") or child.get("sex") not in ("M", "F"):
            raise DomainError("tờ khai chưa đủ họ tên và giới tính của trẻ", field="given_name")
        d["child"] = child
    else:
        has_relatives = bool(d.get("relatives")) if body.has_relatives is None else body.has_relatives
        decision = rules.death_declarant_allowed(body.declarant_relation, has_relatives=has_relatives,
                                                 responsible_found=body.responsible_found)
        if not decision.allowed:
            raise DomainError(decision.reason, field="declarant_relation")
        if body.social_assistance_requested is not None:
            d["social_assistance_requested"] = body.social_assistance_requested
    d["declarant"] = _declarant(body.declarant_relation, body.declarant_personal_id, body.declarant_name.strip(),
                                body.parents_unable_reason, decision, case.procedure)
    case.data = d


def _officer_funeral_allowance(session: Session, principal: Principal, case: ProcedureCase, body: ActIn) -> dict:
    """A funeral allowance the contribution history could not decide (pension, work accident)."""
    from lienthong.insurance import service as insurance_service

    death_date = case.event_date
    if body.funeral_route is None:
        existing = insurance_service.funeral_decision(session, case.subject_personal_id)
        if existing is None or existing.status == "unknown":
            raise DomainError("cần chọn căn cứ quyết định trợ cấp mai táng", field="funeral_route")
        return death.allowance_result(existing)
    d = insurance_service.officer_decide_funeral_allowance(
        session, principal, personal_id=case.subject_personal_id, death_date=death_date, route=body.funeral_route,
        reason=body.note or "", province_code=case.province_code, source=f"civil:{case.id}")
    return death.allowance_result(d)


def _officer_social_assistance(case: ProcedureCase, body: ActIn) -> dict:
    """NĐ 20/2021 Điều 11: the commune officer records whether the deceased was a beneficiary, and which."""
    from lienthong.insurance.rules import SaCategory

    allowed = {c.value for c in SaCategory} | {"none"}
    if body.sa_category not in allowed:
        raise DomainError("cần chọn đối tượng theo khoản 1 Điều 11 Nghị định 20/2021/NĐ-CP (hoặc 'none')",
                          field="sa_category")
    category = None if body.sa_category == "none" else body.sa_category
    return death.decide_social_assistance(case, category, body.province_standard_vnd)


def start_without_certificate(session: Session, principal: Principal, body: StartIn) -> CaseOut:
    """The commune office starts a linked procedure from the papers the law accepts in place of the
    hospital certificate (a witness statement or sworn statement for a birth; a substitute for the
    death notice)."""
    authorize(principal, "civil.act")
    now = utcnow()
    if body.procedure == "birth":
        decision = rules.birth_document_allowed(body.document_kind, has_certificate=body.has_certificate,
                                                has_witness=body.has_witness, linked=True)
        if not decision.allowed:
            raise DomainError(decision.reason, field="document_kind")
        if body.child is None or body.mother_personal_id is None:
            raise DomainError("cần thông tin của trẻ và số định danh của người mẹ", field="child")
        c = body.child
        born = c.birth_date.strftime("%Y%m%d") + (c.birth_time.replace(":", "") if c.birth_time else "")
        data = {"NGAY_SINH_CON": born, "HO_TEN_CON": " ".join(p for p in (c.family_name, c.middle_name, c.given_name) if p),
                "GIOI_TINH_CON": 1 if c.sex == "M" else 2, "SO_CCCD_NND": body.mother_personal_id,
                "NOI_SINH_CON": c.birth_place}
        pre = birth.prefill(session, data, body.mother_personal_id)
        mother = pre["mother"]
        if mother is None or not mother.get("residence"):
            raise DomainError("không tìm thấy người mẹ hoặc nơi thường trú của mẹ trong CSDL dân cư",
                              field="mother_personal_id")
        res = mother["residence"]
        fields = dict(applicant_personal_id=mother["personal_id"], event_date=c.birth_date)
    else:
        decision = rules.death_document_allowed(body.document_kind)
        if not decision.allowed:
            raise DomainError(decision.reason, field="document_kind")
        if body.deceased_personal_id is None or body.death_time is None:
            raise DomainError("cần số định danh và thời điểm chết", field="deceased_personal_id")
        died = body.death_time if body.death_time.tzinfo else body.death_time.replace(tzinfo=VN_TZ)
        pre = death.prefill(session, {"SO_GIAYTO": body.deceased_personal_id, "NGAY_TV": died.isoformat(),
                                      "NGUYENNHAN_TV": body.cause}, body.deceased_personal_id)
        if pre["deceased"] is None:
            raise DomainError("không tìm thấy người chết trong CSDL dân cư", field="deceased_personal_id")
        res = pre["deceased"].get("residence") or {}
        fields = dict(subject_personal_id=body.deceased_personal_id, event_date=died.astimezone(VN_TZ).date())
    authorize(principal, "civil.act", Target(province_code=res.get("province_code")))
    pre["facility_code"] = None
    pre["document"] = {"kind": body.document_kind, "number": body.document_number, "basis": decision.reason,
                       "name": (rules.BIRTH_DOCUMENTS if body.procedure == "birth" else rules.DEATH_DOCUMENTS)[body.document_kind]}
    pre["certificate"] = None
    key = f"{body.procedure}:doc:{res.get('ward_code')}:{body.document_kind}:{body.document_number}"
    case, created = workflow.create_case(session, body.procedure, source_key=key[:255], now=now, certificate_id=None,
                                         province_code=res.get("province_code"), ward_code=res.get("ward_code"),
                                         data=pre, **fields)
    if not created:
        raise Conflict("giấy tờ này đã được dùng để lập hồ sơ", field="document_number")
    audit.record(session, principal, "create", RESOURCE, resource_id=case.id,
                 subject_id=case.subject_personal_id or case.applicant_personal_id,
                 purpose="lập hồ sơ thủ tục liên thông từ giấy tờ thay thế", detail={"document_kind": body.document_kind})
    return to_out(case, now, officer=True)


def require_verification(session: Session, principal: Principal, case_id: str, body: VerificationIn) -> CaseOut:
    """The officer finds the birth dossier needs verifying: the whole-procedure deadline becomes the
    ``verification`` variant of the rule in force on the receipt day (``data/deadlines.json``)."""
    case = _load(session, case_id)
    authorize(principal, "civil.act", Target(province_code=case.province_code))
    workflow.check_version(case, body.version)
    if case.procedure != "birth":
        raise DomainError("chỉ nhóm thủ tục liên thông khai sinh có thời hạn riêng khi cần xác minh", field="procedure")
    if case.status == "done" or case.received_at is None:
        raise Conflict("chỉ yêu cầu xác minh khi hồ sơ đã tiếp nhận và chưa hoàn thành")
    if (case.data or {}).get("verification"):
        raise Conflict("hồ sơ đã được yêu cầu xác minh")
    now = utcnow()
    case.data = {**case.data, "verification": {"reason": body.reason, "by": principal.subject, "at": now.isoformat()}}
    before = case.due_at
    workflow.recompute_case_deadline(case)
    for st in case.steps:
        if st.state in workflow.ACTIVE and st.started_at is not None:
            started = st.started_at if st.started_at.tzinfo else st.started_at.replace(tzinfo=VN_TZ)
            rule = rules.rule_for(case.procedure, st.name, started.astimezone(VN_TZ).date(), variant="verification")
            if rule is not None and rule.variant == "verification":
                st.due_at, st.due_basis = rules.due_at(rule, started, anchor=case.event_date), rule.basis
    case.updated_at = now
    workflow.flush_or_conflict(session)
    audit.record(session, principal, "update", RESOURCE, resource_id=case.id,
                 subject_id=case.subject_personal_id or case.applicant_personal_id,
                 purpose="yêu cầu xác minh hồ sơ thủ tục liên thông",
                 detail={"reason": body.reason, "due_before": before, "due_after": case.due_at})
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
                              state_name=workflow.state_name(st), due_at=st.due_at,
                              last_error=st.last_error, attempts=st.attempts))
    audit.record(session, principal, "search", RESOURCE, purpose="theo dõi hồ sơ quá hạn",
                 detail={"province_code": province_code, "procedure": procedure, "rows": len(out)})
    return out

