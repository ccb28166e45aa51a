"""Web pages. Each protected page uses the same policy as the API (``web_requires``); an anonymous
visitor is sent to the login page, a refused one gets a Vietnamese error page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.audit import service as audit_service
from lienthong.deps import get_db
from lienthong.errors import DomainError
from lienthong.facilities import service as facility_service
from lienthong.facilities.models import Agency, Facility
from lienthong.geo import units
from lienthong.identity import policy
from lienthong.identity.principal import Principal
from lienthong.population import service as population_service
from lienthong.population.ids import InvalidPersonalId
from lienthong.population.models import Citizen
from lienthong.web.dates import parse_optional_vn_date
from lienthong.web.templating import make_templates, page_renderer
from lienthong.params import BigRowId

# the shared web templates; ``vndate``/``vndatetime`` (lienthong.web.dates) are registered by the factory
templates = make_templates()

RELATION_NAMES = {"father": "Cha", "mother": "Mẹ", "spouse": "Vợ/chồng", "child": "Con"}
ACTOR_NAMES = {"citizen": "Công dân", "officer": "Cán bộ", "admin": "Quản trị viên", "facility": "Cơ sở y tế",
               "agency": "Cơ quan", "system": "Hệ thống"}
ACTION_NAMES = {"read": "Xem", "search": "Tra cứu", "create": "Tạo mới", "update": "Cập nhật", "delete": "Xóa",
                "login": "Đăng nhập"}
TIER_NAMES = {"central": "Trung ương", "provincial": "Tỉnh", "regional": "Khu vực", "commune": "Xã/phường"}

router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    def __init__(self, next_path: str):
        self.next_path = next_path


def web_requires(action: str):
    """Like ``policy.requires`` but for pages: redirect to login, or render a refusal page."""
    api_dependency = policy.requires(action)

    def dependency(request: Request) -> Principal:
        try:
            return api_dependency(request)
        except HTTPException as exc:
            if exc.status_code == 401:
                raise LoginRequired(request.url.path) from None
            raise

    dependency.__lienthong_action__ = action  # type: ignore[attr-defined]
    return dependency


render = page_renderer(templates)


def install_web_handlers(app) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(_request: Request, exc: LoginRequired):
        return RedirectResponse(f"/auth/login?next={exc.next_path}", status_code=303)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, principal: Principal | None = Depends(policy.optional_principal), db: Session = Depends(get_db)):
    stats = {
        "citizens": db.scalar(select(func.count()).select_from(Citizen)) or 0,
        "facilities": db.scalar(select(func.count()).select_from(Facility)) or 0,
        "agencies": db.scalar(select(func.count()).select_from(Agency)) or 0,
    }
    return render(request, "index.html", principal=principal, stats=stats)


@router.get("/dang-nhap")
def login_page():
    return RedirectResponse("/auth/login?next=/", status_code=303)


@router.get("/ho-so", response_class=HTMLResponse)
def profile(request: Request, principal: Principal = Depends(web_requires("population.read")),
            db: Session = Depends(get_db)):
    if not principal.personal_id:
        return render(request, "error.html", 403, message="Tài khoản này không gắn với công dân.")
    c = population_service.get_citizen(db, principal, principal.personal_id, purpose="công dân xem thông tin của mình")
    return render(request, "profile.html", c=c, relation_names=RELATION_NAMES)


def _audit_page(db: Session, principal: Principal, before: int | None, size: int = 50):
    entries = audit_service.entries_about(db, principal.personal_id or "", limit=size, before_seq=before)
    next_before = entries[-1].seq if len(entries) == size else None
    return {"entries": entries, "next_before": next_before, "actor_names": ACTOR_NAMES, "action_names": ACTION_NAMES}


@router.get("/nhat-ky", response_class=HTMLResponse)
def my_audit(request: Request, principal: Principal = Depends(web_requires("audit.read")), db: Session = Depends(get_db)):
    return render(request, "audit.html", **_audit_page(db, principal, None))


@router.get("/nhat-ky/them", response_class=HTMLResponse)
def my_audit_more(request: Request, before: Annotated[BigRowId, Query()], principal: Principal = Depends(web_requires("audit.read")),
                  db: Session = Depends(get_db)):
    return render(request, "audit_rows.html", **_audit_page(db, principal, before))


@router.get("/can-bo/tra-cuu", response_class=HTMLResponse)
def search_page(request: Request, _: Principal = Depends(web_requires("population.search"))):
    return render(request, "search.html")


@router.get("/can-bo/tra-cuu/ket-qua", response_class=HTMLResponse)
def search_results(request: Request, purpose: str = Query(""), name: str = Query("", max_length=160),
                   birth_date: str = Query(""), legacy_id: str = Query("", max_length=12),
                   principal: Principal = Depends(web_requires("population.search")), db: Session = Depends(get_db)):
    try:
        if len(purpose.strip()) < 3:
            raise DomainError("cần ghi rõ mục đích tra cứu")
        bd = parse_optional_vn_date(birth_date, field="birth_date")
        rows = population_service.search(db, principal, name=name or None, birth_date=bd, legacy_id=legacy_id or None,
                                         purpose=purpose.strip())
    except (DomainError, InvalidPersonalId, ValueError) as exc:
        return render(request, "search_results.html", error=getattr(exc, "message", str(exc)), rows=[])
    return render(request, "search_results.html", rows=rows, error=None)


@router.get("/co-so", response_class=HTMLResponse)
def facilities_page(request: Request, _: Principal = Depends(web_requires("directory.read")), db: Session = Depends(get_db)):
    total, items = facility_service.list_facilities(db, limit=100)
    return render(request, "facilities.html", total=total, items=items, provinces=units.provinces(),
                  tier_names=TIER_NAMES)


@router.get("/co-so/danh-sach", response_class=HTMLResponse)
def facilities_rows(request: Request, province_code: str = "", q: str = Query("", max_length=100),
                    _: Principal = Depends(web_requires("directory.read")), db: Session = Depends(get_db)):
    prov = int(province_code) if province_code.isdigit() else None
    total, items = facility_service.list_facilities(db, province_code=prov, q=q or None, limit=100)
    return render(request, "facility_rows.html", total=total, items=items, tier_names=TIER_NAMES)
