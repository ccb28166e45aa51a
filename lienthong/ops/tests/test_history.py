"""The official 07/10/2024 table as history: import (idempotent, from the command line too), the
63 -> 34 merger view with its rule, the weekly timeline, the summary figures against the printed
totals, and the pages that show them."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from lienthong.audit.models import AuditEntry
from lienthong.db import session_factory, unit_of_work
from lienthong.errors import DomainError
from lienthong.ops import history, rules, service
from lienthong.ops.models import (
    RolloutChange, RolloutFigure, RolloutSnapshot, RolloutSnapshotRow, RolloutUnit,
)
from lienthong.ops.tests.conftest import ADMIN, OFFICER

DATA = Path(history.__file__).parent / "data"
TABLE = DATA / "rollout_2024-10-07.csv"
AS_OF = date(2024, 10, 7)


def state(s) -> dict:
    """Everything the tracker holds for the criminal-record service, comparable across runs."""
    units = {(u.unit_set, u.province_code): ({f: getattr(u, f) for f in service.TRACKED}, u.basis, u.version)
             for u in s.scalars(select(RolloutUnit))}
    changes = sorted((c.unit_id, c.field, c.old_value, c.new_value, c.effective_on, c.source, c.source_ref)
                     for c in s.scalars(select(RolloutChange)))
    snaps = [(x.service_key, x.as_of, x.kind, x.digest) for x in s.scalars(select(RolloutSnapshot).order_by(RolloutSnapshot.id))]
    return {"units": units, "changes": changes, "snapshots": snaps,
            "rows": s.scalar(select(func.count()).select_from(RolloutSnapshotRow)),
            "figures": s.scalar(select(func.count()).select_from(RolloutFigure))}


def test_import_twice_gives_the_same_state_also_from_the_command_line(db_url):
    from lienthong.cli import app

    runner = CliRunner()
    args = ["ops", "import-rollout", str(TABLE), "--as-of", "2024-10-07", "--database-url", db_url]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    out = " ".join(first.output.split())  # Rich wraps lines
    assert "đã nhập" in out and "63 hàng" in out and "65 ô không chắc chắn" in out
    with session_factory()() as s:
        after_first = state(s)
        imports = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.resource == "ops.rollout_snapshot"))
    second = runner.invoke(app, args)
    assert second.exit_code == 0 and "không đổi" in " ".join(second.output.split()), second.output
    with unit_of_work() as s:  # and once more through the service, under another name
        r = history.import_table(s, TABLE.read_bytes(), as_of=AS_OF, filename="copy.csv")
        assert r.outcome == "unchanged" and r.changes == 0 and r.derived_changes == 0
    with session_factory()() as s:
        assert state(s) == after_first
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.resource == "ops.rollout_snapshot")) == imports == 1
    old = after_first["units"]
    assert sum(1 for (uset, _) in old if uset == "vn63") == 63
    assert old[("vn63", 46)][0]["status"] == "completed"  # Thừa Thiên Huế
    assert old[("vn63", 79)][0]["status"] == "test_done"  # "TP. Hồ Chí Minh" as the letter writes it
    assert {c[4] for c in after_first["changes"] if c[5] == "import"} == {AS_OF}
    assert {c[4] for c in after_first["changes"] if c[5] == "merger"} == {date(2025, 7, 1)}
    assert after_first["rows"] == 63


def test_corrected_table_replaces_the_snapshot_and_records_only_differences(db_url):
    with unit_of_work() as s:
        history.import_table(s, TABLE.read_bytes(), as_of=AS_OF)
    fixed = TABLE.read_text(encoding="utf-8").replace(
        "12,Bình Thuận,1,2024-09-13,2024-09-15,Đã devtest xong,",
        "12,Bình Thuận,1,2024-09-13,2024-09-15,Đang triển khai chính thức,")
    with unit_of_work() as s:
        r = history.import_table(s, fixed.encode(), as_of=AS_OF, filename="sua.csv")
        assert (r.outcome, r.changes) == ("replaced", 1)
    with session_factory()() as s:
        assert s.scalar(select(func.count()).select_from(RolloutSnapshot)) == 1
        bt = s.scalars(select(RolloutUnit).where(RolloutUnit.unit_set == "vn63", RolloutUnit.province_code == 60)).one()
        assert bt.status == "production"
        last = s.scalars(select(RolloutChange).where(RolloutChange.unit_id == bt.id).order_by(RolloutChange.id.desc())).first()
        assert (last.old_value, last.new_value, last.source, last.effective_on) == ("test_done", "production", "import", AS_OF)
        assert bt.production_date is None  # the letter gives no date
        # Lâm Đồng (68) = Lâm Đồng + Đắk Nông + Bình Thuận: still at its weakest member's state
        assert service.province_unit(s, "judicial_vneid", 68).status == "test_done"


def test_bad_tables_are_refused_whole_with_the_lines_named(db_url):
    text = TABLE.read_text(encoding="utf-8")
    cases = [
        (text.replace("Hà Nam,2,", "Hà Tây,2,"), "Hà Tây"),
        (text.replace("4,Hà Nam,", "4,Hà Nội,"), "trùng với hàng 2"),
        (text.replace("Đang tiến hành devtest,Đã đảm bảo,,,Đã truy cập,code_security;system_security\n51",
                      "Đang chờ,Đã đảm bảo,,,Đã truy cập,code_security;system_security\n51"), "dòng 51"),
        (text.replace("pv06_progress,", "pv06,"), "thiếu cột"),
        ("\ufeff".encode("utf-8") + b"\xff\xfe", "UTF-8"),
    ]
    for body, message in cases:
        with unit_of_work() as s, pytest.raises(DomainError, match=message):
            history.import_table(s, body if isinstance(body, bytes) else body.encode(), as_of=AS_OF)
    with session_factory()() as s:
        assert s.scalar(select(func.count()).select_from(RolloutSnapshot)) == 0
        assert s.scalar(select(func.count()).select_from(RolloutChange)) == 0
    # tables go in date order: an older one after a newer is refused
    with unit_of_work() as s:
        history.import_table(s, text.encode(), as_of=AS_OF)
    with unit_of_work() as s, pytest.raises(DomainError, match="theo thứ tự thời gian"):
        history.import_table(s, text.replace("Hà Nam,2", "Hà Nam,3").encode(), as_of=date(2024, 9, 30))


def test_merger_view_derived_status_with_the_rule_shown(client, bearer, monkeypatch):
    with unit_of_work() as s:
        history.import_bundled(s)
    h = bearer(OFFICER)
    # Ninh Bình (37) = Hà Nam (completed) + Nam Định + Ninh Bình (test done): the weakest, derived
    r = client.get("/api/v1/ops/rollout/provinces/37", headers=h)
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["merged"] and p["unit"]["basis"] == "derived" and p["unit"]["status"] == "test_done"
    assert p["rule"]["key"] == "weakest" and "thấp nhất" in p["rule"]["text"]
    assert [(m["name"], m["state"]["status"]) for m in p["members"]] == [
        ("Hà Nam", "completed"), ("Nam Định", "test_done"), ("Ninh Bình", "test_done")]
    assert p["derived"]["deciding"] == ["Nam Định", "Ninh Bình"]
    assert p["members"][1]["snapshot_rows"][0]["uncertain"] == ["code_security", "system_security"]
    assert {c["source"] for c in p["merger_changes"]} == {"merger"} and p["own_changes"] == []
    assert p["merger_changes"][0]["effective_on"] == "2025-07-01"
    assert "quy tắc «thấp nhất»" in p["merger_changes"][0]["note"]
    # Hà Nội was not merged: its own 2024 state carried over
    hn = client.get("/api/v1/ops/rollout/provinces/1", headers=h).json()
    assert not hn["merged"] and hn["unit"]["status"] == "completed" and hn["unit"]["basis"] == "derived"
    rows = {x["province_code"]: x for x in client.get("/api/v1/ops/rollout", headers=h).json()}
    assert len(rows) == 34 and all(x["basis"] == "derived" for x in rows.values())
    assert {x["unit_set"] for x in client.get("/api/v1/ops/rollout?unit_set=vn63", headers=h).json()} == {"vn63"}

    # An officer's record wins over the derivation; re-deriving leaves it alone
    uid = rows[37]["id"]
    assert client.patch(f"/api/v1/ops/rollout/{uid}", json={"status": "testing", "change_note": "rà soát lại"},
                        headers=bearer(ADMIN)).status_code == 200
    with unit_of_work() as s:
        assert history.derive_merged(s, "judicial_vneid") == []
        assert service.get_unit(s, uid).basis == "recorded"
    p = client.get("/api/v1/ops/rollout/provinces/37", headers=h).json()
    assert p["basis_text"] == "ghi nhận trực tiếp" and p["own_changes"][0]["new_value"] == "testing"
    assert p["derived"]["status"] == "test_done"  # still shown beside the recorded status
    # history rows are not editable by hand
    old = client.get("/api/v1/ops/rollout?unit_set=vn63&province=35", headers=h).json()[0]
    r = client.patch(f"/api/v1/ops/rollout/{old['id']}", json={"status": "testing"}, headers=bearer(ADMIN))
    assert r.status_code == 422 and "dữ liệu lịch sử" in r.json()["error"]["message"]

    # the other reading of the merger, as configuration
    monkeypatch.setenv(rules.MERGER_RULE_ENV, "strongest")
    with unit_of_work() as s:
        changed = {u.province_code: u.status for u, _ in history.derive_merged(s, "judicial_vneid")}
    assert changed[31] == "test_done" and 37 not in changed  # Hải Phòng: Hải Dương + Hải Phòng; 37 recorded


def test_timeline_counts_63_then_34_and_the_summary_against_printed_totals(client, bearer):
    with unit_of_work() as s:
        history.import_bundled(s)
    h = bearer(OFFICER)
    t = client.get("/api/v1/ops/rollout/timeline?to=2025-07-14", headers=h).json()
    points = {p["day"]: p for p in t["points"]}
    assert t["points"][0]["day"] == "2024-10-07" and t["reform"]["effective"] == "2025-07-01"
    assert points["2024-10-07"]["unit_set"] == "vn63" and points["2024-10-07"]["counts"] == {
        "not_started": 0, "testing": 14, "test_done": 45, "production": 0, "completed": 4}
    assert points["2025-06-30"]["unit_set"] == "vn63"
    after = points["2025-07-07"]
    assert after["unit_set"] == "vn34" and sum(after["counts"].values()) == 34
    assert after["counts"] == {"not_started": 0, "testing": 12, "test_done": 20, "production": 0, "completed": 2}
    assert t["points"][-1]["day"] == "2025-07-14" and len(t["points"]) == 41

    snaps = client.get("/api/v1/ops/rollout/snapshots", headers=h).json()
    assert [(x["as_of"], x["kind"], x["verified"]) for x in snaps] == [
        ("2024-10-02", "figures", False), ("2024-10-07", "figures", True), ("2024-10-07", "table", True)]
    table = next(x for x in snaps if x["kind"] == "table")
    d = client.get(f"/api/v1/ops/rollout/snapshots/{table['id']}", headers=h).json()
    assert len(d["rows"]) == 63 and d["printed_snapshot"]["kind"] == "figures"
    got = {f["key"]: (f["computed"], f["printed"], f["verdict"]) for f in d["summary"]}
    assert got == {"testing": (14, 14, "match"), "test_done": (45, 38, "within_uncertain"),
                   "production": (0, 7, "within_uncertain"), "completed": (4, 4, "match"),
                   "machine": (19, 19, "match"), "no_machine": (1, 1, "match"), "access": (43, 43, "match"),
                   "integrated": (49, 49, "match"), "security_ready": (11, 9, "within_uncertain")}


def test_pages_show_the_snapshot_and_the_path_to_today(client, bearer):
    with unit_of_work() as s:
        history.import_bundled(s)
        table_id = s.scalar(select(RolloutSnapshot.id).where(RolloutSnapshot.kind == "table"))
    h = bearer(OFFICER)
    page = client.get("/trien-khai/dien-bien", headers=h).text
    assert "Diễn biến triển khai từ năm 2024" in page
    assert page.count('<tr id="tinh-') == 34  # every current province
    assert "Hợp nhất 63 → 34 tỉnh" in page and 'class="chart"' in page and "07/10/2024" in page
    row = re.search(r'<tr id="tinh-37">.*?</tr>', page, re.S).group(0)
    assert "Hà Nam" in row and "Nam Định" in row and "Hoàn thành" in row and "Đã kiểm thử xong" in row
    prov = client.get("/trien-khai/tinh/37", headers=h).text
    assert "Hình thành ngày 01/07/2025" in prov and "quy tắc «thấp nhất»" in prov
    assert 'class="unsure"' in prov and "Quyết định bởi: Nam Định, Ninh Bình" in prov
    snap = client.get(f"/trien-khai/bang/{table_id}", headers=h).text
    assert "Số liệu tổng hợp: tính từ bảng và số in trong công văn" in snap
    assert 'data-key="production"' in snap and "Do ô không rõ" in snap and snap.count('class="unsure-cell"') == 65
    tracker = client.get("/trien-khai", headers=h).text
    assert "suy ra" in tracker and "34 tỉnh/thành phố có trạng thái" in tracker
    kiosks = client.get("/ki-ot", headers=h).text
    assert "Chương trình ki-ốt y tế: số liệu ngày 02/10/2024" in kiosks
    assert "≥ 1.001" in kiosks and "44/63" in kiosks and "217" in kiosks and "Chưa đối chiếu được nguồn" in kiosks
    for key in ("health_book", "birth_linked", "death_linked", "medical_kiosk"):
        assert client.get(f"/trien-khai/dien-bien?service={key}", headers=h).status_code == 200
    import io

    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(client.get("/api/v1/ops/rollout/report.xlsx?service=judicial_vneid&province=37",
                                             headers=h).content))["Tiến độ"]
    assert ws["A2"].value.startswith("Dịch vụ: Cấp Phiếu lý lịch tư pháp trên VNeID")
    assert ws.cell(5, 7).value == "Đã kiểm thử xong (suy ra khi hợp nhất tỉnh)"


def test_services_an_admin_adds_are_tracked_too(client, bearer):
    h = bearer(ADMIN)
    keys = [x["key"] for x in client.get("/api/v1/ops/services", headers=h).json()]
    assert keys == ["judicial_vneid", "health_book", "birth_linked", "death_linked", "medical_kiosk"]
    r = client.post("/api/v1/ops/services", json={"key": "vneid_driving_licence", "name": "Giấy phép lái xe trên VNeID"},
                    headers=h)
    assert r.status_code == 201, r.text
    assert client.post("/api/v1/ops/services", json={"key": "vneid_driving_licence", "name": "x"},
                       headers=h).status_code == 409
    assert client.post("/api/v1/ops/services", json={"key": "x", "name": "y"}, headers=bearer(OFFICER)).status_code == 403
    rows = client.get("/api/v1/ops/rollout?service=vneid_driving_licence", headers=h).json()
    assert len(rows) == 34 and {x["service_key"] for x in rows} == {"vneid_driving_licence"}
    assert client.get("/api/v1/ops/rollout?service=nope", headers=h).status_code == 404
    page = client.get("/trien-khai?service=vneid_driving_licence", headers=h).text
    assert "Giấy phép lái xe trên VNeID" in page and page.count('tr id="unit-') == 34
    # the page's "track one facility" form (it used to hit /trien-khai/{unit_id} and fail with 422)
    from lienthong.facilities.models import Facility
    from lienthong.identity.tokens import issue_access_token

    with unit_of_work() as s:
        s.add(Facility(code="01001", name="Bệnh viện Bạch Mai", province_code=1, tier="central", ownership="public"))
    client.cookies.set("lt_session", issue_access_token(ADMIN))
    r = client.post("/trien-khai/co-so", data={"facility_code": "01001", "service": "vneid_driving_licence"})
    assert r.status_code == 200 and "Đã thêm cơ sở 01001" in r.text, r.text
    rows = client.get("/api/v1/ops/rollout?service=vneid_driving_licence&province=1", headers=h).json()
    assert [x["facility_code"] for x in rows] == [None, "01001"]
