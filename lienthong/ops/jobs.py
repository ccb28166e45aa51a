"""Periodic job and event handler of the ops context: live signals for the rollout tracker."""

from lienthong.db import unit_of_work
from lienthong.jobs import register_periodic
from lienthong.ops import signals  # subscribes judicial.certificate.issued


def _scan(url):
    with unit_of_work(url) as session:
        return signals.scan_health(session)


register_periodic("ops.signals", 60.0, _scan)
