"""Periodic job of the audit context: the sequencer (every ``LIENTHONG_AUDIT_SEQUENCE_INTERVAL_S``)."""

from lienthong.audit import sequencer
from lienthong.config import get_settings
from lienthong.jobs import register_periodic

register_periodic("audit.sequence", get_settings().audit_sequence_interval_s, lambda url: sequencer.run_once(url))
