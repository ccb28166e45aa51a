"""The citizen's health book: content, paging, ICD-10 names, audit, web page; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import HTTPException
from sqlalchemy import select
from test_book_fixtures import (  # noqa: F401  (hclient is a fixture)
    CLINIC, FAR, HOSPITAL, OTHER_PID, PID, add_profile, add_visit, citizen, facility, hclient, register,
    seed_facilities,
)

from lienthong.audit.models import AuditEntry
from lienthong.db import unit_of_work
from lienthong.health.book import _icd_table, health_book, icd10_name
from lienthong.identity.policy import SESSION_COOKIE
from lienthong.identity.tokens import issue_access_token

T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 09:00 Vietnam time


def _seed_book():
    seed_facilities()
    add_profile()
    add_visit(PID, CLINIC, "LK001", T0 - timedelta(days=400), main_icd="J02.9")
    add_visit(PID, HOSPITAL, "LK002", T0 - timedelta(days=30), main_icd="E11.9",
              diagnoses=[("E11.9", None, True), ("I10", "Tăng huyết áp độ 1", False), ("E13.1", None, False)],
              labs=[("Glucose", "7.8", "mmol/L"), ("HbA1c", "7.1", "%")],
              meds=[("40.677", "Metformin")],
              referrals=[("CT-2026-01", FAR)],
              appointments=[("HEN-01", datetime.now(UTC) + timedelta(days=10))],
              certificates=[("driver_health", "GKSK-123")])
    add_visit(PID, HOSPITAL, "LK003", T0, main_icd="K29.7")
    add_visit(OTHER_PID, HOSPITAL, "LK900", T0, main_icd="C34")


def test_book_content(hclient, bearer):
    _seed_book()
    r = hclient.get("/api/v1/me/health", headers=bearer(citizen()))
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["personal_id"] == PID
    assert b["profile"]["blood_group"] == "O+" and b["profile"]["height_cm"] == 168.0
    assert b["profile"]["chronic_conditions"][0]["icd10"] == "E11.9"
    assert b["profile"]["allergies"] == ["Penicillin"]

    visits = b["visits"]["items"]
    assert [v["ma_lk"] for v in visits] == ["LK003", "LK002", "LK001"]  # newest first, only this citizen
    assert visits[0]["facility_name"] == "Bệnh viện Bạch Mai"
    assert visits[0]["main_icd_name"] == "Viêm dạ dày, không đặc hiệu"
    assert visits[2]["facility_name"] == "Trạm y tế phường Tràng Tiền"
    assert visits[0]["visit_type_name"] == "Khám bệnh" and visits[0]["outcome_name"] == "Đỡ"
    assert b["visits"]["next_before"] is None

    diag = {d["icd10"]: d for d in b["diagnoses"]}
    assert diag["E11.9"]["name"] == "Bệnh đái tháo đường không phụ thuộc insulin, không có biến chứng"
    assert diag["I10"]["name"] == "Tăng huyết áp độ 1"  # the facility's wording is kept
    assert diag["I10"]["catalogue_name"] == "Tăng huyết áp vô căn (nguyên phát)"
    assert diag["E13.1"]["catalogue_name"].startswith("Chương IV")  # unknown code: its chapter
    assert "C34" not in diag

    assert {x["name"] for x in b["lab_results"]} == {"Glucose", "HbA1c"}
    assert b["medications"][0]["name"] == "Metformin" and b["medications"][0]["quantity"] == 14.0
    ref = b["referrals"][0]
    assert ref["to_facility_name"] == "Bệnh viện Chợ Rẫy" and ref["status_name"] == "Chờ tiếp nhận"
    assert b["appointments"][0]["upcoming"] is True
    assert b["certificates"][0]["kind_name"] == "Giấy khám sức khỏe lái xe"


def test_read_is_audited_and_visible_to_the_citizen(hclient, bearer):
    _seed_book()
    assert hclient.get("/api/v1/me/health", headers=bearer(citizen())).status_code == 200
    with unit_of_work() as s:
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.resource == "health.book")))
    assert [(e.actor_id, e.subject_id, e.action) for e in entries] == [(PID, PID, "read")]
    r = hclient.get("/api/v1/me/audit", headers=bearer(citizen()))
    assert r.status_code == 200, r.text
    assert any(i["resource"] == "health.book" for i in r.json()["items"])


def test_visit_paging(hclient, bearer):
    seed_facilities()
    for i in range(25):
        add_visit(PID, HOSPITAL, f"LK{i:03d}", T0 - timedelta(days=i))
    h = bearer(citizen())
    first = hclient.get("/api/v1/me/health", headers=h).json()["visits"]
    assert len(first["items"]) == 20 and first["next_before"]
    rest = hclient.get("/api/v1/me/health/visits", params={"before": first["next_before"]}, headers=h)
    assert rest.status_code == 200, rest.text
    rest = rest.json()
    assert [v["ma_lk"] for v in rest["items"]] == [f"LK{i:03d}" for i in range(20, 25)]
    assert rest["next_before"] is None
    small = hclient.get("/api/v1/me/health/visits", params={"size": 10}, headers=h).json()
    assert [v["ma_lk"] for v in small["items"]] == [f"LK{i:03d}" for i in range(10)]
    bad = hclient.get("/api/v1/me/health/visits", params={"before": "xyz"}, headers=h)
    assert bad.status_code == 422 and "before" in bad.text


def test_same_admission_time_pages_without_loss(hclient, bearer):
    seed_facilities()
    for i in range(7):
        add_visit(PID, HOSPITAL, f"SAME{i}", T0)  # identical admitted_at: the id breaks the tie
    h = bearer(citizen())
    seen, before = [], None
    while True:
        page = hclient.get("/api/v1/me/health/visits", params={"size": 3, **({"before": before} if before else {})},
                           headers=h).json()
        seen += [v["ma_lk"] for v in page["items"]]
        before = page["next_before"]
        if not before:
            break
    assert sorted(seen) == [f"SAME{i}" for i in range(7)] and len(seen) == 7


def test_only_the_citizen_reads_their_book(hclient, bearer):
    _seed_book()
    r = hclient.get("/api/v1/me/health", headers=bearer(facility()))
    assert r.status_code == 403
    assert hclient.get("/api/v1/me/health").status_code == 401
    with unit_of_work() as s:
        with pytest.raises(HTTPException) as exc:
            health_book(s, citizen(OTHER_PID), PID, purpose="tò mò")
    assert exc.value.status_code == 403


def test_web_page(hclient):
    _seed_book()
    register()
    hclient.cookies.set(SESSION_COOKIE, issue_access_token(citizen()))
    r = hclient.get("/so-suc-khoe")
    assert r.status_code == 200, r.text
    assert "Sổ sức khỏe điện tử" in r.text and '<html lang="vi">' in r.text
    assert "10/03/2026" in r.text  # admitted 10/03/2026 09:00 Vietnam time
    assert "Viêm dạ dày, không đặc hiệu" in r.text and "Bệnh viện Bạch Mai" in r.text
    assert "Giấy khám sức khỏe lái xe" in r.text and "Chờ tiếp nhận" in r.text
    assert "/api/v1/me/health/events" in r.text
    rows = hclient.get("/so-suc-khoe/luot-kham")
    assert rows.status_code == 200 and "Trạm y tế phường Tràng Tiền" in rows.text
    hclient.cookies.clear()
    assert hclient.get("/so-suc-khoe", follow_redirects=False).status_code == 303


def test_web_page_pages_with_htmx(hclient):
    seed_facilities()
    for i in range(22):
        add_visit(PID, HOSPITAL, f"LK{i:03d}", T0 - timedelta(days=i))
    hclient.cookies.set(SESSION_COOKIE, issue_access_token(citizen()))
    r = hclient.get("/so-suc-khoe")
    assert 'hx-get="/so-suc-khoe/luot-kham?before=' in r.text
    cursor = r.text.split('hx-get="/so-suc-khoe/luot-kham?before=')[1].split('"')[0]
    more = hclient.get(f"/so-suc-khoe/luot-kham?before={cursor}")
    assert more.status_code == 200 and more.text.count("<tr>") == 2 and "Xem thêm" not in more.text


def test_icd10_table():
    chapters, codes = _icd_table()
    assert len(chapters) == 22 and len(codes) >= 150
    assert icd10_name("i10").name == "Tăng huyết áp vô căn (nguyên phát)"
    assert icd10_name("E119").code == "E11.9"
    assert icd10_name("E11.65").name == "Bệnh đái tháo đường không phụ thuộc insulin"  # category fallback
    assert icd10_name("S61.0").chapter == "XIX" and icd10_name("U07.1").chapter == "XXII"
    assert icd10_name("H61").chapter == "VIII" and icd10_name("H59").chapter == "VII"
    assert icd10_name("12").name == "Mã bệnh không hợp lệ"


def test_postgresql_one_query_book_equals_the_generic_queries(pg_url):
    """The book comes from one statement on PostgreSQL; it must be exactly what the per-part
    queries (the SQLite path) give, on the first page and on a later one."""
    from lienthong.health import book

    _seed_book()
    for i in range(25):  # enough for a second page
        add_visit(PID, CLINIC, f"LKP{i:02d}", T0 - timedelta(days=i + 1, hours=i))
    with unit_of_work(pg_url) as s:
        fast = book.build_book(s, PID, now=T0)
        original = book._fetch_pg
        try:
            book._fetch_pg = book._fetch_generic
            slow = book.build_book(s, PID, now=T0)
            cursor = slow.visits.next_before
            slow2 = book.build_book(s, PID, before=cursor, now=T0)
        finally:
            book._fetch_pg = original
        fast2 = book.build_book(s, PID, before=cursor, now=T0)
    assert fast.model_dump() == slow.model_dump() and fast.visits.items and fast.referrals and fast.lab_results
    assert fast2.model_dump() == slow2.model_dump() and fast2.visits.items
