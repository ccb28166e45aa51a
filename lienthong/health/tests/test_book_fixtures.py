"""Shared test data for the health book tests (no tests here): facilities, citizens and visits
written straight into the tables, as the ingest service would leave them."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from lienthong.db import unit_of_work
from lienthong.facilities.models import Facility
from lienthong.geo import units
from lienthong.health.models import (
    Appointment, Certificate, Diagnosis, HealthProfile, LabResult, Medication, Referral, Visit, VisitVersion,
)
from lienthong.identity.principal import Principal
from lienthong.population import schemas, service

ADMIN = Principal(kind="admin", subject="001080000011", name="Quản trị", personal_id="001080000011", assurance_level=2)
PID = "001085012345"  # Nguyễn Văn An, born 04/03/1985
OTHER_PID = "001090054321"
HOSPITAL = "01001"
CLINIC = "01002"
FAR = "79003"


def citizen(pid: str = PID) -> Principal:
    return Principal(kind="citizen", subject=pid, name="Công dân", personal_id=pid, assurance_level=2)


def facility(code: str = HOSPITAL, scopes=("health.read", "health.submit")) -> Principal:
    return Principal(kind="facility", subject=f"his-{code}", name=f"HIS {code}", facility_code=code,
                     scopes=frozenset(scopes))


@pytest.fixture
def hclient(client):
    """The application's test client (the shared ``client`` fixture), under the health tests' name."""
    return client


def seed_facilities() -> None:
    with unit_of_work() as s:
        s.add_all([
            Facility(code=HOSPITAL, name="Bệnh viện Bạch Mai", province_code=1, tier="central", ownership="public"),
            Facility(code=CLINIC, name="Trạm y tế phường Tràng Tiền", province_code=1, tier="commune", ownership="public"),
            Facility(code=FAR, name="Bệnh viện Chợ Rẫy", province_code=79, tier="central", ownership="public"),
        ])


def register(pid: str = PID, given: str = "An") -> None:
    ward = int(units.wards_of(1)[0].code)
    year = 1900 + int(pid[4:6])
    with unit_of_work() as s:
        service.register_citizen(s, ADMIN, schemas.CitizenIn(
            personal_id=pid, family_name="Nguyễn", middle_name="Văn", given_name=given, birth_date=date(year, 3, 4),
            sex="M", residence=schemas.ResidenceIn(province_code=1, ward_code=ward, street="Số 1 phố Tràng Tiền",
                                                   valid_from=date(2025, 7, 1))))


def add_visit(pid: str | None, facility_code: str, ma_lk: str, admitted_at: datetime, *, main_icd: str = "J06.9",
              diagnoses=(), labs=(), meds=(), referrals=(), appointments=(), certificates=(), card="DN4799413000573",
              blood_group=None, weight=None, height=None) -> int:
    """Insert one accepted visit (version 1) with its child rows; returns the visit id."""
    with unit_of_work() as s:
        v = Visit(facility_code=facility_code, ma_lk=ma_lk, personal_id=pid, version=1,
                  content_hash=hashlib.sha256(ma_lk.encode()).hexdigest(), source="xml130", patient_name="Nguyễn Văn An",
                  birth_date=date(1985, 3, 4), sex="M", insurance_card=card, visit_type="01", admitted_at=admitted_at,
                  discharged_at=admitted_at + timedelta(hours=2), main_icd=main_icd, diagnosis_text="Khám bệnh",
                  outcome="2", blood_group=blood_group, weight_kg=weight, height_cm=height)
        s.add(v)
        s.flush()
        s.add(VisitVersion(visit_id=v.id, version=1, content_hash=v.content_hash, record={"XML1": {}}))
        for code, name, primary in diagnoses or [(main_icd, None, True)]:
            s.add(Diagnosis(visit_id=v.id, personal_id=pid, icd10=code, name=name, is_primary=primary,
                            diagnosed_at=admitted_at))
        for name, value, unit in labs:
            s.add(LabResult(visit_id=v.id, personal_id=pid, service_code="XN01", indicator_code=name[:10], name=name,
                            value=value, unit=unit, result_at=admitted_at + timedelta(minutes=30)))
        for code, name in meds:
            s.add(Medication(visit_id=v.id, personal_id=pid, drug_code=code, name=name, strength="500mg", route="1",
                             dosage="Ngày uống 2 lần", quantity=Decimal("14"), unit="viên", ordered_at=admitted_at))
        for number, to in referrals:
            s.add(Referral(visit_id=v.id, personal_id=pid, number=number, from_facility=facility_code, to_facility=to,
                           reason_code="1", diagnosis="Theo dõi tăng huyết áp", issued_at=admitted_at))
        for number, at in appointments:
            s.add(Appointment(visit_id=v.id, personal_id=pid, number=number, facility_code=facility_code,
                              appointment_at=at, diagnosis="Tái khám"))
        for kind, number in certificates:
            s.add(Certificate(visit_id=v.id, personal_id=pid, kind=kind, facility_code=facility_code, number=number,
                              issued_at=admitted_at, valid_until=date(2027, 1, 1), data={}))
        return v.id


def add_profile(pid: str = PID) -> None:
    with unit_of_work() as s:
        s.add(HealthProfile(personal_id=pid, blood_group="O+", height_cm=Decimal("168.0"), weight_kg=Decimal("62.50"),
                            chronic_conditions=[{"icd10": "E11.9", "name": "Đái tháo đường", "since": "2020-05-01"}],
                            allergies=["Penicillin"]))


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
