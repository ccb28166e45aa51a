"""Operations tables: the per-province rollout tracker (with its change history) and the medical
kiosk registry.

* :class:`RolloutUnit` one row per current (34-set) province, ``facility_code`` NULL, plus optional
  rows for single facilities within a province; holds the integration-test batch and dates, the
  rollout status, both security assessments and the infrastructure checklist.
* :class:`RolloutChange` every change of a tracked field (who, when, old -> new, note); rows are
  only ever inserted.
* :class:`KioskCommitment` medical kiosks committed and deployed at one facility.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lienthong.db import Base, UTCDateTime, utcnow

ROLLOUT_STATUSES = ("not_started", "testing", "test_done", "production", "completed")
ASSESSMENT_STATES = ("not_started", "in_progress", "passed", "failed")


class RolloutUnit(Base):
    __tablename__ = "ops_rollout_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    province_code: Mapped[int] = mapped_column(Integer, index=True)  # 34-set
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
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("province_code", "facility_code", name="province_facility"),
        # NULLs are distinct in UNIQUE constraints: a partial index keeps one province-wide row.
        Index("uq_ops_rollout_units_province_only", "province_code", unique=True,
              sqlite_where=facility_code.is_(None), postgresql_where=facility_code.is_(None)),
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
