"""OpenID Connect relying party (authorization code + PKCE) and shared OAuth2 protocol helpers.

The identity provider is ``settings.oidc_issuer`` (found by discovery) or, when that is empty, the
built-in development IdP served by this same process under ``/dev-idp``. Requests to the built-in
IdP go through :class:`httpx.ASGITransport` straight into the application instead of over the
network: a server calling itself over HTTP would deadlock a single worker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import unquote, urlencode, urlsplit

import httpx
from fastapi import Request
from fastapi.responses import JSONResponse
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey
from joserfc.jwt import JWTClaimsRegistry

from lienthong.config import Settings, get_settings
from lienthong.identity.keys import secret_key
from lienthong.population.ids import InvalidPersonalId, parse_personal_id

BUILTIN_PATH = "/dev-idp"
CALLBACK_PATH = "/auth/callback"
LOGIN_COOKIE = "lt_oidc_login"
LOGIN_COOKIE_PATH = "/auth"
LOGIN_TTL_S = 600
SCOPE = "openid profile"
# Asymmetric algorithms accepted for ID tokens (never HS256/none from an IdP).
ID_TOKEN_ALGS = ("RS256", "PS256", "ES256")
HTTP_TIMEOUT_S = 10.0
EXTERNAL_CACHE_TTL_S = 3600

log = logging.getLogger(__name__)

_VERIFIER_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


class OidcError(Exception):
    """The login could not be completed; the message is shown to the user (Vietnamese)."""


# --- protocol helpers (shared with the dev IdP and the client-credentials endpoint) ---------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE code verifier (RFC 7636 section 4.2)."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def valid_verifier(verifier: str | None) -> bool:
    return bool(verifier) and bool(_VERIFIER_RE.match(verifier))


def new_pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)  # 64 characters of the unreserved set
    return verifier, pkce_challenge(verifier)


def parse_basic_auth(request: Request) -> tuple[str, str] | None:
    """Client credentials from ``Authorization: Basic`` (RFC 6749 section 2.3.1), or None.

    Raises ValueError when the header is present but malformed.
    """
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise ValueError("unsupported authorization scheme")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("malformed Basic credentials") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise ValueError("malformed Basic credentials")
    # Both parts are form-urlencoded before being base64-encoded.
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def client_credentials(request: Request, form_id: str | None, form_secret: str | None
                       ) -> tuple[str | None, str | None] | JSONResponse:
    """The client id and secret of a token request, from HTTP Basic or the form body (RFC 6749
    section 2.3.1), or the error response when they are malformed or given both ways."""
    try:
        basic = parse_basic_auth(request)
    except ValueError:
        return oauth_error("invalid_client", "thông tin xác thực ứng dụng không hợp lệ", 401, basic_challenge=True)
    if basic is None:
        return form_id, form_secret
    if form_secret is not None or (form_id and form_id != basic[0]):
        return oauth_error("invalid_request", "chỉ được dùng một cách xác thực ứng dụng")
    return basic


def oauth_error(error: str, description: str, status_code: int = 400, *, basic_challenge: bool = False) -> JSONResponse:
    """An RFC 6749 section 5.2 error response."""
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if basic_challenge:
        headers["WWW-Authenticate"] = 'Basic realm="lienthong", charset="UTF-8"'
    return JSONResponse({"error": error, "error_description": description}, status_code=status_code, headers=headers)


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a local path of this site, else None (open redirects are refused)."""
    if not target:
        return "/"
    if len(target) > 2000 or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


# --- provider configuration ----------------------------------------------------------------------


def is_builtin(settings: Settings | None = None) -> bool:
    return not (settings or get_settings()).oidc_issuer


def issuer_url(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    return settings.oidc_issuer.rstrip("/") if settings.oidc_issuer else settings.base_url.rstrip("/") + BUILTIN_PATH


def redirect_uri(settings: Settings | None = None) -> str:
    return (settings or get_settings()).base_url.rstrip("/") + CALLBACK_PATH


@asynccontextmanager
async def http_client(request: Request) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for talking to the IdP: in-process for the built-in one."""
    settings = get_settings()
    if is_builtin(settings):
        transport = httpx.ASGITransport(app=request.app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url, timeout=HTTP_TIMEOUT_S) as client:
            yield client
    else:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, follow_redirects=False) as client:
            yield client


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    token_endpoint_auth_methods: tuple[str, ...] = ("client_secret_basic",)


# External issuers only: metadata and keys of the built-in IdP are fetched in-process every time
# (its key lives in the state directory, which may differ between test runs).
_metadata_cache: dict[str, tuple[float, ProviderMetadata]] = {}
_jwks_cache: dict[str, tuple[float, dict]] = {}


async def _get_json(client: httpx.AsyncClient, url: str) -> dict:
    try:
        resp = await client.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise OidcError("không kết nối được với hệ thống định danh điện tử") from exc
    if resp.status_code != 200:
        raise OidcError(f"hệ thống định danh điện tử trả lỗi (HTTP {resp.status_code})")
    try:
        data = resp.json()
    except ValueError as exc:
        raise OidcError("hệ thống định danh điện tử trả dữ liệu không hợp lệ") from exc
    if not isinstance(data, dict):
        raise OidcError("hệ thống định danh điện tử trả dữ liệu không hợp lệ")
    return data


async def discover(client: httpx.AsyncClient, settings: Settings | None = None) -> ProviderMetadata:
    settings = settings or get_settings()
    issuer = issuer_url(settings)
    builtin = is_builtin(settings)
    if not builtin:
        cached = _metadata_cache.get(issuer)
        if cached and cached[0] > time.time():
            return cached[1]
    data = await _get_json(client, issuer + "/.well-known/openid-configuration")
    if data.get("issuer") != issuer:
        raise OidcError("cấu hình hệ thống định danh điện tử không khớp địa chỉ đã khai báo")
    try:
        meta = ProviderMetadata(
            issuer=issuer,
            authorization_endpoint=str(data["authorization_endpoint"]),
            token_endpoint=str(data["token_endpoint"]),
            jwks_uri=str(data["jwks_uri"]),
            userinfo_endpoint=data.get("userinfo_endpoint"),
            token_endpoint_auth_methods=tuple(data.get("token_endpoint_auth_methods_supported") or ("client_secret_basic",)),
        )
    except KeyError as exc:
        raise OidcError("cấu hình hệ thống định danh điện tử thiếu thông tin") from exc
    if not builtin:
        _metadata_cache[issuer] = (time.time() + EXTERNAL_CACHE_TTL_S, meta)
    return meta


async def _jwks(client: httpx.AsyncClient, meta: ProviderMetadata, settings: Settings, *,
                refresh: bool = False) -> KeySet:
    builtin = is_builtin(settings)
    cached = None if (builtin or refresh) else _jwks_cache.get(meta.jwks_uri)
    if cached and cached[0] > time.time():
        data = cached[1]
    else:
        data = await _get_json(client, meta.jwks_uri)
        if not builtin:
            _jwks_cache[meta.jwks_uri] = (time.time() + EXTERNAL_CACHE_TTL_S, data)
    try:
        return KeySet.import_key_set(data)
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise OidcError("khóa công khai của hệ thống định danh điện tử không hợp lệ") from exc


# --- the login state cookie ----------------------------------------------------------------------


def _state_key() -> OctKey:
    # A key of its own, derived from the deployment secret, so that a login-state cookie can never
    # be confused with an access token.
    return OctKey.import_key(hmac.new(secret_key(), b"lienthong oidc login state", hashlib.sha256).digest())


@dataclass(frozen=True)
class LoginState:
    state: str
    nonce: str
    verifier: str
    next: str


def new_login_state(next_path: str) -> LoginState:
    verifier, _ = new_pkce()
    return LoginState(state=secrets.token_urlsafe(24), nonce=secrets.token_urlsafe(24), verifier=verifier, next=next_path)


def encode_login_state(ls: LoginState) -> str:
    now = int(time.time())
    claims = {"aud": "lienthong-oidc-login", "iat": now, "exp": now + LOGIN_TTL_S,
              "st": ls.state, "nn": ls.nonce, "cv": ls.verifier, "nx": ls.next}
    return jwt.encode({"alg": "HS256"}, claims, _state_key())


def decode_login_state(value: str | None) -> LoginState:
    if not value:
        raise OidcError("phiên đăng nhập không tồn tại hoặc đã hết hạn, vui lòng đăng nhập lại")
    try:
        token = jwt.decode(value, _state_key(), algorithms=["HS256"])
        JWTClaimsRegistry(aud={"essential": True, "value": "lienthong-oidc-login"},
                          exp={"essential": True}).validate(token.claims)
        c = token.claims
        return LoginState(state=str(c["st"]), nonce=str(c["nn"]), verifier=str(c["cv"]), next=str(c["nx"]))
    except (JoseError, ValueError, KeyError) as exc:
        raise OidcError("phiên đăng nhập không tồn tại hoặc đã hết hạn, vui lòng đăng nhập lại") from exc


def authorization_url(meta: ProviderMetadata, ls: LoginState, settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    params = {
        "response_type": "code",
        "client_id": settings.oidc_client_id,
        "redirect_uri": redirect_uri(settings),
        "scope": SCOPE,
        "state": ls.state,
        "nonce": ls.nonce,
        "code_challenge": pkce_challenge(ls.verifier),
        "code_challenge_method": "S256",
    }
    sep = "&" if "?" in meta.authorization_endpoint else "?"
    return meta.authorization_endpoint + sep + urlencode(params)


# --- code exchange and ID token validation -------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """A person as asserted by the IdP."""

    personal_id: str
    name: str
    assurance_level: int  # VNeID level, 1 or 2
    claims: dict


async def exchange_code(client: httpx.AsyncClient, meta: ProviderMetadata, code: str, verifier: str,
                        settings: Settings | None = None) -> dict:
    settings = settings or get_settings()
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri(settings),
            "client_id": settings.oidc_client_id, "code_verifier": verifier}
    auth = None
    if settings.oidc_client_secret:
        if "client_secret_basic" in meta.token_endpoint_auth_methods or "client_secret_post" not in meta.token_endpoint_auth_methods:
            auth = httpx.BasicAuth(settings.oidc_client_id, settings.oidc_client_secret)
        else:
            form["client_secret"] = settings.oidc_client_secret
    try:
        resp = await client.post(meta.token_endpoint, data=form, auth=auth, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise OidcError("không kết nối được với hệ thống định danh điện tử") from exc
    try:
        data = resp.json()
    except ValueError:
        data = {}
    if resp.status_code != 200:
        err = data.get("error") if isinstance(data, dict) else None
        if err == "invalid_grant":
            raise OidcError("mã đăng nhập không hợp lệ, đã được dùng hoặc đã hết hạn, vui lòng đăng nhập lại")
        raise OidcError(f"hệ thống định danh điện tử từ chối yêu cầu ({err or resp.status_code})")
    if not isinstance(data, dict) or not data.get("id_token"):
        raise OidcError("hệ thống định danh điện tử không trả mã định danh (id_token)")
    return data


def _acr_level(value) -> int:
    # VNeID levels are "1" and "2"; anything unknown counts as the lowest level.
    return 2 if str(value) == "2" else 1


async def validate_id_token(client: httpx.AsyncClient, meta: ProviderMetadata, id_token: str, nonce: str,
                            settings: Settings | None = None) -> Identity:
    settings = settings or get_settings()
    keys = await _jwks(client, meta, settings)
    try:
        try:
            token = jwt.decode(id_token, keys, algorithms=list(ID_TOKEN_ALGS))
        except JoseError:
            if is_builtin(settings):
                raise
            # The IdP may have rotated its keys since they were cached.
            token = jwt.decode(id_token, await _jwks(client, meta, settings, refresh=True), algorithms=list(ID_TOKEN_ALGS))
        claims = token.claims
        JWTClaimsRegistry(
            leeway=60,
            iss={"essential": True, "value": meta.issuer},
            aud={"essential": True, "value": settings.oidc_client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(claims)
    except (JoseError, ValueError) as exc:
        log.warning("ID token rejected: %r", exc)
        raise OidcError("mã định danh (id_token) không hợp lệ hoặc đã hết hạn") from exc
    aud = claims.get("aud")
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != settings.oidc_client_id:
        raise OidcError("mã định danh (id_token) không dành cho ứng dụng này")
    personal_id = str(claims.get("personal_id") or claims["sub"])
    try:
        parse_personal_id(personal_id, frozenset(settings.abroad_id_prefixes))
    except InvalidPersonalId as exc:
        raise OidcError(f"số định danh cá nhân do hệ thống định danh cung cấp không hợp lệ: {exc}") from exc
    return Identity(personal_id=personal_id, name=str(claims.get("name") or ""),
                    assurance_level=_acr_level(claims.get("acr")), claims=dict(claims))
