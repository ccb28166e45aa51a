"""Issue #23, items 7 and 8: civil-status time limits and who may act with which papers, as written.

* item 7: time limits in calendar days (Luật Hộ tịch Điều 15.1: 60 days to register a birth; Điều 33.1: 15 days to
  register a death) follow the Civil Code 2015: Điều 147.3 (the event day is not counted) and Điều 148.5 "Khi ngày
  cuối cùng của thời hạn là ngày nghỉ cuối tuần hoặc ngày nghỉ lễ thì thời hạn kết thúc tại thời điểm kết thúc ngày
  làm việc tiếp theo ngày nghỉ đó";
* item 8: Luật Hộ tịch Điều 15.1 (grandparents, other relatives, the carer when the parents cannot), Điều 16.1
  (witness statement, sworn statement instead of the birth certificate), Điều 33 (other relatives, an organisation,
  the civil-status officer), the ``verification`` variant of the linked birth group's deadline, and the
  social-assistance funeral support of NĐ 20/2021 Điều 11 in the linked death procedure.

Each worked case fails on the code before #23 (the deadline fell on the day off; the API refused or did not exist).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lienthong.civil import rules
from lienthong.civil.tests.conftest import FATHER, GRANDMA, MOTHER, citizen, emit_certificate, officer, recent_birth, relay, xml9
from lienthong.civil.tests.test_death_and_dashboard import BHXH, death_notice
from lienthong.db import session_factory
from lienthong.events.models import OutboxEvent
from lienthong.identity.principal import Principal
from lienthong.insurance.models import FuneralAllowance
from lienthong.workdays import VN_TZ

CAL = rules.calendar()


# --- item 7: calendar-day limits ending on a day off ----------------------------------------------------------------------


@pytest.mark.parametrize("event,days,end", [
    (date(2026, 4, 15), 15, date(2026, 5, 4)),  # 30/04 and 01/05 holidays, 02-03/05 weekend (before #23: 30/04)
    (date(2025, 12, 2), 60, date(2026, 2, 2)),  # 31/01/2026 is a Saturday (before #23: 31/01)
    (date(2026, 2, 1), 15, date(2026, 2, 23)),  # 16/02/2026 falls in the Tết break (before #23: 16/02)
    (date(2026, 1, 3), 60, date(2026, 3, 4)),  # a working day: unchanged
])
def test_worked_cases_calendar_day_end(event, days, end):
    assert rules.calendar_day_end(event, days) == end
    rule = rules.DeadlineRule("death", "confirm", "calendar_days", days, date(2016, 1, 1), None, "")
    received = datetime.combine(event, datetime.min.time(), tzinfo=VN_TZ).replace(hour=10)
    assert rules.due_at(rule, received, anchor=event) == datetime.combine(end, datetime.max.time().replace(microsecond=0),
                                                                          tzinfo=VN_TZ)


def test_day_off_reading_is_a_named_setting():
    # 31/08/2026 is a swapped day off (Thông báo 109/TB-UBND): a day off for the office calendar, not a statutory one
    office = rules.calendar_day_end(date(2026, 8, 16), 15)
    statutory = rules.calendar_day_end(date(2026, 8, 16), 15, settings=rules.CalendarDaySettings(day_off="statutory"))
    assert (office, statutory) == (date(2026, 9, 3), date(2026, 8, 31))
    assert rules.calendar_day_end(date(2026, 4, 15), 15,
                                  settings=rules.CalendarDaySettings(carry_to_next_working_day=False)) == date(2026, 4, 30)
    with pytest.raises(ValueError):
        rules.parse_calendar_days({"calendar_days": {"day_off": "lunar"}})


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 10, 31)), st.sampled_from([15, 60]))
def test_property_calendar_day_end(event, days):
    """The end is the first working day on or after ``event + days``; every day skipped is a day off."""
    end = rules.calendar_day_end(event, days)
    last = event + timedelta(days=days)
    assert end >= last and CAL.is_working_day(end)
    d = last
    while d < end:
        assert not CAL.is_working_day(d)
        d += timedelta(days=1)


def test_death_case_deadline_moves_past_the_holidays(app_client, bearer, family, db_url):
    died = datetime(2026, 4, 15, 7, 0, tzinfo=VN_TZ)
    emit_certificate(db_url, "death", death_notice(died), personal_id=GRANDMA, number="BT-01")
    relay(db_url)
    (case,) = app_client.get("/api/v1/civil/cases/mine", headers=bearer(citizen(MOTHER))).json()
    due = datetime.fromisoformat(case["steps"][0]["due_at"].replace("Z", "+00:00")).astimezone(VN_TZ)
    assert due == datetime(2026, 5, 4, 23, 59, 59, tzinfo=VN_TZ)  # before #23: 30/04/2026, a holiday


# --- item 8: who may declare, with which papers ------------------------------------------------------------------------------


def test_declarant_rules():
    assert rules.birth_declarant_allowed("parent").allowed
    assert not rules.birth_declarant_allowed("grandparent").allowed  # only when the parents cannot
    assert rules.birth_declarant_allowed("grandparent", "Mẹ đang điều trị tại bệnh viện").allowed
    assert rules.birth_declarant_allowed("carer", "Trẻ được chùa nuôi dưỡng").allowed
    assert not rules.birth_declarant_allowed("neighbour", "bất kỳ").allowed
    assert rules.death_declarant_allowed("relative").allowed
    assert not rules.death_declarant_allowed("organisation").allowed
    assert rules.death_declarant_allowed("organisation", has_relatives=False).allowed
    assert not rules.death_declarant_allowed("civil_status_officer").allowed
    assert rules.death_declarant_allowed("civil_status_officer", responsible_found=False).allowed


def test_document_rules():
    assert rules.birth_document_allowed("witness_statement").allowed
    assert not rules.birth_document_allowed("witness_statement", has_certificate=True).allowed
    assert rules.birth_document_allowed("sworn_statement").allowed
    assert not rules.birth_document_allowed("sworn_statement", has_witness=True).allowed
    assert not rules.birth_document_allowed("abandonment_record").allowed  # outside the linked group
    assert rules.birth_document_allowed("abandonment_record", linked=False).allowed
    assert rules.death_document_allowed("court_declaration").allowed
    assert not rules.death_document_allowed("family_letter").allowed


@given(st.sampled_from([*rules.BIRTH_DECLARANTS, "neighbour", "stranger"]), st.one_of(st.none(), st.text(max_size=20)))
def test_property_birth_declarant(relation, reason):
    ok = rules.birth_declarant_allowed(relation, reason).allowed
    if relation == "parent":
        assert ok
    elif relation in rules.BIRTH_DECLARANTS:
        assert ok == (len((reason or "").strip()) >= 5)
    else:
        assert not ok


@given(st.sampled_from([*rules.BIRTH_DOCUMENTS, "letter"]), st.booleans(), st.booleans(), st.booleans())
def test_property_birth_documents(kind, has_certificate, has_witness, linked):
    ok = rules.birth_document_allowed(kind, has_certificate=has_certificate, has_witness=has_witness, linked=linked).allowed
    if kind == "birth_certificate":
        assert ok
    elif kind == "witness_statement":
        assert ok == (not has_certificate)
    elif kind == "sworn_statement":
        assert ok == (not has_certificate and not has_witness)
    elif kind == "abandonment_record":
        assert ok == (not linked)
    else:
        assert not ok


@given(st.sampled_from([*rules.DEATH_DECLARANTS, "neighbour"]), st.booleans(), st.booleans())
def test_property_death_declarant(relation, has_relatives, responsible_found):
    ok = rules.death_declarant_allowed(relation, has_relatives=has_relatives, responsible_found=responsible_found).allowed
    expected = {"organisation": not has_relatives, "civil_status_officer": not responsible_found,
                "neighbour": False}.get(relation, True)
    assert ok == expected


def _birth_case(db_url, client, bearer, born=None):
    emit_certificate(db_url, "birth", xml9(born or recent_birth()), personal_id=MOTHER)
    relay(db_url)
    (case,) = client.get("/api/v1/civil/cases/mine", headers=bearer(citizen(MOTHER))).json()
    return case


def test_grandmother_confirms_when_the_parents_cannot(app_client, bearer, family, db_url):
    client = app_client
    case = _birth_case(db_url, client, bearer)
    assert {g["personal_id"]: g["relation"] for g in case["data"]["grandparents"]} == {GRANDMA: "maternal_grandmother"}
    url = f"/api/v1/civil/cases/{case['id']}"
    assert client.get(url, headers=bearer(citizen(GRANDMA))).status_code == 200
    body = {"version": case["version"], "family_name": "Nguyễn", "given_name": "An"}
    r = client.post(f"{url}/confirm", headers=bearer(citizen(GRANDMA)), json=body)
    assert r.status_code == 422 and "Điều 15" in r.text
    r = client.post(f"{url}/confirm", headers=bearer(citizen(GRANDMA)),
                    json={**body, "parents_unable_reason": "Mẹ cháu đang điều trị hậu sản tại bệnh viện"})
    assert r.status_code == 200, r.text
    decl = r.json()["data"]["declarant"]
    assert (decl["relation"], decl["personal_id"]) == ("grandparent", GRANDMA)
    page = client.get(f"/thu-tuc/{case['id']}", headers=bearer(officer(1)))
    assert "Người đi đăng ký" in page.text and "ông hoặc bà" in page.text and "Lưu ý về căn cứ pháp lý" in page.text
    # a stranger still may not
    assert client.get(url, headers=bearer(citizen("001085099999"))).status_code == 403


def test_officer_starts_a_birth_from_a_witness_statement(app_client, bearer, family, db_url):
    client = app_client
    born = recent_birth(days=4)
    child = {"family_name": "Nguyễn", "middle_name": "Thu", "given_name": "Hà", "sex": "F",
             "birth_date": born.date().isoformat(), "birth_place": "Tại nhà, phố Huế"}
    base = {"procedure": "birth", "document_number": "VB-01", "mother_personal_id": MOTHER, "child": child}
    r = client.post("/api/v1/civil/cases", headers=bearer(officer(1)),
                    json={**base, "document_kind": "sworn_statement", "has_witness": True})
    assert r.status_code == 422 and "cam đoan" in r.text
    r = client.post("/api/v1/civil/cases", headers=bearer(officer(1)), json={**base, "document_kind": "abandonment_record"})
    assert r.status_code == 422
    assert client.post("/api/v1/civil/cases", headers=bearer(officer(79)),
                       json={**base, "document_kind": "witness_statement"}).status_code == 403
    r = client.post("/api/v1/civil/cases", headers=bearer(officer(1)), json={**base, "document_kind": "witness_statement"})
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["data"]["document"]["kind"] == "witness_statement" and case["data"]["certificate"] is None
    assert case["steps"][0]["due_at"].startswith(rules.calendar_day_end(born.date(), 60).isoformat())
    assert client.post("/api/v1/civil/cases", headers=bearer(officer(1)),
                       json={**base, "document_kind": "witness_statement"}).status_code == 409  # one case per paper
    # the aunt declares at the office because the parents cannot
    url = f"/api/v1/civil/cases/{case['id']}/steps/confirm/complete"
    r = client.post(url, headers=bearer(officer(1)), json={"version": case["version"], "declarant_relation": "relative",
                                                          "declarant_name": "Trần Thị Mai"})
    assert r.status_code == 422
    r = client.post(url, headers=bearer(officer(1)), json={
        "version": case["version"], "declarant_relation": "relative", "declarant_name": "Trần Thị Mai",
        "parents_unable_reason": "Cha mẹ đang đi làm ăn xa"})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/civil/cases/{case['id']}/steps/register/complete", headers=bearer(officer(1)),
                    json={"version": r.json()["version"]})
    assert r.status_code == 200 and r.json()["status"] == "done", r.text
    with session_factory(db_url)() as s:
        texts = [e.payload["text"] for e in s.scalars(select(OutboxEvent).where(OutboxEvent.topic == "civil.notification"))]
    assert any("văn bản của người làm chứng" in t and "VB-01" in t for t in texts)


def test_verification_variant_of_the_birth_group(app_client, bearer, family, db_url):
    client = app_client
    case = _birth_case(db_url, client, bearer)
    r = client.post(f"/api/v1/civil/cases/{case['id']}/confirm", headers=bearer(citizen(MOTHER)),
                    json={"version": case["version"], "family_name": "Nguyễn", "given_name": "An"})
    case = r.json()
    received = datetime.fromisoformat(case["received_at"])
    day = received.astimezone(VN_TZ).date()
    ordinary = rules.due_at(rules.rule_for("birth", None, day), received)
    longer = rules.due_at(rules.rule_for("birth", None, day, variant="verification"), received)
    assert datetime.fromisoformat(case["due_at"]) == ordinary
    url = f"/api/v1/civil/cases/{case['id']}/verification"
    assert client.post(url, headers=bearer(citizen(MOTHER)), json={"version": case["version"], "reason": "xác minh"}).status_code == 403
    r = client.post(url, headers=bearer(officer(1)), json={"version": case["version"],
                                                          "reason": "Cần xác minh nơi cư trú của người mẹ"})
    assert r.status_code == 200, r.text
    case = r.json()
    assert datetime.fromisoformat(case["due_at"]) == longer > ordinary
    assert case["data"]["verification"]["reason"].startswith("Cần xác minh")
    assert client.post(url, headers=bearer(officer(1)), json={"version": case["version"],
                                                             "reason": "lần hai nữa"}).status_code == 409
    page = client.get(f"/thu-tuc/{case['id']}", headers=bearer(officer(1)))
    assert "05 ngày làm việc khi hồ sơ khai sinh liên thông cần xác minh" in page.text


def _death_to_register(client, bearer, db_url, *, social_assistance: bool):
    died = (datetime.now(VN_TZ) - timedelta(days=2)).replace(hour=8, minute=0, second=0, microsecond=0)
    emit_certificate(db_url, "death", death_notice(died), personal_id=GRANDMA, number="BT-01")
    relay(db_url)
    (case,) = client.get("/api/v1/civil/cases/mine", headers=bearer(citizen(MOTHER))).json()
    r = client.post(f"/api/v1/civil/cases/{case['id']}/confirm", headers=bearer(citizen(MOTHER)),
                    json={"version": case["version"], "social_assistance_requested": social_assistance})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["declarant"]["relation"] == "child"  # the deceased's daughter (Điều 33.1)
    r = client.post(f"/api/v1/civil/cases/{case['id']}/steps/register/complete", headers=bearer(officer(1)),
                    json={"version": r.json()["version"]})
    assert r.status_code == 200, r.text
    return r.json()


def test_social_assistance_funeral_support(app_client, bearer, family, db_url):
    client = app_client
    case = _death_to_register(client, bearer, db_url, social_assistance=True)
    steps = {s["name"]: s for s in case["steps"]}
    assert steps["funeral_allowance"]["result"]["awaiting_officer"]  # no history: a BHXH officer decides
    url = f"/api/v1/civil/cases/{case['id']}/steps/"
    # an agency client that may act on civil cases but has no insurance.write scope cannot decide the allowance
    civil_client = Principal(kind="agency", subject="ho-tich-01", name="Phần mềm hộ tịch", agency_code="BTP",
                             province_code=1, scopes=frozenset({"civil.act"}))
    assert client.post(url + "funeral_allowance/complete", headers=bearer(civil_client), json={
        "version": case["version"], "funeral_route": "pension", "note": "Theo lời khai của gia đình"}).status_code == 403
    # the one-stop officer records the social-insurance verification
    r = client.post(url + "funeral_allowance/complete", headers=bearer(officer(1)), json={
        "version": case["version"], "funeral_route": "not_eligible", "note": "Không hưởng lương hưu, không TNLĐ"})
    assert r.status_code == 200, r.text
    case = r.json()
    steps = {s["name"]: s for s in case["steps"]}
    assert steps["funeral_allowance"]["state"] == "skipped"
    sa = steps["social_assistance_funeral"]
    assert sa["state"] == "in_progress" and sa["result"]["awaiting_officer"] and "Điều 11" in sa["result"]["reason"]
    page = client.get(f"/thu-tuc/{case['id']}", headers=bearer(officer(1)))
    assert "500.000" in page.text and "khoản 2 Điều 11" in page.text  # configurable figures: warnings
    assert client.post(url + "social_assistance_funeral/complete", headers=bearer(officer(1)),
                       json={"version": case["version"], "sa_category": "rich"}).status_code == 422
    r = client.post(url + "social_assistance_funeral/complete", headers=bearer(officer(1)),
                    json={"version": case["version"], "sa_category": "monthly_social_allowance",
                          "note": "Đang hưởng trợ cấp xã hội hằng tháng"})
    assert r.status_code == 200, r.text
    case = r.json()
    sa = {s["name"]: s for s in case["steps"]}["social_assistance_funeral"]
    assert sa["state"] == "done" and sa["result"]["amount_vnd"] == 20 * 500_000
    with session_factory(db_url)() as s:
        assert s.scalars(select(FuneralAllowance.status)).one() == "not_eligible"


def test_social_assistance_is_skipped_quietly_when_not_requested(app_client, bearer, family, db_url):
    client = app_client
    client.post("/api/v1/insurance/contributions", headers=bearer(BHXH), json={"periods": [
        {"personal_id": GRANDMA, "scheme": "bhxh_compulsory", "employer_code": "TA0001", "employer_name": "Công ty May",
         "from_month": "2005-01-01", "to_month": "2015-12-01"}]})
    case = _death_to_register(client, bearer, db_url, social_assistance=False)
    steps = {s["name"]: s for s in case["steps"]}
    assert steps["funeral_allowance"]["state"] == "done"
    assert steps["funeral_allowance"]["result"]["amount_vnd"] == 25_300_000
    assert steps["social_assistance_funeral"]["state"] == "skipped"
    with session_factory(db_url)() as s:
        steps_notified = [e.payload["step"] for e in s.scalars(select(OutboxEvent).where(OutboxEvent.topic == "civil.notification"))]
    assert "social_assistance_funeral" not in steps_notified


def test_bhxh_decides_first_then_the_case_takes_the_decision(app_client, bearer, family, db_url):
    client = app_client
    case = _death_to_register(client, bearer, db_url, social_assistance=False)
    death_date = case["event_date"]
    url = f"/api/v1/insurance/funeral-allowances/{GRANDMA}/decision"
    body = {"death_date": death_date, "route": "work_accident", "reason": "Biên bản điều tra TNLĐ số 12/BB"}
    assert client.post(url, headers=bearer(citizen(MOTHER)), json=body).status_code == 403
    assert client.post(url, headers=bearer(BHXH), json={**body, "route": "friendship"}).status_code == 422
    r = client.post(url, headers=bearer(BHXH), json=body)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["amount_vnd"]) == ("eligible", 25_300_000)
    assert client.post(url, headers=bearer(BHXH), json=body).status_code == 409  # decided once
    r = client.post(f"/api/v1/civil/cases/{case['id']}/steps/funeral_allowance/complete", headers=bearer(officer(1)),
                    json={"version": case["version"]})
    assert r.status_code == 200, r.text
    fa = {s["name"]: s for s in r.json()["steps"]}["funeral_allowance"]
    assert fa["state"] == "done" and fa["result"]["amount_vnd"] == 25_300_000


def test_death_declared_by_an_organisation_only_without_relatives(app_client, bearer, family, db_url):
    client = app_client
    died = (datetime.now(VN_TZ) - timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    emit_certificate(db_url, "death", death_notice(died), personal_id=GRANDMA, number="BT-01")
    relay(db_url)
    (case,) = client.get("/api/v1/civil/cases/mine", headers=bearer(citizen(MOTHER))).json()
    url = f"/api/v1/civil/cases/{case['id']}/steps/confirm/complete"
    body = {"version": case["version"], "declarant_relation": "organisation", "declarant_name": "Mái ấm Tình Thương"}
    r = client.post(url, headers=bearer(officer(1)), json=body)
    assert r.status_code == 422 and "không có người" in r.text  # she has a daughter in the registry
    r = client.post(url, headers=bearer(officer(1)), json={**body, "has_relatives": False})
    assert r.status_code == 200, r.text
