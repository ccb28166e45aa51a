def test_geo_reference_data_is_public(client):
    provinces = client.get("/api/v1/geo/provinces").json()
    assert len(provinces) == 34
    hn = next(p for p in provinces if p["code"] == 1)
    assert hn["name"] == "Thành phố Hà Nội" and hn["ward_count"] > 100
    wards = client.get("/api/v1/geo/provinces/1/wards").json()
    assert len(wards) == hn["ward_count"]
    assert client.get("/api/v1/geo/provinces/2/wards").status_code == 422
    old = client.get("/api/v1/geo/old-provinces", params={"on": "2026-01-01"}).json()
    assert len(old) == 63
    assert next(o for o in old if o["old_code"] == "074")["current_code"] == 79
    before = client.get("/api/v1/geo/old-provinces", params={"on": "2025-01-01"}).json()
    assert next(o for o in before if o["old_code"] == "074")["current_name"] == "Bình Dương"
    r = client.get("/api/v1/geo/resolve", params={"old_province_code": "01", "commune": "Phường Hoàn Kiếm"}).json()
    assert r["ward_name"] == "Phường Hoàn Kiếm" and r["unit_set"] == "vn34"
