"""Transactional outbox: events are rows written in the same transaction as the data they
describe, then delivered by a relay (in-process handlers always; NATS JetStream when configured).
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from lienthong.db import utcnow
from lienthong.events.models import OutboxEvent


def record_event(session: Session, topic: str, payload: dict) -> OutboxEvent:
    """Add an event to the caller's transaction. ``topic`` is dotted, e.g. ``population.citizen.registered``."""
    if not topic or " " in topic:
        raise ValueError(f"bad topic {topic!r}")
    event = OutboxEvent(event_id=str(uuid.uuid4()), topic=topic, payload=payload, occurred_at=utcnow())
    session.add(event)
    return event
