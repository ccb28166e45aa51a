from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date

import pytest
from sqlalchemy import select

from lienthong.audit.models import AuditEntry
from lienthong.db import session_factory, unit_of_work
from lienthong.ops.models import RolloutChange, RolloutUnit
from lienthong.ops.tests.conftest import ADMIN, CITIZEN, OFFICER
from lienthong.ops.tests.seed import seed


def _ready(client, bearer, uid, **extra):
    body = {"test_batch": 1, "test_start": "2026-03-02", "test_end": "2026-03-06", "status": "test_done",
            "source_assessment": "passed", "system_assessment": "passed", "machine_ready": True,
            "access_granted": True, **extra}
    return client.patch(f"/api/v1/ops/rollout/{uid}", json=body, headers=bearer(ADMIN))


def _hanoi(client, bearer):
    rows = client.get("/api/v1/ops/rollout", headers=bearer(OFFICER)).json()
    return next(r for r in rows if r["province_code"] == 1)


def test_rollout_lists_every_current_province(client, bearer):
    rows = client.get("/api/v1/ops/rollout", headers=bearer(OFFICER)).json()
    assert len(rows) == 34
    assert {r["status"] for r in rows} == {"not_started"}
    hn = next(r for r in rows if r["province_code"] == 1)
    assert hn["province_name"] == "Thành phố Hà Nội"
    assert hn["status_label"] == "Chưa bắt đầu"
    # idempotent: listing again does not duplicate
    assert len(client.get("/api/v1/ops/rollout", headers=bearer(ADMIN)).json()) == 34


def test_auth_read_and_manage(client, bearer):
    assert client.get("/api/v1/ops/rollout").status_code == 401
    assert client.get("/api/v1/ops/rollout", headers=bearer(CITIZEN)).status_code == 403
    assert client.get("/api/v1/ops/stats", headers=bearer(CITIZEN)).status_code == 403
    assert client.get("/api/v1/ops/kiosks", headers=bearer(OFFICER)).status_code == 200
    uid = _hanoi(client, bearer)["id"]
    r = client.patch(f"/api/v1/ops/rollout/{uid}", json={"status": "testing"}, headers=bearer(OFFICER))
    assert r.status_code == 403
    assert client.put("/api/v1/ops/kiosks/01001", json={"committed": 1, "deployed": 0},
                          headers=bearer(OFFICER)).status_code == 403
    # pages: anonymous -> login redirect, citizen -> 403 page, officer sees no edit buttons
    r = client.get("/trien-khai", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/auth/login?next=/trien-khai")
    client.cookies.set("lt_session", _token(CITIZEN))
    assert client.get("/thong-ke").status_code == 403
    client.cookies.set("lt_session", _token(OFFICER))
    page = client.get("/trien-khai")
    assert page.status_code == 200 and "Tiến độ triển khai tại các tỉnh, thành phố" in page.text
    assert "hx-get=\"/trien-khai/" not in page.text
    assert client.post(f"/trien-khai/{uid}", data={"version": 1, "status": "testing", "source_assessment":
                                                       "not_started", "system_assessment": "not_started"}).status_code == 403


def _token(p):
    from lienthong.identity.tokens import issue_access_token

    return issue_access_token(p)


def test_status_change_is_versioned_and_audited(client, bearer):
    uid = _hanoi(client, bearer)["id"]
    r = client.patch(f"/api/v1/ops/rollout/{uid}", json={"status": "testing", "test_batch": 2,
                                                             "change_note": "bắt đầu đợt 2", "version": 1},
                         headers=bearer(ADMIN))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["unit"]["status"] == "testing" and body["unit"]["version"] == 2
    hist = {h["field"]: h for h in body["history"]}
    assert hist["status"]["old_value"] == "not_started" and hist["status"]["new_value"] == "testing"
    assert hist["status"]["actor_id"] == ADMIN.subject and hist["status"]["note"] == "bắt đầu đợt 2"
    assert hist["test_batch"]["old_value"] is None and hist["test_batch"]["new_value"] == "2"
    # stale version -> 409, nothing recorded
    r = client.patch(f"/api/v1/ops/rollout/{uid}", json={"status": "not_started", "version": 1},
                         headers=bearer(ADMIN))
    assert r.status_code == 409
    # production requires passed assessments and infrastructure
    r = client.patch(f"/api/v1/ops/rollout/{uid}", json={"status": "production", "test_start": "2026-03-02"},
                         headers=bearer(ADMIN))
    assert r.status_code == 422 and "mã nguồn" in r.json()["error"]["message"]
    assert _ready(client, bearer, uid).status_code == 200
    r = client.patch(f"/api/v1/ops/rollout/{uid}", json={"status": "production"}, headers=bearer(ADMIN))
    assert r.status_code == 200 and r.json()["unit"]["production_date"] is not None
    with session_factory()() as s:
        changes = s.scalars(select(RolloutChange).where(RolloutChange.unit_id == uid)).all()
        assert [c.new_value for c in changes if c.field == "status"] == ["testing", "test_done", "production"]
        audits = s.scalars(select(AuditEntry).where(AuditEntry.resource == "ops.rollout")).all()
        assert len(audits) == 3
        assert audits[0].detail["changes"]["status"] == ["not_started", "testing"]
    # no-op update writes nothing
    before = len(changes)
    client.patch(f"/api/v1/ops/rollout/{uid}", json={"status": "production"}, headers=bearer(ADMIN))
    with session_factory()() as s:
        assert len(s.scalars(select(RolloutChange).where(RolloutChange.unit_id == uid)).all()) == before
    # unknown field rejected
    assert client.patch(f"/api/v1/ops/rollout/{uid}", json={"province_code": 2},
                            headers=bearer(ADMIN)).status_code == 422


def test_facility_level_rows_and_kiosks(client, bearer):
    with unit_of_work() as s:
        seed(s)
    r = client.post("/api/v1/ops/rollout/facilities", json={"facility_code": "79001"}, headers=bearer(ADMIN))
    assert r.status_code == 201 and r.json()["province_code"] == 79
    assert client.post("/api/v1/ops/rollout/facilities", json={"facility_code": "79001"},
                           headers=bearer(ADMIN)).status_code == 409
    assert client.post("/api/v1/ops/rollout/facilities", json={"facility_code": "99999"},
                           headers=bearer(ADMIN)).status_code == 404
    rows = client.get("/api/v1/ops/rollout?province=79", headers=bearer(ADMIN)).json()
    assert [r["facility_code"] for r in rows] == [None, "79001"]
    page = client.get("/trien-khai?province=79", headers=bearer(OFFICER))
    assert page.status_code == 200 and "79001 – Bệnh viện Chợ Rẫy" in page.text
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(client.get("/api/v1/ops/rollout/report.xlsx?province=79",
                                                 headers=bearer(OFFICER)).content))
    assert [(c.value) for c in wb["Tiến độ"][6]][1:3] == ["Thành phố Hồ Chí Minh", "79001 – Bệnh viện Chợ Rẫy"]
    assert client.get("/api/v1/ops/rollout/report.pdf?province=79", headers=bearer(OFFICER)).status_code == 200
    for code, c, d in [("01001", 10, 4), ("01002", 5, 5), ("01003", 2, 0), ("79001", 8, 8)]:
        r = client.put(f"/api/v1/ops/kiosks/{code}", json={"committed": c, "deployed": d}, headers=bearer(ADMIN))
        assert r.status_code == 200, r.text
    assert client.put("/api/v1/ops/kiosks/01001", json={"committed": 1, "deployed": 2},
                          headers=bearer(ADMIN)).status_code == 422
    s = client.get("/api/v1/ops/kiosks", headers=bearer(OFFICER)).json()
    assert s["total"] == {"key": "total", "label": "Tổng cộng", "facilities": 4, "committed": 25, "deployed": 17,
                          "percent": 68.0}
    tiers = {t["key"]: t for t in s["by_tier"]}
    assert (tiers["central"]["committed"], tiers["central"]["deployed"]) == (18, 12)
    assert tiers["regional"]["facilities"] == 0 and tiers["regional"]["percent"] is None
    assert [(p["key"], p["committed"], p["deployed"]) for p in s["by_province"]] == [(1, 17, 9), (79, 8, 8)]
    hn = client.get("/api/v1/ops/kiosks?province=1", headers=bearer(OFFICER)).json()
    assert hn["total"]["committed"] == 17 and len(hn["items"]) == 3
    page = client.get("/ki-ot", headers=bearer(ADMIN)).text
    assert "Ki-ốt y tế: cam kết và đã triển khai" in page and "68,0 %" in page


def test_stats_api(client, bearer):
    with unit_of_work() as s:
        seed(s)
    r = client.get("/api/v1/ops/stats?from=2026-03-01&to=2026-03-31", headers=bearer(OFFICER))
    assert r.status_code == 200
    body = r.json()
    m = {x["key"]: x for x in body["metrics"]}
    assert m["judicial.applications"]["value"] == 4
    assert m["health.facility_coverage"]["display"] == "25,0 %"
    assert m["health.facility_coverage"]["formula"].startswith("cơ sở có ≥ 1 hồ sơ")
    assert len(m["health.books_created"]["series"]) == 31
    assert body["assumptions"]["paper_visit_vnd"] == 150_000
    assert m["ops.estimated_savings"]["value"] == 6 * 140_000
    r = client.get("/api/v1/ops/stats?province=79&from=2026-03-01&to=2026-03-31&metric=judicial.applications",
                       headers=bearer(OFFICER)).json()
    assert [x["key"] for x in r["metrics"]] == ["judicial.applications"] and r["metrics"][0]["value"] == 1
    assert r["province"] == {"code": 79, "name": "Thành phố Hồ Chí Minh"}
    bad = client.get("/api/v1/ops/stats?from=2026-04-01&to=2026-03-01", headers=bearer(OFFICER))
    assert bad.status_code == 422
    assert client.get("/api/v1/ops/stats?province=2", headers=bearer(OFFICER)).status_code == 422
    assert client.get("/api/v1/ops/stats?metric=nope", headers=bearer(OFFICER)).status_code == 422


def test_dashboard_page(client, bearer):
    with unit_of_work() as s:
        seed(s)
    r = client.get("/thong-ke?province=&from=2026-03-01&to=2026-03-31", headers=bearer(OFFICER))
    assert r.status_code == 200
    t = r.text
    assert "Thống kê liên thông dữ liệu" in t and "từ 01/03/2026 đến 31/03/2026" in t
    assert "Độ phủ cơ sở khám chữa bệnh kết nối" in t and "25,0 %" in t
    assert "(3 + 3) × (150.000 − 10.000) = <strong>840.000 đ</strong>" in t
    assert t.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"') == 3
    assert "<title>Thành phố Hà Nội: 3</title>" in t
    bad = client.get("/thong-ke?from=2026-05-01&to=2026-03-01", headers=bearer(OFFICER))
    assert bad.status_code == 200 and "Ngày bắt đầu phải trước" in bad.text


def test_htmx_edit_form_saves_and_shows_errors(client, bearer):
    uid = _hanoi(client, bearer)["id"]
    client.cookies.set("lt_session", _token(ADMIN))
    form = client.get(f"/trien-khai/{uid}/sua")
    assert form.status_code == 200 and 'name="version" value="1"' in form.text
    data = {"version": "1", "test_batch": "3", "test_start": "2026-03-02", "test_end": "", "status": "testing",
            "source_assessment": "in_progress", "system_assessment": "not_started", "machine_ready": "1",
            "note": "Chờ cấp máy chủ", "change_note": "họp ngày 02/03"}
    r = client.post(f"/trien-khai/{uid}", data=data)
    assert r.status_code == 200 and "Đang kiểm thử" in r.text and "Đã lưu" in r.text and "02/03/2026" in r.text
    # stale form -> error shown in the form, nothing saved
    r = client.post(f"/trien-khai/{uid}", data={**data, "status": "test_done"})
    assert 'role="alert"' in r.text and "người khác cập nhật" in r.text
    r = client.post(f"/trien-khai/{uid}", data={**data, "version": "2", "status": "production"})
    assert "Chưa đủ điều kiện đưa vào vận hành" in r.text
    hist = client.get(f"/trien-khai/{uid}/lich-su")
    assert "Chưa bắt đầu → Đang kiểm thử" in hist.text and "họp ngày 02/03" in hist.text
    with session_factory()() as s:
        assert s.get(RolloutUnit, uid).machine_ready is True


def test_weekly_report_xlsx_and_pdf(client, bearer):
    from openpyxl import load_workbook

    uid = _hanoi(client, bearer)["id"]
    assert _ready(client, bearer, uid, note="Đã nghiệm thu kỹ thuật").status_code == 200
    today = date.today().isoformat()
    r = client.get(f"/api/v1/ops/rollout/report.xlsx?week_of={today}", headers=bearer(OFFICER))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["Tiến độ", "Thay đổi trong tuần", "Ki-ốt y tế"]
    ws = wb["Tiến độ"]
    assert ws["A1"].value.startswith("Báo cáo tiến độ triển khai tuần ")
    assert [c.value for c in ws[4]][:7] == ["STT", "Tỉnh/thành phố", "Cơ sở", "Đợt kiểm thử", "Bắt đầu kiểm thử",
                                           "Kết thúc kiểm thử", "Trạng thái"]
    assert ws["A4"].font.bold and ws.freeze_panes == "C5"
    assert ws.max_row == 4 + 34
    row = [c.value for c in ws[5]]
    assert row[1] == "Thành phố Hà Nội" and row[6] == "Đã kiểm thử xong" and row[7] == "Đạt"
    assert row[4].date() == date(2026, 3, 2) and ws.cell(5, 5).number_format == "dd/mm/yyyy"
    assert row[12] == "Đã nghiệm thu kỹ thuật"
    hs = wb["Thay đổi trong tuần"]
    fields = {hs.cell(i, 4).value: (hs.cell(i, 5).value, hs.cell(i, 6).value) for i in range(4, hs.max_row + 1)}
    assert fields["Trạng thái"] == ("Chưa bắt đầu", "Đã kiểm thử xong")
    # an earlier week has no changes
    old = load_workbook(io.BytesIO(client.get("/api/v1/ops/rollout/report.xlsx?week_of=2020-01-01",
                                                  headers=bearer(OFFICER)).content))
    assert old["Thay đổi trong tuần"]["A4"].value == "Không có thay đổi trong tuần."

    r = client.get(f"/api/v1/ops/rollout/report.pdf?week_of={today}", headers=bearer(OFFICER))
    assert r.status_code == 200 and r.content.startswith(b"%PDF-") and r.content.rstrip().endswith(b"%%EOF")
    assert b"DejaVu" in r.content  # embedded font subset
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed: PDF text not checked")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=r.content, capture_output=True,
                          check=True).stdout.decode()
    assert "Báo cáo tiến độ triển khai tuần" in text
    assert "Thành phố Hà Nội" in text and "Đã kiểm thử xong" in text and "Ki-ốt y tế" in text
    info = subprocess.run(["pdfinfo", "-"], input=r.content, capture_output=True, check=True).stdout.decode()
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert 2 <= pages <= 6


def test_concurrent_edits_conflict(db_url):
    from lienthong.errors import Conflict
    from lienthong.ops import service

    with unit_of_work() as s:
        service.ensure_provinces(s)
        uid = service.list_units(s)[0].id
    factory = session_factory()
    a, b = factory(), factory()
    try:
        loaded = service.get_unit(a, uid), service.get_unit(b, uid)  # both hold version 1 (identity map)
        assert [u.version for u in loaded] == [1, 1]
        service.update_unit(a, ADMIN, uid, {"status": "testing"}, note="A")
        a.commit()
        with pytest.raises(Conflict):
            service.update_unit(b, ADMIN, uid, {"test_batch": 4}, note="B")
        b.rollback()
    finally:
        a.close()
        b.close()
    with session_factory()() as s:
        unit = s.get(RolloutUnit, uid)
        assert (unit.status, unit.test_batch, unit.version) == ("testing", None, 2)
        assert [c.note for c in s.scalars(select(RolloutChange))] == ["A"]
