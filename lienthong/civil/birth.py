"""Linked birth procedure: khai sinh -> số định danh -> đăng ký thường trú -> thẻ BHYT trẻ em dưới 6 tuổi.

Started by a hospital birth certificate (giấy chứng sinh, XML9). Steps:

1. ``confirm`` (parent, VNeID level 2; a grandparent in the registry when the parents cannot, with the
   reason; or the commune officer for whoever declares at the office: a parent, grandparent, other
   relative or the carer, Luật Hộ tịch Điều 15.1, :func:`lienthong.civil.rules.birth_declarant_allowed`):
   review the pre-filled declaration, give the child's name, confirm (starts the whole-procedure
   deadline: the dossier is complete);

A case can also start at the commune office from the papers that replace the hospital certificate
(a witness statement, or a sworn statement when there is no witness: Luật Hộ tịch Điều 16.1;
``service.start_without_certificate``), and an officer can mark a dossier as needing verification
(the longer deadline of the rule's ``verification`` variant).
2. ``register`` (commune civil-status officer): registers the birth, issues the e-birth-certificate
   extract number (trích lục khai sinh điện tử);
3. ``assign_id`` (automatic, Công an): the child's personal ID number; the child is registered in the
   population registry with family links (mother, and the father when linked), residing with the
   mother (a minor's residence is the parents', Luật Cư trú 2020 Điều 12);
4. ``residence`` (automatic, Công an): permanent residence at the address of the parent chosen in
   step 1 (moved there when it is the father's);
5. ``health_card`` (automatic, BHXH): the free under-6 BHYT card (after ``assign_id`` only, so a BHYT
   failure never blocks the registration or the residence).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy.orm import Session

from lienthong.civil import agents, workflow
from lienthong.civil.models import ProcedureCase, ProcedureStep
from lienthong.errors import DomainError
from lienthong.geo import units
from lienthong.population import schemas as pop_schemas
from lienthong.population import service as population_service
from lienthong.population.ids import make_personal_id
from lienthong.population.models import Citizen
from lienthong.web.dates import vndate, vntimedate
from lienthong.workdays import VN_TZ

SEX_CODES = {1: "M", 2: "F", "1": "M", "2": "F"}


def parse_birth_datetime(value) -> datetime | None:
    """NGAY_SINH_CON: ISO text (typed by the gateway) or the raw ``yyyymmddHHMM``."""
    if not value:
        return None
    text = str(value).strip()
    if re.fullmatch(r"\d{8}(\d{4})?", text):
        hh, mm = (int(text[8:10]), int(text[10:12])) if len(text) == 12 else (0, 0)
        return datetime(int(text[:4]), int(text[4:6]), int(text[6:8]), hh, mm, tzinfo=VN_TZ)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=VN_TZ)


def split_name(full: str) -> tuple[str, str, str]:
    parts = (full or "").split()
    if not parts:
        return "", "", ""
    if len(parts) == 1:
        return parts[0], "", ""
    return parts[0], " ".join(parts[1:-1]), parts[-1]


def address_text(res: dict | None) -> str:
    if not res:
        return ""
    parts = [res.get("street") or ""]
    try:
        if res.get("ward_code"):
            parts.append(units.ward(res["ward_code"]).name)
        parts.append(units.province(res["province_code"]).name)
    except units.UnknownUnit:
        pass
    return ", ".join(p for p in parts if p)


def ward_name(code: int | None) -> str:
    try:
        return units.ward(code).name if code else "UBND cấp xã"
    except units.UnknownUnit:
        return "UBND cấp xã"


def _person(out) -> dict:
    cur = next((r for r in out.residences if r.kind == "permanent" and r.valid_to is None), None)
    return {
        "personal_id": out.personal_id, "full_name": out.full_name, "birth_date": out.birth_date.isoformat(),
        "sex": out.sex, "ethnicity": out.ethnicity,
        "residence": {"province_code": cur.province_code, "ward_code": cur.ward_code, "street": cur.street}
        if cur else None,
    }


def read_person(session: Session, personal_id: str, purpose: str):
    """Audited registry read by the civil-status software of the person's province (None if unknown)."""
    res = population_service.current_residence(session, personal_id)
    if res is None:
        return None
    try:
        return population_service.get_citizen(session, agents.civil_status(res.province_code), personal_id, purpose)
    except DomainError:
        return None


def prefill(session: Session, data: dict, mother_hint: str | None) -> dict:
    """The pre-filled declaration from the XML9 record and the population registry."""
    issues: list[str] = []
    born = parse_birth_datetime(data.get("NGAY_SINH_CON"))
    if born is None:
        issues.append("Giấy chứng sinh không có ngày sinh hợp lệ của trẻ.")
    family, middle, given = split_name(data.get("HO_TEN_CON") or "")
    child = {
        "family_name": family, "middle_name": middle, "given_name": given,
        "sex": SEX_CODES.get(data.get("GIOI_TINH_CON")),
        "birth_date": born.date().isoformat() if born else None,
        "birth_time": born.strftime("%H:%M") if born else None,
        "weight_g": data.get("CAN_NANG_CON"), "birth_place": data.get("NOI_SINH_CON"),
        "temporary_card": data.get("MA_THE_TAM"), "condition": data.get("TINH_TRANG_CON"),
    }
    cccd = str(data.get("SO_CCCD_NND") or "").strip()
    mother_id = cccd if re.fullmatch(r"\d{12}", cccd) else mother_hint
    mother = father = None
    grandparents: list[dict] = []
    if mother_id:
        out = read_person(session, mother_id, "điền sẵn tờ khai đăng ký khai sinh liên thông")
        if out is not None:
            mother = _person(out)
            grandparents += _grandparents(out, "maternal")
            spouse = next((r for r in out.relatives if r.relation == "spouse"), None)
            if spouse is not None:
                f_out = read_person(session, spouse.personal_id, "điền sẵn thông tin người cha trong tờ khai khai sinh")
                if f_out is not None and f_out.sex == "M":
                    father = _person(f_out)
                    grandparents += _grandparents(f_out, "paternal")
    if mother is None:
        issues.append("Không tìm thấy người mẹ (SO_CCCD_NND) trong Cơ sở dữ liệu quốc gia về dân cư.")
    elif mother["residence"] is None:
        issues.append("Người mẹ chưa có nơi thường trú trong Cơ sở dữ liệu quốc gia về dân cư.")
    return {
        "child": child, "mother": mother, "father": father, "father_name_on_certificate": data.get("HO_TEN_CHA"),
        "mother_name_on_certificate": data.get("HO_TEN_NND"), "include_father": father is not None,
        "residence_of": "mother", "issues": issues, "grandparents": grandparents,
    }


def _grandparents(parent_out, side: str) -> list[dict]:
    """The parent's own father and mother: Luật Hộ tịch Điều 15.1 lets "ông hoặc bà" declare the birth."""
    return [{"personal_id": r.personal_id, "full_name": r.full_name, "relation": f"{side}_grand{r.relation}"}
            for r in parent_out.relatives if r.relation in ("father", "mother")]


def relation_of(case: ProcedureCase, personal_id: str | None) -> str | None:
    """The relation to the child (Luật Hộ tịch Điều 15.1 terms) of a citizen of the registry, or None."""
    d = case.data or {}
    if not personal_id:
        return None
    if personal_id in {(d.get("mother") or {}).get("personal_id"), (d.get("father") or {}).get("personal_id")}:
        return "parent"
    if personal_id == case.applicant_personal_id:
        return "parent"
    if any(g["personal_id"] == personal_id for g in d.get("grandparents") or []):
        return "grandparent"
    return None


def readers(case: ProcedureCase) -> list[str]:
    """Citizens who may read and confirm: the parents and, when the parents cannot, the grandparents."""
    return list(dict.fromkeys([*parties(case), *(g["personal_id"] for g in (case.data or {}).get("grandparents") or [])]))


def _name(case: ProcedureCase) -> str:
    c = case.data.get("child") or {}
    name = " ".join(p for p in (c.get("family_name"), c.get("middle_name"), c.get("given_name")) if p)
    return name or "của bạn"


def parties(case: ProcedureCase) -> list[str]:
    d = case.data or {}
    out = [case.applicant_personal_id]
    if d.get("father") and d.get("include_father", True):
        out.append(d["father"]["personal_id"])
    out.append((d.get("declarant") or {}).get("personal_id"))  # a grandparent who declared
    return [p for p in dict.fromkeys(out) if p]


# --- automatic steps ---------------------------------------------------------------------------------------------


def assign_id(session: Session, case: ProcedureCase, st: ProcedureStep, now: datetime) -> dict:
    d = case.data
    if case.subject_personal_id and session.get(Citizen, case.subject_personal_id) is not None:
        return {"personal_id": case.subject_personal_id}
    mother, child = d.get("mother"), d["child"]
    if not mother or not mother.get("residence"):
        raise DomainError("chưa xác định được người mẹ và nơi thường trú của mẹ trong CSDL dân cư")
    if not child.get("sex") or not child.get("birth_date") or not child.get("given_name"):
        raise DomainError("tờ khai thiếu họ tên, giới tính hoặc ngày sinh của trẻ")
    birth = date.fromisoformat(child["birth_date"])
    place = f"{case.province_code:03d}"
    prefix = make_personal_id(place, child["sex"], birth.year, 0)[:6]
    for _ in range(10_000):
        serial = agents.next_value(session, f"pid:{prefix}")
        pid = make_personal_id(place, child["sex"], birth.year, serial)
        if session.get(Citizen, pid) is None:
            break
    else:  # pragma: no cover - 10 000 collisions in a row
        raise DomainError("không cấp được số định danh: dãy số đã dùng hết")
    res = mother["residence"]
    father = d.get("father") if d.get("include_father") else None
    data = pop_schemas.CitizenIn(
        personal_id=pid, family_name=child["family_name"], middle_name=child.get("middle_name") or "",
        given_name=child["given_name"], birth_date=birth, sex=child["sex"],
        ethnicity=child.get("ethnicity") or mother.get("ethnicity") or "Kinh",
        residence=pop_schemas.ResidenceIn(kind="permanent", province_code=res["province_code"],
                                          ward_code=res["ward_code"], street=res.get("street") or "",
                                          valid_from=birth),
        mother_id=mother["personal_id"], father_id=father["personal_id"] if father else None,
    )
    population_service.register_citizen(session, agents.police(res["province_code"]), data,
                                        purpose="cấp số định danh cá nhân cho trẻ (liên thông khai sinh)")
    case.subject_personal_id = pid
    return {"personal_id": pid}


def register_residence(session: Session, case: ProcedureCase, st: ProcedureStep, now: datetime) -> dict:
    d = case.data
    pid = case.subject_personal_id
    chosen = d.get("residence_of") or "mother"
    parent = d.get(chosen) or d.get("mother")
    target = population_service.current_residence(session, parent["personal_id"])
    if target is None:
        raise DomainError("cha/mẹ được chọn không có nơi thường trú")
    current = population_service.current_residence(session, pid)
    want = {"province_code": target.province_code, "ward_code": target.ward_code, "street": target.street}
    if current is None or (current.province_code, current.ward_code, current.street) != (
            target.province_code, target.ward_code, target.street):
        population_service.move_residence(
            session, agents.police(target.province_code), pid,
            pop_schemas.ResidenceIn(kind="permanent", province_code=target.province_code, ward_code=target.ward_code,
                                    street=target.street, valid_from=now.astimezone(VN_TZ).date()),
            purpose="đăng ký thường trú cho trẻ (liên thông khai sinh)")
    return {**want, "with": chosen, "address": address_text(want)}


def issue_card(session: Session, case: ProcedureCase, st: ProcedureStep, now: datetime) -> dict:
    from lienthong.insurance import service as insurance_service

    child = case.data["child"]
    res = population_service.current_residence(session, case.subject_personal_id)
    card = insurance_service.issue_child_card(
        session, agents.social_insurance(), personal_id=case.subject_personal_id,
        birth_date=date.fromisoformat(child["birth_date"]),
        province_code=res.province_code if res else case.province_code, source=f"civil:{case.id}",
        on=now.astimezone(VN_TZ).date())
    return {"card_number": card.card_number, "valid_from": card.valid_from.isoformat(),
            "valid_to": card.valid_to.isoformat(), "extended_to": card.extended_to.isoformat() if card.extended_to else None}


# --- notification texts -----------------------------------------------------------------------------------------------


def received_from(case: ProcedureCase, paper: str) -> str:
    doc = case.data.get("document")
    if doc:
        return f"{ward_name(case.ward_code)} đã tiếp nhận {doc.get('name', '').lower()} số {doc.get('number')}"
    return f"Cơ sở y tế {case.data.get('facility_code', '')} đã gửi {paper}"


def _wait(case: ProcedureCase, st: ProcedureStep) -> str:
    born = vndate((case.data.get("child") or {}).get("birth_date"))
    due = vntimedate(st.due_at)
    return (f"{received_from(case, 'giấy chứng sinh')} của con bạn (sinh ngày {born}). "
            f"Vui lòng kiểm tra tờ khai đăng ký khai sinh đã được điền sẵn, bổ sung họ tên của trẻ và xác nhận "
            f"trên ứng dụng (hạn đăng ký khai sinh: {due}). Mã hồ sơ: {workflow.short_id(case)}.")


def _confirmed(case: ProcedureCase, st: ProcedureStep) -> str:
    return (f"Đã nhận xác nhận tờ khai đăng ký khai sinh cho cháu {_name(case)}. Hồ sơ đã chuyển "
            f"{ward_name(case.ward_code)}; hạn giải quyết toàn bộ hồ sơ: {vntimedate(case.due_at)}.")


def _registered(case: ProcedureCase, st: ProcedureStep) -> str:
    return (f"{ward_name(case.ward_code)} đã đăng ký khai sinh cho cháu {_name(case)}. "
            f"Trích lục khai sinh điện tử số {st.result.get('extract_number')}.")


def _id_done(case: ProcedureCase, st: ProcedureStep) -> str:
    return f"Cháu {_name(case)} đã được cấp số định danh cá nhân {st.result.get('personal_id')}."


def _residence_done(case: ProcedureCase, st: ProcedureStep) -> str:
    return f"Cháu {_name(case)} đã được đăng ký thường trú tại {st.result.get('address')}."


def _card_done(case: ProcedureCase, st: ProcedureStep) -> str:
    r = st.result
    end = r.get("extended_to") or r.get("valid_to")
    return (f"Cháu {_name(case)} đã được cấp thẻ bảo hiểm y tế số {r.get('card_number')}, "
            f"giá trị sử dụng từ {vndate(r.get('valid_from'))} đến {vndate(end)}.")


def _case_done(case: ProcedureCase, st: ProcedureStep) -> str:
    return (f"Hồ sơ liên thông đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế cho cháu {_name(case)} "
            f"đã hoàn thành. Mã hồ sơ: {workflow.short_id(case)}.")


PROCEDURE = workflow.register_procedure(workflow.ProcedureDef(
    name="birth", title="Liên thông khai sinh",
    steps=(
        workflow.StepDef("confirm", "Cha, mẹ xác nhận tờ khai", "citizen", wait_text=_wait, done_text=_confirmed,
                         starts_clock=True, officer_may_complete=True),
        workflow.StepDef("register", "Đăng ký khai sinh", "agency", after=("confirm",), done_text=_registered),
        workflow.StepDef("assign_id", "Cấp số định danh cá nhân", "auto", after=("register",), run=assign_id,
                         done_text=_id_done),
        workflow.StepDef("residence", "Đăng ký thường trú", "auto", after=("assign_id",), run=register_residence,
                         done_text=_residence_done),
        workflow.StepDef("health_card", "Cấp thẻ bảo hiểm y tế trẻ em dưới 6 tuổi", "auto", after=("assign_id",),
                         run=issue_card, done_text=_card_done),
    ),
    recipients=parties, done_text=_case_done,
))


def start(session: Session, *, certificate_id: int | None, facility_code: str, number: str | None, ma_lk: str | None,
          data: dict, mother_hint: str | None, now: datetime) -> tuple[ProcedureCase, bool]:
    """Create the birth case for one birth certificate (idempotent)."""
    pre = prefill(session, data, mother_hint)
    pre["facility_code"] = facility_code
    pre["certificate"] = {"id": certificate_id, "number": number, "ma_lk": ma_lk, "facility_code": facility_code}
    mother = pre["mother"]
    res = (mother or {}).get("residence") or {}
    child_born = pre["child"]["birth_date"]
    key = f"birth:{facility_code}:{ma_lk or ''}:{number or certificate_id}:{pre['child'].get('birth_time') or ''}"
    return workflow.create_case(
        session, "birth", source_key=key[:255], now=now, certificate_id=certificate_id,
        applicant_personal_id=mother["personal_id"] if mother else None,
        province_code=res.get("province_code"), ward_code=res.get("ward_code"),
        event_date=date.fromisoformat(child_born) if child_born else None, data=pre)
