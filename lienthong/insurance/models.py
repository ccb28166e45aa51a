"""Social insurance context tables: contribution periods (sổ BHXH), BHYT cards, funeral allowances."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lienthong.db import Base, BigId, JsonType, UTCDateTime, utcnow



class ContributionPeriod(Base):
    """One row of the contribution history (quá trình tham gia): a scheme, an employer, a month range."""

    __tablename__ = "insurance_contribution_periods"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    personal_id: Mapped[str] = mapped_column(String(12), index=True)
    scheme: Mapped[str] = mapped_column(String(16))  # bhxh_compulsory, bhxh_voluntary, bhtn, bhyt
    employer_code: Mapped[str] = mapped_column(String(20))  # mã đơn vị; "TN" for voluntary contributions
    employer_name: Mapped[str] = mapped_column(String(255))
    job_title: Mapped[str | None] = mapped_column(String(160), nullable=True)
    from_month: Mapped[date] = mapped_column(Date)  # first day of the month
    to_month: Mapped[date | None] = mapped_column(Date, nullable=True)  # None: still contributing
    basis_vnd: Mapped[int | None] = mapped_column(BigId, nullable=True)  # salary / chosen income
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("personal_id", "scheme", "employer_code", "from_month", name="uq_insurance_period_key"),
        CheckConstraint("scheme IN ('bhxh_compulsory','bhxh_voluntary','bhtn','bhyt')", name="scheme"),
    )


class HealthInsuranceCard(Base):
    """A BHYT card. The code is the 10-digit BHXH number (card series from 01/04/2021)."""

    __tablename__ = "insurance_health_cards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    card_number: Mapped[str] = mapped_column(String(15), unique=True)
    personal_id: Mapped[str] = mapped_column(String(12), index=True)
    group_code: Mapped[str] = mapped_column(String(4))  # TE: children under 6
    benefit_level: Mapped[int] = mapped_column(Integer)
    province_code: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    extended_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    source: Mapped[str] = mapped_column(String(64))  # e.g. "civil:<case id>"
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("personal_id", "group_code", "valid_from", name="uq_insurance_card_person_group"),)


class FuneralAllowance(Base):
    """A funeral-allowance decision (eligible with amount, not eligible, or left to an officer)."""

    __tablename__ = "insurance_funeral_allowances"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    personal_id: Mapped[str] = mapped_column(String(12), unique=True)  # the deceased: paid once
    death_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # eligible, not_eligible, unknown
    reason: Mapped[str] = mapped_column(Text)
    amount_vnd: Mapped[int | None] = mapped_column(BigId, nullable=True)
    reference_salary_vnd: Mapped[int | None] = mapped_column(BigId, nullable=True)
    reference_basis: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict] = mapped_column(JsonType, default=dict)
    source: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NumberCounter(Base):
    """Serial counters for numbers BHXH issues (BHXH numbers per province)."""

    __tablename__ = "insurance_number_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigId, default=0)

