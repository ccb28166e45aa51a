"""Linked civil procedure tables: procedure cases, their steps, and number counters."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lienthong.db import Base, BigId, JsonType, UTCDateTime, utcnow


class ProcedureCase(Base):
    """One run of a linked procedure (birth, death), started by a hospital document."""

    __tablename__ = "civil_cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    procedure: Mapped[str] = mapped_column(String(16))  # birth, death
    status: Mapped[str] = mapped_column(String(12), default="open")  # open, done, attention
    source_key: Mapped[str] = mapped_column(String(255), unique=True)  # idempotency: one case per document
    certificate_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    subject_personal_id: Mapped[str | None] = mapped_column(String(12), nullable=True, index=True)  # child / deceased
    applicant_personal_id: Mapped[str | None] = mapped_column(String(12), nullable=True, index=True)  # parent / relative
    province_code: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    ward_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    event_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # date of birth / death
    data: Mapped[dict] = mapped_column(JsonType, default=dict)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # complete dossier
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # whole-procedure deadline
    due_basis: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    steps: Mapped[list[ProcedureStep]] = relationship(back_populates="case", order_by="ProcedureStep.seq",
                                                      cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("procedure IN ('birth','death')", name="procedure"),
        CheckConstraint("status IN ('open','done','attention')", name="status"),
    )


class ProcedureStep(Base):
    """One step of a case: a state, a legal deadline, attempts (automatic steps) and a result."""

    __tablename__ = "civil_steps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("civil_cases.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(12))  # citizen, agency, auto
    after: Mapped[list] = mapped_column(JsonType, default=list)  # names of steps that must be done/skipped first
    # pending, waiting_citizen, in_progress, done, failed, skipped
    state: Mapped[str] = mapped_column(String(16), default="pending")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    due_basis: Mapped[str | None] = mapped_column(String(255), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict] = mapped_column(JsonType, default=dict)
    done_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    case: Mapped[ProcedureCase] = relationship(back_populates="steps")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("case_id", "name", name="uq_civil_steps_case_name"),
        CheckConstraint("state IN ('pending','waiting_citizen','in_progress','done','failed','skipped')", name="state"),
        CheckConstraint("actor IN ('citizen','agency','auto')", name="actor"),
        Index("ix_civil_steps_due", "state", "next_attempt_at"),
    )


class Counter(Base):
    """Named serial counters (personal-ID serials per prefix, extract numbers per commune and year)."""

    __tablename__ = "civil_counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigId, default=0)
