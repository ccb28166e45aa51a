"""Event handlers of the health context."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from lienthong.audit import service as audit
from lienthong.db import utcnow
from lienthong.events.bus import bus
from lienthong.events.outbox import record_event
from lienthong.health.models import HealthProfile, Share
from lienthong.identity.principal import SYSTEM

CLOSE_HANDLER = "health.close_book"


def on_book_close_requested(session, event: dict) -> None:
    """The death procedure asks to close a book: mark it closed and end the deceased's consent shares."""
    payload = event["payload"]
    personal_id = payload["personal_id"]
    death_date = date.fromisoformat(payload["death_date"])
    profile = session.get(HealthProfile, personal_id)
    if profile is None:
        profile = HealthProfile(personal_id=personal_id, chronic_conditions=[], allergies=[])
        session.add(profile)
    if profile.closed_on is not None:
        return  # redelivery
    profile.closed_on = death_date
    now = utcnow()
    revoked = 0
    for share in session.scalars(select(Share).where(Share.personal_id == personal_id, Share.revoked_at.is_(None))):
        share.revoked_at = now
        revoked += 1
    audit.record(session, SYSTEM, "update", "health.book", resource_id=personal_id, subject_id=personal_id,
                 purpose="đóng sổ sức khỏe sau khai tử",
                 detail={"closed_on": death_date.isoformat(), "shares_revoked": revoked, "case_id": payload.get("case_id")})
    record_event(session, "health.book.closed", {"personal_id": personal_id, "closed_on": death_date.isoformat()})


def install() -> None:
    bus.register("health.book.close_requested", on_book_close_requested, name=CLOSE_HANDLER, exist_ok=True)


install()
