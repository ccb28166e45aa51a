"""Facility and agency tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lienthong.db import Base, UTCDateTime, utcnow


class Facility(Base):
    """A health facility (cơ sở khám chữa bệnh), keyed by its 5-character CSKCB code.

    The first two digits are the (63-set) province prefix, e.g. ``01`` Hà Nội; ``province_code``
    holds the current 34-set province it belongs to.
    """

    __tablename__ = "facilities"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    province_code: Mapped[int] = mapped_column(Integer, index=True)
    ward_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tier: Mapped[str] = mapped_column(String(12))  # central, provincial, regional, commune
    ownership: Mapped[str] = mapped_column(String(8))  # public, private
    insurance_contracted: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("tier IN ('central','provincial','regional','commune')", name="tier"),
        CheckConstraint("ownership IN ('public','private')", name="ownership"),
    )


AGENCY_KINDS = ("police", "justice", "court", "social_insurance", "commune", "ministry")


class Agency(Base):
    """A public agency that exchanges data: provincial police or justice department, court,
    social insurance office, commune people's committee."""

    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    province_code: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    ward_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        CheckConstraint(
            "kind IN ('police','justice','court','social_insurance','commune','ministry')", name="kind"
        ),
    )
