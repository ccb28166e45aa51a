"""OAuth2 client credentials, service client and staff administration."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from lienthong.audit.models import AuditEntry
from lienthong.db import unit_of_work
from lienthong.errors import Conflict, DomainError, NotFound
from lienthong.facilities.models import Agency, Facility
from lienthong.identity.models import ServiceClient
from lienthong.identity.principal import Principal
from lienthong.identity.service import create_service_client, create_staff_account
from lienthong.population.ids import InvalidPersonalId

ADMIN = Principal(kind="admin", subject="001080000001", name="Quản Trị", personal_id="001080000001", assurance_level=2)
CITIZEN = Principal(kind="citizen", subject="001085012345", name="Nguyễn Văn An", personal_id="001085012345",
                    assurance_level=2)
OFFICER = Principal(kind="officer", subject="001085000002", name="Lê Văn Cán", personal_id="001085000002",
                    assurance_level=2, province_code=1)


def add_directory() -> None:
    with unit_of_work() as s:
        s.add(Facility(code="01001", name="Bệnh viện Đa khoa Hà Nội", province_code=1, tier="provincial",
                       ownership="public"))
        s.add(Facility(code="01999", name="Phòng khám đã đóng cửa", province_code=1, tier="commune",
                       ownership="private", active=False))
        s.add(Agency(code="CA-HN", name="Công an thành phố Hà Nội", kind="police", province_code=1))
        s.add(Agency(code="BTP", name="Bộ Tư pháp", kind="ministry", province_code=None))


def make_client(client_id: str = "bv-hanoi", scopes=("directory.read",), **kw) -> str:
    kw.setdefault("kind", "facility")
    if kw["kind"] == "facility":
        kw.setdefault("facility_code", "01001")
    with unit_of_work() as s:
        _, secret = create_service_client(s, client_id=client_id, name="Hệ thống HIS", scopes=list(scopes), **kw)
    return secret


def basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_client_credentials_happy_path(client):
    add_directory()
    secret = make_client(scopes=("directory.read", "population.read"))
    r = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic("bv-hanoi", secret))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "directory.read population.read"
    assert r.headers["cache-control"] == "no-store"

    me = client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert me["kind"] == "facility" and me["subject"] == "bv-hanoi"
    assert me["facility_code"] == "01001" and me["province_code"] == 1
    assert me["scopes"] == ["directory.read", "population.read"]

    # Credentials in the form body, narrower scope.
    r = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "bv-hanoi",
                                          "client_secret": secret, "scope": "directory.read"})
    assert r.status_code == 200 and r.json()["scope"] == "directory.read"
    token = r.json()["access_token"]
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).json()["scopes"] == ["directory.read"]

    with unit_of_work() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.resource == "identity.token")).all()
    assert len(entries) == 2
    assert {(e.actor_type, e.actor_id, e.action, e.purpose) for e in entries} == {
        ("facility", "bv-hanoi", "login", "client credentials")}


def test_client_credentials_errors(client):
    add_directory()
    secret = make_client()
    r = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic("bv-hanoi", "wrong"))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    assert r.headers["www-authenticate"].startswith("Basic")
    r = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "population.write"},
                    headers=basic("bv-hanoi", secret))
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    r = client.post("/oauth/token", data={"grant_type": "password"}, headers=basic("bv-hanoi", secret))
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = client.post("/oauth/token", data={}, headers=basic("bv-hanoi", secret))
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_secret": secret},
                    headers=basic("bv-hanoi", secret))
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic %%%"})
    assert r.status_code == 401
    # A deactivated client can no longer get tokens.
    with unit_of_work() as s:
        s.get(ServiceClient, "bv-hanoi").active = False
    r = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic("bv-hanoi", secret))
    assert r.status_code == 401


def test_service_token_on_admin_route_is_forbidden(client):
    add_directory()
    secret = make_client()
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        headers=basic("bv-hanoi", secret)).json()["access_token"]
    r = client.get("/api/v1/identity/clients", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403


def test_admin_routes_refuse_non_admins_and_anonymous(client, bearer):
    for path in ("/api/v1/identity/clients", "/api/v1/identity/staff"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=bearer(CITIZEN)).status_code == 403
        assert client.get(path, headers=bearer(OFFICER)).status_code == 403
    r = client.post("/api/v1/identity/staff", json={"personal_id": "001085012345", "role": "admin"},
                    headers=bearer(OFFICER))
    assert r.status_code == 403
    assert client.post("/api/v1/identity/clients", json={}).status_code == 401


def test_admin_manages_clients(client, bearer):
    add_directory()
    h = bearer(ADMIN)
    r = client.post("/api/v1/identity/clients", headers=h, json={
        "client_id": "ca-hanoi", "name": "Hệ thống Công an Hà Nội", "kind": "agency", "agency_code": "CA-HN",
        "scopes": ["population.read", "population.write"]})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["client"]["province_code"] == 1
    assert created["client"]["scopes"] == ["population.read", "population.write"]
    secret = created["client_secret"]

    token = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic("ca-hanoi", secret))
    assert token.status_code == 200
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}).json()
    assert me["kind"] == "agency" and me["agency_code"] == "CA-HN" and me["province_code"] == 1

    listed = client.get("/api/v1/identity/clients", headers=h)
    assert listed.status_code == 200
    assert [c["client_id"] for c in listed.json()] == ["ca-hanoi"]
    assert "secret" not in str(listed.json())

    dup = client.post("/api/v1/identity/clients", headers=h, json={
        "client_id": "ca-hanoi", "name": "x", "kind": "agency", "agency_code": "CA-HN", "scopes": ["population.read"]})
    assert dup.status_code == 409
    assert dup.json()["error"]["message"] == "mã ứng dụng ca-hanoi đã tồn tại"

    bad = client.post("/api/v1/identity/clients", headers=h, json={
        "client_id": "bv-x", "name": "x", "kind": "facility", "facility_code": "01001", "scopes": ["khong.co"]})
    assert bad.status_code == 422 and "khong.co" in bad.json()["error"]["message"]
    bad = client.post("/api/v1/identity/clients", headers=h, json={
        "client_id": "bv-x", "name": "x", "kind": "facility", "agency_code": "CA-HN", "scopes": ["directory.read"]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "facility_code"
    missing = client.post("/api/v1/identity/clients", headers=h, json={
        "client_id": "bv-x", "name": "x", "kind": "facility", "facility_code": "02002", "scopes": ["directory.read"]})
    assert missing.status_code == 404

    with unit_of_work() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.resource == "identity.client")
                            .order_by(AuditEntry.seq)).all()
    assert actions == ["create", "list"]


def test_admin_manages_staff(client, bearer):
    add_directory()
    h = bearer(ADMIN)
    r = client.post("/api/v1/identity/staff", headers=h,
                    json={"personal_id": "001085012345", "role": "officer", "province_code": 1, "agency_code": "CA-HN"})
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "officer" and r.json()["province_code"] == 1
    r = client.post("/api/v1/identity/staff", headers=h, json={"personal_id": "001085012345", "role": "admin"})
    assert r.status_code == 409
    r = client.post("/api/v1/identity/staff", headers=h, json={"personal_id": "079195000123", "role": "officer"})
    assert r.status_code == 422 and "tỉnh/thành phố" in r.json()["error"]["message"]
    r = client.post("/api/v1/identity/staff", headers=h, json={"personal_id": "999195000123", "role": "admin"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_personal_id"
    r = client.get("/api/v1/identity/staff", headers=h)
    assert [s["personal_id"] for s in r.json()] == ["001085012345"]
    with unit_of_work() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.resource == "identity.staff",
                                                   AuditEntry.action == "create")).one()
    assert entry.subject_id == "001085012345" and entry.actor_id == ADMIN.subject


def test_service_validation(db_url):
    add_directory()
    with unit_of_work() as s:
        with pytest.raises(NotFound):
            create_service_client(s, client_id="a1x", name="x", kind="agency", agency_code="NOPE", scopes=["directory.read"])
        with pytest.raises(DomainError, match="ngừng hoạt động"):
            create_service_client(s, client_id="a1x", name="x", kind="facility", facility_code="01999",
                                  scopes=["directory.read"])
        with pytest.raises(DomainError, match="không khớp"):
            create_service_client(s, client_id="a1x", name="x", kind="facility", facility_code="01001",
                                  province_code=79, scopes=["directory.read"])
        with pytest.raises(DomainError, match="ít nhất một"):
            create_service_client(s, client_id="a1x", name="x", kind="facility", facility_code="01001", scopes=[])
        # A national agency has no province of its own; one can be given.
        client_, _ = create_service_client(s, client_id="btp", name="Bộ Tư pháp", kind="agency", agency_code="BTP",
                                           scopes=["population.read"])
        assert client_.province_code is None
        with pytest.raises(InvalidPersonalId):
            create_staff_account(s, personal_id="12", role="admin")
        with pytest.raises(DomainError, match="cấp quốc gia"):
            create_staff_account(s, personal_id="001085012345", role="admin", province_code=1)
        with pytest.raises(DomainError, match="thuộc tỉnh/thành phố"):
            create_staff_account(s, personal_id="001085012345", role="officer", province_code=79, agency_code="CA-HN")
        create_staff_account(s, personal_id="001085012345", role="officer", province_code=1)
        with pytest.raises(Conflict):
            create_staff_account(s, personal_id="001085012345", role="admin")
