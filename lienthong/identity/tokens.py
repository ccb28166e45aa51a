"""The platform's own access tokens (JWT, HS256) carried as ``Authorization: Bearer`` or in the
web session cookie. Issued after an OIDC login (people) or a client-credentials grant (machines)."""

from __future__ import annotations

import time
import uuid

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from lienthong.config import get_settings
from lienthong.identity.keys import secret_key
from lienthong.identity.principal import Principal

ISSUER = "lienthong"


class InvalidToken(Exception):
    pass


def _key() -> OctKey:
    return OctKey.import_key(secret_key())


def issue_access_token(principal: Principal, ttl_s: int | None = None, audience: str = "lienthong-api") -> str:
    now = int(time.time())
    ttl = ttl_s if ttl_s is not None else get_settings().access_token_ttl_s
    claims = {
        "iss": ISSUER,
        "aud": audience,
        "sub": principal.subject,
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
        "kind": principal.kind,
        "name": principal.name,
        "pid": principal.personal_id,
        "acr": principal.assurance_level,
        "prov": principal.province_code,
        "fac": principal.facility_code,
        "agc": principal.agency_code,
        "scope": " ".join(sorted(principal.scopes)),
    }
    return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, _key())


def verify_access_token(token: str, audience: str = "lienthong-api") -> Principal:
    try:
        decoded = jwt.decode(token, _key(), algorithms=["HS256"])
    except (JoseError, ValueError) as exc:
        raise InvalidToken(f"token không hợp lệ: {exc.__class__.__name__}") from exc
    c = decoded.claims
    now = time.time()
    if c.get("iss") != ISSUER or c.get("aud") != audience:
        raise InvalidToken("token không dành cho dịch vụ này")
    if not isinstance(c.get("exp"), int) or c["exp"] < now:
        raise InvalidToken("token đã hết hạn")
    try:
        return Principal(
            kind=c["kind"],
            subject=c["sub"],
            name=c.get("name") or "",
            personal_id=c.get("pid"),
            assurance_level=int(c.get("acr") or 0),
            province_code=c.get("prov"),
            facility_code=c.get("fac"),
            agency_code=c.get("agc"),
            scopes=frozenset((c.get("scope") or "").split()),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken("token thiếu thông tin") from exc
