"""The death procedure's close request reaches the health book through the outbox and relay."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from lienthong.audit.models import AuditEntry
from lienthong.db import session_factory, unit_of_work
from lienthong.errors import DomainError
from lienthong.events.outbox import record_event
from lienthong.events.relay import relay_once
from lienthong.health import consent, handlers
from lienthong.health.models import HealthProfile, Share
from lienthong.identity.principal import Principal

PID = "001050175358"


def test_close_request_closes_the_book_and_ends_shares(db_url):
    handlers.install()
    now = datetime.now(UTC)
    with unit_of_work() as s:
        s.add(HealthProfile(personal_id=PID, chronic_conditions=[], allergies=[]))
        s.add(Share(id="s1", token_hash="x" * 64, personal_id=PID, facility_code=None, scopes="intake",
                    purpose="khám", created_at=now, expires_at=now + timedelta(days=1), created_by=PID))
        record_event(s, "health.book.close_requested", {"personal_id": PID, "death_date": "2026-11-01", "case_id": 7})
    assert relay_once(db_url) >= 1
    with session_factory()() as s:
        assert s.get(HealthProfile, PID).closed_on == date(2026, 11, 1)
        assert s.get(Share, "s1").revoked_at is not None
        entry = s.scalars(select(AuditEntry).where(AuditEntry.resource == "health.book")).one()
        assert entry.subject_id == PID and entry.detail["shares_revoked"] == 1
    # redelivery changes nothing more
    with unit_of_work() as s:
        record_event(s, "health.book.close_requested", {"personal_id": PID, "death_date": "2026-11-02"})
    relay_once(db_url)
    with session_factory()() as s:
        assert s.get(HealthProfile, PID).closed_on == date(2026, 11, 1)
    # no new share on a closed book
    citizen = Principal(kind="citizen", subject=PID, personal_id=PID, assurance_level=2)
    with unit_of_work() as s, pytest.raises(DomainError, match="đã đóng"):
        consent.create_share(s, citizen, consent.ShareIn(scopes=["intake"], duration_minutes=60, purpose="khám bệnh"))
