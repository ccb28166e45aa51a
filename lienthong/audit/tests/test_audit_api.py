"""Audit log HTTP routes: who may see what (both databases).

The routers are mounted on a small app of their own so these tests do not depend on the other
contexts' routes.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from lienthong.audit import sequencer, service
from lienthong.audit.models import AuditEntry
from lienthong.audit.routes import router as audit_router
from lienthong.db import get_engine, unit_of_work
from lienthong.errors import install_error_handlers
from lienthong.identity.principal import Principal

AN = Principal(kind="citizen", subject="001099000001", name="Nguyễn Văn An", personal_id="001099000001",
               assurance_level=2)
BINH = Principal(kind="citizen", subject="079199000002", name="Lê Thị Bình", personal_id="079199000002",
                 assurance_level=1)
ADMIN = Principal(kind="admin", subject="001080000009", name="Quản trị", personal_id="001080000009",
                  assurance_level=2)
OFFICER = Principal(kind="officer", subject="001085000007", name="Cán bộ", personal_id="001085000007",
                    assurance_level=2, province_code=1)
FACILITY = Principal(kind="facility", subject="bv-bach-mai", facility_code="01001",
                     scopes=frozenset({"population.read", "directory.read"}))
UNVERIFIED = Principal(kind="citizen", subject="001099000003", personal_id="001099000003", assurance_level=0)


@pytest.fixture
def api(db_url):
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(audit_router)
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def _seed(url: str) -> None:
    """Accesses: 3 about An (officer, facility, officer), 2 about Bình, 1 about nobody."""
    with unit_of_work(url) as s:
        service.record(s, OFFICER, "read", "population.citizen", resource_id=AN.personal_id,
                       subject_id=AN.personal_id, purpose="xác minh hồ sơ khai sinh của con")
        service.record(s, FACILITY, "read", "population.citizen", resource_id=AN.personal_id,
                       subject_id=AN.personal_id, purpose="tiếp nhận khám bệnh")
        service.record(s, OFFICER, "read", "population.citizen", resource_id=BINH.personal_id,
                       subject_id=BINH.personal_id, purpose="đăng ký thường trú")
        service.record(s, OFFICER, "update", "population.citizen", resource_id=AN.personal_id,
                       subject_id=AN.personal_id, purpose="cập nhật nơi thường trú", detail={"field": "residence"})
        service.record(s, FACILITY, "read", "population.citizen", resource_id=BINH.personal_id,
                       subject_id=BINH.personal_id, purpose="tiếp nhận khám bệnh")
        service.record(s, ADMIN, "create", "directory.facility", resource_id="01001", purpose="thêm cơ sở")


def test_anonymous_is_rejected(api):
    for method, path in [("GET", "/api/v1/me/audit"), ("GET", "/api/v1/audit"), ("POST", "/api/v1/audit/verify")]:
        r = api.request(method, path)
        assert r.status_code == 401, path
        assert r.headers["www-authenticate"] == "Bearer"
    r = api.get("/api/v1/me/audit", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401


def test_citizen_sees_every_access_to_their_own_data_newest_first(api, bearer, db_url):
    _seed(db_url)
    r = api.get("/api/v1/me/audit", headers=bearer(AN))
    assert r.status_code == 200
    body = r.json()
    assert [i["seq"] for i in body["items"]] == [4, 2, 1]
    first = body["items"][0]
    assert first["who"] == {"type": "officer", "id": OFFICER.subject}
    assert first["action"] == "update" and first["resource"] == "population.citizen"
    assert first["purpose"] == "cập nhật nơi thường trú" and first["time"]
    assert body["items"][1]["who"] == {"type": "facility", "id": "bv-bach-mai"}
    assert body["next_before"] is None

    # paging by ``before``
    page1 = api.get("/api/v1/me/audit", params={"limit": 2}, headers=bearer(AN)).json()
    assert [i["seq"] for i in page1["items"]] == [4, 2] and page1["next_before"] == 2
    page2 = api.get("/api/v1/me/audit", params={"limit": 2, "before": page1["next_before"]}, headers=bearer(AN)).json()
    assert [i["seq"] for i in page2["items"]] == [1] and page2["next_before"] is None

    # Bình sees only the entries about Bình
    binh = api.get("/api/v1/me/audit", headers=bearer(BINH)).json()
    assert [i["seq"] for i in binh["items"]] == [5, 3]
    assert all(i["resource_id"] == BINH.personal_id for i in binh["items"])
    # someone nobody looked at sees nothing
    other = Principal(kind="citizen", subject="001099000099", personal_id="001099000099", assurance_level=1)
    assert api.get("/api/v1/me/audit", headers=bearer(other)).json()["items"] == []


def test_citizen_cannot_read_the_whole_log_or_verify(api, bearer, db_url):
    _seed(db_url)
    r = api.get("/api/v1/audit", params={"subject": BINH.personal_id}, headers=bearer(AN))
    assert r.status_code == 403 and "quản trị" in r.json()["detail"]
    assert api.post("/api/v1/audit/verify", headers=bearer(AN)).status_code == 403
    for p in (OFFICER, FACILITY):
        assert api.get("/api/v1/me/audit", headers=bearer(p)).status_code == 403
        assert api.get("/api/v1/audit", headers=bearer(p)).status_code == 403
        assert api.post("/api/v1/audit/verify", headers=bearer(p)).status_code == 403
    assert api.get("/api/v1/me/audit", headers=bearer(UNVERIFIED)).status_code == 403
    # nothing was recorded by the refused requests
    with unit_of_work(db_url) as s:
        assert s.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc())) == 6


def test_admin_without_personal_id_has_no_own_history(api, bearer):
    machine_admin = Principal(kind="admin", subject="ops", assurance_level=2)
    r = api.get("/api/v1/me/audit", headers=bearer(machine_admin))
    assert r.status_code == 403


def test_admin_lists_and_filters_and_the_read_is_audited(api, bearer, db_url):
    _seed(db_url)
    h = bearer(ADMIN)
    everything = api.get("/api/v1/audit", headers=h).json()
    assert [i["seq"] for i in everything["items"]] == [6, 5, 4, 3, 2, 1]
    assert everything["items"][2]["detail"] == {"field": "residence"} and len(everything["items"][0]["hash"]) == 64

    about_an = api.get("/api/v1/audit", params={"subject": AN.personal_id, "purpose": "xử lý khiếu nại"}, headers=h).json()
    assert [i["seq"] for i in about_an["items"]] == [4, 2, 1]
    by_facility = api.get("/api/v1/audit", params={"actor": "bv-bach-mai"}, headers=h).json()
    assert [i["seq"] for i in by_facility["items"]] == [5, 2]
    by_resource = api.get("/api/v1/audit", params={"resource": "directory.facility"}, headers=h).json()
    assert [i["seq"] for i in by_resource["items"]] == [6]
    updates = api.get("/api/v1/audit", params={"action": "update", "actor_type": "officer"}, headers=h).json()
    assert [i["seq"] for i in updates["items"]] == [4]
    # the four reads above were recorded (seq 7..10); paging below them
    page = api.get("/api/v1/audit", params={"limit": 3, "before": 7}, headers=h).json()
    assert [i["seq"] for i in page["items"]] == [6, 5, 4] and page["next_before"] == 4
    page = api.get("/api/v1/audit", params={"limit": 3, "before": 4}, headers=h).json()
    assert [i["seq"] for i in page["items"]] == [3, 2, 1]

    with unit_of_work(db_url) as s:
        reads = list(s.scalars(select(AuditEntry).where(AuditEntry.resource == "audit.log").order_by(AuditEntry.seq)))
    assert [e.seq for e in reads] == [7, 8, 9, 10, 11, 12, 13]
    assert all(e.action == "read" and e.actor_id == ADMIN.subject and e.actor_type == "admin" for e in reads)
    assert reads[1].subject_id == AN.personal_id and reads[1].purpose == "xử lý khiếu nại"
    assert reads[1].detail == {"subject": AN.personal_id, "count": 3}
    # ... so An sees that the administrator looked at An's access history
    mine = api.get("/api/v1/me/audit", headers=bearer(AN)).json()["items"]
    assert mine[0]["resource"] == "audit.log" and mine[0]["who"] == {"type": "admin", "id": ADMIN.subject}

    assert api.get("/api/v1/audit", params={"purpose": "x"}, headers=h).status_code == 422
    assert api.get("/api/v1/audit", params={"limit": 0}, headers=h).status_code == 422


def test_admin_verifies_the_log(api, bearer, db_url):
    _seed(db_url)
    h = bearer(ADMIN)
    pending = api.post("/api/v1/audit/verify", headers=h).json()
    assert pending["ok"] is True and pending["entries"] == 0 and pending["pending"] == 6
    sequencer.run_once(db_url)
    ok = api.post("/api/v1/audit/verify", headers=h).json()
    assert ok == {"ok": True, "entries": 6, "first_bad_seq": None, "first_bad_index": None, "problem": "",
                  "head_hash": ok["head_hash"], "pending": 0, "checkpoints": 1, "checkpoint": ok["checkpoint"]}
    assert ok["checkpoint"].startswith(f"lienthong/audit\n6\n")
    with get_engine(db_url).begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(purpose="không có"))
    bad = api.post("/api/v1/audit/verify", headers=h).json()
    assert bad["ok"] is False and bad["first_bad_seq"] == 3 and bad["entries"] == 2
    assert bad["problem"] == "nội dung bản ghi đã bị sửa"


def test_verify_with_a_checkpoint(api, bearer, db_url):
    _seed(db_url)
    sequencer.run_once(db_url)
    h = bearer(ADMIN)
    cp = api.post("/api/v1/audit/verify", headers=h).json()
    params = {"checkpoint_seq": cp["entries"], "checkpoint_hash": cp["head_hash"]}
    assert api.post("/api/v1/audit/verify", params=params, headers=h).json()["ok"] is True
    wrong = {"checkpoint_seq": 2, "checkpoint_hash": cp["head_hash"]}
    r = api.post("/api/v1/audit/verify", params=wrong, headers=h).json()
    assert r["ok"] is False and r["first_bad_index"] == 1
    r = api.post("/api/v1/audit/verify", params={"checkpoint_seq": 2}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "checkpoint_hash"


def test_entries_show_at_once_and_are_marked_until_sequenced(api, bearer, db_url):
    _seed(db_url)
    items = api.get("/api/v1/me/audit", headers=bearer(AN)).json()["items"]
    assert [(i["sequenced"], i["leaf_index"]) for i in items] == [(False, None)] * 3
    sequencer.run_once(db_url)
    items = api.get("/api/v1/me/audit", headers=bearer(AN)).json()["items"]
    assert [(i["sequenced"], i["leaf_index"]) for i in items] == [(True, 3), (True, 1), (True, 0)]


def test_a_citizen_gets_the_proof_of_an_entry_about_them_and_checks_it(api, bearer, db_url):
    from lienthong.audit import merkle
    from lienthong.audit.checkpoint import Verifier, open_checkpoint

    _seed(db_url)
    early = api.get("/api/v1/audit/entries/4/proof", headers=bearer(AN))
    assert early.status_code == 409 and "niêm phong" in early.json()["error"]["message"]
    sequencer.run_once(db_url)
    cp = api.get("/api/v1/audit/checkpoint", headers=bearer(AN)).json()
    assert cp["tree_size"] == 6 and cp["note"].startswith("lienthong/audit\n6\n")
    r = api.get("/api/v1/audit/entries/4/proof", headers=bearer(AN))
    assert r.status_code == 200
    p = r.json()
    # everything needed to check it independently: the entry's bytes, the path, the signed checkpoint
    checkpoint = open_checkpoint(p["checkpoint"], [Verifier.parse(p["verifier_key"])])
    leaf = merkle.leaf_hash(bytes.fromhex(p["leaf_data"]))
    assert b'"purpose":"c\xe1\xba\xadp nh\xe1\xba\xadt n\xc6\xa1i th\xc6\xb0\xe1\xbb\x9dng tr\xc3\xba"' \
        in bytes.fromhex(p["leaf_data"])
    assert merkle.verify_inclusion(leaf, p["leaf_index"], checkpoint.size, [bytes.fromhex(h) for h in p["path"]],
                                   checkpoint.root)
    # not an entry about An: indistinguishable from a missing one
    assert api.get("/api/v1/audit/entries/3/proof", headers=bearer(AN)).status_code == 404
    assert api.get("/api/v1/audit/entries/99/proof", headers=bearer(AN)).status_code == 404
    assert api.get("/api/v1/audit/entries/3/proof", headers=bearer(ADMIN)).status_code == 200
    assert api.get("/api/v1/audit/entries/3/proof", headers=bearer(OFFICER)).status_code == 403
