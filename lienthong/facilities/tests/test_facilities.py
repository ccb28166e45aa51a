import pytest
from hypothesis import given
from hypothesis import strategies as st

from lienthong.facilities.rules import InvalidFacilityCode, facility_province, validate_facility_code
from lienthong.geo import units
from lienthong.identity.principal import Principal

ADMIN = Principal(kind="admin", subject="001080000011", personal_id="001080000011", assurance_level=2)


@given(st.sampled_from(sorted(units.OLD_PROVINCES)), st.integers(0, 999))
def test_codes_with_a_province_prefix_are_valid(place, n):
    code = f"{place[1:]}{n:03d}"
    assert validate_facility_code(code) == code
    assert facility_province(code) in {int(p.code) for p in units.provinces()}


@pytest.mark.parametrize("code", ["0100", "010011", "ab123", "03001", "00001", ""])
def test_bad_codes(code):
    with pytest.raises(InvalidFacilityCode):
        validate_facility_code(code)


def test_register_and_list(client, bearer):
    h = bearer(ADMIN)
    ward = int(units.wards_of(79)[0].code)
    body = {"code": "74001", "name": "Bệnh viện Đa khoa tỉnh Bình Dương", "tier": "provincial", "ownership": "public",
            "ward_code": ward}
    r = client.post("/api/v1/facilities", json=body, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["province_code"] == 79  # Bình Dương merged into TP Hồ Chí Minh
    assert client.post("/api/v1/facilities", json=body, headers=h).status_code == 409
    assert client.post("/api/v1/facilities", json={**body, "code": "03001"}, headers=h).status_code == 422
    assert client.post("/api/v1/facilities", json={**body, "code": "01002"}, headers=h).status_code == 422  # ward not in HN
    facility_client = Principal(kind="facility", subject="c", facility_code="74001", scopes=frozenset({"directory.read"}))
    r = client.get("/api/v1/facilities", params={"province_code": 79}, headers=bearer(facility_client))
    assert r.status_code == 200 and r.json()["total"] == 1
    assert client.get("/api/v1/facilities/74001", headers=bearer(facility_client)).json()["name"].startswith("Bệnh viện")
    assert client.get("/api/v1/facilities/99999", headers=h).status_code == 404
    no_scope = Principal(kind="facility", subject="c", facility_code="74001")
    assert client.get("/api/v1/facilities", headers=bearer(no_scope)).status_code == 403
    assert client.post("/api/v1/facilities", json={**body, "code": "74002"}, headers=bearer(facility_client)).status_code == 403


def test_agencies(client, bearer):
    h = bearer(ADMIN)
    ward = int(units.wards_of(1)[0].code)
    assert client.post("/api/v1/agencies", json={"code": "CA01", "name": "Công an Thành phố Hà Nội", "kind": "police",
                                                  "province_code": 1}, headers=h).status_code == 201
    r = client.post("/api/v1/agencies", json={"code": "UBND1", "name": "Ủy ban nhân dân phường", "kind": "commune",
                                               "province_code": 1}, headers=h)
    assert r.status_code == 422 and "phường/xã" in r.text
    assert client.post("/api/v1/agencies", json={"code": "UBND1", "name": "Ủy ban nhân dân phường", "kind": "commune",
                                                  "province_code": 1, "ward_code": ward}, headers=h).status_code == 201
    assert [a["code"] for a in client.get("/api/v1/agencies", params={"kind": "police"}, headers=h).json()] == ["CA01"]
