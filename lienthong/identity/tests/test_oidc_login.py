"""Citizen login through OpenID Connect (authorization code + PKCE) against the built-in dev IdP."""

from __future__ import annotations

import html
import re
import stat
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select, update

from lienthong.audit.models import AuditEntry
from lienthong.db import unit_of_work, utcnow
from lienthong.identity import oidc_client
from lienthong.identity.models import OidcAuthCode
from lienthong.identity.oidc_client import new_pkce
from lienthong.identity.policy import SESSION_COOKIE
from lienthong.identity.service import create_staff_account
from lienthong.population.models import Citizen

PID = "001085012345"  # male, born 1985, birth registered in Hà Nội
PID_F = "079195000123"  # female, born 1995, Hồ Chí Minh City
REDIRECT = "http://testserver/auth/callback"
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def add_citizen(personal_id: str = PID, family: str = "Nguyễn", middle: str = "Văn", given: str = "An",
                birth: date = date(1985, 3, 14), sex: str = "M") -> None:
    with unit_of_work() as s:
        s.add(Citizen(personal_id=personal_id, family_name=family, middle_name=middle, given_name=given,
                      full_name=" ".join(p for p in (family, middle, given) if p), birth_date=birth, sex=sex,
                      birth_place_code=personal_id[:3]))


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page)}


def start_login(client, next_path: str = "/"):
    """/auth/login -> the IdP's login form; returns the form's hidden fields."""
    r = client.get("/auth/login", params={"next": next_path}, follow_redirects=False)
    assert r.status_code == 302, r.text
    location = r.headers["location"]
    assert location.startswith("http://testserver/dev-idp/authorize?")
    assert oidc_client.LOGIN_COOKIE in r.cookies
    form = client.get(location)
    assert form.status_code == 200
    assert "Đăng nhập bằng tài khoản định danh điện tử (môi trường phát triển)" in form.text
    return hidden_fields(form.text)


def submit(client, fields: dict, personal_id: str = PID, acr: str = "2"):
    return client.post("/dev-idp/authorize", data={**fields, "personal_id": personal_id, "acr": acr, "action": "login"},
                       follow_redirects=False)


def login(client, personal_id: str = PID, acr: str = "2", next_path: str = "/"):
    """The whole browser flow; returns the callback's response."""
    fields = start_login(client, next_path)
    r = submit(client, fields, personal_id, acr)
    assert r.status_code == 302, r.text
    callback = r.headers["location"]
    assert callback.startswith(REDIRECT + "?")
    return client.get(callback, follow_redirects=False)


def test_full_browser_flow_gives_citizen_session(client):
    add_citizen()
    assert client.get("/auth/me").status_code == 401

    r = login(client, next_path="/ho-so?tab=1")
    assert r.status_code == 302
    assert r.headers["location"] == "/ho-so?tab=1"
    set_cookie = ", ".join(r.headers.get_list("set-cookie"))
    assert f"{SESSION_COOKIE}=" in set_cookie and "HttpOnly" in set_cookie and "samesite=lax" in set_cookie.lower()
    assert "Secure" not in set_cookie  # base_url is http

    me = client.get("/auth/me")
    assert me.status_code == 200
    body = me.json()
    assert body["kind"] == "citizen"
    assert body["personal_id"] == PID and body["subject"] == PID
    assert body["name"] == "Nguyễn Văn An"
    assert body["assurance_level"] == 2
    assert body["province_code"] is None

    with unit_of_work() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "login")).all()
    assert [(e.actor_type, e.actor_id, e.subject_id, e.resource) for e in entries] == [
        ("citizen", PID, PID, "identity.session")
    ]

    r2 = client.post("/auth/logout", follow_redirects=False)
    assert r2.status_code == 303 and r2.headers["location"] == "/"
    assert client.get("/auth/me").status_code == 401


def test_level_1_account(client):
    add_citizen(PID_F, "Trần", "Thị", "Bình", date(1995, 7, 2), "F")
    assert login(client, PID_F, acr="1").status_code == 302
    body = client.get("/auth/me").json()
    assert body["assurance_level"] == 1 and body["name"] == "Trần Thị Bình"


def test_staff_account_logs_in_as_officer(client):
    add_citizen()
    with unit_of_work() as s:
        create_staff_account(s, personal_id=PID, role="officer", province_code=1)
    assert login(client).status_code == 302
    body = client.get("/auth/me").json()
    assert body["kind"] == "officer"
    assert body["province_code"] == 1
    assert body["personal_id"] == PID


def test_inactive_staff_account_is_a_citizen(client):
    add_citizen()
    with unit_of_work() as s:
        staff = create_staff_account(s, personal_id=PID, role="admin")
        staff.active = False
    login(client)
    assert client.get("/auth/me").json()["kind"] == "citizen"


def test_bad_state_is_rejected(client):
    add_citizen()
    fields = start_login(client)
    r = submit(client, fields)
    parts = urlsplit(r.headers["location"])
    q = parse_qs(parts.query)
    bad = client.get("/auth/callback", params={"code": q["code"][0], "state": "forged-state", "iss": q["iss"][0]},
                     follow_redirects=False)
    assert bad.status_code == 400
    assert "state không khớp" in bad.text
    assert SESSION_COOKIE not in bad.cookies
    assert client.get("/auth/me").status_code == 401


def test_callback_without_login_cookie_is_rejected(client):
    r = client.get("/auth/callback", params={"code": "x", "state": "y"}, follow_redirects=False)
    assert r.status_code == 400
    assert "Phiên đăng nhập không tồn tại hoặc đã hết hạn" in r.text


def test_replayed_callback_is_rejected(client):
    add_citizen()
    fields = start_login(client)
    callback = submit(client, fields).headers["location"]
    assert client.get(callback, follow_redirects=False).status_code == 302
    client.cookies.clear()
    # Start a new login (fresh cookie) but present the old code with the new state.
    fields = start_login(client)
    old = parse_qs(urlsplit(callback).query)
    r = client.get("/auth/callback", params={"code": old["code"][0], "state": fields["state"]}, follow_redirects=False)
    assert r.status_code == 400
    assert "đã được dùng hoặc đã hết hạn" in r.text
    assert client.get("/auth/me").status_code == 401


def test_expired_code_is_rejected_by_the_callback(client):
    add_citizen()
    fields = start_login(client)
    callback = submit(client, fields).headers["location"]
    with unit_of_work() as s:
        s.execute(update(OidcAuthCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    r = client.get(callback, follow_redirects=False)
    assert r.status_code == 400
    assert "đã hết hạn" in r.text
    assert client.get("/auth/me").status_code == 401


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
                                    "http:/evil", "/a\r\nLocation: x"])
def test_open_redirect_in_next_is_rejected(client, target):
    r = client.get("/auth/login", params={"next": target}, follow_redirects=False)
    assert r.status_code == 400
    assert "location" not in r.headers
    assert "không hợp lệ" in r.text


def test_unknown_or_invalid_personal_id_shows_an_error(client):
    add_citizen()
    fields = start_login(client)
    r = submit(client, fields, "001085999999")
    assert r.status_code == 404
    assert "Không tìm thấy tài khoản định danh điện tử" in r.text
    assert 'value="001085999999"' in r.text
    r = submit(client, fields, "12345")
    assert r.status_code == 400
    assert "Số định danh cá nhân không hợp lệ" in r.text
    r = submit(client, fields, "999085012345")
    assert r.status_code == 400
    # The form still works after the errors.
    ok = submit(client, fields)
    assert ok.status_code == 302 and "code=" in ok.headers["location"]


def test_cancel_at_the_idp(client):
    fields = start_login(client)
    r = client.post("/dev-idp/authorize", data={**fields, "action": "cancel"}, follow_redirects=False)
    assert r.status_code == 302
    q = parse_qs(urlsplit(r.headers["location"]).query)
    assert q["error"] == ["access_denied"] and q["state"] == [fields["state"]]
    page = client.get(r.headers["location"], follow_redirects=False)
    assert page.status_code == 400 and "Bạn đã hủy đăng nhập" in page.text


def test_me_anonymous_and_bad_token(client):
    assert client.get("/auth/me").status_code == 401
    r = client.get("/auth/me", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"


# --- the dev IdP as an OpenID provider, driven directly ------------------------------------------


def authorize_params(challenge: str, **over) -> dict:
    params = {"response_type": "code", "client_id": "lienthong-web", "redirect_uri": REDIRECT,
              "scope": "openid profile", "state": "st-123", "nonce": "nonce-456", "code_challenge": challenge,
              "code_challenge_method": "S256"}
    params.update(over)
    return params


def get_code(client, challenge: str, personal_id: str = PID, acr: str = "2") -> str:
    form = client.get("/dev-idp/authorize", params=authorize_params(challenge))
    assert form.status_code == 200, form.text
    r = submit(client, hidden_fields(form.text), personal_id, acr)
    assert r.status_code == 302, r.text
    q = parse_qs(urlsplit(r.headers["location"]).query)
    assert q["state"] == ["st-123"] and q["iss"] == ["http://testserver/dev-idp"]
    return q["code"][0]


def exchange(client, code: str, verifier: str, **over):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": "lienthong-web",
            "code_verifier": verifier}
    data.update(over)
    return client.post("/dev-idp/token", data=data)


def test_dev_idp_tokens_and_userinfo(client, tmp_path):
    add_citizen()
    disc = client.get("/dev-idp/.well-known/openid-configuration").json()
    assert disc["issuer"] == "http://testserver/dev-idp"
    assert disc["code_challenge_methods_supported"] == ["S256"]
    jwks = client.get(disc["jwks_uri"].removeprefix("http://testserver")).json()
    assert len(jwks["keys"]) == 1 and "d" not in jwks["keys"][0]
    key_file = tmp_path / "state" / "dev_idp_key.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    verifier, challenge = new_pkce()
    code = get_code(client, challenge)
    with unit_of_work() as s:
        stored = s.scalars(select(OidcAuthCode)).one()
    assert stored.code_hash != code and len(stored.code_hash) == 64  # only the hash is kept

    r = exchange(client, code, verifier)
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"] == "Bearer" and tok["expires_in"] > 0
    assert r.headers["cache-control"] == "no-store"
    claims = jwt.decode(tok["id_token"], KeySet.import_key_set(jwks), algorithms=["RS256"]).claims
    assert claims["iss"] == "http://testserver/dev-idp"
    assert claims["aud"] == "lienthong-web"
    assert claims["sub"] == PID and claims["personal_id"] == PID
    assert claims["nonce"] == "nonce-456"
    assert claims["acr"] == "2"
    assert claims["birthdate"] == "1985-03-14"
    assert claims["gender"] == "male"
    assert claims["name"] == "Nguyễn Văn An"
    assert claims["exp"] > claims["iat"]

    info = client.get("/dev-idp/userinfo", headers={"Authorization": f"Bearer {tok['access_token']}"})
    assert info.status_code == 200
    assert info.json()["personal_id"] == PID and info.json()["gender"] == "male"
    # An ID token is not an access token.
    assert client.get("/dev-idp/userinfo", headers={"Authorization": f"Bearer {tok['id_token']}"}).status_code == 401
    assert client.get("/dev-idp/userinfo").status_code == 401


def test_wrong_code_verifier_is_rejected(client):
    add_citizen()
    verifier, challenge = new_pkce()
    code = get_code(client, challenge)
    other, _ = new_pkce()
    r = exchange(client, code, other)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"
    assert "PKCE" in r.json()["error_description"]
    # The failed attempt consumed the code.
    assert exchange(client, code, verifier).json()["error"] == "invalid_grant"


def test_code_reuse_is_rejected(client):
    add_citizen()
    verifier, challenge = new_pkce()
    code = get_code(client, challenge)
    assert exchange(client, code, verifier).status_code == 200
    again = exchange(client, code, verifier)
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant", "error_description": "mã đăng nhập đã được sử dụng"}


def test_expired_code_is_rejected(client):
    add_citizen()
    verifier, challenge = new_pkce()
    code = get_code(client, challenge)
    with unit_of_work() as s:
        s.execute(update(OidcAuthCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    r = exchange(client, code, verifier)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant" and "hết hạn" in r.json()["error_description"]


def test_token_endpoint_errors(client):
    add_citizen()
    verifier, challenge = new_pkce()
    code = get_code(client, challenge)
    assert exchange(client, code, verifier, client_id="someone-else").status_code == 401
    assert exchange(client, code, verifier, grant_type="password").json()["error"] == "unsupported_grant_type"
    assert exchange(client, code, verifier, code_verifier="short").json()["error"] == "invalid_grant"
    assert exchange(client, "no-such-code", verifier).json()["error"] == "invalid_grant"
    r = exchange(client, code, verifier, redirect_uri="http://testserver/other")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_authorize_request_validation(client):
    _, challenge = new_pkce()
    r = client.get("/dev-idp/authorize", params=authorize_params(challenge, client_id="other"))
    assert r.status_code == 400 and "client_id" in r.text
    for uri in ("http://evil.example/auth/callback", "http://testserver.evil.example/cb", "https://testserver/auth/callback"):
        r = client.get("/dev-idp/authorize", params=authorize_params(challenge, redirect_uri=uri), follow_redirects=False)
        assert r.status_code == 400, uri
        assert "redirect_uri" in r.text
    # Errors about a trusted redirect URI go back to the client.
    for over, error in (({"code_challenge_method": "plain"}, "invalid_request"),
                        ({"code_challenge": ""}, "invalid_request"),
                        ({"response_type": "token"}, "unsupported_response_type"),
                        ({"scope": "profile"}, "invalid_scope"),
                        ({"nonce": ""}, "invalid_request")):
        r = client.get("/dev-idp/authorize", params=authorize_params(challenge, **over), follow_redirects=False)
        assert r.status_code == 302, over
        q = parse_qs(urlsplit(r.headers["location"]).query)
        assert q["error"] == [error] and q["state"] == ["st-123"]
    # Tampering with the hidden fields of the form is checked again on submit.
    r = client.post("/dev-idp/authorize", data={**authorize_params(challenge, redirect_uri="http://evil.example/cb"),
                                                 "personal_id": PID, "acr": "2"}, follow_redirects=False)
    assert r.status_code == 400


def test_confidential_client_secret(client, monkeypatch):
    from lienthong.config import reset_settings_cache

    monkeypatch.setenv("LIENTHONG_OIDC_CLIENT_SECRET", "rp-secret")
    reset_settings_cache()
    add_citizen()
    verifier, challenge = new_pkce()
    code = get_code(client, challenge)
    assert exchange(client, code, verifier).status_code == 401
    assert exchange(client, code, verifier, client_secret="wrong").status_code == 401
    assert exchange(client, code, verifier, client_secret="rp-secret").status_code == 200
    # The relying party authenticates itself (HTTP Basic) in the browser flow.
    assert login(client).status_code == 302
    assert client.get("/auth/me").json()["kind"] == "citizen"
    monkeypatch.delenv("LIENTHONG_OIDC_CLIENT_SECRET")
    reset_settings_cache()


def test_external_issuer_path(client, monkeypatch):
    """With LIENTHONG_OIDC_ISSUER set, the relying party uses discovery and cached keys of that issuer
    (here the dev IdP reached as if it were external, through the app's ASGI interface)."""
    import httpx
    from contextlib import asynccontextmanager

    from lienthong.config import reset_settings_cache

    add_citizen()
    monkeypatch.setenv("LIENTHONG_OIDC_ISSUER", "http://testserver/dev-idp")
    reset_settings_cache()
    assert not oidc_client.is_builtin()
    calls = []

    @asynccontextmanager
    async def fake_http_client(request):
        async def hook(req):
            calls.append(req.url.path)
        transport = httpx.ASGITransport(app=request.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                     event_hooks={"request": [hook]}) as c:
            yield c

    monkeypatch.setattr(oidc_client, "http_client", fake_http_client)
    monkeypatch.setattr(oidc_client, "_metadata_cache", {})
    monkeypatch.setattr(oidc_client, "_jwks_cache", {})
    assert login(client).status_code == 302
    assert client.get("/auth/me").json()["personal_id"] == PID
    assert calls.count("/dev-idp/.well-known/openid-configuration") == 1  # cached after the first use
    assert calls.count("/dev-idp/jwks") == 1
    monkeypatch.delenv("LIENTHONG_OIDC_ISSUER")
    reset_settings_cache()


def test_safe_next_unit():
    assert oidc_client.safe_next(None) == "/"
    assert oidc_client.safe_next("") == "/"
    assert oidc_client.safe_next("/tra-cuu?q=1#x") == "/tra-cuu?q=1#x"
    for bad in ("x", "//a", "/\\a", "https://a", "/\x00", " /a", "/a\tb"):
        assert oidc_client.safe_next(bad) is None, bad


def test_authorization_url_has_pkce():
    meta = oidc_client.ProviderMetadata(issuer="https://idp.example", authorization_endpoint="https://idp.example/auth",
                                        token_endpoint="https://idp.example/token", jwks_uri="https://idp.example/jwks")
    state = oidc_client.new_login_state("/")
    url = oidc_client.authorization_url(meta, state)
    q = parse_qs(urlsplit(url).query)
    assert q["code_challenge_method"] == ["S256"]
    assert q["code_challenge"] == [oidc_client.pkce_challenge(state.verifier)]
    assert q["state"] == [state.state] and q["nonce"] == [state.nonce]


def test_id_token_validation(monkeypatch):
    """The relying party checks the signature against the JWKS, iss, aud, exp and nonce."""
    import asyncio
    import time

    import httpx
    from joserfc.jwk import RSAKey

    from lienthong.config import Settings

    good, rogue = RSAKey.generate_key(2048, auto_kid=True), RSAKey.generate_key(2048, auto_kid=True)
    jwks = {"keys": [good.as_dict(private=False)]}
    transport = httpx.MockTransport(lambda req: httpx.Response(200, json=jwks))
    settings = Settings(oidc_issuer="https://idp.example", oidc_client_id="lienthong-web", secret_key="k")
    meta = oidc_client.ProviderMetadata(issuer="https://idp.example", authorization_endpoint="https://idp.example/a",
                                        token_endpoint="https://idp.example/t", jwks_uri="https://idp.example/jwks")
    monkeypatch.setattr(oidc_client, "_jwks_cache", {})
    now = int(time.time())
    base = {"iss": "https://idp.example", "aud": "lienthong-web", "sub": PID, "iat": now, "exp": now + 300,
            "nonce": "n1", "name": "Nguyễn Văn An", "acr": "2", "personal_id": PID}

    def check(claims: dict, key=good, nonce: str = "n1"):
        token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

        async def run():
            async with httpx.AsyncClient(transport=transport) as c:
                return await oidc_client.validate_id_token(c, meta, token, nonce, settings)

        return asyncio.run(run())

    identity = check(base)
    assert identity.personal_id == PID and identity.assurance_level == 2 and identity.name == "Nguyễn Văn An"
    assert check({**base, "acr": "1"}).assurance_level == 1
    for claims, key, nonce in (
        (base, rogue, "n1"),  # signed by another key
        ({**base, "iss": "https://evil.example"}, good, "n1"),
        ({**base, "aud": "other-app"}, good, "n1"),
        ({**base, "exp": now - 3600}, good, "n1"),
        (base, good, "other-nonce"),
        ({k: v for k, v in base.items() if k != "nonce"}, good, "n1"),
        ({**base, "sub": "12345", "personal_id": "12345"}, good, "n1"),  # not a personal ID
    ):
        with pytest.raises(oidc_client.OidcError):
            check(claims, key, nonce)
    # An HMAC-signed token is never accepted from an IdP.
    from joserfc.jwk import OctKey

    hs = jwt.encode({"alg": "HS256"}, base, OctKey.import_key(b"x" * 32))

    async def run_hs():
        async with httpx.AsyncClient(transport=transport) as c:
            return await oidc_client.validate_id_token(c, meta, hs, "n1", settings)

    with pytest.raises(oidc_client.OidcError):
        asyncio.run(run_hs())
