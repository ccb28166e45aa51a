"""Built-in development identity provider, standing in for VNeID.

A minimal OpenID Connect provider (authorization code flow with mandatory PKCE S256) for one
relying party: this platform itself (``settings.oidc_client_id``). A person logs in by typing a
personal ID found in the population registry and choosing the VNeID assurance level (1 or 2) the
account should have. Mounted only when ``settings.dev_idp_enabled`` and no external issuer is set.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from lienthong.config import get_settings
from lienthong.db import utcnow
from lienthong.deps import get_db
from lienthong.identity.models import OidcAuthCode
from lienthong.identity.oidc_client import (
    BUILTIN_PATH,
    client_credentials,
    oauth_error,
    pkce_challenge,
    valid_verifier,
)
from lienthong.identity.routes import render_error, templates
from lienthong.population.ids import InvalidPersonalId, parse_personal_id
from lienthong.population.service import identity_claims

router = APIRouter(prefix=BUILTIN_PATH, tags=["dev-idp"])

KEY_FILE = "dev_idp_key.json"
CODE_TTL_S = 60
TOKEN_TTL_S = 300
ACR_VALUES = ("1", "2")
_CHALLENGE_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# --- signing key ---------------------------------------------------------------------------------

_keys: dict[Path, RSAKey] = {}
_keys_lock = threading.Lock()


def _load_or_create_key(path: Path) -> RSAKey:
    if path.exists():
        return RSAKey.import_key(json.loads(path.read_text()))
    key = RSAKey.generate_key(2048, auto_kid=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(key.as_dict(private=True), fh)
        try:
            os.link(tmp, path)  # atomic; fails if another process created the key first
        except FileExistsError:
            return RSAKey.import_key(json.loads(path.read_text()))
    finally:
        tmp.unlink(missing_ok=True)
    path.chmod(0o600)
    return key


def signing_key() -> RSAKey:
    """The IdP's RS256 private key, created once in the state directory."""
    path = (get_settings().state_dir / KEY_FILE).resolve()
    with _keys_lock:
        key = _keys.get(path)
        if key is None:
            key = _keys[path] = _load_or_create_key(path)
        return key


def issuer() -> str:
    return get_settings().base_url.rstrip("/") + BUILTIN_PATH


def _sign(claims: dict, typ: str = "JWT") -> str:
    key = signing_key()
    return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": typ}, claims, key)


# --- discovery -----------------------------------------------------------------------------------


@router.get("/.well-known/openid-configuration")
def openid_configuration() -> dict:
    iss = issuer()
    methods = ["client_secret_basic", "client_secret_post"] if get_settings().oidc_client_secret else ["none"]
    return {
        "issuer": iss,
        "authorization_endpoint": iss + "/authorize",
        "token_endpoint": iss + "/token",
        "userinfo_endpoint": iss + "/userinfo",
        "jwks_uri": iss + "/jwks",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": methods,
        "scopes_supported": ["openid", "profile"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "name",
                             "birthdate", "gender", "personal_id"],
        "acr_values_supported": list(ACR_VALUES),
        "authorization_response_iss_parameter_supported": True,
    }


@router.get("/jwks")
def jwks() -> dict:
    public = signing_key().as_dict(private=False)
    public.update({"use": "sig", "alg": "RS256"})
    return {"keys": [public]}


# --- authorization endpoint ----------------------------------------------------------------------


@dataclass(frozen=True)
class AuthRequest:
    response_type: str = ""
    client_id: str = ""
    redirect_uri: str = ""
    scope: str = ""
    state: str = ""
    nonce: str = ""
    code_challenge: str = ""
    code_challenge_method: str = ""


class _PageError(Exception):
    """A request error shown to the user: the redirect URI cannot be trusted (RFC 6749 4.1.2.1)."""


class _RedirectError(Exception):
    """A request error reported back to the client through the redirect URI."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description


def _redirect_allowed(uri: str) -> bool:
    if not uri or len(uri) > 1000:
        return False
    base = urlsplit(get_settings().base_url.rstrip("/"))
    target = urlsplit(uri)
    if target.fragment or target.username or target.password:
        return False
    return (target.scheme, target.netloc) == (base.scheme, base.netloc) and target.path.startswith(base.path + "/")


def _validate(req: AuthRequest) -> None:
    if req.client_id != get_settings().oidc_client_id:
        raise _PageError("Ứng dụng yêu cầu đăng nhập (client_id) chưa được đăng ký với hệ thống định danh.")
    if not _redirect_allowed(req.redirect_uri):
        raise _PageError("Địa chỉ chuyển hướng (redirect_uri) không hợp lệ.")
    if not req.state or len(req.state) > 512:
        raise _PageError("Yêu cầu đăng nhập thiếu tham số state hoặc tham số không hợp lệ.")
    if req.response_type != "code":
        raise _RedirectError("unsupported_response_type", "chỉ hỗ trợ response_type=code")
    if "openid" not in req.scope.split():
        raise _RedirectError("invalid_scope", "phạm vi (scope) phải có 'openid'")
    if req.code_challenge_method != "S256" or not _CHALLENGE_RE.match(req.code_challenge):
        raise _RedirectError("invalid_request", "bắt buộc dùng PKCE với code_challenge_method=S256")
    if not req.nonce or len(req.nonce) > 255:
        raise _RedirectError("invalid_request", "thiếu tham số nonce hoặc tham số không hợp lệ")


def _back_to_client(req: AuthRequest, **params: str) -> RedirectResponse:
    params = {**params, "state": req.state, "iss": issuer()}
    sep = "&" if "?" in req.redirect_uri else "?"
    return RedirectResponse(req.redirect_uri + sep + urlencode(params), status_code=302)


def _form(request: Request, req: AuthRequest, *, error: str = "", personal_id: str = "", acr: str = "2",
          status_code: int = 200) -> Response:
    return templates.TemplateResponse(
        request, "dev_idp_login.html",
        {"auth": req, "hidden": asdict(req), "error": error, "personal_id": personal_id, "acr": acr,
         "action": request.url_for("dev_idp_authorize_submit").path},
        status_code=status_code, headers={**_NO_STORE, "X-Frame-Options": "DENY"},
    )


def _checked(request: Request, req: AuthRequest) -> Response | None:
    """None when the request is valid, otherwise the error response."""
    try:
        _validate(req)
    except _PageError as exc:
        return render_error(request, str(exc), 400, title="Yêu cầu đăng nhập không hợp lệ", retry=False)
    except _RedirectError as exc:
        return _back_to_client(req, error=exc.error, error_description=exc.description)
    return None


@router.get("/authorize", name="dev_idp_authorize")
def authorize_form(request: Request, response_type: str = Query(""), client_id: str = Query(""),
                   redirect_uri: str = Query(""), scope: str = Query(""), state: str = Query(""),
                   nonce: str = Query(""), code_challenge: str = Query(""),
                   code_challenge_method: str = Query("")) -> Response:
    req = AuthRequest(response_type, client_id, redirect_uri, scope, state, nonce, code_challenge,
                      code_challenge_method)
    return _checked(request, req) or _form(request, req)


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@router.post("/authorize", name="dev_idp_authorize_submit")
def authorize_submit(request: Request, response_type: str = Form(""), client_id: str = Form(""),
                     redirect_uri: str = Form(""), scope: str = Form(""), state: str = Form(""),
                     nonce: str = Form(""), code_challenge: str = Form(""), code_challenge_method: str = Form(""),
                     personal_id: str = Form(""), acr: str = Form("2"), action: str = Form("login"),
                     db: Session = Depends(get_db)) -> Response:
    req = AuthRequest(response_type, client_id, redirect_uri, scope, state, nonce, code_challenge,
                      code_challenge_method)
    problem = _checked(request, req)
    if problem is not None:
        return problem
    if action == "cancel":
        return _back_to_client(req, error="access_denied", error_description="người dùng đã hủy đăng nhập")
    personal_id = personal_id.strip()
    if acr not in ACR_VALUES:
        return _form(request, req, error="Vui lòng chọn mức độ tài khoản định danh điện tử (mức 1 hoặc mức 2).",
                     personal_id=personal_id, status_code=400)
    try:
        parse_personal_id(personal_id, frozenset(get_settings().abroad_id_prefixes))
    except InvalidPersonalId as exc:
        return _form(request, req, error=f"Số định danh cá nhân không hợp lệ: {exc}.", personal_id=personal_id,
                     acr=acr, status_code=400)
    person = identity_claims(db, personal_id)
    if person is None:
        return _form(request, req, error=f"Không tìm thấy tài khoản định danh điện tử của số định danh {personal_id}.",
                     personal_id=personal_id, acr=acr, status_code=404)

    code = secrets.token_urlsafe(32)
    now = utcnow()
    claims = {
        "sub": person["personal_id"],
        "personal_id": person["personal_id"],
        "name": person["name"],
        "birthdate": person["birth_date"].isoformat(),
        "gender": "male" if person["sex"] == "M" else "female",
        "acr": acr,
        "auth_time": int(now.timestamp()),
        "scope": " ".join(sorted(set(req.scope.split()) & {"openid", "profile"})),
    }
    # Codes long past their expiry are of no further use; remove them as new ones are made.
    db.execute(delete(OidcAuthCode).where(OidcAuthCode.expires_at < now - timedelta(hours=1)))
    db.add(OidcAuthCode(code_hash=_code_hash(code), client_id=req.client_id, redirect_uri=req.redirect_uri,
                        code_challenge=req.code_challenge, nonce=req.nonce, claims=claims,
                        expires_at=now + timedelta(seconds=CODE_TTL_S), used=False))
    db.commit()  # before the browser can possibly present the code at the token endpoint
    return _back_to_client(req, code=code)


# --- token endpoint ------------------------------------------------------------------------------


@router.post("/token")
def token(request: Request, grant_type: str | None = Form(None), code: str | None = Form(None),
          redirect_uri: str | None = Form(None), client_id: str | None = Form(None),
          client_secret: str | None = Form(None), code_verifier: str | None = Form(None),
          db: Session = Depends(get_db)) -> Response:
    settings = get_settings()
    creds = client_credentials(request, client_id, client_secret)
    if isinstance(creds, Response):
        return creds
    cid, secret = creds
    if not cid or not hmac.compare_digest(cid.encode(), settings.oidc_client_id.encode()):
        return oauth_error("invalid_client", "ứng dụng không được đăng ký", 401, basic_challenge=True)
    if settings.oidc_client_secret and not (
        secret and hmac.compare_digest(secret.encode(), settings.oidc_client_secret.encode())
    ):
        return oauth_error("invalid_client", "sai mật khẩu ứng dụng (client_secret)", 401, basic_challenge=True)
    if not grant_type:
        return oauth_error("invalid_request", "thiếu tham số grant_type")
    if grant_type != "authorization_code":
        return oauth_error("unsupported_grant_type", "chỉ hỗ trợ grant_type=authorization_code")
    if not code or not redirect_uri or not code_verifier:
        return oauth_error("invalid_request", "thiếu code, redirect_uri hoặc code_verifier")
    if not valid_verifier(code_verifier):
        return oauth_error("invalid_grant", "code_verifier không đúng định dạng (RFC 7636)")

    digest = _code_hash(code)
    row = db.get(OidcAuthCode, digest)
    if row is None:
        return oauth_error("invalid_grant", "mã đăng nhập không tồn tại")
    # Single use, also under concurrency: only one request can flip ``used``. Any attempt, even a
    # failed one, consumes the code.
    consumed = db.execute(
        update(OidcAuthCode).where(OidcAuthCode.code_hash == digest, OidcAuthCode.used.is_(False)).values(used=True)
    ).rowcount
    db.commit()
    if consumed != 1:
        return oauth_error("invalid_grant", "mã đăng nhập đã được sử dụng")
    if row.expires_at < utcnow():
        return oauth_error("invalid_grant", "mã đăng nhập đã hết hạn")
    if row.client_id != cid or row.redirect_uri != redirect_uri:
        return oauth_error("invalid_grant", "redirect_uri hoặc client_id không khớp yêu cầu đăng nhập")
    if not hmac.compare_digest(pkce_challenge(code_verifier), row.code_challenge):
        return oauth_error("invalid_grant", "code_verifier không khớp code_challenge (PKCE)")

    now = int(time.time())
    c = row.claims
    iss = issuer()
    id_token = _sign({
        "iss": iss, "aud": cid, "sub": c["sub"], "iat": now, "exp": now + TOKEN_TTL_S,
        "auth_time": c["auth_time"], "nonce": row.nonce, "acr": c["acr"], "name": c["name"],
        "birthdate": c["birthdate"], "gender": c["gender"], "personal_id": c["personal_id"],
    })
    access_token = _sign({
        "iss": iss, "aud": iss + "/userinfo", "sub": c["sub"], "client_id": cid, "iat": now,
        "exp": now + TOKEN_TTL_S, "jti": secrets.token_hex(16), "scope": c.get("scope", "openid"), "acr": c["acr"],
    }, typ="at+jwt")
    return JSONResponse({"access_token": access_token, "id_token": id_token, "token_type": "Bearer",
                         "expires_in": TOKEN_TTL_S, "scope": c.get("scope", "openid")}, headers=_NO_STORE)


# --- userinfo ------------------------------------------------------------------------------------


def _invalid_token(description: str) -> JSONResponse:
    return JSONResponse({"error": "invalid_token", "error_description": description}, status_code=401,
                        headers={"WWW-Authenticate": 'Bearer error="invalid_token"', **_NO_STORE})


@router.api_route("/userinfo", methods=["GET", "POST"], include_in_schema=False)
def userinfo(request: Request, db: Session = Depends(get_db)) -> Response:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return JSONResponse({"error": "invalid_request", "error_description": "thiếu Authorization: Bearer"},
                            status_code=401, headers={"WWW-Authenticate": "Bearer", **_NO_STORE})
    iss = issuer()
    try:
        tok = jwt.decode(value.strip(), signing_key(), algorithms=["RS256"])
        if tok.header.get("typ") != "at+jwt":
            raise ValueError("not an access token")
        JWTClaimsRegistry(iss={"essential": True, "value": iss}, aud={"essential": True, "value": iss + "/userinfo"},
                          exp={"essential": True}, sub={"essential": True}).validate(tok.claims)
    except (JoseError, ValueError):
        return _invalid_token("access token không hợp lệ hoặc đã hết hạn")
    person = identity_claims(db, tok.claims["sub"])
    if person is None:
        return _invalid_token("tài khoản định danh điện tử không còn hiệu lực")
    return JSONResponse({
        "sub": person["personal_id"], "personal_id": person["personal_id"], "name": person["name"],
        "birthdate": person["birth_date"].isoformat(), "gender": "male" if person["sex"] == "M" else "female",
        "acr": tok.claims.get("acr"),
    }, headers=_NO_STORE)
