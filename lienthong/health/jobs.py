"""Periodic jobs of the health context."""

from lienthong.db import unit_of_work
from lienthong.health import handlers as _handlers  # noqa: F401  (subscribes health.book.close_requested)
from lienthong.health import reminders
from lienthong.jobs import register_periodic


def _remind(url):
    with unit_of_work(url) as session:
        return reminders.send_appointment_reminders(session)


def _sweep(url):
    from lienthong.health.ingest import sweep_stale_batches

    with unit_of_work(url) as session:
        return sweep_stale_batches(session)


register_periodic("health.reminders", 15 * 60.0, _remind)
register_periodic("health.stale_batches", 60.0, _sweep)
