"""Feeds from courts and enforcement bodies: authentication, validation, idempotency, events."""

from sqlalchemy import func, select

from lienthong.audit.models import AuditEntry
from lienthong.db import session_factory
from lienthong.events.models import OutboxEvent
from lienthong.identity.principal import Principal
from lienthong.judicial import models as m
from lienthong.judicial.tests.helpers import COURT, ENFORCER, citizen, conviction_body, officer

PID = "001090012345"
REF = {"court_code": "TAND01", "judgment_number": "125/2024/HS-ST", "personal_id": PID}


def _changed_events() -> list[dict]:
    with session_factory()() as s:
        return [e.payload for e in s.scalars(select(OutboxEvent).where(OutboxEvent.topic == "judicial.record.changed")
                                             .order_by(OutboxEvent.seq))]


def test_conviction_feed_is_idempotent(client, bearer):
    h = bearer(COURT)
    r1 = client.post("/api/v1/judicial/feed/convictions", json=conviction_body(PID), headers=h)
    assert r1.status_code == 201, r1.text
    r2 = client.post("/api/v1/judicial/feed/convictions", json=conviction_body(PID), headers=h)
    assert r2.status_code == 200 and r2.json()["id"] == r1.json()["id"] and r2.json()["created"] is False
    # Same court + judgment number + person with different content: refused, nothing overwritten
    r3 = client.post("/api/v1/judicial/feed/convictions", json=conviction_body(PID, term_months=36), headers=h)
    assert r3.status_code == 409 and "nội dung khác" in r3.text
    # Same judgment number for another person of the same judgment is a separate record
    other = conviction_body("001092054321", full_name="Trần Văn Bình", birth_date="1992-01-01")
    assert client.post("/api/v1/judicial/feed/convictions", json=other, headers=h).status_code == 201
    with session_factory()() as s:
        assert s.scalar(select(func.count()).select_from(m.Conviction)) == 2
        c = s.get(m.Conviction, r1.json()["id"])
        assert [o.name for o in c.offences] == ["Trộm cắp tài sản"] and c.offences[0].article == 173
        audits = s.scalars(select(AuditEntry).where(AuditEntry.resource == "judicial.conviction")).all()
        assert [(a.actor_id, a.action) for a in audits] == [("tand-hanoi", "create"), ("tand-hanoi", "create")]
    assert [e["personal_id"] for e in _changed_events()] == [PID, "001092054321"]


def test_conviction_feed_validation(client, bearer):
    h = bearer(COURT)
    bad = [
        (conviction_body(PID, judgment_date="2099-01-01", legal_effect_date="2099-02-01"), "tương lai"),
        (conviction_body(PID, legal_effect_date="2024-01-01"), "trước ngày tuyên án"),
        (conviction_body(PID, suspended=True), "án treo"),
        (conviction_body(PID, term_months=None), "thời hạn"),
        (conviction_body(PID, penalty_type="fine", term_months=None), "fine_vnd"),
        (conviction_body(PID, penalty_type="beheading"), "penalty_type"),
        (conviction_body(PID, offences=[]), "offences"),
        (conviction_body("00109001234"), "12 chữ số"),
        (conviction_body(PID, birth_date="1991-05-17"), "năm sinh không khớp"),
        (conviction_body("003090012345"), "003"),
        (conviction_body(PID, court_code="tand 01"), "court_code"),
        ({**conviction_body(PID), "unexpected": 1}, "unexpected"),
    ]
    for body, message in bad:
        r = client.post("/api/v1/judicial/feed/convictions", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert message in r.text, (message, r.text)
    assert client.post("/api/v1/judicial/feed/convictions", json=conviction_body(PID)).status_code == 401
    # Wrong kind / missing scope
    assert client.post("/api/v1/judicial/feed/convictions", json=conviction_body(PID),
                       headers=bearer(officer())).status_code == 403
    assert client.post("/api/v1/judicial/feed/convictions", json=conviction_body(PID),
                       headers=bearer(citizen(PID))).status_code == 403
    no_scope = Principal(kind="agency", subject="x", agency_code="X", scopes=frozenset({"population.read"}))
    r = client.post("/api/v1/judicial/feed/convictions", json=conviction_body(PID), headers=bearer(no_scope))
    assert r.status_code == 403 and "judicial.feed" in r.text
    with session_factory()() as s:
        assert s.scalar(select(func.count()).select_from(m.Conviction)) == 0


def test_enforcement_expungement_and_ban_feeds(client, bearer):
    h = bearer(COURT)
    cid = client.post("/api/v1/judicial/feed/convictions", json=conviction_body(PID), headers=h).json()["id"]
    upd = {"conviction": REF, "agency_code": "THA01", "document_number": "GCN-77/2026", "kind": "principal_completed",
           "occurred_on": "2026-01-20", "status_text": "Đã chấp hành xong hình phạt tù"}
    r = client.post("/api/v1/judicial/feed/enforcement", json=upd, headers=bearer(ENFORCER))
    assert r.status_code == 201, r.text
    assert client.post("/api/v1/judicial/feed/enforcement", json=upd, headers=bearer(ENFORCER)).status_code == 200
    r = client.post("/api/v1/judicial/feed/enforcement", json={**upd, "occurred_on": "2026-01-21"}, headers=bearer(ENFORCER))
    assert r.status_code == 409
    civil = {"conviction": REF, "agency_code": "THADS01", "document_number": "XN-12/2026", "kind": "obligations_completed",
             "occurred_on": "2026-02-03", "status_text": "Đã thi hành xong phần dân sự, án phí"}
    assert client.post("/api/v1/judicial/feed/enforcement", json=civil, headers=bearer(ENFORCER)).status_code == 201
    # validation
    cases = [
        ({**upd, "document_number": "A1", "occurred_on": "2099-01-01"}, 422, "tương lai"),
        ({**upd, "document_number": "A2", "occurred_on": "2020-01-01"}, 422, "trước ngày tuyên án"),
        ({**upd, "document_number": "A3", "kind": "additional_completed"}, 422, "additional_seq"),
        ({**upd, "document_number": "A4", "kind": "additional_completed", "additional_seq": 2}, 422, "hình phạt bổ sung thứ 2"),
        ({**upd, "document_number": "A5", "kind": "probation_completed"}, 422, "án treo"),
        ({**upd, "conviction": {**REF, "judgment_number": "999/2024/HS-ST"}}, 404, "không tìm thấy bản án"),
    ]
    for body, code, message in cases:
        r = client.post("/api/v1/judicial/feed/enforcement", json=body, headers=bearer(ENFORCER))
        assert r.status_code == code and message in r.text, (body, r.text)

    dec = {"conviction": REF, "court_code": "TAND01", "court_name": "Tòa án nhân dân Thành phố Hà Nội",
           "decision_number": "05/2026/QĐ-XAT", "decision_date": "2026-03-01", "article": 72, "granted": False}
    assert client.post("/api/v1/judicial/feed/expungement-decisions", json=dec, headers=h).status_code == 201
    assert client.post("/api/v1/judicial/feed/expungement-decisions", json=dec, headers=h).status_code == 200
    assert client.post("/api/v1/judicial/feed/expungement-decisions", json={**dec, "granted": True},
                       headers=h).status_code == 409
    assert client.post("/api/v1/judicial/feed/expungement-decisions", json={**dec, "article": 70},
                       headers=h).status_code == 422

    ban = {"personal_id": PID, "content": "Cấm thành lập, quản lý doanh nghiệp", "court_code": "TAND01",
           "court_name": "Tòa án nhân dân Thành phố Hà Nội", "decision_number": "02/2025/QĐ-TBPS",
           "decision_date": "2025-06-01", "start_date": "2025-06-01", "duration_months": 36}
    assert client.post("/api/v1/judicial/feed/bans", json=ban, headers=h).status_code == 201
    assert client.post("/api/v1/judicial/feed/bans", json=ban, headers=h).status_code == 200
    r = client.post("/api/v1/judicial/feed/bans", json={**ban, "decision_number": "X", "end_date": "2027-01-01"}, headers=h)
    assert r.status_code == 422 and "đúng một" in r.text

    with session_factory()() as s:
        c = s.get(m.Conviction, cid)
        assert str(c.principal_completed_on) == "2026-01-20" and str(c.other_obligations_completed_on) == "2026-02-03"
        assert c.enforcement_status == "Đã thi hành xong phần dân sự, án phí"
        assert [(e.agency_code, e.kind) for e in c.enforcement_events] == [("THA01", "principal_completed"),
                                                                          ("THADS01", "obligations_completed")]
        assert [(d.granted, d.article) for d in c.expungement_decisions] == [(False, 72)]
    assert [e["change"] for e in _changed_events()] == ["conviction", "enforcement", "enforcement", "expungement", "ban"]


def test_record_lookup_by_officer_is_audited_and_province_bound(client, bearer):
    from lienthong.judicial.tests.helpers import HCM, register

    register(PID, "1990-05-17")
    client.post("/api/v1/judicial/feed/convictions", json=conviction_body(PID), headers=bearer(COURT))
    r = client.get(f"/api/v1/judicial/records/{PID}", params={"purpose": "xác minh hồ sơ tuyển dụng"},
                   headers=bearer(officer()))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["convictions"][0]["judgment_number"] == "125/2024/HS-ST" and body["convictions"][0]["expunged"] is False
    assert client.get(f"/api/v1/judicial/records/{PID}", params={"purpose": "xem thử"},
                      headers=bearer(officer(HCM, "079082000033"))).status_code == 403
    assert client.get(f"/api/v1/judicial/records/{PID}", headers=bearer(officer())).status_code == 422  # purpose required
    assert client.get(f"/api/v1/judicial/records/{PID}", params={"purpose": "tò mò"},
                      headers=bearer(citizen(PID))).status_code == 403
    with session_factory()() as s:
        reads = s.scalars(select(AuditEntry).where(AuditEntry.resource == "judicial.record")).all()
        assert [(a.actor_id, a.subject_id, a.purpose) for a in reads] == [
            ("001082000022", PID, "xác minh hồ sơ tuyển dụng")]


def test_concurrent_identical_submissions_record_once(pg_url):
    import threading

    from fastapi import Response

    from lienthong.db import unit_of_work
    from lienthong.judicial import feed, routes, schemas

    body = schemas.ConvictionIn(**conviction_body(PID))
    results, errors = [], []
    barrier = threading.Barrier(6)

    def post():
        try:
            barrier.wait()
            with unit_of_work() as s:
                resp = Response()
                c, created = routes._idempotent(s, resp, lambda: feed.submit_conviction(s, COURT, body))
                results.append((c.id, created, resp.status_code))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({r[0] for r in results}) == 1
    assert sorted(r[2] for r in results) == [200] * 5 + [201]
    with session_factory()() as s:
        assert s.scalar(select(func.count()).select_from(m.Conviction)) == 1


def test_feed_accepts_ids_of_births_abroad_only_with_the_configured_prefix(client, bearer, monkeypatch):
    from lienthong.config import reset_settings_cache

    body = conviction_body("999090012345")
    r = client.post("/api/v1/judicial/feed/convictions", json=body, headers=bearer(COURT))
    assert r.status_code == 422 and "999" in r.text
    monkeypatch.setenv("LIENTHONG_ABROAD_ID_PREFIXES", '["999"]')
    reset_settings_cache()
    r = client.post("/api/v1/judicial/feed/convictions", json=body, headers=bearer(COURT))
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/judicial/feed/convictions", json=conviction_body("999091012345"), headers=bearer(COURT))
    assert r.status_code == 422 and "năm sinh không khớp" in r.text
