"""HTTP routes for operators: inspect the event outbox and its delivery state."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.params import INT64_MAX
from lienthong.audit import service as audit
from lienthong.deps import get_db
from lienthong.events.models import OutboxDelivery, OutboxEvent
from lienthong.identity.policy import requires
from lienthong.identity.principal import Principal

router = APIRouter(prefix="/api/v1/events", tags=["events"])


class DeliveryOut(BaseModel):
    target: str
    delivered_at: datetime | None
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None


class OutboxEventOut(BaseModel):
    seq: int
    event_id: str
    topic: str
    occurred_at: datetime
    published_at: datetime | None
    pending: bool
    attempts: int
    last_error: str | None
    payload: dict
    deliveries: list[DeliveryOut]


class OutboxPage(BaseModel):
    items: list[OutboxEventOut]
    next_before: int | None  # pass as ``before`` for the next (older) page


@router.get("/outbox", response_model=OutboxPage, summary="Recent outbox events and their delivery state")
def list_outbox(
    pending: bool = Query(False, description="only events not yet delivered everywhere"),
    topic: str | None = Query(None, max_length=128, description="exact topic"),
    before: int | None = Query(None, ge=1, le=INT64_MAX, description="only events with seq below this (paging)"),
    limit: int = Query(50, ge=1, le=500),
    principal: Principal = Depends(requires("events.read")),
    db: Session = Depends(get_db),
):
    stmt = select(OutboxEvent)
    if pending:
        stmt = stmt.where(OutboxEvent.published_at.is_(None))
    if topic:
        stmt = stmt.where(OutboxEvent.topic == topic)
    if before is not None:
        stmt = stmt.where(OutboxEvent.seq < before)
    events = list(db.scalars(stmt.order_by(OutboxEvent.seq.desc()).limit(limit)))
    by_event: dict[str, list[DeliveryOut]] = {e.event_id: [] for e in events}
    if events:
        rows = db.scalars(select(OutboxDelivery).where(OutboxDelivery.event_id.in_(list(by_event)))
                          .order_by(OutboxDelivery.event_id, OutboxDelivery.target))
        for d in rows:
            by_event[d.event_id].append(DeliveryOut(
                target=d.target, delivered_at=d.delivered_at, attempts=d.attempts or 0,
                last_error=d.last_error, next_attempt_at=d.next_attempt_at))
    # Event payloads may carry personal data: looking at them is audited like any other read.
    audit.record(db, principal, "read", "events.outbox", purpose="quản trị viên xem hàng đợi sự kiện",
                 detail={"pending": pending, "topic": topic, "before": before, "count": len(events)})
    items = [
        OutboxEventOut(
            seq=e.seq, event_id=e.event_id, topic=e.topic, occurred_at=e.occurred_at,
            published_at=e.published_at, pending=e.published_at is None, attempts=e.attempts or 0,
            last_error=e.last_error, payload=e.payload or {}, deliveries=by_event[e.event_id])
        for e in events
    ]
    next_before = events[-1].seq if len(events) == limit else None
    return OutboxPage(items=items, next_before=next_before)
