"""Health context tables.

A visit (đợt khám chữa bệnh) is identified by facility + MA_LK. Resubmissions create a new
version (``health_visit_versions`` keeps every one, with its full normalized record: the record is
stored there only, ``Visit.record`` reads the current version's) and replace the visit's child rows,
so a visit is never duplicated. Child rows carry ``personal_id`` so the health book reads them by
citizen without joins through visits.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column

from lienthong.db import Base, BigId, JsonType, UTCDateTime, utcnow



class IngestBatch(Base):
    """One submission (file or FHIR bundle) and its receipt."""

    __tablename__ = "ingest_batches"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    facility_code: Mapped[str] = mapped_column(String(5), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(8))  # xml130, fhir
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="receiving")  # receiving, done, failed
    dossiers: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)  # resubmitted visits stored as a new version
    resources: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list] = mapped_column(JsonType, default=list)  # bounded list of per-record/per-field errors
    error_count: Mapped[int] = mapped_column(Integer, default=0)  # all errors, including those not kept
    # Heartbeat: bumped with every committed chunk; a "receiving" batch that stops beating was interrupted.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Visit(Base):
    __tablename__ = "health_visits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    facility_code: Mapped[str] = mapped_column(String(5))
    ma_lk: Mapped[str] = mapped_column(String(100))
    personal_id: Mapped[str | None] = mapped_column(String(12), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    content_hash: Mapped[str] = mapped_column(String(64))
    # Digest of the submitted files this version came from (XML 130: every FILEHOSO of the HOSO):
    # an identical resubmission is recognised before it is parsed and validated again.
    source_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source: Mapped[str] = mapped_column(String(8))
    batch_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    patient_name: Mapped[str] = mapped_column(String(255))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    sex: Mapped[str | None] = mapped_column(String(1), nullable=True)
    insurance_card: Mapped[str | None] = mapped_column(String(50), nullable=True)
    visit_type: Mapped[str | None] = mapped_column(String(2), nullable=True)  # MA_LOAI_KCB
    admitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    discharged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    main_icd: Mapped[str | None] = mapped_column(String(10), nullable=True)
    diagnosis_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(2), nullable=True)  # KET_QUA_DTRI
    discharge_type: Mapped[str | None] = mapped_column(String(2), nullable=True)  # MA_LOAI_RV
    blood_group: Mapped[str | None] = mapped_column(String(4), nullable=True)
    weight_kg: Mapped[float | None] = mapped_column(Numeric(6, 2), nullable=True)
    height_cm: Mapped[float | None] = mapped_column(Numeric(6, 1), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # ``record`` (the normalized full record, all tables, of the current version) is defined below
    # VisitVersion, where it is stored.

    __table_args__ = (
        UniqueConstraint("facility_code", "ma_lk", name="uq_health_visits_facility_malk"),
        Index("ix_health_visits_person_time", "personal_id", "admitted_at"),
        # equality look-ups only: a hash index (4-byte codes) is far smaller than a B-tree of 64-character keys
        Index("ix_health_visits_source_digest", "source_digest", postgresql_using="hash"),
    )


class VisitVersion(Base):
    __tablename__ = "health_visit_versions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("health_visits.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    record: Mapped[dict] = mapped_column(JsonType)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("visit_id", "version", name="uq_health_visit_versions_visit_version"),)


# The current version's full record, read-only and loaded on first access (migration 0002 dropped
# the copy that health_visits kept: each body was stored twice, in the two largest health tables).
Visit.record = column_property(
    select(VisitVersion.record)
    .where(VisitVersion.visit_id == Visit.id, VisitVersion.version == Visit.version)
    .correlate_except(VisitVersion)
    .scalar_subquery(),
    deferred=True,
)


class Diagnosis(Base):
    __tablename__ = "health_diagnoses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("health_visits.id", ondelete="CASCADE"), index=True)
    personal_id: Mapped[str | None] = mapped_column(String(12), nullable=True, index=True)
    icd10: Mapped[str] = mapped_column(String(10))
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    diagnosed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LabResult(Base):
    """A lab / imaging result (XML4, FHIR Observation): reusable by other facilities."""

    __tablename__ = "health_lab_results"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("health_visits.id", ondelete="CASCADE"), index=True)
    personal_id: Mapped[str | None] = mapped_column(String(12), nullable=True)
    service_code: Mapped[str] = mapped_column(String(50))
    indicator_code: Mapped[str | None] = mapped_column(String(50), nullable=True)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    value: Mapped[str | None] = mapped_column(String(100), nullable=True)
    unit: Mapped[str | None] = mapped_column(String(50), nullable=True)
    conclusion: Mapped[str | None] = mapped_column(Text, nullable=True)
    result_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_health_lab_results_person_time", "personal_id", "result_at"),)


class Medication(Base):
    """A drug given or prescribed (XML2, FHIR MedicationRequest)."""

    __tablename__ = "health_medications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("health_visits.id", ondelete="CASCADE"), index=True)
    personal_id: Mapped[str | None] = mapped_column(String(12), nullable=True, index=True)
    drug_code: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(1024))
    strength: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    route: Mapped[str | None] = mapped_column(String(10), nullable=True)
    dosage: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    quantity: Mapped[float | None] = mapped_column(Numeric(13, 3), nullable=True)
    unit: Mapped[str | None] = mapped_column(String(50), nullable=True)
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Referral(Base):
    """Giấy chuyển tuyến (XML13, FHIR ServiceRequest)."""

    __tablename__ = "health_referrals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("health_visits.id", ondelete="CASCADE"), index=True)
    personal_id: Mapped[str | None] = mapped_column(String(12), nullable=True, index=True)
    number: Mapped[str] = mapped_column(String(50))
    from_facility: Mapped[str] = mapped_column(String(5))
    to_facility: Mapped[str | None] = mapped_column(String(5), nullable=True, index=True)
    reason_code: Mapped[str | None] = mapped_column(String(2), nullable=True)  # MA_LYDO_CT
    diagnosis: Mapped[str | None] = mapped_column(Text, nullable=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="issued")  # issued, accepted, rejected
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Appointment(Base):
    """Giấy hẹn khám lại (XML14, FHIR Appointment)."""

    __tablename__ = "health_appointments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("health_visits.id", ondelete="CASCADE"), index=True)
    personal_id: Mapped[str | None] = mapped_column(String(12), nullable=True, index=True)
    number: Mapped[str] = mapped_column(String(50))
    facility_code: Mapped[str] = mapped_column(String(5))
    appointment_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    diagnosis: Mapped[str | None] = mapped_column(Text, nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Certificate(Base):
    """Birth (XML9), death (giấy báo tử), driver health, sick-leave (XML11), discharge (XML7)."""

    __tablename__ = "health_certificates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("health_visits.id", ondelete="CASCADE"), nullable=True, index=True)
    personal_id: Mapped[str | None] = mapped_column(String(12), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # birth, death, driver_health, sick_leave, discharge
    facility_code: Mapped[str] = mapped_column(String(5))
    number: Mapped[str | None] = mapped_column(String(200), nullable=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    data: Mapped[dict] = mapped_column(JsonType)


class HealthProfile(Base):
    __tablename__ = "health_profiles"

    personal_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    blood_group: Mapped[str | None] = mapped_column(String(4), nullable=True)
    height_cm: Mapped[float | None] = mapped_column(Numeric(6, 1), nullable=True)
    weight_kg: Mapped[float | None] = mapped_column(Numeric(6, 2), nullable=True)
    chronic_conditions: Mapped[list] = mapped_column(JsonType, default=list)  # [{icd10, name, since}]
    allergies: Mapped[list] = mapped_column(JsonType, default=list)
    # Set when the death procedure closes the book: no new consent shares, existing ones revoked.
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Share(Base):
    """A citizen's time-limited consent for a facility to read their health book (QR/token),
    or an emergency access (flagged, audited, visible to the citizen)."""

    __tablename__ = "health_shares"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    personal_id: Mapped[str] = mapped_column(String(12), index=True)
    facility_code: Mapped[str | None] = mapped_column(String(5), nullable=True)
    scopes: Mapped[str] = mapped_column(String(255))  # intake lab_results full
    purpose: Mapped[str] = mapped_column(String(255))
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
