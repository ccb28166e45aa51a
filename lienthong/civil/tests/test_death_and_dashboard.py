"""Death procedure (funeral allowance by date of death), overdue dashboard, driver health API (both databases)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from lienthong.civil.tests.conftest import GRANDMA, MOTHER, citizen, emit_certificate, officer, relay
from lienthong.db import session_factory
from lienthong.events.models import OutboxEvent
from lienthong.identity.principal import Principal
from lienthong.insurance.models import FuneralAllowance
from lienthong.population.models import Citizen
from lienthong.workdays import VN_TZ

BHXH = Principal(kind="agency", subject="bhxh-vn", name="BHXH Việt Nam", agency_code="BHXH",
                 scopes=frozenset({"insurance.write"}))
POLICE = Principal(kind="agency", subject="csgt-c08", name="Cục CSGT", agency_code="C08",
                   scopes=frozenset({"driver_health.read"}))
CLINIC = Principal(kind="facility", subject="bv-01001", name="Bệnh viện", facility_code="01001",
                   scopes=frozenset({"health.submit"}))


def death_notice(died: datetime, pid=GRANDMA) -> dict:
    return {"MA_GBT": "GBT1", "HO_TEN": "Lê Thị Hoa", "SO_GIAYTO": pid, "NGAY_TV": died.isoformat(),
            "NGUYENNHAN_TV": "Suy tim", "NGUOI_THANTHICH": "Trần Thị Lan", "SO_BAOTU": "BT-01"}


def start_death(db_url, client, bearer, died):
    emit_certificate(db_url, "death", death_notice(died), personal_id=GRANDMA, number="BT-01")
    relay(db_url)
    (case,) = client.get("/api/v1/civil/cases/mine", headers=bearer(citizen(MOTHER))).json()
    return case


def test_death_flow_with_funeral_allowance_by_date_of_death(app_client, bearer, family, db_url):
    client = app_client
    r = client.post("/api/v1/insurance/contributions", headers=bearer(BHXH), json={"periods": [
        {"personal_id": GRANDMA, "scheme": "bhxh_compulsory", "employer_code": "TA0001",
         "employer_name": "Công ty May Thăng Long", "from_month": "2005-01-01", "to_month": "2015-12-01",
         "basis_vnd": 5_000_000}]})
    assert r.status_code == 200, r.text
    died = datetime(2024, 1, 15, 10, 0, tzinfo=VN_TZ)  # base salary 1,800,000 then
    case = start_death(db_url, client, bearer, died)
    assert case["procedure"] == "death" and case["subject_personal_id"] == GRANDMA
    assert case["steps"][0]["state"] == "waiting_citizen"
    assert case["steps"][0]["due_at"].startswith("2024-01-30")  # 15 days from the death

    # overdue on the dashboard (the family's 15 days are long past), filtered by province and procedure
    rows = client.get("/api/v1/civil/overdue", headers=bearer(officer(1))).json()
    assert [(x["step"], x["procedure"]) for x in rows] == [("confirm", "death")]
    assert client.get("/api/v1/civil/overdue", params={"procedure": "birth"}, headers=bearer(officer(1))).json() == []
    assert client.get("/api/v1/civil/overdue", params={"province_code": 79}, headers=bearer(officer(1))).status_code == 403
    assert client.get("/api/v1/civil/overdue", params={"province_code": 79},
                      headers=bearer(Principal(kind="admin", subject="a", personal_id="001080000011",
                                               assurance_level=2))).json() == []
    assert client.get("/api/v1/civil/overdue", headers=bearer(citizen(MOTHER))).status_code == 403
    page = client.get("/can-bo/ho-so-qua-han", params={"procedure": "death"}, headers=bearer(officer(1)))
    assert page.status_code == 200 and "Thân nhân xác nhận tờ khai" in page.text and "Liên thông khai tử" in page.text

    r = client.post(f"/api/v1/civil/cases/{case['id']}/confirm", headers=bearer(citizen(MOTHER)),
                    json={"version": case["version"]})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/civil/cases/{case['id']}/steps/register/complete", headers=bearer(officer(1)),
                    json={"version": r.json()["version"]})
    assert r.status_code == 200, r.text
    body = r.json()
    steps = {s["name"]: s for s in body["steps"]}
    assert steps["register"]["result"]["extract_number"].count("/TLKT-") == 1
    assert steps["update_registry"]["state"] == "done"
    assert steps["funeral_allowance"]["state"] == "done"
    assert steps["funeral_allowance"]["result"]["amount_vnd"] == 18_000_000
    assert steps["close_health_book"]["state"] == "done"
    # residence removal needs population.service.deregister_residence: it is retried, nothing else is blocked
    if steps["remove_residence"]["state"] != "done":
        assert steps["remove_residence"]["state"] == "in_progress"
        assert "deregister_residence" in steps["remove_residence"]["last_error"]
        assert body["status"] == "open"
    with session_factory(db_url)() as s:
        g = s.get(Citizen, GRANDMA)
        assert (g.status, g.death_date) == ("dead", date(2024, 1, 15))
        fa = s.scalars(select(FuneralAllowance)).one()
        assert (fa.status, fa.amount_vnd, fa.reference_salary_vnd) == ("eligible", 18_000_000, 1_800_000)
        topics = [e.topic for e in s.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))]
        assert "health.book.close_requested" in topics and "population.citizen.died" in topics
        texts = [e.payload["text"] for e in s.scalars(select(OutboxEvent).where(OutboxEvent.topic == "civil.notification"))]
    assert any("18.000.000 đồng" in t for t in texts)
    assert any("Trích lục khai tử số" in t for t in texts)


def test_undecided_funeral_allowance_waits_for_an_officer(app_client, bearer, family, db_url):
    """Luật BHXH 2024 Điều 85.1.c: a pensioner is eligible whatever the history on the platform shows; the step waits
    for an officer instead of being skipped as "không áp dụng" (issue #23, item 4)."""
    client = app_client
    died = (datetime.now(VN_TZ) - timedelta(days=2)).replace(hour=8, minute=0, second=0, microsecond=0)
    # only 6 months of compulsory contributions, long ago: the history alone does not make her eligible
    client.post("/api/v1/insurance/contributions", headers=bearer(BHXH), json={"periods": [
        {"personal_id": GRANDMA, "scheme": "bhxh_compulsory", "employer_code": "TA0002", "employer_name": "HTX Nông nghiệp",
         "from_month": "2010-01-01", "to_month": "2010-06-01"}]})
    case = start_death(db_url, client, bearer, died)
    # the commune officer confirms for the relative who came to the office (Luật Hộ tịch Điều 33.1)
    r = client.post(f"/api/v1/civil/cases/{case['id']}/steps/confirm/complete", headers=bearer(officer(1)),
                    json={"version": case["version"]})
    assert r.status_code == 422 and "người đi đăng ký" in r.text
    r = client.post(f"/api/v1/civil/cases/{case['id']}/steps/confirm/complete", headers=bearer(officer(1)),
                    json={"version": case["version"], "declarant_relation": "relative", "declarant_name": "Lê Văn Tâm"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["declarant"]["relation"] == "relative"
    r = client.post(f"/api/v1/civil/cases/{case['id']}/steps/register/complete", headers=bearer(officer(1)),
                    json={"version": r.json()["version"]})
    body = r.json()
    steps = {s["name"]: s for s in body["steps"]}
    fa = steps["funeral_allowance"]
    assert fa["state"] == "in_progress" and fa["state_name"] == "Chờ cán bộ quyết định"
    assert fa["result"]["awaiting_officer"] is True and "lương hưu" in fa["result"]["reason"]
    assert steps["social_assistance_funeral"]["state"] == "pending"
    with session_factory(db_url)() as s:
        assert s.scalars(select(FuneralAllowance.status)).one() == "unknown"
    # the runner never retries it; the dashboard lists it
    rows = client.get("/api/v1/civil/overdue", headers=bearer(officer(1))).json()
    assert ("funeral_allowance", "Chờ cán bộ quyết định") in {(x["step"], x["state_name"]) for x in rows}
    page = client.get("/can-bo/ho-so-qua-han", headers=bearer(officer(1)))
    assert "Chờ cán bộ quyết định" in page.text
    # the case page shows the officer the warnings about the figures this case uses
    page = client.get(f"/thu-tuc/{case['id']}", headers=bearer(officer(1)))
    assert "Lưu ý về căn cứ pháp lý" in page.text and "2.530.000" in page.text
    assert "Lưu ý về căn cứ pháp lý" not in client.get(f"/thu-tuc/{case['id']}", headers=bearer(citizen(MOTHER))).text

    # an officer must say which route the law gives, and what was verified
    url = f"/api/v1/civil/cases/{case['id']}/steps/funeral_allowance/complete"
    assert client.post(url, headers=bearer(officer(1)), json={"version": body["version"]}).status_code == 422
    r = client.post(url, headers=bearer(officer(1)), json={"version": body["version"], "funeral_route": "pension",
                                                          "note": "Đang hưởng lương hưu, quyết định số 123/QĐ-BHXH"})
    assert r.status_code == 200, r.text
    steps = {s["name"]: s for s in r.json()["steps"]}
    assert steps["funeral_allowance"]["state"] == "done"
    assert steps["funeral_allowance"]["result"]["amount_vnd"] == 10 * 2_530_000  # death after 01/07/2026
    assert steps["social_assistance_funeral"]["state"] == "skipped"  # the family did not ask for it
    with session_factory(db_url)() as s:
        row = s.scalars(select(FuneralAllowance)).one()
        assert (row.status, row.amount_vnd, row.detail["route"]) == ("eligible", 25_300_000, "pension")


def test_driver_health_validity_api(app_client, bearer, family, db_url):
    client = app_client
    today = datetime.now(VN_TZ).date()
    old = today - timedelta(days=400)
    recent = today - timedelta(days=30)
    base = {"personal_id": MOTHER, "fit": True, "licence_classes": ["B"], "conclusion": "Đủ điều kiện sức khỏe lái xe hạng B"}
    r = client.post("/api/v1/driver-health/certificates", headers=bearer(CLINIC),
                    json={**base, "number": "KSK-1", "concluded_on": old.isoformat()})
    assert r.status_code == 201, r.text
    url = f"/api/v1/driver-health/{MOTHER}/valid"
    assert client.get(url, headers=bearer(POLICE)).json()["status"] == "expired"
    body = client.get(url, params={"on": (old + timedelta(days=10)).isoformat()}, headers=bearer(POLICE)).json()
    assert body["status"] == "valid" and body["certificate"]["number"] == "KSK-1"
    assert any("12 tháng" in n for n in body["legal_notes"])  # the validity period is configurable (issue #23)
    assert set(body["certificate"]) == {"id", "number", "facility_code", "issued_on", "valid_until", "licence_classes", "fit"}
    client.post("/api/v1/driver-health/certificates", headers=bearer(CLINIC),
                json={**base, "number": "KSK-2", "concluded_on": recent.isoformat()})
    body = client.get(url, headers=bearer(POLICE)).json()
    assert body["status"] == "valid" and body["certificate"]["number"] == "KSK-2"
    assert client.get(url, params={"licence_class": "C"}, headers=bearer(POLICE)).json()["status"] == "none"
    assert client.get(f"/api/v1/driver-health/{GRANDMA}/valid", headers=bearer(POLICE)).json()["status"] == "none"
    # unfit certificates never count
    client.post("/api/v1/driver-health/certificates", headers=bearer(CLINIC),
                json={**base, "personal_id": GRANDMA, "number": "KSK-3", "fit": False, "concluded_on": recent.isoformat()})
    assert client.get(f"/api/v1/driver-health/{GRANDMA}/valid", headers=bearer(POLICE)).json()["status"] == "none"
    # scopes and audit
    assert client.get(url, headers=bearer(citizen(MOTHER))).status_code == 403
    assert client.get(url, headers=bearer(Principal(kind="agency", subject="x", scopes=frozenset()))).status_code == 403
    assert client.post("/api/v1/driver-health/certificates", headers=bearer(POLICE),
                       json={**base, "number": "KSK-9", "concluded_on": recent.isoformat()}).status_code == 403
    from lienthong.audit.models import AuditEntry

    with session_factory(db_url)() as s:
        reads = s.scalars(select(AuditEntry).where(AuditEntry.resource == "health.driver_certificate",
                                                   AuditEntry.action == "read")).all()
    assert len(reads) == 6 and all(e.actor_id == "csgt-c08" for e in reads)
