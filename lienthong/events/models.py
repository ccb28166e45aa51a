"""Outbox table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lienthong.db import Base, BigId, JsonType, UTCDateTime, utcnow



class OutboxEvent(Base):
    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    topic: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict] = mapped_column(JsonType)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_outbox_unpublished", "published_at", "seq"),)


class OutboxDelivery(Base):
    """Delivery state of one event to one destination: an in-process handler
    (``handler:<module.qualname>``) or the JetStream stream (``nats:<stream>``).

    A handler's row is written in the handler's own transaction, so a handler's effect happens
    once per event even when the event is retried for another destination. Failed deliveries keep
    ``attempts``, ``last_error`` and ``next_attempt_at`` (exponential backoff). No foreign key to
    ``outbox``: the relay holds row locks on ``outbox`` while handlers write here.
    """

    __tablename__ = "outbox_deliveries"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    target: Mapped[str] = mapped_column(String(200), primary_key=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
