"""Record-linkage tables: jobs, candidate pairs for clerical review, decisions, linked records.

The linkage context never writes other contexts' tables. An accepted link is a
:class:`LinkedRecord` row (the personal ID found for an external record, with provenance: job,
match probability, method, reviewer) plus a ``linkage.link.accepted`` outbox event, which the
owning context (e.g. judicial records) consumes to store the personal ID on its own record.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lienthong.db import Base, JsonType, UTCDateTime, utcnow


class LinkJob(Base):
    __tablename__ = "link_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Name of the external register, e.g. "lltp-legacy-2010" (carried in events for consumers).
    dataset: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(500), default="")
    registry_source: Mapped[str] = mapped_column(String(500), default="database")
    backend: Mapped[str] = mapped_column(String(10), default="duckdb")
    mapping: Mapped[dict] = mapped_column(JsonType, default=dict)
    accept_threshold: Mapped[float] = mapped_column(Float)
    review_threshold: Mapped[float] = mapped_column(Float)
    min_margin: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(10), default="running")
    records: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    review: Mapped[int] = mapped_column(Integer, default=0)
    no_match: Mapped[int] = mapped_column(Integer, default=0)
    pairs_scored: Mapped[int] = mapped_column(Integer, default=0)
    timings: Mapped[dict] = mapped_column(JsonType, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    candidates: Mapped[list[LinkCandidate]] = relationship(back_populates="job")

    __table_args__ = (CheckConstraint("status IN ('running','done','failed')", name="status"),)


class LinkCandidate(Base):
    """A scored (external record, registry person) pair kept for review: best and runner-up."""

    __tablename__ = "link_candidates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("link_jobs.id", ondelete="CASCADE"), index=True)
    record_id: Mapped[str] = mapped_column(String(120))
    personal_id: Mapped[str] = mapped_column(String(12))
    rank: Mapped[int] = mapped_column(Integer, default=1)
    match_probability: Mapped[float] = mapped_column(Float)
    match_weight: Mapped[float] = mapped_column(Float)
    # The external record as read (original columns), shown to the clerk beside the registry data.
    record: Mapped[dict] = mapped_column(JsonType, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    job: Mapped[LinkJob] = relationship(back_populates="candidates")

    __table_args__ = (
        CheckConstraint("status IN ('pending','accepted','rejected','superseded')", name="status"),
        UniqueConstraint("job_id", "record_id", "rank", name="uq_link_candidates_job_record_rank"),
        Index("ix_link_candidates_status_job", "status", "job_id"),
    )


class LinkDecision(Base):
    """A clerk's decision on a candidate pair."""

    __tablename__ = "link_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("link_candidates.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(8))
    reviewer: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("decision IN ('accept','reject')", name="decision"),)


class LinkedRecord(Base):
    """The personal ID found for an external record, with provenance."""

    __tablename__ = "linked_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("link_jobs.id", ondelete="CASCADE"), index=True)
    dataset: Mapped[str] = mapped_column(String(120))
    record_id: Mapped[str] = mapped_column(String(120))
    personal_id: Mapped[str] = mapped_column(String(12), index=True)
    match_probability: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(10))  # auto, clerical
    reviewer: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("link_decisions.id"), nullable=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("method IN ('auto','clerical')", name="method"),
        UniqueConstraint("job_id", "record_id", name="uq_linked_records_job_record"),
        Index("ix_linked_records_dataset_record", "dataset", "record_id"),
    )
