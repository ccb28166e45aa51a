"""The notification inbox on SQLite and PostgreSQL: events from the real outbox, delivered by the
relay, become Vietnamese messages for the right citizen, once; the citizen reads and marks them."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update

from lienthong.db import unit_of_work
from lienthong.events.models import OutboxDelivery, OutboxEvent
from lienthong.events.outbox import record_event
from lienthong.notifications import handlers, service
from lienthong.notifications.models import Notification
from lienthong.notifications.tests.helpers import (
    CLINIC, FAR, HOSPITAL, citizen, facility, officer, register, seed_facilities,
)

PID = "001090012345"  # Nguyễn Văn An, 17/05/1990
OTHER = "001091000888"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
APPLY = {"kind": 1, "purpose": "Bổ sung hồ sơ xin việc làm", "delivery_electronic": True}


def _today() -> str:
    return datetime.now(VN).strftime("%d/%m/%Y")


def _rows(pid: str | None = None) -> list[Notification]:
    with unit_of_work() as s:
        stmt = select(Notification).order_by(Notification.id)
        if pid:
            stmt = stmt.where(Notification.personal_id == pid)
        rows = list(s.scalars(stmt))
        s.expunge_all()
        return rows


def _by_topic(pid: str) -> dict[str, Notification]:
    out: dict[str, Notification] = {}
    for n in _rows(pid):
        assert n.topic not in out, f"two notifications for {n.topic}"
        out[n.topic] = n
    return out


def _add_visit(pid: str | None, code: str, ma_lk: str, admitted_at: datetime, *, referrals=(), appointments=()) -> int:
    from lienthong.health.models import Appointment, Referral, Visit

    with unit_of_work() as s:
        v = Visit(facility_code=code, ma_lk=ma_lk, personal_id=pid, version=1,
                  content_hash=hashlib.sha256(ma_lk.encode()).hexdigest(), source="xml130",
                  patient_name="Nguyễn Văn An", admitted_at=admitted_at)
        s.add(v)
        s.flush()
        for number, to in referrals:
            s.add(Referral(visit_id=v.id, personal_id=pid, number=number, from_facility=code, to_facility=to,
                           reason_code="1", diagnosis="Theo dõi tăng huyết áp", issued_at=admitted_at))
        for number, at in appointments:
            s.add(Appointment(visit_id=v.id, personal_id=pid, number=number, facility_code=code, appointment_at=at,
                              diagnosis="Tái khám"))
        return v.id


# --- judicial: driven through the real API ------------------------------------------------------------------------


def test_judicial_application_events_reach_the_applicant(client, bearer, relay):
    from lienthong.judicial.tests.helpers import COURT, conviction_body

    register(PID, "1990-05-17")
    register(OTHER, "1991-01-01", given="Cường")
    h = bearer(citizen(PID))
    # Clean record: issued automatically, then revoked by an officer.
    app_id = client.post("/api/v1/judicial/applications", json=APPLY, headers=h).json()["id"]
    body = client.get(f"/api/v1/judicial/applications/{app_id}", headers=h).json()
    assert body["status"] == "issued", body
    cert_id = body["certificate_id"]
    r = client.post(f"/api/v1/judicial/certificates/{cert_id}/revoke", json={"reason": "Phát hiện bản án chưa cập nhật"},
                    headers=bearer(officer()))
    assert r.status_code == 200, r.text
    # A conviction on file: review, then rejected.
    client.post("/api/v1/judicial/feed/convictions", json=conviction_body(OTHER, full_name="Nguyễn Văn Cường",
                                                                       birth_date="1991-01-01"), headers=bearer(COURT))
    h2 = bearer(citizen(OTHER))
    other_app = client.post("/api/v1/judicial/applications", json=APPLY, headers=h2).json()["id"]
    assert client.get(f"/api/v1/judicial/applications/{other_app}", headers=h2).json()["status"] == "review"
    r = client.post(f"/api/v1/judicial/applications/{other_app}/decision",
                    json={"approve": False, "reason": "Người yêu cầu đề nghị dừng"}, headers=bearer(officer()))
    assert r.status_code == 200, r.text

    assert _rows() == []  # nothing until the relay delivers
    relay()
    mine = _by_topic(PID)
    assert set(mine) == {"judicial.application.submitted", "judicial.certificate.issued", "judicial.certificate.revoked"}
    link = f"/ly-lich-tu-phap/ho-so/{app_id}"
    assert all(n.link == link for n in mine.values())
    sub = mine["judicial.application.submitted"]
    assert sub.title == "Đã tiếp nhận yêu cầu cấp Phiếu lý lịch tư pháp số 1"
    assert "mục đích: Bổ sung hồ sơ xin việc làm" in sub.body and f"được tiếp nhận ngày {_today()}" in sub.body
    assert re.search(r"Hạn trả kết quả: \d\d/\d\d/\d{4}\.", sub.body)
    issued = mine["judicial.certificate.issued"]
    assert issued.title == "Đã cấp Phiếu lý lịch tư pháp số 1" and f"cấp ngày {_today()}" in issued.body
    revoked = mine["judicial.certificate.revoked"]
    assert "đã bị thu hồi" in revoked.title
    assert "Lý do: Phát hiện bản án chưa cập nhật. Phiếu này không còn giá trị sử dụng." in revoked.body

    theirs = _by_topic(OTHER)
    assert set(theirs) == {"judicial.application.submitted", "judicial.application.review",
                           "judicial.application.rejected"}
    assert theirs["judicial.application.review"].title == "Yêu cầu cấp Phiếu lý lịch tư pháp số 1 đang được xem xét"
    assert re.search(r"Hạn giải quyết: \d\d/\d\d/\d{4}\.", theirs["judicial.application.review"].body)
    rej = theirs["judicial.application.rejected"]
    assert rej.title == "Yêu cầu cấp Phiếu lý lịch tư pháp số 1 bị từ chối"
    assert rej.body.endswith(f"đã bị từ chối ngày {_today()}. Lý do: Người yêu cầu đề nghị dừng.")
    assert rej.link == f"/ly-lich-tu-phap/ho-so/{other_app}"

    # The API shows each citizen only their own.
    page = client.get("/api/v1/me/notifications", headers=h).json()
    assert {i["topic"] for i in page["items"]} == set(mine) and page["unread"] == 3
    assert {i["topic"] for i in client.get("/api/v1/me/notifications", headers=h2).json()["items"]} == set(theirs)


# --- health, civil: real producers where the context has one, otherwise the producer's payload ---------------------


def test_health_and_civil_events_become_vietnamese_messages(db_url, relay):
    from lienthong.health import referrals
    from lienthong.health.reminders import send_appointment_reminders

    seed_facilities()
    admitted = datetime(2026, 11, 19, 2, 0, tzinfo=UTC)  # 09:00 19/11/2026 in Vietnam
    visit_id = _add_visit(PID, CLINIC, "LK001", admitted, referrals=[("CT-01", HOSPITAL), ("CT-02", FAR)],
                          appointments=[("H-01", datetime(2026, 11, 25, 1, 30, tzinfo=UTC))])
    with unit_of_work() as s:
        ids = {r.number: r.id for r in s.scalars(select(referrals.Referral))}
        decided = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
        referrals.decide(s, facility(HOSPITAL), ids["CT-01"], accept=True, now=decided)
        referrals.decide(s, facility(FAR), ids["CT-02"], accept=False, reason="Không đủ chuyên khoa", now=decided)
        # 20:00 24/11/2026 Vietnam time: the appointment at 08:30 25/11 is tomorrow.
        assert send_appointment_reminders(s, datetime(2026, 11, 24, 13, 0, tzinfo=UTC)) == 1
        # As the ingest service writes them (bulk path, with the visit):
        record_event(s, "health.visit.accepted", {"visit_id": visit_id, "personal_id": PID, "facility_code": CLINIC,
                                                  "ma_lk": "LK001", "version": 1})
        record_event(s, "health.certificate.issued", {
            "visit_id": visit_id, "personal_id": PID, "facility_code": CLINIC, "ma_lk": "LK001", "certificate_id": 1,
            "kind": "sick_leave", "number": "NV-77", "issued_at": admitted.isoformat()})
        record_event(s, "health.certificate.issued", {  # a death certificate is not sent to the deceased
            "visit_id": visit_id, "personal_id": OTHER, "facility_code": CLINIC, "ma_lk": "LK009", "certificate_id": 2,
            "kind": "death", "number": "BT-1", "issued_at": admitted.isoformat()})
        record_event(s, "health.visit.accepted", {"visit_id": visit_id, "personal_id": None, "facility_code": CLINIC,
                                                  "ma_lk": "LK002", "version": 1})  # anonymous visit: nobody to tell
        record_event(s, "health.emergency_access", {
            "share_id": "x", "personal_id": PID, "facility_code": FAR, "client_id": f"his-{FAR}",
            "reason": "Bệnh nhân hôn mê, không liên lạc được người nhà", "at": "2026-11-21T17:05:00+00:00"})
        record_event(s, "civil.notification", {
            "case_id": "3f2a9c1e-0000-4000-8000-000000000001", "procedure": "birth", "step": "hotich",
            "recipient_personal_id": OTHER, "text": "Hồ sơ liên thông khai sinh số 3F2A9C1E: đã đăng ký khai sinh.",
            "at": "2026-11-21T01:00:00+00:00"})
    relay()

    mine = _by_topic(PID)
    assert set(mine) == {"health.referral.accepted", "health.referral.rejected", "health.appointment.reminder",
                         "health.visit.accepted", "health.certificate.issued", "health.emergency_access"}
    acc = mine["health.referral.accepted"]
    assert acc.title == "Giấy chuyển tuyến đã được tiếp nhận" and acc.link == "/so-suc-khoe"
    assert acc.body == ("Bệnh viện Bạch Mai đã tiếp nhận giấy chuyển tuyến số CT-01 của bạn "
                        "(do Trạm y tế phường Tràng Tiền cấp) ngày 20/11/2026.")
    rej = mine["health.referral.rejected"]
    assert rej.title == "Giấy chuyển tuyến bị từ chối"
    assert "Bệnh viện Chợ Rẫy đã từ chối" in rej.body and "Lý do: Không đủ chuyên khoa." in rej.body
    rem = mine["health.appointment.reminder"]
    assert rem.title == "Nhắc lịch tái khám"
    assert rem.body.startswith("Bạn có lịch tái khám lúc 08:30 ngày 25/11/2026 tại Trạm y tế phường Tràng Tiền "
                               "(giấy hẹn số H-01).")
    visit = mine["health.visit.accepted"]
    assert visit.title == "Có lượt khám mới tại Trạm y tế phường Tràng Tiền"
    assert visit.body == ("Lượt khám ngày 19/11/2026 tại Trạm y tế phường Tràng Tiền đã được cập nhật "
                          "vào sổ sức khỏe điện tử của bạn.")
    cert = mine["health.certificate.issued"]
    assert cert.title == "Đã cấp giấy chứng nhận nghỉ việc hưởng BHXH" and "số NV-77 ngày 19/11/2026" in cert.body
    em = mine["health.emergency_access"]
    assert em.title == "Truy cập khẩn cấp sổ sức khỏe" and em.link == "/nhat-ky"
    assert em.body.startswith("Bệnh viện Chợ Rẫy đã xem tóm tắt sổ sức khỏe của bạn theo thủ tục cấp cứu")
    assert "lúc 00:05 22/11/2026" in em.body and "Lý do được ghi nhận: Bệnh nhân hôn mê" in em.body

    theirs = _by_topic(OTHER)
    assert set(theirs) == {"civil.notification"}  # not the death certificate
    civ = theirs["civil.notification"]
    assert civ.title == "Liên thông khai sinh" and civ.link == "/thu-tuc/3f2a9c1e-0000-4000-8000-000000000001"
    assert civ.body == "Hồ sơ liên thông khai sinh số 3F2A9C1E: đã đăng ký khai sinh."
    assert len(_rows()) == 7


def test_corrected_visit_says_it_was_updated(db_url, relay):
    seed_facilities()
    visit_id = _add_visit(PID, HOSPITAL, "LK005", datetime(2026, 10, 1, 18, 0, tzinfo=UTC))  # 01:00 02/10 VN
    with unit_of_work() as s:
        record_event(s, "health.visit.accepted", {"visit_id": visit_id, "personal_id": PID, "facility_code": HOSPITAL,
                                                  "ma_lk": "LK005", "version": 2})
    relay()
    (n,) = _rows(PID)
    assert n.title == "Cập nhật lượt khám tại Bệnh viện Bạch Mai"
    assert "bản điều chỉnh (lần 2) dữ liệu lượt khám ngày 02/10/2026" in n.body


def test_redelivery_does_not_duplicate(db_url, relay):
    seed_facilities()
    with unit_of_work() as s:
        ev = record_event(s, "health.emergency_access", {
            "share_id": "y", "personal_id": PID, "facility_code": HOSPITAL, "client_id": "his-01001",
            "reason": "Cấp cứu tai nạn giao thông", "at": "2026-11-21T01:00:00+00:00"})
        event_id = ev.event_id
    assert relay() == 1
    assert relay() == 0
    assert len(_rows(PID)) == 1
    # The relay forgets it delivered (e.g. a restored backup): the handler runs again, the inbox is unchanged.
    with unit_of_work() as s:
        deleted = s.execute(delete(OutboxDelivery).where(OutboxDelivery.event_id == event_id)).rowcount
        assert deleted == 1
        s.execute(update(OutboxEvent).where(OutboxEvent.event_id == event_id).values(published_at=None))
    assert relay() == 1
    with unit_of_work() as s:
        assert s.scalar(select(OutboxDelivery.delivered_at).where(OutboxDelivery.event_id == event_id)) is not None
    assert len(_rows(PID)) == 1
    # Calling the handler directly with the same envelope: still one.
    with unit_of_work() as s:
        env = {"event_id": event_id, "topic": "health.emergency_access", "occurred_at": "2026-11-21T01:00:00+00:00",
               "payload": {"personal_id": PID, "facility_code": HOSPITAL, "reason": "Cấp cứu tai nạn giao thông",
                           "at": "2026-11-21T01:00:00+00:00"}}
        handlers.on_emergency_access(s, env)
        handlers.on_emergency_access(s, env)
    assert len(_rows(PID)) == 1


# --- API and page --------------------------------------------------------------------------------------------------


def _seed_inbox(n_mine: int = 3) -> list[int]:
    """``n_mine`` notifications for PID (oldest first) and one for OTHER; returns PID's ids."""
    base = datetime(2026, 11, 3, 2, 15, tzinfo=UTC)  # 09:15 03/11/2026 in Vietnam
    with unit_of_work() as s:
        for i in range(n_mine):
            service.deliver(s, {"event_id": f"00000000-0000-4000-8000-{i:012d}", "topic": "civil.notification",
                                "occurred_at": (base + timedelta(days=i)).isoformat()}, PID,
                            service.Message(title=f"Thông báo số {i + 1}", body=f"Nội dung thông báo {i + 1}",
                                            link="/thu-tuc"))
        service.deliver(s, {"event_id": "00000000-0000-4000-8000-999999999999", "topic": "civil.notification",
                            "occurred_at": base.isoformat()}, OTHER,
                        service.Message(title="Thông báo của người khác", body="Không được thấy", link="/thu-tuc"))
    return [n.id for n in _rows(PID)]


def test_api_lists_only_own_and_marks_read(client, bearer):
    ids = _seed_inbox(3)
    other_id = _rows(OTHER)[0].id
    h = bearer(citizen(PID))

    assert client.get("/api/v1/me/notifications").status_code == 401
    assert client.get("/api/v1/me/notifications", headers=bearer(officer())).status_code == 403
    assert client.get("/api/v1/me/notifications", headers=bearer(facility(HOSPITAL))).status_code == 403

    page = client.get("/api/v1/me/notifications", headers=h).json()
    assert [i["id"] for i in page["items"]] == ids[::-1] and page["unread"] == 3 and page["next_before"] is None
    assert page["items"][0]["title"] == "Thông báo số 3" and page["items"][0]["link"] == "/thu-tuc"
    assert page["items"][-1]["created_at"].startswith("2026-11-03T02:15:00")
    assert "Thông báo của người khác" not in str(page)

    first = client.get("/api/v1/me/notifications", params={"limit": 2}, headers=h).json()
    assert [i["id"] for i in first["items"]] == [ids[2], ids[1]] and first["next_before"] == ids[1]
    rest = client.get("/api/v1/me/notifications", params={"limit": 2, "before": ids[1]}, headers=h).json()
    assert [i["id"] for i in rest["items"]] == [ids[0]] and rest["next_before"] is None

    # Another citizen's notification cannot be marked (nor told apart from a missing one).
    r = client.post(f"/api/v1/me/notifications/{other_id}/read", headers=h)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert client.post("/api/v1/me/notifications/999999/read", headers=h).status_code == 404
    assert _rows(OTHER)[0].read_at is None

    r = client.post(f"/api/v1/me/notifications/{ids[0]}/read", headers=h)
    assert r.status_code == 200 and r.json()["read_at"] is not None
    first_read = r.json()["read_at"]
    assert client.post(f"/api/v1/me/notifications/{ids[0]}/read", headers=h).json()["read_at"] == first_read
    unread = client.get("/api/v1/me/notifications", params={"unread": "true"}, headers=h).json()
    assert [i["id"] for i in unread["items"]] == [ids[2], ids[1]] and unread["unread"] == 2
    read = client.get("/api/v1/me/notifications", params={"unread": "false"}, headers=h).json()
    assert [i["id"] for i in read["items"]] == [ids[0]]

    r = client.post("/api/v1/me/notifications/read-all", headers=h)
    assert r.status_code == 200 and r.json() == {"marked": 2, "unread": 0}
    assert client.post("/api/v1/me/notifications/read-all", headers=h).json() == {"marked": 0, "unread": 0}
    assert _rows(OTHER)[0].read_at is None  # the other citizen's inbox is untouched


def test_page_renders_and_marks_read_with_htmx(client, bearer):
    ids = _seed_inbox(2)
    h = bearer(citizen(PID))

    r = client.get("/thong-bao", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/auth/login")
    assert client.get("/thong-bao", headers=bearer(officer())).status_code == 403

    r = client.get("/thong-bao", headers=h)
    assert r.status_code == 200
    html = r.text
    assert "Thông báo của tôi" in html and "Bạn có <strong>2</strong> thông báo chưa đọc" in html
    assert "09:15 03/11/2026" in html and "09:15 04/11/2026" in html
    assert "Thông báo số 1" in html and "Thông báo của người khác" not in html
    assert f'hx-post="/thong-bao/{ids[0]}/da-doc"' in html
    assert 'href="/thong-bao"' in html and 'hx-get="/thong-bao/so-chua-doc"' in html  # menu link with badge

    badge = client.get("/thong-bao/so-chua-doc", headers=h)
    assert badge.status_code == 200 and ">2</span>" in badge.text

    r = client.post(f"/thong-bao/{ids[0]}/da-doc", headers={**h, "HX-Request": "true"})
    assert r.status_code == 200
    assert r.text.strip().startswith(f'<tr id="tb-{ids[0]}" class="read">') and "Đã đọc" in r.text
    assert re.search(r"Đã đọc \d\d:\d\d \d\d/\d\d/\d{4}", r.text)
    assert ">1</span>" in client.get("/thong-bao/so-chua-doc", headers=h).text

    only_unread = client.get("/thong-bao", params={"chua_doc": "true"}, headers=h).text
    assert "Thông báo số 2" in only_unread and "Thông báo số 1" not in only_unread

    r = client.post("/thong-bao/da-doc-tat-ca", headers=h, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/thong-bao"
    assert client.get("/thong-bao/so-chua-doc", headers=h).text == ""
    assert "Không có thông báo chưa đọc" in client.get("/thong-bao", headers=h).text

    other_id = _rows(OTHER)[0].id
    assert client.post(f"/thong-bao/{other_id}/da-doc", headers={**h, "HX-Request": "true"}).status_code == 404


def test_page_paginates(client, bearer):
    from lienthong.notifications.service import PAGE_SIZE

    _seed_inbox(PAGE_SIZE + 2)
    h = bearer(citizen(PID))
    html = client.get("/thong-bao", headers=h).text
    m = re.search(r'hx-get="/thong-bao/them\?before=(\d+)"', html)
    assert m, "no 'Xem thêm' button"
    more = client.get(f"/thong-bao/them?before={m.group(1)}", headers=h).text
    assert more.count("<tr id=\"tb-") == 2 and "Thông báo số 1<" in more and "Xem thêm" not in more
