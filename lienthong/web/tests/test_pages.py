"""Web shell pages: Vietnamese text, dd/mm/yyyy dates, login redirects, same policy as the API."""

import re
from datetime import date

from lienthong.db import unit_of_work
from lienthong.geo import units
from lienthong.identity.policy import SESSION_COOKIE
from lienthong.identity.principal import Principal
from lienthong.identity.tokens import issue_access_token
from lienthong.population import schemas, service

ADMIN = Principal(kind="admin", subject="001080000011", name="Quản trị", personal_id="001080000011", assurance_level=2)


def _register(pid="001085012345"):
    ward = int(units.wards_of(1)[0].code)
    with unit_of_work() as s:
        service.register_citizen(s, ADMIN, schemas.CitizenIn(
            personal_id=pid, family_name="Nguyễn", middle_name="Thị", given_name="Ánh", birth_date=date(1985, 3, 4),
            sex="F" if pid[3] == "1" else "M",
            residence=schemas.ResidenceIn(province_code=1, ward_code=ward, street="Số 1 phố Tràng Tiền",
                                          valid_from=date(2025, 7, 1))))


def _login(client, principal):
    client.cookies.set(SESSION_COOKIE, issue_access_token(principal))


def test_home_is_public_and_vietnamese(client):
    r = client.get("/")
    assert r.status_code == 200
    assert "Đăng nhập bằng tài khoản định danh điện tử" in r.text
    assert '<html lang="vi">' in r.text
    assert client.get("/static/htmx.min.js").status_code == 200


def test_protected_pages_redirect_to_login(client):
    for path in ("/ho-so", "/nhat-ky", "/can-bo/tra-cuu", "/co-so"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/auth/login?next={path}", path


def test_profile_and_own_audit_log(client):
    _register("001185012345")
    me = Principal(kind="citizen", subject="001185012345", name="Nguyễn Thị Ánh", personal_id="001185012345",
                   assurance_level=2)
    _login(client, me)
    r = client.get("/ho-so")
    assert r.status_code == 200
    assert "Nguyễn Thị Ánh" in r.text and "04/03/1985" in r.text and "Nữ" in r.text
    assert "01/07/2025" in r.text and "Thường trú" in r.text
    r = client.get("/nhat-ky")
    assert r.status_code == 200
    # the registration by the admin and the citizen's own read are both listed
    assert "Quản trị viên" in r.text and "Tạo mới" in r.text and "Xem" in r.text
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", r.text)
    # shown at once; marked until the sequencer seals them into the log
    assert r.text.count("(đang niêm phong)") == 2
    from lienthong.audit import sequencer

    sequencer.run_once()
    r = client.get("/nhat-ky")
    assert "(đang niêm phong)" not in r.text
    # officers' pages are refused to citizens
    assert client.get("/can-bo/tra-cuu").status_code == 403


def test_officer_search_page(client):
    _register("001085012345")
    officer = Principal(kind="officer", subject="001082000022", name="Cán bộ Lê Văn Bình", personal_id="001082000022",
                        assurance_level=2, province_code=1)
    _login(client, officer)
    assert "Tra cứu công dân" in client.get("/can-bo/tra-cuu").text
    r = client.get("/can-bo/tra-cuu/ket-qua", params={"name": "nguyễn", "purpose": "giải quyết hồ sơ"})
    assert r.status_code == 200 and "001085012345" in r.text and "04/03/1985" in r.text
    r = client.get("/can-bo/tra-cuu/ket-qua", params={"name": "nguyễn", "purpose": ""})
    assert "mục đích" in r.text
    r = client.get("/can-bo/tra-cuu/ket-qua", params={"name": "nguyễn", "birth_date": "not-a-date", "purpose": "abc"})
    assert r.status_code == 200 and "error" in r.text


def test_facilities_page(client):
    _login(client, ADMIN)
    r = client.get("/co-so")
    assert r.status_code == 200 and "Cơ sở khám chữa bệnh" in r.text and "Thành phố Hà Nội" in r.text
    assert client.get("/co-so/danh-sach", params={"province_code": "1"}).status_code == 200
