"""Re-examination reminders: ``health.appointment.reminder`` the day before an appointment.

:func:`send_appointment_reminders` (run daily, e.g. ``lienthong health remind`` from cron) finds
appointments falling on the next calendar day in Vietnam time that were not reminded yet, emits one
event each and sets ``reminded_at`` in the same transaction, so running it again (or concurrently:
rows are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL) sends nothing twice. A bus handler
on ``health.appointment.created`` covers appointments made for tomorrow after the daily run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.db import aware
from lienthong.events.bus import bus
from lienthong.events.outbox import record_event
from lienthong.health.book import VN_TZ, facility_names, vn_day_bounds
from lienthong.health.models import Appointment
from lienthong.web.dates import vndate, vntime

TOPIC = "health.appointment.reminder"
BATCH = 1000


def send_appointment_reminders(session: Session, now: datetime | None = None, *,
                               personal_id: str | None = None, personal_ids: list[str] | None = None) -> int:
    """Emit reminders for tomorrow's (Vietnam time) appointments not yet reminded; returns how many.

    Does not commit: the caller's unit of work commits the events with the ``reminded_at`` marks.
    """
    now = aware(now) if now else datetime.now(UTC)
    tomorrow = now.astimezone(VN_TZ).date() + timedelta(days=1)
    start, end = vn_day_bounds(tomorrow)
    sent = 0
    last_id = 0
    while True:
        stmt = (select(Appointment)
                .where(Appointment.appointment_at >= start, Appointment.appointment_at < end,
                       Appointment.reminded_at.is_(None), Appointment.id > last_id)
                .order_by(Appointment.id).limit(BATCH))
        if personal_id is not None:
            stmt = stmt.where(Appointment.personal_id == personal_id)
        if personal_ids is not None:
            stmt = stmt.where(Appointment.personal_id.in_(personal_ids))
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list(session.scalars(stmt))
        if not rows:
            return sent
        names = facility_names(session, [a.facility_code for a in rows])
        for a in rows:
            at = a.appointment_at
            a.reminded_at = now
            if a.personal_id:  # an appointment nobody can be told about is only marked
                record_event(session, TOPIC, {
                    "appointment_id": a.id, "visit_id": a.visit_id, "personal_id": a.personal_id,
                    "number": a.number, "facility_code": a.facility_code,
                    "facility_name": names.get(a.facility_code), "appointment_at": at.isoformat(),
                    "appointment_date": vndate(at), "appointment_time": vntime(at), "diagnosis": a.diagnosis,
                })
                sent += 1
        last_id = rows[-1].id
        session.flush()


def remind_on_appointment_created(session: Session, event: dict) -> None:
    """Bus handler: an appointment created for tomorrow after the daily run still gets its reminder."""
    pid = (event.get("payload") or {}).get("personal_id")
    if pid:
        send_appointment_reminders(session, personal_id=pid)


def remind_on_appointments_created(session: Session, events: list[dict]) -> None:
    """The batch form: one query for the appointments of all the events' citizens."""
    pids = sorted({(e.get("payload") or {}).get("personal_id") for e in events} - {None, ""})
    for i in range(0, len(pids), 500):
        send_appointment_reminders(session, personal_ids=pids[i:i + 500])


HANDLER_NAME = "lienthong.health.reminders.remind_on_appointment_created"
bus.register("health.appointment.created", remind_on_appointment_created, name=HANDLER_NAME, exist_ok=True,
             batch=remind_on_appointments_created)
