"""Social insurance book: agency write API and the citizen's view (API and page), both databases."""

from __future__ import annotations

from lienthong.civil.tests.conftest import FATHER, MOTHER, citizen
from lienthong.identity.principal import Principal

BHXH = Principal(kind="agency", subject="bhxh-vn", name="BHXH Việt Nam", agency_code="BHXH",
                 scopes=frozenset({"insurance.write"}))


def test_book_periods_per_employer(app_client, bearer, family):
    c = app_client
    periods = [
        {"personal_id": MOTHER, "scheme": "bhxh_compulsory", "employer_code": "TA0001", "employer_name": "Công ty May Thăng Long",
         "job_title": "Kế toán", "from_month": "2012-03-15", "to_month": "2015-12-01", "basis_vnd": 6_500_000},
        {"personal_id": MOTHER, "scheme": "bhtn", "employer_code": "TA0001", "employer_name": "Công ty May Thăng Long",
         "from_month": "2012-03-01", "to_month": "2015-12-01"},
        {"personal_id": MOTHER, "scheme": "bhxh_compulsory", "employer_code": "TB0002", "employer_name": "Ngân hàng Hà Nội",
         "from_month": "2016-01-01", "to_month": "2016-12-01", "basis_vnd": 9_000_000},
    ]
    r = c.post("/api/v1/insurance/contributions", headers=bearer(BHXH), json={"periods": periods})
    assert r.status_code == 200 and r.json() == {"created": 3, "updated": 0}
    r = c.post("/api/v1/insurance/contributions", headers=bearer(BHXH), json={"periods": periods[:1]})
    assert r.json() == {"created": 0, "updated": 1}
    bad = {**periods[0], "from_month": "2016-01-01", "to_month": "2015-01-01"}
    assert c.post("/api/v1/insurance/contributions", headers=bearer(BHXH), json={"periods": [bad]}).status_code == 422
    assert c.post("/api/v1/insurance/contributions", headers=bearer(citizen(MOTHER)),
                  json={"periods": periods}).status_code == 403

    book = c.get("/api/v1/me/insurance/book", headers=bearer(citizen(MOTHER))).json()
    assert [e["employer_code"] for e in book["employers"]] == ["TA0001", "TB0002"]
    assert book["employers"][0]["months"] == 46 and book["employers"][1]["months"] == 12
    assert book["totals"]["bhxh_compulsory"] == 58 and book["totals"]["bhtn"] == 46
    assert book["employers"][0]["periods"][0]["from_month"] == "2012-03-01"
    other = c.get("/api/v1/me/insurance/book", headers=bearer(citizen(FATHER))).json()
    assert other["employers"] == [] and other["totals"]["bhxh_compulsory"] == 0

    page = c.get("/so-bhxh", headers=bearer(citizen(MOTHER)))
    assert page.status_code == 200
    assert "Sổ bảo hiểm xã hội" in page.text and "Công ty May Thăng Long" in page.text
    assert "03/2012" in page.text and "6.500.000 đồng" in page.text and "4 năm 10 tháng" in page.text
