"""Birth procedure end to end (both databases): event in -> steps -> child registered, residence, BHYT card."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta

from sqlalchemy import select

from lienthong.civil import rules as civil_rules
from lienthong.civil.models import ProcedureCase
from lienthong.civil.tests.conftest import (
    FATHER, MOTHER, WARDS, citizen, emit_certificate, officer, recent_birth, relay, xml9,
)
from lienthong.db import session_factory, unit_of_work
from lienthong.events.models import OutboxEvent
from lienthong.insurance.models import HealthInsuranceCard
from lienthong.insurance.rules import add_months
from lienthong.population.ids import validate_personal_id
from lienthong.population.models import Citizen, FamilyLink, Residence


def notifications(db_url, case_id):
    with session_factory(db_url)() as s:
        rows = s.scalars(select(OutboxEvent).where(OutboxEvent.topic == "civil.notification").order_by(OutboxEvent.seq))
        return [e.payload for e in rows if e.payload["case_id"] == case_id]


def start_birth(db_url, client, born):
    emit_certificate(db_url, "birth", xml9(born), personal_id=MOTHER)
    assert relay(db_url) >= 1
    r = client.get("/api/v1/civil/cases/mine", headers=client.h(citizen(MOTHER)))
    assert r.status_code == 200, r.text
    (case,) = r.json()
    return case


def with_headers(app_client, bearer):
    app_client.h = bearer
    return app_client


def test_birth_flow_end_to_end(app_client, bearer, family, db_url):
    client = with_headers(app_client, bearer)
    born = recent_birth()
    case = start_birth(db_url, client, born)
    assert case["procedure"] == "birth" and case["status"] == "open"
    d = case["data"]
    assert d["mother"]["personal_id"] == MOTHER and d["father"]["personal_id"] == FATHER
    assert d["child"]["birth_date"] == born.date().isoformat() and d["child"]["sex"] == "M"
    assert [s["state"] for s in case["steps"]] == ["waiting_citizen", "pending", "pending", "pending", "pending"]
    # the parent's deadline: 60 days from the birth (calendar days; a last day off moves to the next working day,
    # BLDS 2015 Điều 148.5)
    end = civil_rules.calendar_day_end(born.date(), 60)
    assert end >= born.date() + timedelta(days=60) and civil_rules.calendar().is_working_day(end)
    assert case["steps"][0]["due_at"].startswith(end.isoformat())

    # the father (linked as spouse) may read it; a stranger may not
    assert client.get(f"/api/v1/civil/cases/{case['id']}", headers=bearer(citizen(FATHER))).status_code == 200
    assert client.get(f"/api/v1/civil/cases/{case['id']}", headers=bearer(citizen("001085099999"))).status_code == 403
    # level-1 account cannot confirm
    r = client.post(f"/api/v1/civil/cases/{case['id']}/confirm", headers=bearer(citizen(MOTHER, level=1)),
                    json={"version": case["version"], "family_name": "Nguyễn", "given_name": "An"})
    assert r.status_code == 403
    # stale version -> 409
    r = client.post(f"/api/v1/civil/cases/{case['id']}/confirm", headers=bearer(citizen(MOTHER)),
                    json={"version": case["version"] + 5, "family_name": "Nguyễn", "given_name": "An"})
    assert r.status_code == 409
    r = client.post(f"/api/v1/civil/cases/{case['id']}/confirm", headers=bearer(citizen(MOTHER)),
                    json={"version": case["version"], "family_name": "Nguyễn", "middle_name": "Minh",
                          "given_name": "Khang", "include_father": True, "residence_of": "mother"})
    assert r.status_code == 200, r.text
    case = r.json()
    assert [s["state"] for s in case["steps"]][:2] == ["done", "in_progress"]
    assert case["due_at"] is not None and case["received_at"] is not None

    # the parent cannot do the commune's step; an officer of another province cannot either
    r = client.post(f"/api/v1/civil/cases/{case['id']}/steps/register/complete", headers=bearer(citizen(MOTHER)),
                    json={"version": case["version"]})
    assert r.status_code == 403
    r = client.post(f"/api/v1/civil/cases/{case['id']}/steps/register/complete", headers=bearer(officer(79)),
                    json={"version": case["version"]})
    assert r.status_code == 403
    r = client.post(f"/api/v1/civil/cases/{case['id']}/steps/register/complete", headers=bearer(officer(1)),
                    json={"version": case["version"]})
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["status"] == "done", case
    steps = {s["name"]: s for s in case["steps"]}
    assert steps["register"]["result"]["extract_number"].endswith(f"/TLKS-{WARDS[0]}")
    child_id = steps["assign_id"]["result"]["personal_id"]
    validate_personal_id(child_id, born.date(), "M")
    assert child_id.startswith("001")
    assert case["subject_personal_id"] == child_id

    with session_factory(db_url)() as s:
        child = s.get(Citizen, child_id)
        assert child.full_name == "Nguyễn Minh Khang" and child.birth_date == born.date()
        links = {(l.relation, l.relative_id) for l in s.scalars(select(FamilyLink).where(FamilyLink.personal_id == child_id))}
        assert links == {("mother", MOTHER), ("father", FATHER)}
        res = s.scalars(select(Residence).where(Residence.personal_id == child_id, Residence.valid_to.is_(None))).all()
        assert [(r.kind, r.province_code, r.ward_code, r.street) for r in res] == [("permanent", 1, WARDS[0], "Số 5 phố Huế")]
        card = s.scalars(select(HealthInsuranceCard).where(HealthInsuranceCard.personal_id == child_id)).one()
        assert card.group_code == "TE" and card.benefit_level == 1 and len(card.card_number) == 10
        assert card.valid_from == born.date()
        # Luật BHYT 16.3.d: valid through the day the child turns 72 months; NĐ 146/2018 Điều 13.2: to 30/9 of that
        # year (born before 30/9) or to the last day of that month (born after 30/9)
        turns = add_months(born.date(), 72)
        assert card.valid_to == turns
        if (born.month, born.day) < (9, 30):
            assert card.extended_to == date(turns.year, 9, 30)
        else:
            assert card.extended_to == date(turns.year, turns.month, monthrange(turns.year, turns.month)[1])

    texts = [(n["step"], n["recipient_personal_id"], n["text"]) for n in notifications(db_url, case["id"])]
    steps_notified = [t[0] for t in texts if t[1] == MOTHER]
    assert steps_notified == ["confirm", "confirm", "register", "assign_id", "residence", "health_card", None]
    assert {t[1] for t in texts} == {MOTHER, FATHER}
    assert any("Trích lục khai sinh điện tử số" in t[2] for t in texts)
    assert any(child_id in t[2] and "số định danh cá nhân" in t[2] for t in texts)
    assert any(card.card_number in t[2] and "thẻ bảo hiểm y tế" in t[2] for t in texts)
    assert all("/" in t[2] for t in texts if "ngày" in t[2])  # dates in dd/mm/yyyy

    # a re-delivered event does not create a second case
    with unit_of_work(db_url) as s:
        from lienthong.civil.intake import on_certificate_issued

        ev = s.scalars(select(OutboxEvent).where(OutboxEvent.topic == "health.certificate.issued")).first()
        on_certificate_issued(s, {"payload": ev.payload})
    with session_factory(db_url)() as s:
        assert len(s.scalars(select(ProcedureCase)).all()) == 1


def test_residence_with_father_moves_child(app_client, bearer, family, db_url):
    client = with_headers(app_client, bearer)
    born = recent_birth(days=5)
    case = start_birth(db_url, client, born)
    r = client.post(f"/api/v1/civil/cases/{case['id']}/confirm", headers=bearer(citizen(MOTHER)),
                    json={"version": case["version"], "family_name": "Nguyễn", "given_name": "Hà", "sex": "F",
                          "residence_of": "father"})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/civil/cases/{case['id']}/steps/register/complete", headers=bearer(officer(1)),
                    json={"version": r.json()["version"]})
    case = r.json()
    assert case["status"] == "done", case
    child_id = case["subject_personal_id"]
    validate_personal_id(child_id, born.date(), "F")
    with session_factory(db_url)() as s:
        cur = s.scalars(select(Residence).where(Residence.personal_id == child_id, Residence.kind == "permanent",
                                                Residence.valid_to.is_(None))).one()
        assert cur.ward_code == WARDS[1]


def test_failing_insurance_step_is_retried_without_blocking(app_client, bearer, family, db_url, monkeypatch):
    from lienthong.civil import workflow
    from lienthong.civil.cli import run_advance
    from lienthong.insurance import service as insurance_service

    client = with_headers(app_client, bearer)
    case = start_birth(db_url, client, recent_birth())
    real = insurance_service.issue_child_card
    calls = {"n": 0}

    def flaky(*a, **kw):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise ConnectionError("hệ thống BHXH không phản hồi")
        return real(*a, **kw)

    monkeypatch.setattr(insurance_service, "issue_child_card", flaky)
    r = client.post(f"/api/v1/civil/cases/{case['id']}/confirm", headers=bearer(citizen(MOTHER)),
                    json={"version": case["version"], "family_name": "Nguyễn", "given_name": "An"})
    r = client.post(f"/api/v1/civil/cases/{case['id']}/steps/register/complete", headers=bearer(officer(1)),
                    json={"version": r.json()["version"]})
    assert r.status_code == 200, r.text
    case = r.json()
    steps = {s["name"]: s for s in case["steps"]}
    # registration, ID and residence are done; the card step waits for a retry
    assert [steps[n]["state"] for n in ("register", "assign_id", "residence")] == ["done"] * 3
    assert steps["health_card"]["state"] == "in_progress" and steps["health_card"]["attempts"] == 1
    assert "BHXH" in steps["health_card"]["last_error"]
    assert case["status"] == "open"
    child_id = case["subject_personal_id"]
    with session_factory(db_url)() as s:
        assert s.get(Citizen, child_id) is not None  # the registration committed despite the failure
        assert s.scalars(select(HealthInsuranceCard)).all() == []

    # not yet due: nothing runs
    from lienthong.db import utcnow

    assert run_advance(db_url, now=utcnow()).attempted == 0
    # after the backoff (1 min) it fails again, then (2 min later) succeeds
    t1 = utcnow() + timedelta(seconds=workflow.rules.retry_delay_s(1) + 1)
    rep = run_advance(db_url, now=t1)
    assert rep.attempted == 1 and rep.retrying == 1
    rep = run_advance(db_url, now=t1 + timedelta(seconds=workflow.rules.retry_delay_s(2) + 1))
    assert rep.attempted == 1 and rep.done == 1
    r = client.get(f"/api/v1/civil/cases/{case['id']}", headers=bearer(citizen(MOTHER)))
    body = r.json()
    assert body["status"] == "done"
    card_step = next(s for s in body["steps"] if s["name"] == "health_card")
    assert card_step["attempts"] == 3 and card_step["state"] == "done"
    with session_factory(db_url)() as s:
        assert s.scalars(select(HealthInsuranceCard.personal_id)).all() == [child_id]


def test_step_fails_after_max_attempts_then_officer_retries(app_client, bearer, family, db_url, monkeypatch):
    from lienthong.civil.cli import run_advance
    from lienthong.db import utcnow
    from lienthong.insurance import service as insurance_service

    client = with_headers(app_client, bearer)
    case = start_birth(db_url, client, recent_birth())
    real = insurance_service.issue_child_card
    monkeypatch.setattr(insurance_service, "issue_child_card",
                        lambda *a, **kw: (_ for _ in ()).throw(RuntimeError("mất kết nối")))
    r = client.post(f"/api/v1/civil/cases/{case['id']}/confirm", headers=bearer(citizen(MOTHER)),
                    json={"version": case["version"], "family_name": "Nguyễn", "given_name": "An"})
    client.post(f"/api/v1/civil/cases/{case['id']}/steps/register/complete", headers=bearer(officer(1)),
                json={"version": r.json()["version"]})
    t = utcnow()
    for _ in range(10):
        t += timedelta(hours=7)
        run_advance(db_url, now=t)
    body = client.get(f"/api/v1/civil/cases/{case['id']}", headers=bearer(officer(1))).json()
    card = next(s for s in body["steps"] if s["name"] == "health_card")
    assert card["state"] == "failed" and card["attempts"] == 8
    assert body["status"] == "attention"
    rows = client.get("/api/v1/civil/overdue", headers=bearer(officer(1))).json()
    assert [(x["case_id"], x["step"], x["state"]) for x in rows] == [(case["id"], "health_card", "failed")]
    texts = [n["text"] for n in notifications(db_url, case["id"])]
    assert any("chưa thực hiện được" in t for t in texts)

    monkeypatch.setattr(insurance_service, "issue_child_card", real)
    r = client.post(f"/api/v1/civil/cases/{case['id']}/steps/health_card/retry", headers=bearer(officer(1)),
                    json={"version": body["version"]})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "done"


def test_birth_pages(app_client, bearer, family, db_url):
    client = with_headers(app_client, bearer)
    case = start_birth(db_url, client, recent_birth())
    h = bearer(citizen(MOTHER))
    r = client.get(f"/thu-tuc/{case['id']}", headers=h)
    assert r.status_code == 200 and "Tờ khai đăng ký khai sinh" in r.text and "Xác nhận" in r.text
    r = client.post(f"/thu-tuc/{case['id']}/xac-nhan", headers=h, follow_redirects=False,
                    data={"version": case["version"], "family_name": "Nguyễn", "middle_name": "Minh",
                          "given_name": "Châu", "sex": "F", "include_father": "1", "residence_of": "mother"})
    assert r.status_code == 303 and "error" not in r.headers["location"]
    r = client.get(f"/thu-tuc/{case['id']}", headers=h)
    assert "Nguyễn Minh Châu" in r.text and "Hoàn thành" in r.text
    r = client.get("/thu-tuc", headers=h)
    assert r.status_code == 200 and case["short_id"] in r.text
