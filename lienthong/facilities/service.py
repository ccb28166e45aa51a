"""Facility and agency registry service."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.audit import service as audit
from lienthong.errors import Conflict, DomainError, NotFound
from lienthong.events.outbox import record_event
from lienthong.facilities import schemas
from lienthong.facilities.models import Agency, Facility
from lienthong.facilities.rules import facility_province
from lienthong.geo import units
from lienthong.identity.policy import authorize
from lienthong.identity.principal import Principal


def register_facility(session: Session, principal: Principal, data: schemas.FacilityIn) -> Facility:
    authorize(principal, "directory.write")
    province_code = facility_province(data.code)
    if data.ward_code is not None:
        units.check_ward_in_province(data.ward_code, province_code)
    if session.get(Facility, data.code) is not None:
        raise Conflict(f"mã cơ sở {data.code} đã tồn tại", field="code")
    facility = Facility(code=data.code, name=data.name, province_code=province_code, ward_code=data.ward_code,
                        tier=data.tier, ownership=data.ownership, insurance_contracted=data.insurance_contracted)
    session.add(facility)
    audit.record(session, principal, "create", "directory.facility", resource_id=data.code, purpose="đăng ký cơ sở")
    record_event(session, "directory.facility.registered", {"code": data.code, "province_code": province_code})
    return facility


def get_facility(session: Session, code: str) -> Facility:
    facility = session.get(Facility, code)
    if facility is None:
        raise NotFound(f"không tìm thấy cơ sở khám chữa bệnh {code}", field="code")
    return facility


def list_facilities(session: Session, *, province_code: int | None = None, tier: str | None = None,
                    q: str | None = None, limit: int = 100, offset: int = 0) -> tuple[int, list[Facility]]:
    stmt = select(Facility)
    if province_code is not None:
        stmt = stmt.where(Facility.province_code == province_code)
    if tier:
        stmt = stmt.where(Facility.tier == tier)
    if q:
        stmt = stmt.where(func.lower(Facility.name).contains(q.lower()))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(Facility.code).limit(limit).offset(offset)).all()
    return total or 0, list(rows)


def register_agency(session: Session, principal: Principal, data: schemas.AgencyIn) -> Agency:
    authorize(principal, "directory.write")
    if data.kind != "ministry" and data.province_code is None:
        raise DomainError("cơ quan địa phương phải có mã tỉnh/thành phố", field="province_code")
    if data.province_code is not None:
        units.province(data.province_code)
    if data.ward_code is not None:
        if data.province_code is None:
            raise DomainError("cần mã tỉnh khi có mã phường/xã", field="province_code")
        units.check_ward_in_province(data.ward_code, data.province_code)
    if data.kind == "commune" and data.ward_code is None:
        raise DomainError("UBND cấp xã phải có mã phường/xã", field="ward_code")
    if session.get(Agency, data.code) is not None:
        raise Conflict(f"mã cơ quan {data.code} đã tồn tại", field="code")
    agency = Agency(code=data.code, name=data.name, kind=data.kind, province_code=data.province_code,
                    ward_code=data.ward_code)
    session.add(agency)
    audit.record(session, principal, "create", "directory.agency", resource_id=data.code, purpose="đăng ký cơ quan")
    record_event(session, "directory.agency.registered", {"code": data.code, "kind": data.kind})
    return agency


def list_agencies(session: Session, *, kind: str | None = None, province_code: int | None = None) -> list[Agency]:
    stmt = select(Agency)
    if kind:
        stmt = stmt.where(Agency.kind == kind)
    if province_code is not None:
        stmt = stmt.where(Agency.province_code == province_code)
    return list(session.scalars(stmt.order_by(Agency.code).limit(1000)))
