"""Audit log table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lienthong.db import Base, BigId, JsonType, UTCDateTime



class AuditEntry(Base):
    """One audited action. ``hash = sha256(prev_hash || canonical(entry))`` chains the entries;
    ``audit_head`` keeps the last sequence number and hash so that truncation is detected."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_type: Mapped[str] = mapped_column(String(16))  # citizen, officer, admin, facility, agency, system
    actor_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))  # read, create, update, delete, login, ...
    resource: Mapped[str] = mapped_column(String(64))  # e.g. population.citizen
    resource_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    subject_id: Mapped[str | None] = mapped_column(String(12), nullable=True, index=True)  # data subject
    purpose: Mapped[str] = mapped_column(String(255))
    detail: Mapped[dict] = mapped_column(JsonType, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId)
    hash: Mapped[str] = mapped_column(String(64))
    # HMAC-SHA256 of "seq:hash" under the deployment secret: resetting the head after cutting
    # entries off the end needs the secret, not just write access to the database.
    mac: Mapped[str | None] = mapped_column(String(64), nullable=True)
