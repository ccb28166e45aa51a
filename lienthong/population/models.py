"""Population registry tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, CheckConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lienthong.db import Base, UTCDateTime, utcnow


class Citizen(Base):
    __tablename__ = "citizens"

    personal_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    family_name: Mapped[str] = mapped_column(String(40))
    middle_name: Mapped[str] = mapped_column(String(80), default="")
    given_name: Mapped[str] = mapped_column(String(40))
    full_name: Mapped[str] = mapped_column(String(160), index=True)
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    # PPP of the personal ID: province (63-set code) where the birth was registered.
    birth_place_code: Mapped[str] = mapped_column(String(3))
    ethnicity: Mapped[str] = mapped_column(String(40), default="Kinh")
    nationality: Mapped[str] = mapped_column(String(2), default="VN")
    status: Mapped[str] = mapped_column(String(8), default="alive")
    death_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    residences: Mapped[list[Residence]] = relationship(back_populates="citizen", order_by="Residence.valid_from")
    legacy_ids: Mapped[list[LegacyId]] = relationship(back_populates="citizen")

    __table_args__ = (
        CheckConstraint("sex IN ('M','F')", name="sex"),
        CheckConstraint("status IN ('alive','dead')", name="status"),
        Index("ix_citizens_birth_date_given", "birth_date", "given_name"),
    )


class LegacyId(Base):
    """Identity documents a citizen held before the personal ID (9- or 12-digit CMND)."""

    __tablename__ = "legacy_ids"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    personal_id: Mapped[str] = mapped_column(ForeignKey("citizens.personal_id", ondelete="CASCADE"), index=True)
    id_type: Mapped[str] = mapped_column(String(8))  # CMND9, CMND12
    number: Mapped[str] = mapped_column(String(12), index=True)
    issued_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    issued_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    replaced_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    citizen: Mapped[Citizen] = relationship(back_populates="legacy_ids")


class Residence(Base):
    """A residence registration (thường trú / tạm trú), dated.

    Current addresses are 2-level (province, ward) in the 34-unit set. Addresses recorded before
    01/07/2025 keep their 3-level legacy text (old province, district, commune) beside the mapped
    current units.
    """

    __tablename__ = "residences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    personal_id: Mapped[str] = mapped_column(ForeignKey("citizens.personal_id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="permanent")
    province_code: Mapped[int] = mapped_column(Integer, index=True)
    ward_code: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    street: Mapped[str] = mapped_column(String(255), default="")
    legacy_province_code: Mapped[str | None] = mapped_column(String(3), nullable=True)
    legacy_district: Mapped[str | None] = mapped_column(String(120), nullable=True)
    legacy_commune: Mapped[str | None] = mapped_column(String(120), nullable=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)

    citizen: Mapped[Citizen] = relationship(back_populates="residences")

    __table_args__ = (CheckConstraint("kind IN ('permanent','temporary')", name="kind"),)


class FamilyLink(Base):
    """A directed family relation: ``relative_id`` is the ``relation`` of ``personal_id``."""

    __tablename__ = "family_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    personal_id: Mapped[str] = mapped_column(ForeignKey("citizens.personal_id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(10))
    relative_id: Mapped[str] = mapped_column(ForeignKey("citizens.personal_id", ondelete="CASCADE"), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)

    __table_args__ = (CheckConstraint("relation IN ('father','mother','spouse')", name="relation"),)
