"""Certificate applications end to end: submission, automatic check, review, issue, verification."""

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from lienthong.audit.models import AuditEntry
from lienthong.db import session_factory, unit_of_work
from lienthong.errors import DomainError
from lienthong.events.models import OutboxEvent
from lienthong.judicial import models as m
from lienthong.judicial import schemas, service, signing
from lienthong.judicial.tests.helpers import COURT, ENFORCER, HCM, citizen, conviction_body, officer, pdf_text, register

PID = "001090012345"  # Nguyễn Văn An, 17/05/1990, Hà Nội
APPLY = {"kind": 1, "purpose": "Bổ sung hồ sơ xin việc làm", "delivery_electronic": True}


def _words(text: str) -> str:
    return " ".join(text.split())


def _audits(**where) -> list[AuditEntry]:
    with session_factory()() as s:
        stmt = select(AuditEntry).order_by(AuditEntry.seq)
        for k, v in where.items():
            stmt = stmt.where(getattr(AuditEntry, k) == v)
        return list(s.scalars(stmt))


def _topics() -> list[str]:
    with session_factory()() as s:
        return [e.topic for e in s.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))]


def test_clean_applicant_is_issued_automatically(client, bearer, system_reads_registry):
    register(PID, "1990-05-17")
    h = bearer(citizen(PID))
    r = client.post("/api/v1/judicial/applications", json=APPLY, headers=h)
    assert r.status_code == 201, r.text
    app_id = r.json()["id"]
    assert r.json()["status"] == "submitted" and r.json()["province_code"] == 1
    # The background task ran after the response (TestClient waits for it): issued within the request cycle.
    r = client.get(f"/api/v1/judicial/applications/{app_id}", headers=h)
    body = r.json()
    assert body["status"] == "issued", body
    assert [e["to_status"] for e in body["events"]] == ["submitted", "checking", "issued"]
    cert_id = body["certificate_id"]
    year = datetime.now(UTC).year
    assert body["record_number"] == f"01CA{year}/00001"

    # Signature verifiable against the published key set
    jwks = client.get("/api/v1/judicial/keys").json()
    assert jwks["keys"][0]["kty"] == "EC" and "d" not in jwks["keys"][0]
    token = client.get(f"/api/v1/judicial/certificates/{cert_id}/jws", headers=h).text
    claims = signing.verify(token, jwks)
    assert claims["jti"] == cert_id and claims["record_number"] == body["record_number"]
    assert claims["content"]["criminal_status"] == "Không có án tích"
    assert ["Họ và tên", "Nguyễn Văn An"] in claims["content"]["identity"]
    tampered = token.split(".")
    tampered[1] = tampered[1][:-4] + ("AAAA" if not tampered[1].endswith("AAAA") else "BBBB")
    with pytest.raises(signing.BadSignature):
        signing.verify(".".join(tampered), jwks)

    # PDF: DejaVu embedded, Vietnamese text extractable with diacritics, QR link printed
    pdf = client.get(f"/api/v1/judicial/certificates/{cert_id}/pdf", headers=h)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert b"DejaVuSans" in pdf.content
    text = _words(pdf_text(pdf.content))
    for phrase in ("PHIẾU LÝ LỊCH TƯ PHÁP SỐ 1", "Nguyễn Văn An", "Không có án tích", "CÔNG AN THÀNH PHỐ HÀ NỘI",
                   f"Số: {body['record_number']}", "Ngày, tháng, năm sinh: 17/05/1990",
                   f"http://testserver/tra-cuu-phieu/{cert_id}"):
        assert phrase in text, (phrase, text)

    # Public verification: no token needed, minimal data
    v = client.get(f"/api/v1/judicial/verify/{cert_id}")
    assert v.status_code == 200 and v.json()["valid"] is True
    assert v.json()["holder"] == "Nguyễn V. A." and PID not in v.text and "17/05/1990" not in v.text
    page = client.get(f"/tra-cuu-phieu/{cert_id}")
    assert page.status_code == 200 and "Phiếu hợp lệ" in page.text
    assert client.get("/api/v1/judicial/verify/00000000-0000-0000-0000-000000000000").status_code == 404

    # Every look-up audited: pre-fill by the citizen, registry and record checks by the system,
    # reads of the application/certificate by the citizen, the public verification.
    who = [(a.actor_type, a.action, a.resource) for a in _audits(subject_id=PID)]
    for expected in [("citizen", "read", "population.citizen"), ("system", "read", "population.citizen"),
                     ("system", "read", "judicial.record"), ("system", "create", "judicial.certificate"),
                     ("citizen", "read", "judicial.application"), ("citizen", "read", "judicial.certificate"),
                     ("system", "read", "judicial.certificate")]:
        assert expected in who, (expected, who)
    assert "judicial.certificate.issued" in _topics()


def test_no2_lists_expunged_conviction_and_is_issued_automatically(client, bearer, system_reads_registry):
    register("001086000777", "1986-04-02", given="Bình", middle="Thị", sex="M")
    body = conviction_body("001086000777", full_name="Nguyễn Thị Bình", birth_date="1986-04-02",
                           judgment_number="12/2015/HS-ST", judgment_date="2015-06-10", legal_effect_date="2015-06-25",
                           penalty_type="fine", term_months=None, fine_vnd=10_000_000, has_other_obligations=False,
                           principal_completed_on="2015-09-01", enforcement_status="Đã chấp hành xong hình phạt tiền",
                           offences=[{"name": "Đánh bạc", "article": 321, "clause": 1, "severity": "less_serious",
                                      "intentional": True}])
    assert client.post("/api/v1/judicial/feed/convictions", json=body, headers=bearer(COURT)).status_code == 201
    h = bearer(citizen("001086000777"))
    r1 = client.post("/api/v1/judicial/applications", json=APPLY, headers=h)
    r2 = client.post("/api/v1/judicial/applications", json={**APPLY, "kind": 2, "purpose": "Để biết thông tin của bản thân"},
                     headers=h)
    one = client.get(f"/api/v1/judicial/applications/{r1.json()['id']}", headers=h).json()
    two = client.get(f"/api/v1/judicial/applications/{r2.json()['id']}", headers=h).json()
    assert one["status"] == two["status"] == "issued"
    assert one["record_number"].endswith("/00001") and two["record_number"].endswith("/00002")
    with session_factory()() as s:
        c1 = s.get(m.Certificate, one["certificate_id"]).content
        c2 = s.get(m.Certificate, two["certificate_id"]).content
    assert c1["criminal_status"] == "Không có án tích" and c1["convictions"] == []
    assert len(c2["convictions"]) == 1 and c2["convictions"][0]["judgment_number"] == "12/2015/HS-ST"
    assert c2["convictions"][0]["expungement_status"].startswith("Đã được xóa án tích")
    text = _words(pdf_text(client.get(f"/api/v1/judicial/certificates/{two['certificate_id']}/pdf", headers=h).content))
    assert "PHIẾU LÝ LỊCH TƯ PHÁP SỐ 2" in text and "Đánh bạc (khoản 1 Điều 321 Bộ luật Hình sự)" in text


def test_conviction_goes_to_review_then_approve(client, bearer, system_reads_registry):
    register(PID, "1990-05-17")
    client.post("/api/v1/judicial/feed/convictions", json=conviction_body(PID), headers=bearer(COURT))
    h = bearer(citizen(PID))
    app_id = client.post("/api/v1/judicial/applications", json=APPLY, headers=h).json()["id"]
    body = client.get(f"/api/v1/judicial/applications/{app_id}", headers=h).json()
    assert body["status"] == "review"
    assert any("Có án tích chưa được xóa" in r and "125/2024/HS-ST" in r for r in body["review_reasons"])
    # Law 28/2009: verification of expungement -> extended deadline (15 working days) if the date falls under it;
    # under Law 107/2025 the extended period is unknown and the standard one stays (documented in sla_basis).
    assert body["sla_basis"]

    hn, hcm = officer(), officer(HCM, "079082000033")
    # Officer of another province: not in their queue, cannot open or decide
    assert client.get("/api/v1/judicial/review-queue", headers=bearer(hcm)).json() == []
    assert client.get(f"/api/v1/judicial/applications/{app_id}", headers=bearer(hcm)).status_code == 403
    r = client.post(f"/api/v1/judicial/applications/{app_id}/decision", json={"approve": True, "reason": "Đủ điều kiện cấp"},
                    headers=bearer(hcm))
    assert r.status_code == 403
    assert client.get(f"/can-bo/ly-lich-tu-phap/{app_id}", headers=bearer(hcm)).status_code == 403
    # The applicant cannot decide; reason is required
    assert client.post(f"/api/v1/judicial/applications/{app_id}/decision", json={"approve": True, "reason": "tự duyệt"},
                       headers=h).status_code == 403
    assert client.post(f"/api/v1/judicial/applications/{app_id}/decision", json={"approve": True, "reason": ""},
                       headers=bearer(hn)).status_code == 422

    queue = client.get("/api/v1/judicial/review-queue", headers=bearer(hn)).json()
    assert [a["id"] for a in queue] == [app_id]
    page = client.get("/can-bo/ly-lich-tu-phap", headers=bearer(hn))
    assert page.status_code == 200 and "Nguyễn Văn An" in page.text and "ngày làm việc" in page.text
    case = client.get(f"/can-bo/ly-lich-tu-phap/{app_id}", headers=bearer(hn))
    assert case.status_code == 200 and "125/2024/HS-ST" in case.text and "Chưa được xóa" in case.text

    r = client.post(f"/api/v1/judicial/applications/{app_id}/decision",
                    json={"approve": True, "reason": "Đã xác minh, cấp Phiếu ghi án tích"}, headers=bearer(hn))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "issued"
    assert [e["to_status"] for e in out["events"]] == ["submitted", "checking", "review", "approved", "issued"]
    with session_factory()() as s:
        content = s.get(m.Certificate, out["certificate_id"]).content
    assert content["criminal_status"] == "Có án tích" and content["convictions"][0]["offences"] == ["Trộm cắp tài sản"]
    # Decided: a second decision is a conflict
    assert client.post(f"/api/v1/judicial/applications/{app_id}/decision",
                       json={"approve": False, "reason": "Đổi ý kiến"}, headers=bearer(hn)).status_code == 409
    officer_reads = [(a.action, a.resource, a.purpose) for a in _audits(actor_id=hn.subject)]
    assert ("search", "judicial.application", "xem hàng đợi hồ sơ cấp Phiếu lý lịch tư pháp") in officer_reads
    assert ("read", "judicial.record", "xác minh hồ sơ cấp Phiếu lý lịch tư pháp") in officer_reads
    assert ("update", "judicial.application", "xét duyệt hồ sơ cấp Phiếu lý lịch tư pháp") in officer_reads


def test_reject_with_reason_and_citizen_status_page(client, bearer, system_reads_registry):
    register(PID, "1990-05-17")
    client.post("/api/v1/judicial/feed/convictions", json=conviction_body(PID, verification_note="Thiếu bản sao bản án"),
                headers=bearer(COURT))
    h = bearer(citizen(PID))
    app_id = client.post("/api/v1/judicial/applications", json=APPLY, headers=h).json()["id"]
    r = client.post(f"/can-bo/ly-lich-tu-phap/{app_id}/quyet-dinh", data={"decision": "reject", "reason": "Người yêu cầu đề nghị dừng"},
                    headers=bearer(officer()), follow_redirects=False)
    assert r.status_code == 303
    body = client.get(f"/api/v1/judicial/applications/{app_id}", headers=h).json()
    assert body["status"] == "rejected" and body["decision_reason"] == "Người yêu cầu đề nghị dừng"
    assert body["certificate_id"] is None
    page = client.get(f"/ly-lich-tu-phap/ho-so/{app_id}", headers=h)
    assert page.status_code == 200 and "Từ chối cấp Phiếu" in page.text and "Người yêu cầu đề nghị dừng" in page.text
    mine = client.get("/ly-lich-tu-phap", headers=h)
    assert mine.status_code == 200 and "Từ chối cấp Phiếu" in mine.text
    # Someone else's application: refused
    register("001091000888", "1991-01-01", given="Cường")
    assert client.get(f"/api/v1/judicial/applications/{app_id}", headers=bearer(citizen("001091000888"))).status_code == 403
    assert "judicial.application.rejected" in _topics()


def test_revocation_shows_on_verification(client, bearer, system_reads_registry):
    register(PID, "1990-05-17")
    h = bearer(citizen(PID))
    app_id = client.post("/api/v1/judicial/applications", json=APPLY, headers=h).json()["id"]
    cert_id = client.get(f"/api/v1/judicial/applications/{app_id}", headers=h).json()["certificate_id"]
    assert client.post(f"/api/v1/judicial/certificates/{cert_id}/revoke", json={"reason": "Cấp nhầm"},
                       headers=h).status_code == 403
    assert client.post(f"/api/v1/judicial/certificates/{cert_id}/revoke", json={"reason": "Phát hiện bản án chưa cập nhật"},
                       headers=bearer(officer(HCM, "079082000033"))).status_code == 403
    r = client.post(f"/api/v1/judicial/certificates/{cert_id}/revoke", json={"reason": "Phát hiện bản án chưa cập nhật"},
                    headers=bearer(officer()))
    assert r.status_code == 200, r.text
    assert client.post(f"/api/v1/judicial/certificates/{cert_id}/revoke", json={"reason": "Thu hồi lần hai"},
                       headers=bearer(officer())).status_code == 409
    v = client.get(f"/api/v1/judicial/verify/{cert_id}").json()
    assert v["valid"] is False and v["status"] == "revoked" and v["revoked_on"]
    page = client.get(f"/tra-cuu-phieu/{cert_id}")
    assert "đã bị thu hồi" in page.text
    text = _words(pdf_text(client.get(f"/api/v1/judicial/certificates/{cert_id}/pdf", headers=h).content))
    assert "ĐÃ BỊ THU HỒI" in text
    assert "judicial.certificate.revoked" in _topics()


def test_level1_account_refused(client, bearer):
    register(PID, "1990-05-17")
    r = client.post("/api/v1/judicial/applications", json=APPLY, headers=bearer(citizen(PID, level=1)))
    assert r.status_code == 403 and "mức 2" in r.text
    assert client.get("/ly-lich-tu-phap/yeu-cau", headers=bearer(citizen(PID, level=1))).status_code == 403
    assert client.post("/api/v1/judicial/applications", json=APPLY, headers=bearer(officer())).status_code == 403
    with session_factory()() as s:
        assert s.scalars(select(m.Application)).all() == []


def test_application_validation(client, bearer):
    register(PID, "1990-05-17")
    h = bearer(citizen(PID))
    for body, message in [
        ({**APPLY, "kind": 3}, "kind"),
        ({**APPLY, "purpose": "x"}, "purpose"),
        ({**APPLY, "delivery_electronic": False}, "hình thức nhận"),
        ({**APPLY, "delivery_postal": True}, "địa chỉ"),
        ({**APPLY, "fee_category": "vip"}, "fee_category"),
        ({**APPLY, "fee_category": "child"}, "dưới 16 tuổi"),
        ({**APPLY, "fee_category": "elderly"}, "người cao tuổi"),
        ({**APPLY, "kind": 2, "include_ban_info": True}, "luôn ghi"),
    ]:
        r = client.post("/api/v1/judicial/applications", json=body, headers=h)
        assert r.status_code == 422 and message in r.text, (body, r.text)
    # Not in the registry
    r = client.post("/api/v1/judicial/applications", json=APPLY, headers=bearer(citizen("001095000999")))
    assert r.status_code == 404


def test_under_16_refused_from_1_july_2026(db_url):
    register("001211000123", "2011-03-01", given="Minh")
    me = citizen("001211000123", name="Nguyễn Văn Minh")
    data = schemas.ApplicationIn(**APPLY)
    with unit_of_work() as s:
        with pytest.raises(DomainError, match="từ đủ 16 tuổi"):
            service.submit(s, me, data, now=datetime(2026, 8, 1, 3, tzinfo=UTC))
    with unit_of_work() as s:  # the same 15-year-old under Law 28/2009 (before 01/07/2026) may apply
        app = service.submit(s, me, data, now=datetime(2026, 6, 15, 3, tzinfo=UTC))
        assert app.regime == "law_28_2009_mps" and app.sla_working_days == 10


def test_fee_from_configured_schedule_and_exemption_needs_review(db_url, monkeypatch, tmp_path, system_reads_registry):
    fees = tmp_path / "fees.json"
    fees.write_text(json.dumps([{"name": "Thông tư 16/2025/TT-BTC (thử nghiệm)", "valid_from": "2025-03-01",
                                 "standard_vnd": 200000, "reduced_vnd": 100000, "reduced_categories": ["student"],
                                 "exempt_categories": ["disabled", "child"]}]))
    monkeypatch.setenv("LIENTHONG_LLTP_FEES", str(fees))
    register(PID, "1990-05-17")
    me = citizen(PID)
    now = datetime(2026, 11, 24, 2, tzinfo=UTC)
    with unit_of_work() as s:
        std = service.submit(s, me, schemas.ApplicationIn(**APPLY), now=now)
        stu = service.submit(s, me, schemas.ApplicationIn(**APPLY, fee_category="student"), now=now)
        assert (std.fee_vnd, stu.fee_vnd) == (200000, 100000)
        ids = std.id, stu.id
    with unit_of_work() as s:
        assert service.process_pending(s, now)["issued"] == 1
    with unit_of_work() as s:
        std, stu = (s.get(m.Application, i) for i in ids)
        assert std.status == "issued"
        assert stu.status == "review" and any("miễn, giảm phí" in r for r in stu.review_reasons)


def test_system_refused_by_policy_goes_to_review(db_url, system_refused):
    register(PID, "1990-05-17")
    with unit_of_work() as s:
        app = service.submit(s, citizen(PID), schemas.ApplicationIn(**APPLY))
        app_id = app.id
    with unit_of_work() as s:
        assert service.process_application(s, app_id) == "review"
        assert service.process_application(s, app_id) is None  # already taken
    with unit_of_work() as s:
        reasons = s.get(m.Application, app_id).review_reasons
    assert any("không được phép đọc Cơ sở dữ liệu quốc gia về dân cư" in r for r in reasons)


def test_overdue_review_is_escalated_once(db_url, system_reads_registry, client, bearer):
    register(PID, "1990-05-17")
    client.post("/api/v1/judicial/feed/convictions", json=conviction_body(PID), headers=bearer(COURT))
    with unit_of_work() as s:
        app = service.submit(s, citizen(PID), schemas.ApplicationIn(**APPLY), now=datetime(2026, 11, 2, 2, tzinfo=UTC))
        app_id = app.id
    with unit_of_work() as s:
        assert service.process_application(s, app_id, now=datetime(2026, 11, 2, 2, 1, tzinfo=UTC)) == "review"
    with unit_of_work() as s:
        due = s.get(m.Application, app_id).due_at
        assert service.escalate_overdue(s, datetime(2026, 11, 3, tzinfo=UTC)) == 0
    later = datetime(2026, 12, 31, tzinfo=UTC)
    with unit_of_work() as s:
        assert service.escalate_overdue(s, later) == 1
        assert service.escalate_overdue(s, later) == 0
    with unit_of_work() as s:
        app = s.get(m.Application, app_id)
        assert app.overdue and app.escalated_at is not None and due.year == 2026
    assert _topics().count("judicial.application.overdue") == 1
    page = client.get("/can-bo/ly-lich-tu-phap", headers=bearer(officer()))
    assert "Quá hạn" in page.text and "đã báo cáo lãnh đạo" in page.text


def test_enforcement_completion_makes_later_application_clean(client, bearer, system_reads_registry):
    """Record changes flow into the automatic check: fine paid in 05/2024 -> expunged after a year -> auto-issue."""
    register(PID, "1990-05-17")
    body = conviction_body(PID, penalty_type="fine", term_months=None, fine_vnd=5_000_000, judgment_number="7/2024/HS-ST",
                           judgment_date="2024-02-01", legal_effect_date="2024-02-16", has_other_obligations=False,
                           enforcement_status="Chưa thi hành")
    client.post("/api/v1/judicial/feed/convictions", json=body, headers=bearer(COURT))
    h = bearer(citizen(PID))
    first = client.post("/api/v1/judicial/applications", json=APPLY, headers=h).json()["id"]
    assert client.get(f"/api/v1/judicial/applications/{first}", headers=h).json()["status"] == "review"
    upd = {"conviction": {"court_code": "TAND01", "judgment_number": "7/2024/HS-ST", "personal_id": PID},
           "agency_code": "THADS01", "document_number": "XN-3/2024", "kind": "principal_completed",
           "occurred_on": "2024-05-01", "status_text": "Đã nộp đủ tiền phạt"}
    assert client.post("/api/v1/judicial/feed/enforcement", json=upd, headers=bearer(ENFORCER)).status_code == 201
    second = client.post("/api/v1/judicial/applications", json=APPLY, headers=h).json()["id"]
    assert client.get(f"/api/v1/judicial/applications/{second}", headers=h).json()["status"] == "issued"


def test_bus_handler_processes_submitted_application(db_url, system_reads_registry):
    from lienthong.events.relay import relay_once

    register(PID, "1990-05-17")
    with unit_of_work() as s:
        app_id = service.submit(s, citizen(PID), schemas.ApplicationIn(**APPLY)).id
    relay_once()
    with unit_of_work() as s:
        assert s.get(m.Application, app_id).status == "issued"


def test_web_form_prefilled_and_submits(client, bearer, system_reads_registry):
    register(PID, "1990-05-17")
    h = bearer(citizen(PID))
    page = client.get("/ly-lich-tu-phap/yeu-cau", headers=h)
    assert page.status_code == 200
    assert "Nguyễn Văn An" in page.text and "17/05/1990" in page.text and "Thành phố Hà Nội" in page.text
    r = client.post("/ly-lich-tu-phap/yeu-cau", data={"kind": "1", "purpose": "Du học", "delivery_electronic": "true"},
                    headers=h, follow_redirects=False)
    assert r.status_code == 303, r.text
    status = client.get(r.headers["location"], headers=h)
    assert status.status_code == 200 and "Đã cấp Phiếu" in status.text and "Tải Phiếu (PDF)" in status.text
    bad = client.post("/ly-lich-tu-phap/yeu-cau", data={"kind": "1", "purpose": "Du học", "delivery_postal": "true"},
                      headers=h, follow_redirects=False)
    assert bad.status_code == 422 and "địa chỉ nhận" in bad.text and "Nguyễn Văn An" in bad.text
