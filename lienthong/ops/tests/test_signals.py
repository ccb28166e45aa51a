"""Live signals propose rollout changes that an officer confirms, never applied silently: kiosks
deployed (this context), the first accepted health data of a province's facilities (the health
context's receipts, through its service function), the first criminal-record certificate issued
in a province (the judicial context's event, through the outbox relay)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from lienthong.audit.models import AuditEntry
from lienthong.db import session_factory, unit_of_work
from lienthong.identity.principal import Principal
from lienthong.judicial.tests.conftest import system_reads_registry  # noqa: F401  (fixture)
from lienthong.ops import rules, service, signals
from lienthong.ops.models import RolloutChange, RolloutProposal, RolloutUnit
from lienthong.ops.tests.conftest import ADMIN, CITIZEN, OFFICER
from lienthong.ops.tests.seed import seed
from lienthong.workdays.calendar import VN_TZ

OFFICER_HCM = Principal(kind="officer", subject="079090000009", name="Cán bộ Võ Thị E", personal_id="079090000009",
                        assurance_level=2, province_code=79)


def _unit(s, key: str, province: int) -> RolloutUnit:
    return service.province_unit(s, key, province)


def test_kiosks_deployed_propose_and_only_the_provinces_officer_confirms(client, bearer, monkeypatch):
    with unit_of_work() as s:
        seed(s)
    put = lambda code, c, d: client.put(f"/api/v1/ops/kiosks/{code}", json={"committed": c, "deployed": d},  # noqa: E731
                                        headers=bearer(ADMIN))
    assert put("01001", 10, 0).status_code == 200
    assert client.get("/api/v1/ops/rollout/proposals", headers=bearer(OFFICER)).json() == []
    assert put("01001", 10, 4).status_code == 200
    assert put("01002", 5, 5).status_code == 200  # same province: the one proposal stands
    props = client.get("/api/v1/ops/rollout/proposals", headers=bearer(OFFICER)).json()
    assert len(props) == 1
    p = props[0]
    assert (p["service_key"], p["province_code"], p["signal"], p["state"]) == ("medical_kiosk", 1, "kiosk.deployed",
                                                                             "pending")
    assert p["proposed"]["status"] == "production" and "01001" in p["evidence_text"]
    with session_factory()() as s:  # nothing applied yet
        u = _unit(s, "medical_kiosk", 1)
        assert (u.status, u.machine_ready) == ("not_started", False)
        assert s.scalars(select(RolloutChange).where(RolloutChange.unit_id == u.id)).all() == []

    url = f"/api/v1/ops/rollout/proposals/{p['id']}"
    assert client.post(url + "/confirm", json={}, headers=bearer(OFFICER_HCM)).status_code == 403
    assert client.post(url + "/confirm", json={}, headers=bearer(CITIZEN)).status_code == 403
    r = client.post(url + "/confirm", json={"note": "đã kiểm tra tại Bạch Mai"}, headers=bearer(OFFICER))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "confirmed" and r.json()["decided_by"] == OFFICER.subject
    assert client.post(url + "/confirm", json={}, headers=bearer(OFFICER)).status_code == 409
    observed = datetime.fromisoformat(p["observed_at"]).astimezone(VN_TZ).date()
    with session_factory()() as s:
        u = _unit(s, "medical_kiosk", 1)
        assert (u.status, u.machine_ready, u.access_granted, u.production_date) == ("production", True, True, observed)
        changes = {c.field: c for c in s.scalars(select(RolloutChange).where(RolloutChange.unit_id == u.id))}
        assert set(changes) == {"status", "machine_ready", "access_granted", "production_date"}
        st = changes["status"]
        assert (st.source, st.source_ref, st.effective_on, st.actor_id) == ("signal", f"proposal:{p['id']}", observed,
                                                                             OFFICER.subject)
        assert "Đang vận hành nhưng còn thiếu: đánh giá an toàn thông tin mã nguồn đạt" in st.note
        assert "đã kiểm tra tại Bạch Mai" in st.note
        audit = s.scalars(select(AuditEntry).where(AuditEntry.resource == "ops.rollout",
                                                   AuditEntry.actor_id == OFFICER.subject)).one()
        assert audit.detail["source"] == "signal" and audit.detail["changes"]["status"] == ["not_started", "production"]

    # With the checklist made a hard gate, a confirmation that lacks it is refused and stays pending
    monkeypatch.setenv(rules.SIGNAL_CHECKLIST_ENV, "true")
    assert put("79001", 3, 1).status_code == 200
    hcm = client.get("/api/v1/ops/rollout/proposals?province=79", headers=bearer(OFFICER_HCM)).json()[0]
    url = f"/api/v1/ops/rollout/proposals/{hcm['id']}"
    r = client.post(url + "/confirm", json={}, headers=bearer(OFFICER_HCM))
    assert r.status_code == 422 and "chưa đủ điều kiện" in r.json()["error"]["message"]
    assert client.post(url + "/reject", json={"note": " "}, headers=bearer(OFFICER_HCM)).status_code == 422
    r = client.post(url + "/reject", json={"note": "ki-ốt chưa kết nối"}, headers=bearer(OFFICER_HCM))
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    with session_factory()() as s:
        assert _unit(s, "medical_kiosk", 79).status == "not_started"
    # a rejected signal is not proposed again
    assert put("79001", 3, 3).status_code == 200
    assert client.get("/api/v1/ops/rollout/proposals?province=79", headers=bearer(OFFICER_HCM)).json() == []


def test_first_accepted_health_data_is_proposed_and_confirmed_on_the_page(client, bearer):
    from lienthong.gateway.tests.test_gateway_api import envelope, facility
    from lienthong.jobs import registered

    from lienthong.facilities.models import Facility

    with unit_of_work() as s:
        s.add(Facility(code="01001", name="Bệnh viện Bạch Mai", province_code=1, tier="central", ownership="public"))
    body, _ = envelope(3, seed=7)
    r = client.post("/api/v1/gateway/xml130", content=body, headers={"Content-Type": "application/xml",
                                                                     **bearer(facility("01001"))})
    assert r.status_code == 200 and r.json()["accepted"] == 3, r.text
    job = next(j for j in registered() if j.name == "ops.signals")
    from lienthong.config import get_settings

    assert job.run(get_settings().database_url) == 1
    assert job.run(get_settings().database_url) == 0  # once per province
    with session_factory()() as s:
        p = s.scalars(select(RolloutProposal)).one()
        assert (p.signal, p.evidence["facility_code"], p.evidence["accepted"]) == ("health.first_data", "01001", 3)
        assert _unit(s, "health_book", 1).status == "not_started"

    # the tracker page lists it; the province's officer confirms with the form (HTMX)
    from lienthong.identity.tokens import issue_access_token

    client.cookies.set("lt_session", issue_access_token(OFFICER_HCM))
    page = client.get("/trien-khai?service=health_book").text
    assert "Đề xuất từ tín hiệu vận hành chờ xác nhận (1)" in page and 'value="confirm"' not in page
    client.cookies.set("lt_session", issue_access_token(OFFICER))
    page = client.get("/trien-khai?service=health_book").text
    assert 'value="confirm"' in page and "Bệnh viện Bạch Mai" in page
    r = client.post(f"/trien-khai/de-xuat/{p.id}", data={"decision": "confirm", "note": ""})
    assert r.status_code == 200 and "Đã xác nhận" in r.text and "Cán bộ Lê Văn C" in r.text
    with session_factory()() as s:
        assert _unit(s, "health_book", 1).status == "production"
    path = client.get("/trien-khai/tinh/1").text
    assert "Tín hiệu vận hành" in path and "Đã đưa vào vận hành" in path


def test_first_certificate_of_a_province_comes_through_the_event(client, bearer, system_reads_registry):  # noqa: F811
    from lienthong.events.relay import relay_once
    from lienthong.judicial.tests.helpers import citizen, register

    signals.install()
    pid = "001090012345"
    register(pid, "1990-05-17")
    r = client.post("/api/v1/judicial/applications", json={"kind": 1, "purpose": "Bổ sung hồ sơ xin việc làm",
                                                          "delivery_electronic": True}, headers=bearer(citizen(pid)))
    assert r.status_code == 201, r.text
    app = client.get(f"/api/v1/judicial/applications/{r.json()['id']}", headers=bearer(citizen(pid))).json()
    assert app["status"] == "issued"
    from lienthong.config import get_settings

    relay_once(get_settings().database_url, nats_url="")
    with session_factory()() as s:
        p = s.scalars(select(RolloutProposal)).one()
        assert p.signal == "judicial.first_certificate" and p.evidence["record_number"] == app["record_number"]
        assert "personal_id" not in p.evidence  # no personal data in the tracker
        u = service.get_unit(s, p.unit_id)
        assert (u.service_key, u.province_code, u.status) == ("judicial_vneid", 1, "not_started")
    relay_once(get_settings().database_url, nats_url="")  # delivered once
    with session_factory()() as s:
        assert len(s.scalars(select(RolloutProposal)).all()) == 1
