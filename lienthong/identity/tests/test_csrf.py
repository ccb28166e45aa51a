"""Cookie-authenticated unsafe requests must come from this site."""

from lienthong.identity.policy import SESSION_COOKIE
from lienthong.identity.principal import Principal
from lienthong.identity.tokens import issue_access_token

CITIZEN = Principal(kind="citizen", subject="001085012345", name="An", personal_id="001085012345", assurance_level=2)


def test_cross_site_post_with_session_cookie_is_refused(client):
    client.cookies.set(SESSION_COOKIE, issue_access_token(CITIZEN))
    body = {"scopes": ["intake"], "duration_minutes": 30, "purpose": "khám bệnh"}
    r = client.post("/api/v1/me/health/shares", json=body, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "cross_site_request"
    r = client.post("/api/v1/me/health/shares", json=body, headers={"Referer": "https://evil.example/page"})
    assert r.status_code == 403
    # same origin (the Host the browser talked to) passes the check and reaches the route
    r = client.post("/api/v1/me/health/shares", json=body, headers={"Origin": "http://testserver"})
    assert r.status_code == 201
    # no Origin/Referer at all: not a browser page, allowed
    assert client.post("/api/v1/me/health/shares", json=body).status_code == 201


def test_bearer_clients_are_not_affected(client):
    token = issue_access_token(CITIZEN)
    r = client.post("/api/v1/me/health/shares", json={"scopes": ["intake"], "duration_minutes": 30, "purpose": "khám"},
                    headers={"Authorization": f"Bearer {token}", "Origin": "https://app.example"})
    assert r.status_code == 201
