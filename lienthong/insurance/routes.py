"""Social insurance API and the citizen's page ``/so-bhxh``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from lienthong.deps import get_db
from lienthong.identity.policy import forbidden, requires
from lienthong.identity.principal import Principal
from lienthong.insurance import service
from lienthong.web import routes as web
from lienthong.web.templating import make_templates

router = APIRouter(tags=["insurance"])

templates = make_templates(Path(__file__).parent / "templates")


def _month(value) -> str:
    return value.strftime("%m/%Y") if value else "nay"


templates.env.filters.update(vnmonth=_month)


@router.post("/api/v1/insurance/contributions", response_model=service.RecordResult)
def record_contributions(data: service.PeriodsIn, principal: Principal = Depends(requires("insurance.write")),
                         db: Session = Depends(get_db)):
    """BHXH records contribution periods (created or updated by person, scheme, employer, first month)."""
    return service.record_periods(db, principal, data)


@router.post("/api/v1/insurance/funeral-allowances/{personal_id}/decision", response_model=service.FuneralDecisionOut)
def decide_funeral_allowance(personal_id: str, body: service.FuneralDecisionIn,
                             principal: Principal = Depends(requires("insurance.funeral.decide")),
                             db: Session = Depends(get_db)):
    """BHXH decides a funeral allowance the contribution history could not decide: a pensioner or a death from a
    work accident / occupational disease (Luật BHXH 2024 Điều 85.1.b-c, Điều 109.1.b), or not eligible."""
    return service.decide_from_agency(db, principal, personal_id, body)


@router.get("/api/v1/me/insurance/book", response_model=service.BookOut)
def my_book(principal: Principal = Depends(requires("insurance.book.read")), db: Session = Depends(get_db)):
    if not principal.personal_id:
        raise forbidden("tài khoản không gắn với công dân")
    return service.book(db, principal, principal.personal_id)


@router.get("/so-bhxh", response_class=HTMLResponse, include_in_schema=False)
def book_page(request: Request, principal: Principal = Depends(web.web_requires("insurance.book.read")),
              db: Session = Depends(get_db)):
    if not principal.personal_id:
        return web.render(request, "error.html", 403, message="Tài khoản này không gắn với công dân.")
    b = service.book(db, principal, principal.personal_id)
    return templates.TemplateResponse(request, "so_bhxh.html", {
        "principal": principal, "book": b, "scheme_names": service.SCHEME_NAMES})
