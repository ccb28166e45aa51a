"""Judicial record (lý lịch tư pháp) tables: the record database fed by courts and enforcement
bodies, certificate applications and issued certificates.

Record data (Law 28/2009 art. 2.2, Law 107/2025 art. 2.1a):

- :class:`Conviction` one criminal judgment in force about one person (idempotency key:
  court code + judgment number + person), with its :class:`ConvictionOffence` rows (tội danh,
  điều/khoản), :class:`AdditionalPenalty` rows and :class:`EnforcementEvent` history;
- :class:`ExpungementDecision` court decisions on expungement (arts. 71/72 BLHS);
- :class:`Ban` bans on holding posts / founding or managing enterprises after bankruptcy.

Certificates:

- :class:`Application` a citizen's request (state machine in :mod:`lienthong.judicial.service`);
- :class:`ApplicationEvent` every state change (the status page timeline);
- :class:`Certificate` an issued certificate (record number, content, JWS, revocation);
- :class:`RecordSequence` per issuing agency and year counter for record numbers (gap-free: the
  increment commits or rolls back with the certificate).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, BigInteger, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lienthong.db import Base, JsonType, UTCDateTime, utcnow

APPLICATION_STATUSES = ("submitted", "checking", "review", "approved", "rejected", "issued")


class Conviction(Base):
    __tablename__ = "judicial_convictions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Số định danh cá nhân, or passport number when the person has none (Law 107/2025 art. 2.4a).
    personal_id: Mapped[str] = mapped_column(String(20), index=True)
    id_type: Mapped[str] = mapped_column(String(12), default="personal_id")
    full_name: Mapped[str] = mapped_column(String(160))
    birth_date: Mapped[date] = mapped_column(Date)
    court_code: Mapped[str] = mapped_column(String(20))
    court_name: Mapped[str] = mapped_column(String(200))
    judgment_number: Mapped[str] = mapped_column(String(60))
    judgment_date: Mapped[date] = mapped_column(Date)
    legal_effect_date: Mapped[date] = mapped_column(Date)
    # Principal penalty (hình phạt chính), BLHS art. 32.1
    penalty_type: Mapped[str] = mapped_column(String(24))
    term_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fine_vnd: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    probation_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    death_commuted: Mapped[bool] = mapped_column(Boolean, default=False)
    committed_under_18: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    age_at_offence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Civil obligations (nghĩa vụ dân sự) and court fee (án phí) as stated in the judgment
    civil_obligations: Mapped[str] = mapped_column(Text, default="")
    court_fee: Mapped[str] = mapped_column(String(200), default="")
    has_other_obligations: Mapped[bool] = mapped_column(Boolean, default=False)
    # Enforcement state (tình trạng thi hành án), kept current by enforcement updates
    enforcement_status: Mapped[str] = mapped_column(String(300), default="")
    principal_completed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    probation_completed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    remainder_exempted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    special_pardon_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    limitation_expired_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    other_obligations_completed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    amnesty_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # An open verification issue (e.g. incomplete data from an old register): blocks auto-issue.
    verification_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    source_client: Mapped[str] = mapped_column(String(120))
    # SHA-256 of the judgment as first submitted: a repeated submission is recognised as such.
    source_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    offences: Mapped[list[ConvictionOffence]] = relationship(
        lambda: ConvictionOffence,         back_populates="conviction", order_by=lambda: ConvictionOffence.seq, cascade="all, delete-orphan")
    additional_penalties: Mapped[list[AdditionalPenalty]] = relationship(
        lambda: AdditionalPenalty,         back_populates="conviction", order_by=lambda: AdditionalPenalty.seq, cascade="all, delete-orphan")
    enforcement_events: Mapped[list[EnforcementEvent]] = relationship(
        lambda: EnforcementEvent,         back_populates="conviction", order_by=lambda: EnforcementEvent.id, cascade="all, delete-orphan")
    expungement_decisions: Mapped[list[ExpungementDecision]] = relationship(
        lambda: ExpungementDecision,         back_populates="conviction", order_by=lambda: ExpungementDecision.decision_date, cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("court_code", "judgment_number", "personal_id", name="judgment_person"),
        CheckConstraint("term_months IS NULL OR term_months > 0", name="term_months"),
    )


class ConvictionOffence(Base):
    __tablename__ = "judicial_offences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conviction_id: Mapped[str] = mapped_column(ForeignKey("judicial_convictions.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))  # tội danh
    article: Mapped[int | None] = mapped_column(Integer, nullable=True)  # điều
    clause: Mapped[int | None] = mapped_column(Integer, nullable=True)  # khoản
    point: Mapped[str | None] = mapped_column(String(4), nullable=True)  # điểm
    severity: Mapped[str | None] = mapped_column(String(24), nullable=True)
    intentional: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    offence_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    age_at_offence: Mapped[int | None] = mapped_column(Integer, nullable=True)

    conviction: Mapped[Conviction] = relationship(lambda: Conviction, back_populates="offences")


class AdditionalPenalty(Base):
    __tablename__ = "judicial_additional_penalties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conviction_id: Mapped[str] = mapped_column(ForeignKey("judicial_convictions.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    amount_vnd: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    completed_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    conviction: Mapped[Conviction] = relationship(lambda: Conviction, back_populates="additional_penalties")


class EnforcementEvent(Base):
    """One enforcement update from a criminal or civil enforcement body (idempotent by document)."""

    __tablename__ = "judicial_enforcement_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conviction_id: Mapped[str] = mapped_column(ForeignKey("judicial_convictions.id", ondelete="CASCADE"), index=True)
    agency_code: Mapped[str] = mapped_column(String(20))
    document_number: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(40))
    occurred_on: Mapped[date] = mapped_column(Date)
    additional_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status_text: Mapped[str] = mapped_column(String(300), default="")
    source_client: Mapped[str] = mapped_column(String(120))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    conviction: Mapped[Conviction] = relationship(lambda: Conviction, back_populates="enforcement_events")

    __table_args__ = (UniqueConstraint("agency_code", "document_number", "conviction_id", "kind", name="document"),)


class ExpungementDecision(Base):
    """A court decision on expungement (BLHS art. 71 or 72): granted or refused."""

    __tablename__ = "judicial_expungement_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conviction_id: Mapped[str] = mapped_column(ForeignKey("judicial_convictions.id", ondelete="CASCADE"), index=True)
    court_code: Mapped[str] = mapped_column(String(20))
    court_name: Mapped[str] = mapped_column(String(200))
    decision_number: Mapped[str] = mapped_column(String(60))
    decision_date: Mapped[date] = mapped_column(Date)
    article: Mapped[int] = mapped_column(Integer, default=71)
    granted: Mapped[bool] = mapped_column(Boolean)
    source_client: Mapped[str] = mapped_column(String(120))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    conviction: Mapped[Conviction] = relationship(lambda: Conviction, back_populates="expungement_decisions")

    __table_args__ = (
        UniqueConstraint("court_code", "decision_number", name="court_decision"),
        CheckConstraint("article IN (71, 72)", name="article"),
    )


class Ban(Base):
    """Ban on holding posts / founding or managing an enterprise or co-operative (bankruptcy)."""

    __tablename__ = "judicial_bans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    personal_id: Mapped[str] = mapped_column(String(20), index=True)
    content: Mapped[str] = mapped_column(String(400))
    court_code: Mapped[str] = mapped_column(String(20))
    court_name: Mapped[str] = mapped_column(String(200))
    decision_number: Mapped[str] = mapped_column(String(60))
    decision_date: Mapped[date] = mapped_column(Date)
    start_date: Mapped[date] = mapped_column(Date)
    duration_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    source_client: Mapped[str] = mapped_column(String(120))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("court_code", "decision_number", "personal_id", name="decision_person"),)


class Application(Base):
    """A request for a certificate (Phiếu lý lịch tư pháp số 1 / số 2) by a citizen for themselves."""

    __tablename__ = "judicial_applications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    personal_id: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(300))
    include_ban_info: Mapped[bool] = mapped_column(Boolean, default=False)
    delivery_electronic: Mapped[bool] = mapped_column(Boolean, default=True)
    delivery_postal: Mapped[bool] = mapped_column(Boolean, default=False)
    postal_address: Mapped[str | None] = mapped_column(String(400), nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    fee_category: Mapped[str] = mapped_column(String(24), default="standard")
    fee_vnd: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: no rates configured
    fee_note: Mapped[str] = mapped_column(Text, default="")
    fee_needs_proof: Mapped[bool] = mapped_column(Boolean, default=False)
    # Identity as pre-filled from the population registry at submission (audited read).
    identity: Mapped[dict] = mapped_column(JsonType)
    province_code: Mapped[int] = mapped_column(Integer, index=True)  # competent province
    regime: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), default="submitted", index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sla_working_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sla_basis: Mapped[str] = mapped_column(Text, default="")
    review_reasons: Mapped[list] = mapped_column(JsonType, default=list)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    events: Mapped[list[ApplicationEvent]] = relationship(lambda: ApplicationEvent, order_by=lambda: ApplicationEvent.id, cascade="all, delete-orphan")
    certificate: Mapped[Certificate | None] = relationship(lambda: Certificate, back_populates="application", uselist=False)

    __table_args__ = (
        CheckConstraint("kind IN (1, 2)", name="kind"),
        CheckConstraint("status IN ('submitted','checking','review','approved','rejected','issued')", name="status"),
        CheckConstraint("delivery_electronic OR delivery_postal", name="delivery"),
        Index("ix_judicial_applications_queue", "province_code", "status", "due_at"),
    )


class ApplicationEvent(Base):
    __tablename__ = "judicial_application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("judicial_applications.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(12), nullable=True)
    to_status: Mapped[str] = mapped_column(String(12))
    actor_type: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[str] = mapped_column(String(120))
    note: Mapped[str] = mapped_column(Text, default="")


class Certificate(Base):
    __tablename__ = "judicial_certificates"

    # Random UUID: also the public verification handle printed in the QR code.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_number: Mapped[str] = mapped_column(String(40), unique=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("judicial_applications.id"), unique=True)
    personal_id: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[int] = mapped_column(Integer)
    agency_code: Mapped[str] = mapped_column(String(20))
    agency_name: Mapped[str] = mapped_column(String(200))
    content: Mapped[dict] = mapped_column(JsonType)
    jws: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(120))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    application: Mapped[Application] = relationship(lambda: Application, back_populates="certificate")

    __table_args__ = (CheckConstraint("kind IN (1, 2)", name="kind"),)


class RecordSequence(Base):
    """Last record number used by an issuing agency in a year (the sequence restarts each 1 January)."""

    __tablename__ = "judicial_record_sequences"

    agency_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)
