"""Population registry through the HTTP API, on SQLite and PostgreSQL."""

import pytest
from datetime import date

from sqlalchemy import select

from lienthong.audit.models import AuditEntry
from lienthong.db import session_factory
from lienthong.events.models import OutboxEvent
from lienthong.geo import units
from lienthong.identity.principal import Principal

ADMIN = Principal(kind="admin", subject="001080000011", name="Quản trị", personal_id="001080000011", assurance_level=2)
HN_WARDS = [int(w.code) for w in units.wards_of(1)]
HCM_WARDS = [int(w.code) for w in units.wards_of(79)]


def citizen_body(pid="001085012345", sex="M", birth="1985-03-04", ward=None, province=1, **extra):
    body = {
        "personal_id": pid, "family_name": "Nguyễn", "middle_name": "Văn", "given_name": "An",
        "birth_date": birth, "sex": sex,
        "residence": {"province_code": province, "ward_code": ward or HN_WARDS[0], "street": "Số 1 phố Tràng Tiền",
                      "valid_from": "2025-07-01"},
    }
    body.update(extra)
    return body


def officer(province=1, pid="001082000022"):
    return Principal(kind="officer", subject=pid, name="Cán bộ", personal_id=pid, assurance_level=2, province_code=province)


def citizen(pid):
    return Principal(kind="citizen", subject=pid, name="Công dân", personal_id=pid, assurance_level=2)


def test_register_and_read_back(client, bearer):
    r = client.post("/api/v1/citizens", json=citizen_body(legacy_ids=[{"number": "012345678", "issued_on": "2001-05-06"}],
                                                          legacy_addresses=[{"old_province_code": "01", "district": "Quận Hoàn Kiếm",
                                                                             "commune": "Phường Hàng Bạc", "valid_from": "2001-01-01",
                                                                             "valid_to": "2025-06-30"}]),
                    headers=bearer(ADMIN))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["full_name"] == "Nguyễn Văn An"
    assert body["birth_place_name"] == "Hà Nội"
    assert body["legacy_ids"][0]["id_type"] == "CMND9"
    current, legacy = body["residences"]
    assert current["valid_to"] is None and current["province_name"] == "Thành phố Hà Nội"
    assert legacy["legacy_district"] == "Quận Hoàn Kiếm" and legacy["province_code"] == 1

    r = client.get("/api/v1/citizens/001085012345", params={"purpose": "kiểm tra hồ sơ"}, headers=bearer(ADMIN))
    assert r.status_code == 200 and r.json()["personal_id"] == "001085012345"

    with session_factory()() as s:
        actions = [(e.action, e.subject_id) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
        topics = [e.topic for e in s.scalars(select(OutboxEvent))]
    assert actions == [("create", "001085012345"), ("read", "001085012345")]
    assert topics == ["population.citizen.registered"]


def test_invalid_input_gets_clear_4xx(client, bearer):
    h = bearer(ADMIN)
    cases = [
        (citizen_body(pid="00108501234"), "12 chữ số"),
        (citizen_body(pid="003085012345"), "003 không tồn tại"),
        (citizen_body(sex="F"), "giới tính"),
        (citizen_body(birth="1986-01-01"), "năm sinh"),
        (citizen_body(ward=999999999), "phường/xã không tồn tại"),
        (citizen_body(ward=HCM_WARDS[0]), "không thuộc"),
        (citizen_body(province=2), "không tồn tại"),
    ]
    for body, message in cases:
        r = client.post("/api/v1/citizens", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert message in r.text, (message, r.text)
    r = client.post("/api/v1/citizens", json=citizen_body(legacy_ids=[{"number": "12AB"}]), headers=h)
    assert r.status_code == 422 and "CMND" in r.text
    r = client.post("/api/v1/citizens", content=b"{not json", headers={**h, "content-type": "application/json"})
    assert r.status_code == 422
    r = client.get("/api/v1/citizens/abc", params={"purpose": "kiểm tra"}, headers=h)
    assert r.status_code == 422 and "chỉ được chứa chữ số" in r.text


def test_duplicate_is_a_conflict(client, bearer):
    assert client.post("/api/v1/citizens", json=citizen_body(), headers=bearer(ADMIN)).status_code == 201
    r = client.post("/api/v1/citizens", json=citizen_body(), headers=bearer(ADMIN))
    assert r.status_code == 409 and "đã có" in r.text


def test_family_links(client, bearer):
    h = bearer(ADMIN)
    assert client.post("/api/v1/citizens", json=citizen_body(), headers=h).status_code == 201
    mother = citizen_body(pid="001187000001", sex="F", birth="1987-01-01")
    mother.update(given_name="Bình", middle_name="Thị", family_name="Trần", spouse_id="001085012345")
    assert client.post("/api/v1/citizens", json=mother, headers=h).status_code == 201
    child = citizen_body(pid="001212000077", birth="2012-09-09", father_id="001085012345", mother_id="001187000001")
    assert client.post("/api/v1/citizens", json=child, headers=h).status_code == 201
    father = client.get("/api/v1/citizens/001085012345", params={"purpose": "kiểm tra"}, headers=h).json()
    rel = {(r["relation"], r["personal_id"]) for r in father["relatives"]}
    assert rel == {("spouse", "001187000001"), ("child", "001212000077")}
    bad = citizen_body(pid="001212000078", birth="2012-09-09", father_id="001187000001")
    r = client.post("/api/v1/citizens", json=bad, headers=h)
    assert r.status_code == 422 and "giới tính" in r.text


def test_who_may_read(client, bearer):
    assert client.post("/api/v1/citizens", json=citizen_body(), headers=bearer(ADMIN)).status_code == 201
    q = {"purpose": "giải quyết thủ tục"}
    assert client.get("/api/v1/citizens/001085012345", params=q).status_code == 401
    # the citizen reads their own record; another citizen cannot
    assert client.get("/api/v1/me", headers=bearer(citizen("001085012345"))).status_code == 200
    assert client.get("/api/v1/citizens/001085012345", params=q, headers=bearer(citizen("001090000001"))).status_code == 403
    # officers only in their province
    assert client.get("/api/v1/citizens/001085012345", params=q, headers=bearer(officer(1))).status_code == 200
    assert client.get("/api/v1/citizens/001085012345", params=q, headers=bearer(officer(79))).status_code == 403
    # level-1 accounts are enough to read one's own data
    low = Principal(kind="citizen", subject="001085012345", personal_id="001085012345", assurance_level=1)
    assert client.get("/api/v1/me", headers=bearer(low)).status_code == 200
    # a facility client may not read the registry
    fac = Principal(kind="facility", subject="c1", facility_code="01001", scopes=frozenset({"directory.read"}))
    assert client.get("/api/v1/citizens/001085012345", params=q, headers=bearer(fac)).status_code == 403
    # purpose is mandatory
    assert client.get("/api/v1/citizens/001085012345", headers=bearer(officer(1))).status_code == 422
    # bad tokens
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_search_is_scoped_and_audited(client, bearer):
    h = bearer(ADMIN)
    assert client.post("/api/v1/citizens", json=citizen_body(legacy_ids=[{"number": "012345678"}]), headers=h).status_code == 201
    hcm = citizen_body(pid="079085000001", ward=HCM_WARDS[0], province=79)
    assert client.post("/api/v1/citizens", json=hcm, headers=h).status_code == 201
    r = client.get("/api/v1/citizens", params={"name": "nguyễn văn an", "purpose": "đối chiếu"}, headers=bearer(officer(1)))
    assert r.status_code == 200 and [x["personal_id"] for x in r.json()] == ["001085012345"]
    r = client.get("/api/v1/citizens", params={"legacy_id": "012345678", "purpose": "đối chiếu"}, headers=bearer(ADMIN))
    assert [x["personal_id"] for x in r.json()] == ["001085012345"]
    r = client.get("/api/v1/citizens", params={"name": "An", "province_code": 79, "purpose": "đối chiếu"},
                   headers=bearer(officer(1)))
    assert r.status_code == 422
    assert client.get("/api/v1/citizens", params={"purpose": "đối chiếu"}, headers=h).status_code == 422
    assert client.get("/api/v1/citizens", params={"name": "An", "purpose": "xx"},
                      headers=bearer(citizen("001085012345"))).status_code == 403
    with session_factory()() as s:
        searches = s.scalars(select(AuditEntry).where(AuditEntry.action == "search")).all()
    assert {e.subject_id for e in searches} == {"001085012345"}


def test_death_and_residence(client, bearer):
    h = bearer(ADMIN)
    assert client.post("/api/v1/citizens", json=citizen_body(), headers=h).status_code == 201
    move = {"residence": {"province_code": 1, "ward_code": HN_WARDS[1], "street": "Số 5", "valid_from": "2026-01-02"}}
    r = client.post("/api/v1/citizens/001085012345/residence", json=move, headers=bearer(officer(1)))
    assert r.status_code == 201, r.text
    me = client.get("/api/v1/me", headers=bearer(citizen("001085012345"))).json()
    assert [x["ward_code"] for x in me["residences"] if x["valid_to"] is None] == [HN_WARDS[1]]
    assert client.post("/api/v1/citizens/001085012345/death", json={"death_date": "2099-01-01"}, headers=h).status_code == 422
    r = client.post("/api/v1/citizens/001085012345/death", json={"death_date": "2026-02-01"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "dead"
    assert client.post("/api/v1/citizens/001085012345/death", json={"death_date": "2026-02-01"}, headers=h).status_code == 409
    with session_factory()() as s:
        topics = [e.topic for e in s.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))]
    assert topics == ["population.citizen.registered", "population.residence.changed", "population.citizen.died"]
    assert client.get("/api/v1/citizens/001999999999", params={"purpose": "kiểm tra"}, headers=h).status_code == 404


def test_deregister_residence(db_url):
    from lienthong.db import unit_of_work
    from lienthong.errors import Conflict, DomainError
    from lienthong.population import schemas as sch, service as svc

    with unit_of_work() as s:
        svc.register_citizen(s, ADMIN, sch.CitizenIn.model_validate(citizen_body()))
    with unit_of_work() as s:
        with pytest.raises(DomainError):
            svc.deregister_residence(s, officer(1), "001085012345", end_date=date(2020, 1, 1), reason="đã chết")
    with unit_of_work() as s:
        with pytest.raises(Exception) as exc:
            svc.deregister_residence(s, officer(79), "001085012345", end_date=date(2026, 2, 1), reason="đã chết")
        assert getattr(exc.value, "status_code", None) == 403
    with unit_of_work() as s:
        r = svc.deregister_residence(s, officer(1), "001085012345", end_date=date(2026, 2, 1), reason="đã chết")
        assert r.valid_to == date(2026, 2, 1)
    with unit_of_work() as s:
        with pytest.raises(Conflict):
            svc.deregister_residence(s, officer(1), "001085012345", end_date=date(2026, 2, 2), reason="đã chết")
        topics = [e.topic for e in s.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))]
    assert topics[-1] == "population.residence.changed"
