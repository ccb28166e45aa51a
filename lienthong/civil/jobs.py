"""Periodic job and event handlers of the civil context."""

from lienthong.civil import intake as _intake  # noqa: F401  (subscribes health.certificate.issued)
from lienthong.civil.cli import run_advance
from lienthong.jobs import register_periodic

register_periodic("civil.advance", 30.0, lambda url: run_advance(url))
