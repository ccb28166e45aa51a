"""Identity tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lienthong.db import Base, JsonType, UTCDateTime, utcnow


class ServiceClient(Base):
    """A machine client (facility or agency system) using OAuth2 client credentials."""

    __tablename__ = "service_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(10))  # facility, agency
    facility_code: Mapped[str | None] = mapped_column(ForeignKey("facilities.code"), nullable=True, index=True)
    agency_code: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"), nullable=True, index=True)
    province_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scopes: Mapped[str] = mapped_column(String(1000), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("kind IN ('facility','agency')", name="kind"),)


class StaffAccount(Base):
    """An officer or administrator; logs in through the same IdP with their personal ID."""

    __tablename__ = "staff_accounts"

    personal_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    role: Mapped[str] = mapped_column(String(10))  # officer, admin
    # Officers act for one province (34-set code); national administrators have none.
    province_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    agency_code: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("role IN ('officer','admin')", name="role"),)


class OidcAuthCode(Base):
    """Authorization codes issued by the built-in development IdP (single use, short-lived)."""

    __tablename__ = "dev_idp_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str] = mapped_column(String(1000))
    code_challenge: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str | None] = mapped_column(String(255), nullable=True)
    claims: Mapped[dict] = mapped_column(JsonType)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
