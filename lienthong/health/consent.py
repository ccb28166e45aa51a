"""Consent: a citizen shares their health book with a facility for a limited time (QR code / token),
and the facility reads an intake summary and recent lab results under that consent. Emergency
access without consent is possible for facilities holding the ``health.emergency`` scope; it is
flagged in the audit log and announced to the citizen by a ``health.emergency_access`` event.

Only a SHA-256 digest of a share token is stored; the token is shown once, on creation.

Reading the citizen's registry data (name, birth date, address) goes through the population
service with a *consent-bound principal* (:func:`consent_principal`): the facility's own
identity, narrowed to the one citizen the share names and to the ``population.read`` scope. The
policy admits it only under the rule ``population.read`` listing ``facility`` both in ``kinds``
and in ``own_only``: a facility client never carries a personal ID in its own token, so no
facility can read the registry except through this path.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

import segno
from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.audit import service as audit
from lienthong.errors import DomainError, NotFound
from lienthong.events.outbox import record_event
from lienthong.facilities.models import Facility
from lienthong.health.book import (
    LabResultOut, MedicationOut, check_personal_id, facility_names, icd10_name, latest_visit,
    profile_for, recent_labs, recent_medications,
)
from lienthong.health.models import HealthProfile, Share, Visit
from lienthong.identity.policy import Target, authorize, forbidden, require_facility
from lienthong.identity.principal import Principal
from lienthong.population import service as population
from lienthong.population.models import Citizen

Scope = Literal["intake", "lab_results"]
SCOPE_NAMES = {"intake": "Thông tin tiếp nhận khám bệnh", "lab_results": "Kết quả xét nghiệm gần đây"}
TOKEN_PREFIX = "ltsk_"
LAB_REUSE_DAYS = 90
CURRENT_MEDICATION_DAYS = 90


class ShareSettings(BaseSettings):
    """``LIENTHONG_HEALTH_SHARE_MAX_MINUTES``: the longest share a citizen may create (default 7 days)."""

    model_config = SettingsConfigDict(env_prefix="LIENTHONG_HEALTH_", extra="ignore")
    share_max_minutes: int = Field(default=7 * 24 * 60, ge=1)


def max_share_minutes() -> int:
    return ShareSettings().share_max_minutes


# --- schemas --------------------------------------------------------------------------------------

class ShareIn(BaseModel):
    facility_code: str | None = Field(default=None, min_length=5, max_length=5,
                                      description="the facility allowed to use the share; omit for any facility")
    scopes: list[Scope] = Field(min_length=1)
    duration_minutes: int = Field(ge=1)
    purpose: str = Field(min_length=3, max_length=255)

    @field_validator("scopes")
    @classmethod
    def _dedupe(cls, v: list[str]) -> list[str]:
        return sorted(set(v))


class ShareOut(BaseModel):
    id: str
    facility_code: str | None
    facility_name: str | None
    scopes: list[str]
    purpose: str
    emergency: bool
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    status: str  # active, expired, revoked, emergency


class ShareCreated(ShareOut):
    token: str  # shown once: only its digest is stored
    qr_svg: str  # the token as a QR code (SVG markup)
    qr_png: str  # the same as a PNG data URI


class TokenIn(BaseModel):
    token: str = Field(min_length=10, max_length=200)
    purpose: str = Field(default="tiếp nhận khám chữa bệnh", min_length=3, max_length=255)


class EmergencyIn(BaseModel):
    personal_id: str = Field(min_length=12, max_length=12)
    reason: str = Field(min_length=10, max_length=500, description="why consent cannot be obtained")


class Address(BaseModel):
    street: str | None
    ward_name: str | None
    province_name: str | None
    text: str


class LastVisit(BaseModel):
    facility_code: str
    facility_name: str | None
    admitted_at: datetime
    discharged_at: datetime | None
    main_icd: str | None
    main_icd_name: str | None
    diagnosis_text: str | None


class IntakeSummary(BaseModel):
    """What a facility needs to pre-fill its registration form."""

    share_id: str
    personal_id: str
    full_name: str | None
    birth_date: str | None  # ISO date
    sex: str | None
    address: Address | None
    from_registry: bool  # False: demographics from the latest visit (citizen not in the registry)
    insurance_card: str | None
    blood_group: str | None
    height_cm: float | None
    weight_kg: float | None
    allergies: list[str]
    chronic_conditions: list[dict]
    current_medications: list[MedicationOut]
    last_visit: LastVisit | None
    emergency: bool = False


class SharedLabResults(BaseModel):
    share_id: str
    personal_id: str
    since: datetime
    items: list[LabResultOut]


# --- helpers --------------------------------------------------------------------------------------

def token_digest(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


def share_status(share: Share, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    if share.emergency:
        return "emergency"
    if share.revoked_at is not None:
        return "revoked"
    if share.expires_at <= now:
        return "expired"
    return "active"


def _out(share: Share, names: dict[str, str]) -> dict:
    return dict(id=share.id, facility_code=share.facility_code, facility_name=names.get(share.facility_code or ""),
                scopes=share.scopes.split(), purpose=share.purpose, emergency=share.emergency,
                created_at=share.created_at, expires_at=share.expires_at,
                revoked_at=share.revoked_at, status=share_status(share))


def qr_codes(token: str) -> tuple[str, str]:
    qr = segno.make(token, error="m")
    return qr.svg_inline(scale=4, title="Mã chia sẻ sổ sức khỏe"), qr.png_data_uri(scale=6)


def consent_principal(facility: Principal, personal_id: str) -> Principal:
    """The facility acting under a citizen's consent (or an emergency rule): its own identity,
    bound to that one citizen and to the registry read scope only."""
    return Principal(kind="facility", subject=facility.subject, name=facility.name, personal_id=personal_id,
                     facility_code=facility.facility_code, province_code=facility.province_code,
                     scopes=frozenset({"population.read"}))


# --- citizen side ---------------------------------------------------------------------------------

def create_share(session: Session, principal: Principal, data: ShareIn, *, now: datetime | None = None) -> ShareCreated:
    personal_id = principal.personal_id or ""
    authorize(principal, "health.share.manage", Target(personal_id=personal_id))
    profile = session.get(HealthProfile, personal_id)
    if profile is not None and profile.closed_on is not None:
        raise DomainError("sổ sức khỏe đã đóng, không thể chia sẻ")
    limit = max_share_minutes()
    if data.duration_minutes > limit:
        raise DomainError(f"thời hạn chia sẻ tối đa là {limit} phút", field="duration_minutes")
    names: dict[str, str] = {}
    if data.facility_code:
        facility = session.get(Facility, data.facility_code)
        if facility is None or not facility.active:
            raise NotFound(f"không tìm thấy cơ sở khám chữa bệnh {data.facility_code}", field="facility_code")
        names[facility.code] = facility.name
    now = now or datetime.now(UTC)
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    share = Share(id=str(uuid.uuid4()), token_hash=token_digest(token), personal_id=personal_id,
                  facility_code=data.facility_code, scopes=" ".join(data.scopes), purpose=data.purpose.strip(),
                  emergency=False, created_at=now, expires_at=now + timedelta(minutes=data.duration_minutes),
                  created_by=principal.subject)
    session.add(share)
    session.flush()
    audit.record(session, principal, "create", "health.share", resource_id=share.id, subject_id=personal_id,
                 purpose=share.purpose, detail={"facility_code": share.facility_code, "scopes": data.scopes,
                                                "expires_at": share.expires_at.isoformat()})
    svg, png = qr_codes(token)
    return ShareCreated(**_out(share, names), token=token, qr_svg=svg, qr_png=png)


def list_shares(session: Session, principal: Principal, limit: int = 100) -> list[ShareOut]:
    personal_id = principal.personal_id or ""
    authorize(principal, "health.share.manage", Target(personal_id=personal_id))
    rows = list(session.scalars(select(Share).where(Share.personal_id == personal_id)
                                .order_by(Share.created_at.desc()).limit(limit)))
    names = facility_names(session, [s.facility_code for s in rows])
    return [ShareOut(**_out(s, names)) for s in rows]


def revoke_share(session: Session, principal: Principal, share_id: str) -> ShareOut:
    personal_id = principal.personal_id or ""
    authorize(principal, "health.share.manage", Target(personal_id=personal_id))
    share = session.get(Share, share_id)
    if share is None or share.personal_id != personal_id or share.emergency:
        raise NotFound("không tìm thấy lượt chia sẻ này", field="id")
    if share.revoked_at is None:
        share.revoked_at = datetime.now(UTC)
        audit.record(session, principal, "delete", "health.share", resource_id=share.id, subject_id=personal_id,
                     purpose="công dân thu hồi chia sẻ sổ sức khỏe")
    session.flush()
    return ShareOut(**_out(share, facility_names(session, [share.facility_code])))


# --- facility side --------------------------------------------------------------------------------

def _use_share(session: Session, principal: Principal, token: str, scope: str) -> Share:
    """The share behind ``token``, checked for this facility and scope; 403 otherwise."""
    facility_code = require_facility(principal)
    share = session.scalars(select(Share).where(Share.token_hash == token_digest(token))).first()
    if share is None or share.emergency:
        raise forbidden("mã chia sẻ không hợp lệ")
    if share.revoked_at is not None:
        raise forbidden("mã chia sẻ đã bị công dân thu hồi")
    if share.expires_at <= datetime.now(UTC):
        raise forbidden("mã chia sẻ đã hết hạn")
    if share.facility_code and share.facility_code != facility_code:
        raise forbidden("mã chia sẻ này không dành cho cơ sở khám chữa bệnh của bạn")
    if scope not in share.scopes.split():
        raise forbidden(f"công dân không chia sẻ phần \"{SCOPE_NAMES[scope]}\"")
    authorize(principal, "health.shared.read",
              Target(personal_id=share.personal_id, facility_code=share.facility_code or facility_code))
    return share


def _address(session: Session, citizen_out) -> Address | None:
    current = next((r for r in citizen_out.residences if r.valid_to is None and r.kind == "permanent"), None)
    if current is None:
        return None
    parts = [p for p in (current.street, current.ward_name, current.province_name) if p]
    return Address(street=current.street, ward_name=current.ward_name, province_name=current.province_name,
                   text=", ".join(parts))


def build_intake(session: Session, principal: Principal, personal_id: str, *, share_id: str, purpose: str,
                 emergency: bool = False) -> IntakeSummary:
    latest: Visit | None = latest_visit(session, personal_id)
    acting = consent_principal(principal, personal_id)
    from_registry = session.get(Citizen, personal_id) is not None
    full_name = birth = sex = None
    address = None
    if from_registry:
        c = population.get_citizen(session, acting, personal_id,
                                   purpose=f"{'cấp cứu' if emergency else 'tiếp nhận theo chia sẻ'} {share_id}: {purpose}")
        full_name, birth, sex = c.full_name, c.birth_date.isoformat(), c.sex
        address = _address(session, c)
    elif latest is not None:
        full_name, sex = latest.patient_name, latest.sex
        birth = latest.birth_date.isoformat() if latest.birth_date else None
    else:
        raise NotFound(f"không có dữ liệu của công dân {personal_id}", field="personal_id")
    profile = profile_for(session, personal_id, latest)
    since = datetime.now(UTC) - timedelta(days=CURRENT_MEDICATION_DAYS)
    meds, seen = [], set()
    for m in recent_medications(session, personal_id, limit=100, since=since):
        if m.drug_code not in seen:  # newest prescription of each drug
            seen.add(m.drug_code)
            meds.append(m)
    insurance = session.scalar(select(Visit.insurance_card).where(Visit.personal_id == personal_id,
                                                                  Visit.insurance_card.is_not(None))
                               .order_by(Visit.admitted_at.desc()).limit(1))
    last = None
    if latest is not None:
        names = facility_names(session, [latest.facility_code])
        last = LastVisit(facility_code=latest.facility_code, facility_name=names.get(latest.facility_code),
                         admitted_at=latest.admitted_at, discharged_at=latest.discharged_at,
                         main_icd=latest.main_icd, main_icd_name=icd10_name(latest.main_icd).name if latest.main_icd else None,
                         diagnosis_text=latest.diagnosis_text)
    return IntakeSummary(
        share_id=share_id, personal_id=personal_id, full_name=full_name, birth_date=birth, sex=sex, address=address,
        from_registry=from_registry, insurance_card=insurance, blood_group=profile.blood_group,
        height_cm=profile.height_cm, weight_kg=profile.weight_kg, allergies=profile.allergies,
        chronic_conditions=[c.model_dump() for c in profile.chronic_conditions], current_medications=meds[:30],
        last_visit=last, emergency=emergency,
    )


def shared_intake(session: Session, principal: Principal, data: TokenIn) -> IntakeSummary:
    share = _use_share(session, principal, data.token, "intake")
    summary = build_intake(session, principal, share.personal_id, share_id=share.id, purpose=data.purpose)
    audit.record(session, principal, "read", "health.book.intake", resource_id=share.id, subject_id=share.personal_id,
                 purpose=data.purpose, detail={"share_id": share.id, "scope": "intake",
                                               "facility_code": principal.facility_code})
    return summary


def shared_lab_results(session: Session, principal: Principal, data: TokenIn) -> SharedLabResults:
    share = _use_share(session, principal, data.token, "lab_results")
    since = datetime.now(UTC) - timedelta(days=LAB_REUSE_DAYS)
    items = recent_labs(session, share.personal_id, limit=200, since=since)
    audit.record(session, principal, "read", "health.book.lab_results", resource_id=share.id,
                 subject_id=share.personal_id, purpose=data.purpose,
                 detail={"share_id": share.id, "scope": "lab_results", "facility_code": principal.facility_code,
                         "count": len(items)})
    return SharedLabResults(share_id=share.id, personal_id=share.personal_id, since=since, items=items)


def emergency_access(session: Session, principal: Principal, data: EmergencyIn) -> IntakeSummary:
    """Read the intake summary without consent: flagged, audited, and the citizen is notified."""
    check_personal_id(data.personal_id)
    facility_code = require_facility(principal)
    authorize(principal, "health.emergency", Target(personal_id=data.personal_id, facility_code=facility_code))
    now = datetime.now(UTC)
    share = Share(id=str(uuid.uuid4()), token_hash=None, personal_id=data.personal_id, facility_code=facility_code,
                  scopes="intake", purpose=data.reason.strip(), emergency=True, created_at=now, expires_at=now,
                  created_by=principal.subject)
    session.add(share)
    session.flush()
    summary = build_intake(session, principal, data.personal_id, share_id=share.id, purpose=data.reason.strip(),
                           emergency=True)
    audit.record(session, principal, "read", "health.book.intake", resource_id=share.id,
                 subject_id=data.personal_id, purpose=f"cấp cứu: {data.reason.strip()}",
                 detail={"emergency": True, "share_id": share.id, "facility_code": facility_code})
    record_event(session, "health.emergency_access", {
        "share_id": share.id, "personal_id": data.personal_id, "facility_code": facility_code,
        "client_id": principal.subject, "reason": data.reason.strip(), "at": now.isoformat(),
    })
    return summary
