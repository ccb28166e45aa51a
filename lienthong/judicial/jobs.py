"""Periodic job and event handler of the judicial context: the automatic check of submitted
applications (a fall-back to the check run right after submission) and overdue escalation."""

from lienthong.jobs import register_periodic
from lienthong.judicial import service as _service  # noqa: F401  (subscribes judicial.application.submitted)
from lienthong.judicial.worker import sweep

register_periodic("judicial.sweep", 20.0, sweep)
