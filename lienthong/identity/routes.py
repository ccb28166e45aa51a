"""Identity routes: citizen login (OpenID Connect), the OAuth2 token endpoint for service clients,
and administration of service clients and staff accounts."""

from __future__ import annotations

import hmac
from datetime import datetime
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from lienthong.audit import service as audit
from lienthong.config import get_settings
from lienthong.deps import get_db
from lienthong.identity import oidc_client as oidc
from lienthong.identity import service
from lienthong.identity.models import ServiceClient, StaffAccount
from lienthong.identity.policy import SESSION_COOKIE, principal_from_request, requires, unauthenticated
from lienthong.identity.principal import Principal
from lienthong.identity.tokens import issue_access_token
from lienthong.web.templating import make_templates
from lienthong.params import ProvinceCode

router = APIRouter()

# identity pages use their own layout (_layout.html), not the web shell
templates = make_templates(Path(__file__).parent / "templates", include_web=False)


def render_error(request: Request, message: str, status_code: int = 400, *,
                 title: str = "Không thể đăng nhập", retry: bool = True) -> Response:
    return templates.TemplateResponse(request, "error.html", {"title": title, "message": message, "retry": retry},
                                      status_code=status_code, headers={"Cache-Control": "no-store"})


def _secure_cookies() -> bool:
    return get_settings().base_url.startswith("https://")


# --- citizen and staff login (OpenID Connect relying party) --------------------------------------


@router.get("/auth/login", tags=["auth"])
async def login(request: Request, next: str | None = Query(None)) -> Response:
    """Start a login at the identity provider; ``next`` is the local page to return to."""
    target = oidc.safe_next(next)
    if target is None:
        return render_error(request, "Địa chỉ trang cần chuyển đến sau khi đăng nhập không hợp lệ: "
                                     "chỉ được là một đường dẫn trong hệ thống.", 400, retry=False)
    settings = get_settings()
    if oidc.is_builtin(settings) and not settings.dev_idp_enabled:
        return render_error(request, "Chưa cấu hình hệ thống định danh điện tử (LIENTHONG_OIDC_ISSUER).", 503,
                            retry=False)
    state = oidc.new_login_state(target)
    try:
        async with oidc.http_client(request) as client:
            meta = await oidc.discover(client, settings)
    except oidc.OidcError as exc:
        return render_error(request, f"Không thể bắt đầu đăng nhập: {exc}.", 502)
    response = RedirectResponse(oidc.authorization_url(meta, state, settings), status_code=302)
    response.set_cookie(oidc.LOGIN_COOKIE, oidc.encode_login_state(state), max_age=oidc.LOGIN_TTL_S,
                        path=oidc.LOGIN_COOKIE_PATH, httponly=True, samesite="lax", secure=_secure_cookies())
    return response


def _sentence(exc: Exception) -> str:
    """An OidcError message (lower-case phrase) as a sentence for the error page."""
    text = str(exc)
    return text[:1].upper() + text[1:] + "."


def _complete_login(db: Session, identity: oidc.Identity) -> Principal:
    principal = service.person_principal(db, personal_id=identity.personal_id, name=identity.name,
                                         assurance_level=identity.assurance_level)
    audit.record(db, principal, "login", "identity.session", resource_id=identity.personal_id,
                 subject_id=identity.personal_id, purpose="đăng nhập bằng tài khoản định danh điện tử",
                 detail={"assurance_level": identity.assurance_level, "kind": principal.kind})
    db.commit()
    return principal


@router.get("/auth/callback", tags=["auth"])
async def callback(request: Request, code: str | None = None, state: str | None = None, error: str | None = None,
                   iss: str | None = None, db: Session = Depends(get_db)) -> Response:
    """The identity provider sends the browser back here with an authorization code."""

    def fail(message: str, status_code: int = 400) -> Response:
        response = render_error(request, message, status_code)
        response.delete_cookie(oidc.LOGIN_COOKIE, path=oidc.LOGIN_COOKIE_PATH, httponly=True, samesite="lax",
                               secure=_secure_cookies())
        return response

    settings = get_settings()
    try:
        login_state = oidc.decode_login_state(request.cookies.get(oidc.LOGIN_COOKIE))
    except oidc.OidcError as exc:
        return fail(_sentence(exc))
    if not state or not hmac.compare_digest(state.encode(), login_state.state.encode()):
        return fail("Tham số state không khớp phiên đăng nhập (có thể yêu cầu đã bị giả mạo). Vui lòng đăng nhập lại.")
    if iss is not None and iss != oidc.issuer_url(settings):
        return fail("Phản hồi đến từ một hệ thống định danh khác với hệ thống đã yêu cầu.")
    if error:
        if error == "access_denied":
            return fail("Bạn đã hủy đăng nhập.")
        return fail(f"Hệ thống định danh điện tử từ chối yêu cầu đăng nhập ({error}).")
    if not code:
        return fail("Thiếu mã đăng nhập (code) trong phản hồi của hệ thống định danh điện tử.")
    try:
        async with oidc.http_client(request) as client:
            meta = await oidc.discover(client, settings)
            tokens = await oidc.exchange_code(client, meta, code, login_state.verifier, settings)
            identity = await oidc.validate_id_token(client, meta, tokens["id_token"], login_state.nonce, settings)
    except oidc.OidcError as exc:
        return fail(_sentence(exc))

    principal = await run_in_threadpool(_complete_login, db, identity)
    response = RedirectResponse(login_state.next, status_code=302)
    response.delete_cookie(oidc.LOGIN_COOKIE, path=oidc.LOGIN_COOKIE_PATH, httponly=True, samesite="lax",
                           secure=_secure_cookies())
    response.set_cookie(SESSION_COOKIE, issue_access_token(principal, ttl_s=settings.session_ttl_s),
                        max_age=settings.session_ttl_s, path="/", httponly=True, samesite="lax",
                        secure=_secure_cookies())
    return response


@router.post("/auth/logout", tags=["auth"])
def logout() -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure_cookies())
    return response


class PrincipalOut(BaseModel):
    kind: str
    subject: str
    name: str
    personal_id: str | None
    assurance_level: int
    province_code: int | None
    facility_code: str | None
    agency_code: str | None
    scopes: list[str]

    @classmethod
    def of(cls, p: Principal) -> PrincipalOut:
        return cls(kind=p.kind, subject=p.subject, name=p.name, personal_id=p.personal_id,
                   assurance_level=p.assurance_level, province_code=p.province_code, facility_code=p.facility_code,
                   agency_code=p.agency_code, scopes=sorted(p.scopes))


@router.get("/auth/me", response_model=PrincipalOut, tags=["auth"])
def me(request: Request) -> PrincipalOut:
    """The caller (session cookie or Bearer token); 401 when anonymous."""
    principal = principal_from_request(request)
    if principal is None:
        raise unauthenticated()
    return PrincipalOut.of(principal)


# --- OAuth2 client credentials (service clients) -------------------------------------------------


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    scope: str


@router.post("/oauth/token", response_model=TokenOut, tags=["auth"],
             responses={400: {"description": "RFC 6749 error"}, 401: {"description": "invalid_client"}})
def oauth_token(request: Request, grant_type: str | None = Form(None), client_id: str | None = Form(None),
                client_secret: str | None = Form(None), scope: str | None = Form(None),
                db: Session = Depends(get_db)) -> Response:
    """OAuth2 client-credentials grant (RFC 6749 section 4.4) for facility and agency systems."""
    creds = oidc.client_credentials(request, client_id, client_secret)
    if isinstance(creds, Response):
        return creds
    cid, secret = creds
    if not grant_type:
        return oidc.oauth_error("invalid_request", "thiếu tham số grant_type")
    if not cid or secret is None:
        return oidc.oauth_error("invalid_client", "thiếu client_id hoặc client_secret", 401, basic_challenge=True)
    client = service.authenticate_client(db, cid, secret)
    if client is None:
        return oidc.oauth_error("invalid_client", "sai client_id hoặc client_secret, hoặc ứng dụng đã bị khóa", 401,
                                basic_challenge=True)
    if grant_type != "client_credentials":
        return oidc.oauth_error("unsupported_grant_type", "chỉ hỗ trợ grant_type=client_credentials")
    allowed = service.client_scopes(client)
    requested = frozenset(scope.split()) if scope and scope.strip() else allowed
    if not requested <= allowed:
        return oidc.oauth_error("invalid_scope", "phạm vi không được cấp cho ứng dụng: "
                                + ", ".join(sorted(requested - allowed)))
    principal = service.client_principal(client, requested)
    ttl = get_settings().access_token_ttl_s
    access_token = issue_access_token(principal, ttl_s=ttl)
    audit.record(db, principal, "login", "identity.token", resource_id=client.client_id, purpose="client credentials",
                 detail={"scope": " ".join(sorted(requested))})
    db.commit()
    return JSONResponse(TokenOut(access_token=access_token, expires_in=ttl, scope=" ".join(sorted(requested))).model_dump(),
                        headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


# --- administration ------------------------------------------------------------------------------


class ClientIn(BaseModel):
    client_id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$", description="lower-case letters, digits, . _ -")
    name: str = Field(min_length=1, max_length=255)
    kind: Literal["facility", "agency"]
    facility_code: str | None = Field(None, max_length=5)
    agency_code: str | None = Field(None, max_length=20)
    province_code: ProvinceCode | None = Field(None, description="defaults to the facility's or agency's province")
    scopes: list[str] = Field(min_length=1)


class ClientOut(BaseModel):
    client_id: str
    name: str
    kind: str
    facility_code: str | None
    agency_code: str | None
    province_code: int | None
    scopes: list[str]
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, c: ServiceClient) -> ClientOut:
        return cls(client_id=c.client_id, name=c.name, kind=c.kind, facility_code=c.facility_code,
                   agency_code=c.agency_code, province_code=c.province_code, scopes=sorted(service.client_scopes(c)),
                   active=c.active, created_at=c.created_at)


class ClientCreated(BaseModel):
    client: ClientOut
    client_secret: str = Field(description="shown only in this response; store it safely")


class StaffIn(BaseModel):
    personal_id: str = Field(min_length=12, max_length=12)
    role: Literal["officer", "admin"]
    province_code: ProvinceCode | None = Field(None, description="required for officers; none for administrators")
    agency_code: str | None = Field(None, max_length=20)


class StaffOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    personal_id: str
    role: str
    province_code: int | None
    agency_code: str | None
    active: bool
    created_at: datetime


@router.post("/api/v1/identity/clients", response_model=ClientCreated, status_code=201, tags=["identity"])
def create_client(body: ClientIn, principal: Principal = Depends(requires("identity.manage")),
                  db: Session = Depends(get_db)) -> ClientCreated:
    client, secret = service.create_service_client(
        db, client_id=body.client_id, name=body.name, kind=body.kind, facility_code=body.facility_code,
        agency_code=body.agency_code, province_code=body.province_code, scopes=body.scopes,
    )
    audit.record(db, principal, "create", "identity.client", resource_id=client.client_id,
                 purpose="cấp ứng dụng kết nối", detail={"kind": client.kind, "scopes": client.scopes})
    return ClientCreated(client=ClientOut.of(client), client_secret=secret)


@router.get("/api/v1/identity/clients", response_model=list[ClientOut], tags=["identity"])
def list_clients(principal: Principal = Depends(requires("identity.manage")),
                 db: Session = Depends(get_db)) -> list[ClientOut]:
    clients = service.list_service_clients(db)
    audit.record(db, principal, "list", "identity.client", purpose="quản trị ứng dụng kết nối",
                 detail={"count": len(clients)})
    return [ClientOut.of(c) for c in clients]


@router.post("/api/v1/identity/staff", response_model=StaffOut, status_code=201, tags=["identity"])
def create_staff(body: StaffIn, principal: Principal = Depends(requires("identity.manage")),
                 db: Session = Depends(get_db)) -> StaffAccount:
    staff = service.create_staff_account(db, personal_id=body.personal_id, role=body.role,
                                         province_code=body.province_code, agency_code=body.agency_code)
    audit.record(db, principal, "create", "identity.staff", resource_id=staff.personal_id,
                 subject_id=staff.personal_id, purpose="cấp tài khoản cán bộ",
                 detail={"role": staff.role, "province_code": staff.province_code})
    return staff


@router.get("/api/v1/identity/staff", response_model=list[StaffOut], tags=["identity"])
def list_staff(principal: Principal = Depends(requires("identity.manage")),
               db: Session = Depends(get_db)) -> list[StaffAccount]:
    staff = service.list_staff_accounts(db)
    audit.record(db, principal, "list", "identity.staff", purpose="quản trị tài khoản cán bộ",
                 detail={"count": len(staff)})
    return staff
