"""Population registry service: the only way other contexts read or change citizens.

Every function that touches personal data takes the acting :class:`Principal` and a purpose,
checks the authorization policy against the record, and writes an audit entry in the same
transaction. Changes also write domain events to the outbox.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from lienthong.audit import service as audit
from lienthong.config import get_settings
from lienthong.errors import Conflict, DomainError, NotFound
from lienthong.events.outbox import record_event
from lienthong.geo import units
from lienthong.identity.policy import Target, authorize
from lienthong.identity.principal import Principal
from lienthong.population import schemas
from lienthong.population.ids import PersonalIdInfo, parse_personal_id, validate_personal_id
from lienthong.population.models import Citizen, FamilyLink, LegacyId, Residence

RESOURCE = "population.citizen"


def abroad_prefixes() -> frozenset[str]:
    """The configured country codes accepted in the place part of personal IDs (births abroad)."""
    return frozenset(get_settings().abroad_id_prefixes)


def parse_id(text: str) -> PersonalIdInfo:
    """Parse a personal ID with the configured abroad prefixes: what every context should accept.

    Raises :class:`InvalidPersonalId` (a 400 with a clear message) when it is not a valid ID."""
    return parse_personal_id(text, abroad_prefixes())


def full_name(family: str, middle: str, given: str) -> str:
    return " ".join(part for part in (family, middle, given) if part)


def current_residence(session: Session, personal_id: str) -> Residence | None:
    return session.scalars(
        select(Residence)
        .where(Residence.personal_id == personal_id, Residence.kind == "permanent", Residence.valid_to.is_(None))
        .order_by(Residence.valid_from.desc())
    ).first()


def citizen_target(session: Session, personal_id: str) -> Target:
    """The policy target of a citizen's data: the person and the province of their permanent residence."""
    res = current_residence(session, personal_id)
    return Target(personal_id=personal_id, province_code=res.province_code if res else None)


def _load(session: Session, personal_id: str) -> Citizen:
    parse_id(personal_id)
    citizen = session.get(Citizen, personal_id, options=[selectinload(Citizen.residences), selectinload(Citizen.legacy_ids)])
    if citizen is None:
        raise NotFound(f"không tìm thấy công dân có số định danh {personal_id}", field="personal_id")
    return citizen


def _check_residence(r: schemas.ResidenceIn) -> None:
    units.check_ward_in_province(r.ward_code, r.province_code)


def identity_claims(session: Session, personal_id: str) -> dict | None:
    """Identity attributes for the identity provider (no audit: used only to log the person in)."""
    citizen = session.get(Citizen, personal_id)
    if citizen is None or citizen.status != "alive":
        return None
    return {
        "personal_id": citizen.personal_id,
        "name": citizen.full_name,
        "birth_date": citizen.birth_date,
        "sex": citizen.sex,
    }


def register_citizen(session: Session, principal: Principal, data: schemas.CitizenIn,
                     purpose: str = "đăng ký công dân") -> Citizen:
    info = validate_personal_id(data.personal_id, data.birth_date, data.sex, abroad_prefixes())
    if data.birth_date > date.today():
        raise DomainError("ngày sinh ở tương lai", field="birth_date")
    _check_residence(data.residence)
    authorize(principal, "population.write", Target(personal_id=info.number, province_code=data.residence.province_code))
    if session.get(Citizen, info.number) is not None:
        raise Conflict(f"số định danh {info.number} đã có trong cơ sở dữ liệu", field="personal_id")
    citizen = Citizen(
        personal_id=info.number,
        family_name=data.family_name,
        middle_name=data.middle_name,
        given_name=data.given_name,
        full_name=full_name(data.family_name, data.middle_name, data.given_name),
        birth_date=data.birth_date,
        sex=data.sex,
        birth_place_code=info.place_code,
        ethnicity=data.ethnicity,
    )
    session.add(citizen)
    session.flush()
    session.add(Residence(
        personal_id=citizen.personal_id, kind=data.residence.kind, province_code=data.residence.province_code,
        ward_code=data.residence.ward_code, street=data.residence.street,
        valid_from=data.residence.valid_from or date.today(),
    ))
    for la in data.legacy_addresses:
        if la.valid_to < la.valid_from:
            raise DomainError("địa chỉ cũ: ngày kết thúc trước ngày bắt đầu", field="legacy_addresses")
        province_code, ward_code = units.map_legacy_address(la.old_province_code, la.commune)
        session.add(Residence(
            personal_id=citizen.personal_id, kind="permanent", province_code=province_code, ward_code=ward_code,
            street=la.street, legacy_province_code=f"{int(la.old_province_code):03d}",
            legacy_district=la.district, legacy_commune=la.commune, valid_from=la.valid_from, valid_to=la.valid_to,
        ))
    for lid in data.legacy_ids:
        session.add(LegacyId(personal_id=citizen.personal_id, id_type="CMND9" if len(lid.number) == 9 else "CMND12",
                             number=lid.number, issued_on=lid.issued_on, issued_by=lid.issued_by))
    for relation, rid in (("father", data.father_id), ("mother", data.mother_id), ("spouse", data.spouse_id)):
        if rid:
            _link(session, citizen, relation, rid)
    audit.record(session, principal, "create", RESOURCE, resource_id=citizen.personal_id,
                 subject_id=citizen.personal_id, purpose=purpose)
    record_event(session, "population.citizen.registered", {
        "personal_id": citizen.personal_id, "province_code": data.residence.province_code,
        "ward_code": data.residence.ward_code, "birth_date": citizen.birth_date.isoformat(),
    })
    return citizen


def _link(session: Session, citizen: Citizen, relation: str, relative_id: str) -> None:
    parse_id(relative_id)
    relative = session.get(Citizen, relative_id)
    if relative is None:
        raise DomainError(f"không tìm thấy người thân có số định danh {relative_id}", field=f"{relation}_id")
    if relative_id == citizen.personal_id:
        raise DomainError("không thể liên kết công dân với chính mình", field=f"{relation}_id")
    if relation in ("father", "mother"):
        expected_sex = "M" if relation == "father" else "F"
        if relative.sex != expected_sex:
            raise DomainError("giới tính của cha/mẹ không khớp", field=f"{relation}_id")
        if relative.birth_date >= citizen.birth_date:
            raise DomainError("cha/mẹ phải sinh trước con", field=f"{relation}_id")
        session.add(FamilyLink(personal_id=citizen.personal_id, relation=relation, relative_id=relative_id,
                               valid_from=citizen.birth_date))
    else:
        session.add(FamilyLink(personal_id=citizen.personal_id, relation="spouse", relative_id=relative_id,
                               valid_from=date.today()))
        session.add(FamilyLink(personal_id=relative_id, relation="spouse", relative_id=citizen.personal_id,
                               valid_from=date.today()))


def _relatives(session: Session, personal_id: str) -> list[schemas.RelativeOut]:
    rows = session.execute(
        select(FamilyLink.relation, Citizen.personal_id, Citizen.full_name)
        .join(Citizen, Citizen.personal_id == FamilyLink.relative_id)
        .where(FamilyLink.personal_id == personal_id, FamilyLink.valid_to.is_(None))
    ).all()
    children = session.execute(
        select(Citizen.personal_id, Citizen.full_name)
        .join(FamilyLink, FamilyLink.personal_id == Citizen.personal_id)
        .where(FamilyLink.relative_id == personal_id, FamilyLink.relation.in_(("father", "mother")))
    ).all()
    out = [schemas.RelativeOut(relation=r, personal_id=p, full_name=n) for r, p, n in rows]
    out += [schemas.RelativeOut(relation="child", personal_id=p, full_name=n) for p, n in children]
    return out


def to_out(session: Session, citizen: Citizen) -> schemas.CitizenOut:
    residences = []
    for r in sorted(citizen.residences, key=lambda r: r.valid_from, reverse=True):
        out = schemas.ResidenceOut.model_validate(r)
        try:
            out.province_name = units.province(r.province_code).name
            out.ward_name = units.ward(r.ward_code).name if r.ward_code else None
        except units.UnknownUnit:
            pass
        residences.append(out)
    info = parse_id(citizen.personal_id)
    return schemas.CitizenOut(
        personal_id=citizen.personal_id, full_name=citizen.full_name, family_name=citizen.family_name,
        middle_name=citizen.middle_name, given_name=citizen.given_name, birth_date=citizen.birth_date,
        sex=citizen.sex, birth_place_code=citizen.birth_place_code, birth_place_name=info.place_name,
        ethnicity=citizen.ethnicity, nationality=citizen.nationality, status=citizen.status,
        death_date=citizen.death_date, residences=residences,
        legacy_ids=[schemas.LegacyIdOut.model_validate(x) for x in citizen.legacy_ids],
        relatives=_relatives(session, citizen.personal_id),
    )


def get_citizen(session: Session, principal: Principal, personal_id: str, purpose: str) -> schemas.CitizenOut:
    """Read one citizen's record (audited)."""
    citizen = _load(session, personal_id)
    authorize(principal, "population.read", citizen_target(session, personal_id))
    audit.record(session, principal, "read", RESOURCE, resource_id=personal_id, subject_id=personal_id, purpose=purpose)
    return to_out(session, citizen)


def search(session: Session, principal: Principal, *, name: str | None = None, birth_date: date | None = None,
           legacy_id: str | None = None, province_code: int | None = None, limit: int = 50,
           purpose: str) -> list[schemas.CitizenSummary]:
    """Search by name/birth date/old CMND. Officers only see their province. Each hit is audited."""
    authorize(principal, "population.search")
    if principal.kind in ("officer", "agency"):
        if province_code is not None and province_code != principal.province_code:
            raise DomainError("chỉ được tra cứu trong tỉnh/thành phố của mình", field="province_code")
        province_code = principal.province_code
    if not (name or birth_date or legacy_id):
        raise DomainError("cần ít nhất một tiêu chí: họ tên, ngày sinh hoặc số CMND cũ")
    res = select(Residence.personal_id, Residence.province_code).where(
        Residence.kind == "permanent", Residence.valid_to.is_(None)).subquery()
    stmt = select(Citizen, res.c.province_code).outerjoin(res, res.c.personal_id == Citizen.personal_id)
    if name:
        stmt = stmt.where(func.lower(Citizen.full_name).contains(" ".join(name.split()).lower()))
    if birth_date:
        stmt = stmt.where(Citizen.birth_date == birth_date)
    if legacy_id:
        stmt = stmt.where(Citizen.personal_id.in_(select(LegacyId.personal_id).where(LegacyId.number == legacy_id.strip())))
    if province_code is not None:
        stmt = stmt.where(res.c.province_code == province_code)
    rows = session.execute(stmt.order_by(Citizen.full_name).limit(min(limit, 200))).all()
    out = []
    for citizen, prov in rows:
        audit.record(session, principal, "search", RESOURCE, resource_id=citizen.personal_id,
                     subject_id=citizen.personal_id, purpose=purpose,
                     detail={"name": name, "birth_date": birth_date, "legacy_id": legacy_id})
        out.append(schemas.CitizenSummary(personal_id=citizen.personal_id, full_name=citizen.full_name,
                                          birth_date=citizen.birth_date, sex=citizen.sex, status=citizen.status,
                                          province_code=prov))
    return out


def record_death(session: Session, principal: Principal, personal_id: str, death_date: date,
                 purpose: str = "đăng ký khai tử") -> Citizen:
    citizen = _load(session, personal_id)
    authorize(principal, "population.write", citizen_target(session, personal_id))
    if citizen.status == "dead":
        raise Conflict("công dân đã được ghi nhận là đã chết")
    if death_date < citizen.birth_date or death_date > date.today():
        raise DomainError("ngày chết không hợp lệ", field="death_date")
    citizen.status = "dead"
    citizen.death_date = death_date
    audit.record(session, principal, "update", RESOURCE, resource_id=personal_id, subject_id=personal_id,
                 purpose=purpose, detail={"status": "dead", "death_date": death_date.isoformat()})
    record_event(session, "population.citizen.died", {"personal_id": personal_id, "death_date": death_date.isoformat()})
    return citizen


def move_residence(session: Session, principal: Principal, personal_id: str, residence: schemas.ResidenceIn,
                   purpose: str = "đăng ký cư trú") -> Residence:
    citizen = _load(session, personal_id)
    if citizen.status != "alive":
        raise DomainError("không thể đăng ký cư trú cho người đã chết")
    _check_residence(residence)
    authorize(principal, "population.write", Target(personal_id=personal_id, province_code=residence.province_code))
    start = residence.valid_from or date.today()
    for old in session.scalars(select(Residence).where(
            Residence.personal_id == personal_id, Residence.kind == residence.kind, Residence.valid_to.is_(None))):
        if start <= old.valid_from:
            raise DomainError("ngày bắt đầu cư trú mới phải sau ngày bắt đầu nơi cư trú hiện tại", field="valid_from")
        old.valid_to = start
    new = Residence(personal_id=personal_id, kind=residence.kind, province_code=residence.province_code,
                    ward_code=residence.ward_code, street=residence.street, valid_from=start)
    session.add(new)
    audit.record(session, principal, "update", RESOURCE, resource_id=personal_id, subject_id=personal_id,
                 purpose=purpose, detail={"residence": residence.model_dump(mode="json")})
    record_event(session, "population.residence.changed", {
        "personal_id": personal_id, "kind": residence.kind, "province_code": residence.province_code,
        "ward_code": residence.ward_code, "valid_from": start.isoformat(),
    })
    return new


def deregister_residence(session: Session, principal: Principal, personal_id: str, *, end_date: date,
                         reason: str, kind: str = "permanent", purpose: str = "xóa đăng ký cư trú") -> Residence:
    """Close the current residence of ``kind`` (xóa đăng ký thường trú / tạm trú), e.g. after a death."""
    _load(session, personal_id)
    current = session.scalars(select(Residence).where(
        Residence.personal_id == personal_id, Residence.kind == kind, Residence.valid_to.is_(None))).first()
    if current is None:
        raise Conflict("công dân không có nơi cư trú đang còn hiệu lực", field="personal_id")
    authorize(principal, "population.write", Target(personal_id=personal_id, province_code=current.province_code))
    if not reason or len(reason.strip()) < 3:
        raise DomainError("cần ghi rõ lý do xóa đăng ký cư trú", field="reason")
    if end_date < current.valid_from:
        raise DomainError("ngày xóa đăng ký trước ngày bắt đầu cư trú", field="end_date")
    current.valid_to = end_date
    audit.record(session, principal, "update", RESOURCE, resource_id=personal_id, subject_id=personal_id,
                 purpose=purpose, detail={"deregistered": kind, "end_date": end_date.isoformat(), "reason": reason})
    record_event(session, "population.residence.changed", {
        "personal_id": personal_id, "kind": kind, "province_code": current.province_code,
        "ward_code": current.ward_code, "valid_to": end_date.isoformat(), "removed": True, "reason": reason,
    })
    return current
