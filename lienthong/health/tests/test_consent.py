"""Consent shares and emergency access, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from test_book_fixtures import (  # noqa: F401  (hclient is a fixture)
    CLINIC, FAR, HOSPITAL, PID, add_profile, add_visit, citizen, facility, hclient, register, seed_facilities,
)

from lienthong.audit.models import AuditEntry
from lienthong.db import unit_of_work
from lienthong.events.models import OutboxEvent
from lienthong.health.models import Share


def _seed():
    seed_facilities()
    register()
    add_profile()
    recent = datetime.now(UTC) - timedelta(days=5)
    add_visit(PID, CLINIC, "LK001", recent - timedelta(days=300), main_icd="J02.9", labs=[("Glucose", "6.1", "mmol/L")])
    add_visit(PID, HOSPITAL, "LK002", recent, main_icd="E11.9", labs=[("HbA1c", "7.1", "%")],
              meds=[("40.677", "Metformin"), ("40.111", "Amlodipin")])


def _share(client, bearer, **body):
    body = {"facility_code": HOSPITAL, "scopes": ["intake", "lab_results"], "duration_minutes": 60,
            "purpose": "khám tại Bệnh viện Bạch Mai", **body}
    return client.post("/api/v1/me/health/shares", json=body, headers=bearer(citizen()))


def test_share_lifecycle(hclient, bearer):
    _seed()
    r = _share(hclient, bearer)
    assert r.status_code == 201, r.text
    created = r.json()
    token, share_id = created["token"], created["id"]
    assert created["status"] == "active" and created["facility_name"] == "Bệnh viện Bạch Mai"
    assert created["qr_svg"].lstrip().startswith("<svg") and created["qr_png"].startswith("data:image/png;base64,")
    with unit_of_work() as s:
        stored = s.get(Share, share_id)
        assert stored.token_hash and token not in stored.token_hash  # only the digest is kept

    listed = hclient.get("/api/v1/me/health/shares", headers=bearer(citizen())).json()
    assert [(x["id"], x["status"]) for x in listed] == [(share_id, "active")] and "token" not in listed[0]

    fac = bearer(facility(HOSPITAL))
    r = hclient.post("/api/v1/health/shared/intake", json={"token": token, "purpose": "tiếp nhận khám"}, headers=fac)
    assert r.status_code == 200, r.text
    intake = r.json()
    assert intake["full_name"] == "Nguyễn Văn An" and intake["birth_date"] == "1985-03-04" and intake["sex"] == "M"
    assert intake["from_registry"] is True and "Số 1 phố Tràng Tiền" in intake["address"]["text"]
    assert intake["insurance_card"] == "DN4799413000573" and intake["blood_group"] == "O+"
    assert intake["allergies"] == ["Penicillin"] and intake["chronic_conditions"][0]["icd10"] == "E11.9"
    assert {m["name"] for m in intake["current_medications"]} == {"Metformin", "Amlodipin"}
    assert intake["last_visit"]["facility_name"] == "Bệnh viện Bạch Mai"
    assert intake["last_visit"]["main_icd_name"].startswith("Bệnh đái tháo đường")

    r = hclient.post("/api/v1/health/shared/lab-results", json={"token": token}, headers=fac)
    assert r.status_code == 200, r.text
    assert [x["name"] for x in r.json()["items"]] == ["HbA1c"]  # only the recent ones (90 days)

    # Another facility cannot use a share made for this one.
    r = hclient.post("/api/v1/health/shared/intake", json={"token": token}, headers=bearer(facility(FAR)))
    assert r.status_code == 403 and "không dành cho cơ sở" in r.json()["detail"]

    # Every access is in the citizen's own access log, with the share id.
    with unit_of_work() as s:
        reads = list(s.scalars(select(AuditEntry).where(AuditEntry.subject_id == PID,
                                                        AuditEntry.actor_type == "facility")))
    resources = sorted(e.resource for e in reads)
    assert resources == ["health.book.intake", "health.book.lab_results", "population.citizen"]
    assert all(share_id in (e.resource_id or "") + e.purpose for e in reads)
    log = hclient.get("/api/v1/me/audit", headers=bearer(citizen())).json()["items"]
    assert {"health.book.intake", "health.book.lab_results"} <= {i["resource"] for i in log}
    assert any(i["who"] == {"type": "facility", "id": f"his-{HOSPITAL}"} for i in log)

    # Revoked: refused with a clear message.
    r = hclient.delete(f"/api/v1/me/health/shares/{share_id}", headers=bearer(citizen()))
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    r = hclient.post("/api/v1/health/shared/intake", json={"token": token}, headers=fac)
    assert r.status_code == 403 and r.json()["detail"] == "mã chia sẻ đã bị công dân thu hồi"


def test_expiry_and_limits(hclient, bearer, monkeypatch):
    _seed()
    token, share_id = (lambda j: (j["token"], j["id"]))(_share(hclient, bearer, duration_minutes=5).json())
    with unit_of_work() as s:
        s.execute(update(Share).where(Share.id == share_id).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    r = hclient.post("/api/v1/health/shared/intake", json={"token": token}, headers=bearer(facility(HOSPITAL)))
    assert r.status_code == 403 and r.json()["detail"] == "mã chia sẻ đã hết hạn"
    listed = hclient.get("/api/v1/me/health/shares", headers=bearer(citizen())).json()
    assert listed[0]["status"] == "expired"

    assert _share(hclient, bearer, duration_minutes=7 * 24 * 60).status_code == 201
    r = _share(hclient, bearer, duration_minutes=7 * 24 * 60 + 1)
    assert r.status_code == 422 and "tối đa" in r.text
    monkeypatch.setenv("LIENTHONG_HEALTH_SHARE_MAX_MINUTES", "30")
    assert _share(hclient, bearer, duration_minutes=31).status_code == 422
    assert _share(hclient, bearer, duration_minutes=30).status_code == 201
    assert _share(hclient, bearer, facility_code="99999", duration_minutes=5).status_code == 404
    assert _share(hclient, bearer, scopes=["everything"]).status_code == 422


def test_scopes_any_facility_and_bad_tokens(hclient, bearer):
    _seed()
    token = _share(hclient, bearer, facility_code=None, scopes=["lab_results"]).json()["token"]
    far = bearer(facility(FAR))
    assert hclient.post("/api/v1/health/shared/lab-results", json={"token": token}, headers=far).status_code == 200
    r = hclient.post("/api/v1/health/shared/intake", json={"token": token}, headers=far)
    assert r.status_code == 403 and "Thông tin tiếp nhận khám bệnh" in r.json()["detail"]
    r = hclient.post("/api/v1/health/shared/intake", json={"token": "ltsk_khong-ton-tai-123"}, headers=far)
    assert r.status_code == 403 and r.json()["detail"] == "mã chia sẻ không hợp lệ"
    # Facility clients without the health.read scope, and citizens, cannot use the facility endpoint.
    r = hclient.post("/api/v1/health/shared/intake", json={"token": token},
                     headers=bearer(facility(FAR, scopes=("health.submit",))))
    assert r.status_code == 403
    assert hclient.post("/api/v1/health/shared/intake", json={"token": token},
                        headers=bearer(citizen())).status_code == 403


def test_citizen_manages_only_own_shares(hclient, bearer):
    _seed()
    share_id = _share(hclient, bearer).json()["id"]
    other = citizen("001090054321")
    assert hclient.delete(f"/api/v1/me/health/shares/{share_id}", headers=bearer(other)).status_code == 404
    assert hclient.get("/api/v1/me/health/shares", headers=bearer(other)).json() == []
    assert hclient.post("/api/v1/me/health/shares", json={"scopes": ["intake"], "duration_minutes": 5, "purpose": "x y z"},
                        headers=bearer(facility())).status_code == 403


def test_emergency_access_is_flagged_and_notified(hclient, bearer):
    _seed()
    body = {"personal_id": PID, "reason": "Bệnh nhân hôn mê, cấp cứu tai nạn giao thông"}
    r = hclient.post("/api/v1/health/emergency-access", json=body, headers=bearer(facility(FAR)))
    assert r.status_code == 403  # no health.emergency scope
    er = bearer(facility(FAR, scopes=("health.emergency",)))
    assert hclient.post("/api/v1/health/emergency-access", json={**body, "reason": "gấp"}, headers=er).status_code == 422
    r = hclient.post("/api/v1/health/emergency-access", json=body, headers=er)
    assert r.status_code == 200, r.text
    summary = r.json()
    assert summary["emergency"] is True and summary["full_name"] == "Nguyễn Văn An" and summary["blood_group"] == "O+"

    with unit_of_work() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.resource == "health.book.intake")).one()
        assert entry.detail["emergency"] is True and entry.subject_id == PID and entry.actor_id == f"his-{FAR}"
        assert entry.detail["share_id"] == summary["share_id"]
        event = s.scalars(select(OutboxEvent).where(OutboxEvent.topic == "health.emergency_access")).one()
        assert event.payload["personal_id"] == PID and event.payload["facility_code"] == FAR
    shares = hclient.get("/api/v1/me/health/shares", headers=bearer(citizen())).json()
    assert shares[0]["status"] == "emergency" and shares[0]["facility_name"] == "Bệnh viện Chợ Rẫy"
    # An emergency record cannot be "revoked" as if it were a share, nor used as a token.
    assert hclient.delete(f"/api/v1/me/health/shares/{shares[0]['id']}", headers=bearer(citizen())).status_code == 404

    r = hclient.post("/api/v1/health/emergency-access", json={**body, "personal_id": "001099999999"}, headers=er)
    assert r.status_code == 404
