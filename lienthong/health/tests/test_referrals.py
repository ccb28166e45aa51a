"""Referral decisions by the receiving facility, and re-examination reminders; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from test_book_fixtures import (  # noqa: F401  (hclient is a fixture)
    CLINIC, FAR, HOSPITAL, OTHER_PID, PID, add_visit, citizen, facility, hclient, seed_facilities,
)

from lienthong.audit.models import AuditEntry
from lienthong.db import unit_of_work
from lienthong.events.bus import bus
from lienthong.events.models import OutboxEvent
from lienthong.health.book import VN_TZ
from lienthong.health.models import Appointment, Referral
from lienthong.health.reminders import HANDLER_NAME, TOPIC, send_appointment_reminders


def _referral_ids():
    with unit_of_work() as s:
        return {r.number: r.id for r in s.scalars(select(Referral))}


def test_only_the_receiving_facility_decides(hclient, bearer):
    seed_facilities()
    t = datetime.now(UTC) - timedelta(days=1)
    add_visit(PID, CLINIC, "LK001", t, main_icd="I10", referrals=[("CT-01", HOSPITAL), ("CT-02", HOSPITAL)])
    add_visit(OTHER_PID, CLINIC, "LK002", t, referrals=[("CT-03", FAR)])
    ids = _referral_ids()
    hosp, far = bearer(facility(HOSPITAL)), bearer(facility(FAR))

    r = hclient.get("/api/v1/health/referrals/incoming", headers=hosp)
    assert r.status_code == 200, r.text
    inc = r.json()
    assert sorted(x["number"] for x in inc) == ["CT-01", "CT-02"]
    assert inc[0]["from_facility_name"] == "Trạm y tế phường Tràng Tiền" and inc[0]["patient_name"] == "Nguyễn Văn An"
    assert inc[0]["main_icd_name"] == "Tăng huyết áp vô căn (nguyên phát)"
    assert [x["number"] for x in hclient.get("/api/v1/health/referrals/incoming", headers=far).json()] == ["CT-03"]

    # The sending facility or any other one cannot decide; a citizen cannot either.
    for headers in (far, bearer(facility(CLINIC))):
        r = hclient.post(f"/api/v1/health/referrals/{ids['CT-01']}/accept", headers=headers)
        assert r.status_code == 403 and "cơ sở được chuyển đến" in r.json()["detail"]
    assert hclient.post(f"/api/v1/health/referrals/{ids['CT-01']}/accept", headers=bearer(citizen())).status_code == 403
    assert hclient.post("/api/v1/health/referrals/999999/accept", headers=hosp).status_code == 404

    r = hclient.post(f"/api/v1/health/referrals/{ids['CT-01']}/accept", headers=hosp)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted" and r.json()["status_name"] == "Đã tiếp nhận"
    r = hclient.post(f"/api/v1/health/referrals/{ids['CT-01']}/reject", json={"reason": "hết giường"}, headers=hosp)
    assert r.status_code == 409
    assert hclient.post(f"/api/v1/health/referrals/{ids['CT-02']}/reject", json={}, headers=hosp).status_code == 422
    r = hclient.post(f"/api/v1/health/referrals/{ids['CT-02']}/reject", json={"reason": "Không đủ chuyên khoa"},
                     headers=hosp)
    assert r.status_code == 200 and r.json()["status"] == "rejected"

    with unit_of_work() as s:
        events = {e.topic: e.payload for e in s.scalars(select(OutboxEvent))}
        decisions = list(s.scalars(select(AuditEntry).where(AuditEntry.resource == "health.referral",
                                                            AuditEntry.action == "update")))
    assert events["health.referral.accepted"]["referral_id"] == ids["CT-01"]
    assert events["health.referral.accepted"]["personal_id"] == PID
    assert events["health.referral.rejected"]["reason"] == "Không đủ chuyên khoa"
    assert {d.subject_id for d in decisions} == {PID}

    book = hclient.get("/api/v1/me/health", headers=bearer(citizen())).json()
    assert {r["number"]: r["status_name"] for r in book["referrals"]} == {"CT-01": "Đã tiếp nhận", "CT-02": "Bị từ chối"}
    assert hclient.get("/api/v1/health/referrals/incoming", headers=hosp).json() == []
    accepted = hclient.get("/api/v1/health/referrals/incoming", params={"status": "accepted"}, headers=hosp).json()
    assert [x["number"] for x in accepted] == ["CT-01"]


def test_reminders_day_before_and_idempotent(db_url):
    seed_facilities()
    # "now" = 24/11/2026 20:00 Vietnam time (13:00 UTC): tomorrow is 25/11 in Vietnam time.
    now = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    add_visit(PID, HOSPITAL, "LK001", now - timedelta(days=20), appointments=[
        ("H-EARLY", datetime(2026, 11, 24, 17, 30, tzinfo=UTC)),  # 25/11 00:30 VN: tomorrow
        ("H-LATE", datetime(2026, 11, 25, 16, 59, tzinfo=UTC)),  # 25/11 23:59 VN: tomorrow
        ("H-TODAY", datetime(2026, 11, 24, 16, 0, tzinfo=UTC)),  # 24/11 23:00 VN: today
        ("H-AFTER", datetime(2026, 11, 25, 17, 0, tzinfo=UTC)),  # 26/11 00:00 VN: the day after
    ])
    add_visit(OTHER_PID, CLINIC, "LK002", now - timedelta(days=3), appointments=[
        ("H-OTHER", datetime(2026, 11, 25, 2, 0, tzinfo=UTC))])
    with unit_of_work() as s:
        assert send_appointment_reminders(s, now) == 3
    with unit_of_work() as s:
        assert send_appointment_reminders(s, now) == 0
        assert send_appointment_reminders(s, now + timedelta(hours=2)) == 0  # still "tomorrow" = 25/11
    with unit_of_work() as s:
        events = [e.payload for e in s.scalars(select(OutboxEvent).where(OutboxEvent.topic == TOPIC))]
        reminded = {a.number for a in s.scalars(select(Appointment).where(Appointment.reminded_at.is_not(None)))}
    assert sorted(e["number"] for e in events) == ["H-EARLY", "H-LATE", "H-OTHER"]
    assert reminded == {"H-EARLY", "H-LATE", "H-OTHER"}
    early = next(e for e in events if e["number"] == "H-EARLY")
    assert early["appointment_date"] == "25/11/2026" and early["appointment_time"] == "00:30"
    assert early["facility_name"] == "Bệnh viện Bạch Mai" and early["personal_id"] == PID
    # The next day's run picks up the day after.
    with unit_of_work() as s:
        assert send_appointment_reminders(s, now + timedelta(days=1)) == 1


def test_reminder_handler_is_registered_and_scoped(db_url):
    assert any(s.name == HANDLER_NAME for s in bus.handlers_for("health.appointment.created"))
    seed_facilities()
    vn_tomorrow = datetime.now(VN_TZ).date() + timedelta(days=1)
    tomorrow = datetime(vn_tomorrow.year, vn_tomorrow.month, vn_tomorrow.day, 12, 0, tzinfo=VN_TZ).astimezone(UTC)
    add_visit(PID, HOSPITAL, "LK001", datetime.now(UTC), appointments=[("H-1", tomorrow)])
    add_visit(OTHER_PID, HOSPITAL, "LK002", datetime.now(UTC), appointments=[("H-2", tomorrow)])
    sub = next(s for s in bus.handlers_for("health.appointment.created") if s.name == HANDLER_NAME)
    with unit_of_work() as s:
        sub.handler(s, {"event_id": "x", "topic": "health.appointment.created", "payload": {"personal_id": PID}})
    with unit_of_work() as s:
        events = [e.payload["personal_id"] for e in s.scalars(select(OutboxEvent).where(OutboxEvent.topic == TOPIC))]
    assert events == [PID]  # only the citizen named by the event
