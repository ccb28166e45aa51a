"""Builders shared by the notification inbox tests."""

from __future__ import annotations

from datetime import date

from lienthong.identity.principal import Principal

ADMIN = Principal(kind="admin", subject="001080000011", name="Quản trị", personal_id="001080000011", assurance_level=2)
HOSPITAL, CLINIC, FAR = "01001", "01002", "79003"


def citizen(pid: str, level: int = 2) -> Principal:
    return Principal(kind="citizen", subject=pid, name="Công dân", personal_id=pid, assurance_level=level)


def facility(code: str, scopes=("health.read", "health.submit")) -> Principal:
    return Principal(kind="facility", subject=f"his-{code}", name=f"HIS {code}", facility_code=code,
                     scopes=frozenset(scopes))


def officer(province: int = 1, pid: str = "001082000022") -> Principal:
    return Principal(kind="officer", subject=pid, name="Cán bộ", personal_id=pid, assurance_level=2,
                     province_code=province)


def register(pid: str, birth: str, given: str = "An") -> None:
    from lienthong.db import unit_of_work
    from lienthong.geo import units
    from lienthong.population import schemas, service

    ward = int(units.wards_of(1)[0].code)
    with unit_of_work() as s:
        service.register_citizen(s, ADMIN, schemas.CitizenIn(
            personal_id=pid, family_name="Nguyễn", middle_name="Văn", given_name=given,
            birth_date=date.fromisoformat(birth), sex="M",
            residence=schemas.ResidenceIn(province_code=1, ward_code=ward, street="Số 1 phố Tràng Tiền",
                                          valid_from=date(2025, 7, 1))))


def seed_facilities() -> None:
    from lienthong.db import unit_of_work
    from lienthong.facilities.models import Facility

    with unit_of_work() as s:
        s.add_all([
            Facility(code=HOSPITAL, name="Bệnh viện Bạch Mai", province_code=1, tier="central", ownership="public"),
            Facility(code=CLINIC, name="Trạm y tế phường Tràng Tiền", province_code=1, tier="commune",
                     ownership="public"),
            Facility(code=FAR, name="Bệnh viện Chợ Rẫy", province_code=79, tier="central", ownership="public"),
        ])


