"""Operations tables: the per-service, per-province rollout tracker (with its change history and
dated snapshots), status changes proposed by live signals, and the medical kiosk registry.

* :class:`RolloutService` a tracked service (criminal-record certificate on VNeID, health book,
  linked birth/death procedures, medical kiosks, and any service an admin adds).
* :class:`RolloutUnit` per service: one row per province of a unit set, ``facility_code`` NULL, plus
  optional rows for single facilities within a province; holds the integration-test batch and dates,
  the rollout status, both security assessments and the infrastructure checklist. ``unit_set``
  ``vn34`` rows are today's provinces; ``vn63`` rows are the pre-2025 provinces, kept as history
  (filled by imported snapshots, never edited). ``basis`` says whether a vn34 row's state was
  recorded or derived from its merged members (:mod:`lienthong.ops.rules`).
* :class:`RolloutChange` every change of a tracked field (who, when, old -> new, note, the day it
  took effect and where it came from: manual edit, import, merger derivation, confirmed signal);
  rows are only ever inserted.
* :class:`RolloutSnapshot` a dated document: an official per-province table (with
  :class:`RolloutSnapshotRow`, uncertain cells marked) or national figures (:class:`RolloutFigure`,
  e.g. a letter's printed totals or a programme's targets).
* :class:`RolloutProposal` a change proposed by a live signal, pending until an officer confirms or
  rejects it.
* :class:`KioskCommitment` medical kiosks committed and deployed at one facility.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lienthong.db import Base, JsonType, UTCDateTime, utcnow

ROLLOUT_STATUSES = ("not_started", "testing", "test_done", "production", "completed")
ASSESSMENT_STATES = ("not_started", "in_progress", "passed", "failed")
DEFAULT_SERVICE = "judicial_vneid"  # the service the tracker followed before it knew several
UNIT_SETS = ("vn34", "vn63")
CHANGE_SOURCES = ("manual", "import", "merger", "signal")
PROPOSAL_STATES = ("pending", "confirmed", "rejected")


class RolloutService(Base):
    __tablename__ = "ops_rollout_services"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=100)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(120), nullable=True)


class RolloutUnit(Base):
    __tablename__ = "ops_rollout_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_key: Mapped[str] = mapped_column(ForeignKey("ops_rollout_services.key"), default=DEFAULT_SERVICE)
    unit_set: Mapped[str] = mapped_column(String(4), default="vn34")  # vn34 today; vn63 history
    province_code: Mapped[int] = mapped_column(Integer, index=True)  # code in unit_set
    facility_code: Mapped[str | None] = mapped_column(String(5), nullable=True)  # None: the whole province
    test_batch: Mapped[int | None] = mapped_column(Integer, nullable=True)  # đợt kiểm thử tích hợp
    test_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    test_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="not_started")
    source_assessment: Mapped[str] = mapped_column(String(12), default="not_started")  # đánh giá mã nguồn
    system_assessment: Mapped[str] = mapped_column(String(12), default="not_started")  # đánh giá ATTT hệ thống
    machine_ready: Mapped[bool] = mapped_column(Boolean, default=False)
    access_granted: Mapped[bool] = mapped_column(Boolean, default=False)
    production_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    basis: Mapped[str] = mapped_column(String(8), default="recorded")  # recorded | derived (from merged members)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("service_key", "unit_set", "province_code", "facility_code",
                         name="uq_ops_rollout_units_service_unit"),
        # NULLs are distinct in UNIQUE constraints: a partial index keeps one province-wide row.
        Index("uq_ops_rollout_units_province_only", "service_key", "unit_set", "province_code", unique=True,
              sqlite_where=facility_code.is_(None), postgresql_where=facility_code.is_(None)),
        Index("ix_ops_rollout_units_service", "service_key", "unit_set"),
        CheckConstraint("unit_set IN ('vn34','vn63')", name="unit_set"),
        CheckConstraint("basis IN ('recorded','derived')", name="basis"),
        CheckConstraint("status IN ('not_started','testing','test_done','production','completed')", name="status"),
        CheckConstraint("source_assessment IN ('not_started','in_progress','passed','failed')", name="source"),
        CheckConstraint("system_assessment IN ('not_started','in_progress','passed','failed')", name="system"),
        CheckConstraint("test_start IS NULL OR test_end IS NULL OR test_start <= test_end", name="test_dates"),
    )


class RolloutChange(Base):
    __tablename__ = "ops_rollout_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("ops_rollout_units.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[str] = mapped_column(String(120))
    actor_name: Mapped[str] = mapped_column(String(160), default="")
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(String(255), nullable=True)
    new_value: Mapped[str | None] = mapped_column(String(255), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    effective_on: Mapped[date] = mapped_column(Date, index=True)  # the day the change took effect
    source: Mapped[str] = mapped_column(String(8), default="manual")  # manual | import | merger | signal
    source_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)  # snapshot / proposal id, rule

    __table_args__ = (
        CheckConstraint("source IN ('manual','import','merger','signal')", name="source"),
    )


class RolloutSnapshot(Base):
    """A dated document about a service's rollout: a per-province table or national figures."""

    __tablename__ = "ops_rollout_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_key: Mapped[str] = mapped_column(ForeignKey("ops_rollout_services.key"))
    as_of: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))  # table | figures
    unit_set: Mapped[str] = mapped_column(String(4))  # the provinces of that date
    title: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(Text, default="")  # the document and where it was read
    source_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=True)  # false: figures not checked against a source
    verification: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str] = mapped_column(String(255), default="")
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the imported content
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(120))

    __table_args__ = (
        UniqueConstraint("service_key", "as_of", "kind", name="uq_ops_rollout_snapshots_service_date_kind"),
        CheckConstraint("kind IN ('table','figures')", name="kind"),
    )


class RolloutSnapshotRow(Base):
    """One province row of an imported table, as read (``cells``) and as tracker values."""

    __tablename__ = "ops_rollout_snapshot_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("ops_rollout_snapshots.id", ondelete="CASCADE"), index=True)
    row_no: Mapped[int] = mapped_column(Integer)
    province_code: Mapped[int] = mapped_column(Integer)  # in the snapshot's unit set
    province_label: Mapped[str] = mapped_column(String(120))  # as written in the document
    cells: Mapped[dict] = mapped_column(JsonType, default=dict)
    values: Mapped[dict] = mapped_column(JsonType, default=dict)  # tracker values (dates as ISO text)
    uncertain: Mapped[list] = mapped_column(JsonType, default=list)  # document columns that are a best reading

    __table_args__ = (UniqueConstraint("snapshot_id", "province_code", name="uq_ops_rollout_snapshot_rows_province"),)


class RolloutFigure(Base):
    """A national figure of a dated document (a printed total, a programme's target)."""

    __tablename__ = "ops_rollout_figures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("ops_rollout_snapshots.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    value: Mapped[int] = mapped_column(Integer)
    of: Mapped[int | None] = mapped_column(Integer, nullable=True)  # "44 of 63"
    qualifier: Mapped[str] = mapped_column(String(8), default="exact")  # exact | at_least
    note: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("snapshot_id", "key", name="uq_ops_rollout_figures_key"),
        CheckConstraint("qualifier IN ('exact','at_least')", name="qualifier"),
    )


class RolloutProposal(Base):
    """A status change a live signal proposes for a unit; an officer confirms or rejects it."""

    __tablename__ = "ops_rollout_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("ops_rollout_units.id", ondelete="CASCADE"), index=True)
    signal: Mapped[str] = mapped_column(String(40))
    proposed: Mapped[dict] = mapped_column(JsonType, default=dict)  # field -> value (dates as ISO text)
    evidence: Mapped[dict] = mapped_column(JsonType, default=dict)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    decided_by_name: Mapped[str] = mapped_column(String(160), default="")
    decision_note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        UniqueConstraint("unit_id", "signal", name="uq_ops_rollout_proposals_unit_signal"),  # one proposal per signal and unit
        CheckConstraint("state IN ('pending','confirmed','rejected')", name="state"),
    )


class KioskCommitment(Base):
    """Medical kiosks (ki-ốt y tế) a facility committed to and has deployed."""

    __tablename__ = "ops_kiosks"

    facility_code: Mapped[str] = mapped_column(ForeignKey("facilities.code"), primary_key=True)
    committed: Mapped[int] = mapped_column(Integer, default=0)
    deployed: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(120), nullable=True)

    __table_args__ = (
        CheckConstraint("committed >= 0", name="committed"),
        CheckConstraint("deployed >= 0", name="deployed"),
    )
