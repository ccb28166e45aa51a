"""Linked civil procedures: API for citizens, officers and agencies, and the web pages.

Pages: ``/thu-tuc`` (my procedures), ``/thu-tuc/{id}`` (review and confirm), ``/can-bo/ho-so-qua-han``
(overdue dashboard for officers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from lienthong.civil import intake as _intake  # noqa: F401  (subscribes the certificate handler)
from lienthong.civil import service
from lienthong.civil.birth import address_text, ward_name
from lienthong.deps import get_db
from lienthong.errors import DomainError
from lienthong.geo import units
from lienthong.identity.policy import requires
from lienthong.identity.principal import Principal
from lienthong.web import routes as web
from lienthong.web.templating import make_templates, page_renderer
from lienthong.params import ProvinceCode, Version

router = APIRouter(tags=["civil"])

templates = make_templates(Path(__file__).parent / "templates")
templates.env.filters.update(address=address_text, ward_name=ward_name)
_render = page_renderer(templates)


# --- API -----------------------------------------------------------------------------------------------------------------


@router.get("/api/v1/civil/cases/mine", response_model=list[service.CaseOut])
def my_cases(principal: Principal = Depends(requires("civil.read")), db: Session = Depends(get_db)):
    """The citizen's linked procedures (as parent or relative)."""
    return service.my_cases(db, principal)


@router.get("/api/v1/civil/cases/{case_id}", response_model=service.CaseOut)
def get_case(case_id: str, principal: Principal = Depends(requires("civil.read")), db: Session = Depends(get_db)):
    return service.get_case(db, principal, case_id)


@router.post("/api/v1/civil/cases/{case_id}/confirm", response_model=service.CaseOut)
def confirm_case(case_id: str, body: dict = Body(..., examples=[{
        "version": 2, "family_name": "Nguyễn", "middle_name": "Minh", "given_name": "An", "include_father": True,
        "residence_of": "mother"}]),
                 principal: Principal = Depends(requires("civil.confirm")), db: Session = Depends(get_db)):
    """The parent (birth: child's name, father, residence) or a relative (death) confirms the declaration."""
    return service.confirm(db, principal, case_id, body)


@router.post("/api/v1/civil/cases/{case_id}/steps/{step}/complete", response_model=service.CaseOut)
def complete_step(case_id: str, step: str, body: service.ActIn, principal: Principal = Depends(requires("civil.act")),
                  db: Session = Depends(get_db)):
    """An officer / agency completes an agency step (``register``: issues the extract number)."""
    return service.act(db, principal, case_id, step, body)


@router.post("/api/v1/civil/cases", response_model=service.CaseOut, status_code=201)
def start_case(body: service.StartIn, principal: Principal = Depends(requires("civil.act")), db: Session = Depends(get_db)):
    """The commune office starts a linked birth or death procedure from the papers the law accepts instead of the
    hospital certificate (birth: witness or sworn statement, Luật Hộ tịch Điều 16.1; death: a substitute for the
    death notice, Điều 34.1)."""
    return service.start_without_certificate(db, principal, body)


@router.post("/api/v1/civil/cases/{case_id}/verification", response_model=service.CaseOut)
def require_verification(case_id: str, body: service.VerificationIn, principal: Principal = Depends(requires("civil.act")),
                         db: Session = Depends(get_db)):
    """The officer marks a linked birth dossier as needing verification: the longer deadline applies."""
    return service.require_verification(db, principal, case_id, body)


@router.post("/api/v1/civil/cases/{case_id}/steps/{step}/retry", response_model=service.CaseOut)
def retry_step(case_id: str, step: str, body: service.ActIn, principal: Principal = Depends(requires("civil.act")),
               db: Session = Depends(get_db)):
    """Restart an automatic step that failed after all its attempts."""
    return service.retry(db, principal, case_id, step, body)


@router.get("/api/v1/civil/overdue", response_model=list[service.OverdueRow])
def overdue_cases(province_code: Annotated[ProvinceCode | None, Query()] = None, procedure: str | None = Query(None),
                  principal: Principal = Depends(requires("civil.dashboard")), db: Session = Depends(get_db)):
    """Steps past their legal deadline and failed steps (officers: their province)."""
    return service.overdue(db, principal, province_code=province_code, procedure=procedure)


# --- pages ---------------------------------------------------------------------------------------------------------------


@router.get("/thu-tuc", response_class=HTMLResponse, include_in_schema=False)
def my_cases_page(request: Request, principal: Principal = Depends(web.web_requires("civil.read")),
                  db: Session = Depends(get_db)):
    if not principal.personal_id:
        return web.render(request, "error.html", 403, message="Tài khoản này không gắn với công dân.")
    return _render(request, "civil_cases.html", cases=service.my_cases(db, principal))


@router.get("/thu-tuc/{case_id}", response_class=HTMLResponse, include_in_schema=False)
def case_page(case_id: str, request: Request, principal: Principal = Depends(web.web_requires("civil.read")),
              db: Session = Depends(get_db), error: str | None = Query(None, max_length=300)):
    case = service.get_case(db, principal, case_id)
    can_confirm = (principal.kind == "citizen" and principal.assurance_level >= 2
                   and case.steps[0].state == "waiting_citizen")
    notes = service.legal_notes(case) if principal.kind != "citizen" else []
    return _render(request, "civil_case.html", case=case, can_confirm=can_confirm, error=error, legal_notes=notes)


@router.post("/thu-tuc/{case_id}/xac-nhan", include_in_schema=False)
def confirm_page(case_id: str, request: Request, version: Annotated[Version, Form()], family_name: str = Form(""),
                 middle_name: str = Form(""), given_name: str = Form(""), sex: str = Form(""),
                 include_father: str = Form(""), residence_of: str = Form("mother"),
                 parents_unable_reason: str = Form(""), social_assistance_requested: str = Form(""),
                 principal: Principal = Depends(web.web_requires("civil.confirm")), db: Session = Depends(get_db)):
    body = {"version": version}
    case = service.get_case(db, principal, case_id, purpose="xác nhận tờ khai thủ tục liên thông")
    if case.procedure == "birth":
        body.update(family_name=family_name, middle_name=middle_name, given_name=given_name, sex=sex or None,
                    include_father=include_father == "1", residence_of=residence_of,
                    parents_unable_reason=parents_unable_reason or None)
    else:
        body["social_assistance_requested"] = social_assistance_requested == "1"
    try:
        service.confirm(db, principal, case_id, body)
    except DomainError as exc:
        db.rollback()
        return RedirectResponse(f"/thu-tuc/{case_id}?error={quote(exc.message)}", status_code=303)
    except ValueError as exc:  # pydantic validation of the form
        db.rollback()
        msg = "; ".join(e.get("msg", "") for e in getattr(exc, "errors", lambda: [])()) or str(exc)
        return RedirectResponse(f"/thu-tuc/{case_id}?error={quote('Dữ liệu không hợp lệ: ' + msg)}", status_code=303)
    return RedirectResponse(f"/thu-tuc/{case_id}", status_code=303)


@router.get("/can-bo/ho-so-qua-han", response_class=HTMLResponse, include_in_schema=False)
def overdue_page(request: Request, province_code: str = Query(""), procedure: str = Query(""),
                 principal: Principal = Depends(web.web_requires("civil.dashboard")), db: Session = Depends(get_db)):
    try:
        prov = int(province_code) if province_code else None
        rows = service.overdue(db, principal, province_code=prov, procedure=procedure or None)
        error = None
    except (DomainError, ValueError) as exc:
        rows, error = [], getattr(exc, "message", None) or "Bộ lọc không hợp lệ"
    except Exception as exc:  # 403 from the province check
        if getattr(exc, "status_code", None) == 403:
            rows, error = [], getattr(exc, "detail", "Không có quyền")
        else:
            raise
    province_names = {int(p.code): p.name for p in units.provinces()}
    return _render(request, "civil_overdue.html", rows=rows, error=error, province_code=province_code,
                   legal_notes=service.dashboard_notes(rows),
                   procedure=procedure, provinces=[(int(p.code), p.name) for p in units.provinces()], province_names=province_names,
                   procedures=service.procedure_names())
