"""Linked death procedure: khai tử -> CSDL dân cư -> xóa đăng ký thường trú -> trợ cấp mai táng -> sổ sức khỏe.

Started by a hospital death notice (giấy báo tử, or a death outcome in XML1). Steps:

1. ``confirm`` (a relative in the registry — spouse, parent or child — with VNeID level 2, or the
   commune officer for the person who declares at the office: another relative, or the representative
   of an organisation when the deceased had no relatives, or the officer themself when nobody
   responsible can be found, Luật Hộ tịch Điều 33; :func:`lienthong.civil.rules.death_declarant_allowed`):
   confirms the pre-filled declaration and says whether the family asks for the social-assistance
   funeral support;
2. ``register`` (commune civil-status officer): registers the death, issues the extract number
   (trích lục khai tử);
3. ``update_registry`` (automatic, Công an): ``population.service.record_death``;
4. ``remove_residence`` (automatic, Công an): deletes the permanent residence;
5. ``funeral_allowance`` (automatic, BHXH, after ``register`` only): decision from the contribution
   history by the law in force on the date of death (Luật BHXH 2014 / 2024:
   :func:`lienthong.insurance.rules.funeral_eligibility`), 10 × the reference level of the month of
   death. When the history does not make the person eligible, the law may still do so through data
   the platform does not hold (a pension, a work accident): the step waits for an officer
   (:class:`~lienthong.civil.workflow.Handoff`), who records the route (``funeral_route``) and the
   verification (``note``): :func:`lienthong.insurance.service.officer_decide_funeral_allowance`;
6. ``close_health_book`` (automatic): ``health.book.close_requested`` event for the health context;
7. ``social_assistance_funeral`` (after ``funeral_allowance``): the social-assistance funeral support of
   NĐ 20/2021/NĐ-CP Điều 11, only when the family asked for it; the commune officer records the
   beneficiary category (``sa_category``), the amount follows
   :func:`lienthong.insurance.rules.social_assistance_funeral` (only the highest of several supports).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy.orm import Session

from lienthong.civil import agents, rules, workflow
from lienthong.civil.birth import received_from, parse_birth_datetime, read_person
from lienthong.civil.models import ProcedureCase, ProcedureStep
from lienthong.errors import Conflict, DomainError
from lienthong.events.outbox import record_event
from lienthong.population import service as population_service
from lienthong.population.models import Citizen
from lienthong.web.dates import vndate, vntimedate
from lienthong.web.money import vnd


def prefill(session: Session, data: dict, hint: str | None) -> dict:
    issues: list[str] = []
    candidates = [hint, data.get("SO_GIAYTO"), data.get("SO_CCCD")]
    pid = next((str(c).strip() for c in candidates if c and re.fullmatch(r"\d{12}", str(c).strip())), None)
    died = parse_birth_datetime(data.get("NGAY_TV"))
    if died is None:
        issues.append("Giấy báo tử không có thời điểm chết hợp lệ.")
    deceased = None
    relatives: list[dict] = []
    if pid:
        out = read_person(session, pid, "điền sẵn tờ khai đăng ký khai tử liên thông")
        if out is not None:
            cur = next((r for r in out.residences if r.kind == "permanent" and r.valid_to is None), None)
            deceased = {"personal_id": out.personal_id, "full_name": out.full_name,
                        "birth_date": out.birth_date.isoformat(), "sex": out.sex,
                        "residence": {"province_code": cur.province_code, "ward_code": cur.ward_code,
                                      "street": cur.street} if cur else None}
            relatives = [{"personal_id": r.personal_id, "full_name": r.full_name, "relation": r.relation}
                         for r in out.relatives]
    if deceased is None:
        issues.append("Không tìm thấy người chết trong Cơ sở dữ liệu quốc gia về dân cư.")
    return {
        "deceased": deceased, "name_on_notice": data.get("HO_TEN"), "relatives": relatives,
        "death_time": died.isoformat() if died else None, "death_date": died.date().isoformat() if died else None,
        "cause": data.get("NGUYENNHAN_TV") or data.get("CHAN_DOAN_RV"),
        "relative_on_notice": data.get("NGUOI_THANTHICH"), "issues": issues,
    }


def parties(case: ProcedureCase) -> list[str]:
    if case.applicant_personal_id:
        return [case.applicant_personal_id]
    return [r["personal_id"] for r in (case.data or {}).get("relatives", [])]


RELATION_TO_DECLARANT = {"spouse": "spouse", "child": "child", "father": "parent", "mother": "parent"}


def relation_of(case: ProcedureCase, personal_id: str | None) -> str | None:
    """The declarant relation (Luật Hộ tịch Điều 33) of a relative of the deceased in the registry."""
    for r in (case.data or {}).get("relatives", []):
        if r["personal_id"] == personal_id:
            return RELATION_TO_DECLARANT.get(r["relation"], "relative")
    return None


def relative_ids(case: ProcedureCase) -> list[str]:
    return [r["personal_id"] for r in (case.data or {}).get("relatives", [])]


def _name(case: ProcedureCase) -> str:
    d = case.data.get("deceased") or {}
    return d.get("full_name") or case.data.get("name_on_notice") or ""


def _death_date(case: ProcedureCase) -> date:
    if case.event_date is None:
        raise DomainError("chưa có ngày chết hợp lệ")
    return case.event_date


# --- automatic steps ---------------------------------------------------------------------------------------------


def update_registry(session: Session, case: ProcedureCase, st: ProcedureStep, now: datetime) -> dict:
    pid = case.subject_personal_id
    death_date = _death_date(case)
    citizen = session.get(Citizen, pid)
    if citizen is not None and citizen.status == "dead":
        if citizen.death_date != death_date:
            raise Conflict("CSDL dân cư đã ghi nhận ngày chết khác")
        return {"death_date": death_date.isoformat(), "already_recorded": True}
    res = population_service.current_residence(session, pid)
    population_service.record_death(session, agents.police(res.province_code if res else case.province_code), pid,
                                    death_date, purpose="cập nhật CSDL dân cư (liên thông khai tử)")
    return {"death_date": death_date.isoformat()}


def remove_residence(session: Session, case: ProcedureCase, st: ProcedureStep, now: datetime) -> dict:
    """Residence removal through the population context, which owns residences."""
    pid = case.subject_personal_id
    res = population_service.current_residence(session, pid)
    if res is None:
        return {"note": "không còn nơi thường trú để xóa"}
    population_service.deregister_residence(session, agents.police(res.province_code), pid, end_date=_death_date(case), reason="chết",
       purpose="xóa đăng ký thường trú (liên thông khai tử)")
    return {"province_code": res.province_code, "ward_code": res.ward_code, "removed_on": _death_date(case).isoformat()}


def funeral_allowance(session: Session, case: ProcedureCase, st: ProcedureStep, now: datetime) -> dict:
    from lienthong.insurance import service as insurance_service

    d = insurance_service.decide_funeral_allowance(session, agents.social_insurance(),
                                                   personal_id=case.subject_personal_id,
                                                   death_date=_death_date(case), source=f"civil:{case.id}")
    result = allowance_result(d)
    if d.status == "unknown":
        raise workflow.Handoff(d.reason, result)
    if d.status != "eligible":
        raise workflow.Skip(d.reason, result)
    return result


def allowance_result(d) -> dict:
    return {"status": d.status, "reason": d.reason, "amount_vnd": d.amount_vnd,
            "reference_salary_vnd": d.reference_salary_vnd, "reference_basis": d.reference_basis,
            "rules": (d.detail or {}).get("rules"), "basis": (d.detail or {}).get("basis")}


def social_assistance_funeral(session: Session, case: ProcedureCase, st: ProcedureStep, now: datetime) -> dict:
    """NĐ 20/2021 Điều 11: only on the family's request; the commune officer knows who is a beneficiary."""
    if not (case.data or {}).get("social_assistance_requested"):
        raise workflow.Skip("gia đình không đề nghị hỗ trợ chi phí mai táng theo Nghị định 20/2021/NĐ-CP", quiet=True)
    raise workflow.Handoff("Ủy ban nhân dân cấp xã xác định người chết có thuộc đối tượng quy định tại khoản 1 Điều 11 "
                           "Nghị định 20/2021/NĐ-CP (đối tượng bảo trợ xã hội đang hưởng trợ cấp hằng tháng, con của người "
                           "đơn thân nghèo, người từ đủ 80 tuổi đang hưởng trợ cấp hằng tháng) hay không")


def age_at(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def decide_social_assistance(case: ProcedureCase, category: str | None, province_standard_vnd: int | None) -> dict:
    """The officer's decision on the social-assistance funeral support, by the rule (no writes)."""
    from lienthong.insurance import rules as ins_rules

    death_date = _death_date(case)
    dec = (case.data or {}).get("deceased") or {}
    age = age_at(date.fromisoformat(dec["birth_date"]), death_date) if dec.get("birth_date") else None
    allowance = workflow.get_step(case, "funeral_allowance").result or {}
    higher = allowance.get("amount_vnd") if allowance.get("status") == "eligible" else None
    d = ins_rules.social_assistance_funeral(death_date, category, age_at_death=age, higher_support_vnd=higher,
                                           province_standard_vnd=province_standard_vnd)
    return {"status": d.status, "reason": d.reason, "amount_vnd": d.amount_vnd, "standard_vnd": d.standard_vnd,
            "basis": d.basis, "category": category}


def close_health_book(session: Session, case: ProcedureCase, st: ProcedureStep, now: datetime) -> dict:
    record_event(session, "health.book.close_requested", {
        "personal_id": case.subject_personal_id, "death_date": _death_date(case).isoformat(), "case_id": case.id})
    return {"requested_at": now.isoformat()}


# --- texts -----------------------------------------------------------------------------------------------------------


def _wait(case: ProcedureCase, st: ProcedureStep) -> str:
    return (f"Xin chia buồn cùng gia đình. {received_from(case, 'giấy báo tử')} của "
            f"{_name(case)} (mất ngày {vndate(case.event_date)}). Thân nhân vui lòng kiểm tra tờ khai đăng ký khai tử "
            f"đã được điền sẵn và xác nhận trên ứng dụng (hạn đăng ký khai tử: {vntimedate(st.due_at)}). "
            f"Mã hồ sơ: {workflow.short_id(case)}.")


def _confirmed(case: ProcedureCase, st: ProcedureStep) -> str:
    return (f"Đã nhận xác nhận tờ khai đăng ký khai tử của {_name(case)}. Hồ sơ đã chuyển UBND cấp xã; "
            f"hạn đăng ký khai tử: {vntimedate(case.steps[1].due_at) or 'theo quy định'}.")


def _registered(case: ProcedureCase, st: ProcedureStep) -> str:
    return f"Đã đăng ký khai tử cho {_name(case)}. Trích lục khai tử số {st.result.get('extract_number')}."


def _registry(case: ProcedureCase, st: ProcedureStep) -> str:
    return f"Cơ sở dữ liệu quốc gia về dân cư đã cập nhật thông tin khai tử của {_name(case)}."


def _residence(case: ProcedureCase, st: ProcedureStep) -> str:
    return f"Đã xóa đăng ký thường trú của {_name(case)}."


def _allowance(case: ProcedureCase, st: ProcedureStep) -> str:
    return (f"Cơ quan bảo hiểm xã hội đã quyết định trợ cấp mai táng cho thân nhân của {_name(case)}: "
            f"{vnd(st.result.get('amount_vnd'))} (10 lần mức tham chiếu {vnd(st.result.get('reference_salary_vnd'))}).")


def _sa_support(case: ProcedureCase, st: ProcedureStep) -> str:
    return (f"Ủy ban nhân dân cấp xã đã quyết định hỗ trợ chi phí mai táng cho gia đình {_name(case)}: "
            f"{vnd(st.result.get('amount_vnd'))} (khoản 2 Điều 11 Nghị định 20/2021/NĐ-CP).")


def _book(case: ProcedureCase, st: ProcedureStep) -> str:
    return f"Sổ sức khỏe điện tử của {_name(case)} đã được đóng."


def _case_done(case: ProcedureCase, st: ProcedureStep) -> str:
    return (f"Hồ sơ liên thông đăng ký khai tử, xóa đăng ký thường trú, trợ cấp mai táng của {_name(case)} "
            f"đã hoàn thành. Mã hồ sơ: {workflow.short_id(case)}.")


PROCEDURE = workflow.register_procedure(workflow.ProcedureDef(
    name="death", title="Liên thông khai tử",
    steps=(
        workflow.StepDef("confirm", "Thân nhân xác nhận tờ khai", "citizen", wait_text=_wait, done_text=_confirmed,
                         starts_clock=True, officer_may_complete=True),
        workflow.StepDef("register", "Đăng ký khai tử", "agency", after=("confirm",), done_text=_registered),
        workflow.StepDef("update_registry", "Cập nhật CSDL dân cư", "auto", after=("register",), run=update_registry,
                         done_text=_registry),
        workflow.StepDef("remove_residence", "Xóa đăng ký thường trú", "auto", after=("update_registry",),
                         run=remove_residence, done_text=_residence),
        workflow.StepDef("funeral_allowance", "Trợ cấp mai táng", "auto", after=("register",), run=funeral_allowance,
                         done_text=_allowance, officer_may_complete=True),
        workflow.StepDef("close_health_book", "Đóng sổ sức khỏe điện tử", "auto", after=("update_registry",),
                         run=close_health_book, done_text=_book),
        workflow.StepDef("social_assistance_funeral", "Hỗ trợ chi phí mai táng (trợ giúp xã hội)", "auto",
                         after=("funeral_allowance",), run=social_assistance_funeral, done_text=_sa_support,
                         officer_may_complete=True),
    ),
    recipients=parties, done_text=_case_done,
))


def start(session: Session, *, certificate_id: int | None, facility_code: str, number: str | None, ma_lk: str | None,
          data: dict, hint: str | None, now: datetime) -> tuple[ProcedureCase, bool]:
    pre = prefill(session, data, hint)
    pre["facility_code"] = facility_code
    pre["certificate"] = {"id": certificate_id, "number": number, "ma_lk": ma_lk, "facility_code": facility_code}
    dec = pre["deceased"]
    res = (dec or {}).get("residence") or {}
    key = f"death:{facility_code}:{ma_lk or ''}:{number or certificate_id}"
    return workflow.create_case(
        session, "death", source_key=key[:255], now=now, certificate_id=certificate_id,
        subject_personal_id=dec["personal_id"] if dec else None,
        province_code=res.get("province_code"), ward_code=res.get("ward_code"),
        event_date=date.fromisoformat(pre["death_date"]) if pre["death_date"] else None, data=pre)
