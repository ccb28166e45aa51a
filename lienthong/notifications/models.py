"""The notification inbox table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lienthong.db import Base, BigId, UTCDateTime, utcnow



class Notification(Base):
    """One message in a citizen's inbox, built from one outbox event.

    ``(event_id, personal_id)`` is unique: an event redelivered (or handled again after a rename of
    its handler) never produces a second copy for the same recipient. ``created_at`` is when the
    underlying event occurred; ``link`` is a path of a page in this application.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    personal_id: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300), nullable=True)
    event_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("event_id", "personal_id", name="uq_notifications_event_recipient"),
        Index("ix_notifications_recipient", "personal_id", "id"),
        Index("ix_notifications_unread", "personal_id", "read_at"),
    )
