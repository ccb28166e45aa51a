"""Fixtures for the civil procedure tests: an app with the civil/insurance routers, and a family."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from lienthong.geo import units
from lienthong.identity.principal import Principal

ADMIN = Principal(kind="admin", subject="001080000011", name="Quản trị", personal_id="001080000011", assurance_level=2)
WARDS = [int(w.code) for w in units.wards_of(1)]
MOTHER = "001190012345"
FATHER = "001088054321"
GRANDMA = "001160011111"


def officer(province=1, pid="001082000022"):
    return Principal(kind="officer", subject=pid, name="Cán bộ hộ tịch", personal_id=pid, assurance_level=2,
                     province_code=province)


def citizen(pid, level=2):
    return Principal(kind="citizen", subject=pid, name="Công dân", personal_id=pid, assurance_level=level)


@pytest.fixture
def app_client(db_url):
    from fastapi.testclient import TestClient

    from lienthong.app import create_app
    from lienthong.civil.driver_health import router as driver_router
    from lienthong.civil.routes import router as civil_router
    from lienthong.insurance.routes import router as insurance_router

    app = create_app()
    paths = {getattr(r, "path", None) for r in app.routes}
    for router in (civil_router, driver_router, insurance_router):
        if not any(getattr(r, "path", None) in paths for r in router.routes):
            app.include_router(router)
    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def family(db_url):
    """Mother (married to father) and the mother's mother, all living in Hà Nội."""
    return register_family(db_url)


def register_family(db_url) -> dict:
    """The citizens of the ``family`` fixture (also for tests that empty the database midway)."""
    from lienthong.db import unit_of_work
    from lienthong.population import schemas, service

    def body(pid, family, middle, given, birth, sex, ward, **extra):
        return schemas.CitizenIn(personal_id=pid, family_name=family, middle_name=middle, given_name=given,
                                 birth_date=birth, sex=sex, residence=schemas.ResidenceIn(
                                     province_code=1, ward_code=ward, street="Số 5 phố Huế", valid_from=date(2020, 1, 1)),
                                 **extra)

    with unit_of_work(db_url) as s:
        service.register_citizen(s, ADMIN, body(GRANDMA, "Lê", "Thị", "Hoa", date(1960, 2, 2), "F", WARDS[0]))
        service.register_citizen(s, ADMIN, body(FATHER, "Nguyễn", "Văn", "Bình", date(1988, 5, 6), "M", WARDS[1]))
        service.register_citizen(s, ADMIN, body(MOTHER, "Trần", "Thị", "Lan", date(1990, 7, 8), "F", WARDS[0],
                                                spouse_id=FATHER, mother_id=GRANDMA))
    return {"mother": MOTHER, "father": FATHER, "grandma": GRANDMA}


def xml9(born: datetime, *, mother=MOTHER, name="Nguyễn Minh An", sex=1) -> dict:
    return {"MA_LK": "LK1", "HO_TEN_NND": "Trần Thị Lan", "SO_CCCD_NND": mother, "NGAYSINH_NND": "1990-07-08",
            "HO_TEN_CHA": "Nguyễn Văn Bình", "HO_TEN_CON": name, "GIOI_TINH_CON": sex, "CAN_NANG_CON": 3200,
            "NGAY_SINH_CON": born.isoformat(), "NOI_SINH_CON": "Bệnh viện Phụ sản Hà Nội", "MA_THE_TAM": "TE101",
            "SO": "GCS-0001", "NGAY_CT": born.isoformat()}


def emit_certificate(db_url, kind: str, data: dict, *, personal_id=None, number="GCS-0001", facility="01001",
                     ma_lk="LK1") -> int:
    """Store a certificate as the ingest service does and write its ``health.certificate.issued`` event."""
    from lienthong.db import unit_of_work
    from lienthong.events.outbox import record_event
    from lienthong.health.models import Certificate

    with unit_of_work(db_url) as s:
        cert = Certificate(visit_id=None, personal_id=personal_id, kind=kind, facility_code=facility, number=number,
                           issued_at=datetime.now().astimezone(), data=data)
        s.add(cert)
        s.flush()
        record_event(s, "health.certificate.issued", {
            "visit_id": None, "personal_id": personal_id, "facility_code": facility, "ma_lk": ma_lk,
            "certificate_id": cert.id, "kind": kind, "number": number, "issued_at": cert.issued_at.isoformat()})
        return cert.id


def relay(db_url):
    from lienthong.civil import intake

    intake.install()
    from lienthong.events.relay import relay_once

    return relay_once(db_url, nats_url="")


def recent_birth(days=3) -> datetime:
    from lienthong.workdays import VN_TZ

    return (datetime.now(VN_TZ) - timedelta(days=days)).replace(hour=9, minute=30, second=0, microsecond=0)
