"""The ingest service (store_visits) on both databases: new / unchanged / updated, versions, child
replacement, events, health profiles, receipt counters, audit."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lienthong.audit.models import AuditEntry
from lienthong.db import session_factory
from lienthong.events.models import OutboxEvent
from lienthong.health import ingest, records
from lienthong.health.models import (
    Appointment, Certificate, Diagnosis, HealthProfile, IngestBatch, LabResult, Medication, Referral, Visit,
    VisitVersion,
)
from lienthong.health.records import (
    AppointmentRec, CertificateRec, DiagnosisRec, LabResultRec, MedicationRec, ReferralRec, VisitRecord,
)
from lienthong.identity.principal import Principal

VN = timezone(timedelta(hours=7))
FAC = "01001"
CLINIC = Principal(kind="facility", subject="client-01001", facility_code=FAC, scopes=frozenset({"health.submit"}))


def visit(ma_lk: str, *, pid: str | None = "001090000001", admitted: datetime | None = None, icd: str = "J06",
          extra_icd: tuple[str, ...] = (), meds: int = 2, labs: int = 1, weight: str | None = "60.5",
          blood: str | None = "O+", referral: str | None = None, appointment: str | None = None,
          birth_cert: str | None = None) -> VisitRecord:
    at = admitted or datetime(2026, 3, 1, 8, 30, tzinfo=VN)
    rec = VisitRecord(
        facility_code=FAC, ma_lk=ma_lk, patient_name="Nguyễn Văn An", admitted_at=at, source="xml130",
        personal_id=pid, birth_date=date(1990, 5, 4), sex="M", insurance_card="DN4010012345678", visit_type="01",
        discharged_at=at + timedelta(hours=2), main_icd=icd, diagnosis_text="Viêm họng cấp", outcome="1",
        discharge_type="1", blood_group=blood, weight_kg=Decimal(weight) if weight else None,
        height_cm=Decimal("168.0"),
        diagnoses=[DiagnosisRec(icd, "Chẩn đoán chính", True)] + [DiagnosisRec(c, None) for c in extra_icd],
        medications=[MedicationRec(f"40.{i}", f"Thuốc {i}", at, strength="500mg", route="1.01", dosage="2 viên/ngày",
                                   quantity=Decimal("10.000"), unit="viên") for i in range(meds)],
        lab_results=[LabResultRec("22.0120.1369", at + timedelta(hours=1), indicator_code=f"GLU{i}",
                                  name="Glucose", value="5.6", unit="mmol/L") for i in range(labs)],
        raw={"XML1": {"MA_LK": ma_lk}},
    )
    if referral:
        rec.referrals.append(ReferralRec(referral, at + timedelta(hours=2), to_facility="01002", reason_code="1",
                                         diagnosis="Viêm họng cấp"))
    if appointment:
        rec.appointments.append(AppointmentRec(appointment, at + timedelta(days=14), diagnosis="Tái khám"))
    if birth_cert:
        rec.certificates.append(CertificateRec("birth", at + timedelta(hours=3), number=birth_cert,
                                               data={"HO_TEN_NND": "Trần Thị Bình", "CAN_NANG_CON": "3200"}))
    return rec


def run(url: str, records: list[VisitRecord]) -> tuple[ingest.StoreResult, str]:
    with session_factory(url)() as s:
        batch = ingest.new_batch(s, CLINIC, source="xml130", filename="test.xml")
        result = ingest.store_visits(s, batch, records)
        ingest.finish_batch(s, CLINIC, batch)
        s.commit()
        return result, batch.id


def count(s, model, *where) -> int:
    stmt = select(func.count()).select_from(model)
    for w in where:
        stmt = stmt.where(w)
    return s.scalar(stmt)


def test_new_unchanged_updated_versions(db_url):
    r1, b1 = run(db_url, [visit("LK1"), visit("LK2", meds=3)])
    assert (r1.accepted, r1.updated, r1.unchanged) == (2, 0, 0)
    # visit + 1 diagnosis + 2 meds + 1 lab = 5; second: 1 + 1 + 3 + 1 = 6
    assert r1.resources == 11

    r2, _ = run(db_url, [visit("LK1"), visit("LK2", meds=3)])
    assert (r2.accepted, r2.updated, r2.unchanged, r2.resources) == (0, 0, 2, 0)

    r3, b3 = run(db_url, [visit("LK1"), visit("LK2", meds=1, labs=0)])
    assert (r3.accepted, r3.updated, r3.unchanged) == (0, 1, 1)
    with session_factory(db_url)() as s:
        assert count(s, Visit) == 2
        lk2 = s.scalars(select(Visit).where(Visit.ma_lk == "LK2")).one()
        assert lk2.version == 2 and lk2.batch_id == b3
        assert lk2.content_hash == visit("LK2", meds=1, labs=0).content_hash()
        assert lk2.record["ma_lk"] == "LK2" and lk2.record["raw"] == {"XML1": {"MA_LK": "LK2"}}
        versions = s.execute(select(VisitVersion.version, VisitVersion.batch_id)
                             .where(VisitVersion.visit_id == lk2.id).order_by(VisitVersion.version)).all()
        assert versions == [(1, b1), (2, b3)]
        assert count(s, VisitVersion) == 3
        # child rows replaced, not appended
        assert count(s, Medication, Medication.visit_id == lk2.id) == 1
        assert count(s, LabResult, LabResult.visit_id == lk2.id) == 0
        assert count(s, Diagnosis, Diagnosis.visit_id == lk2.id) == 1
        lk1 = s.scalars(select(Visit).where(Visit.ma_lk == "LK1")).one()
        assert lk1.version == 1 and count(s, Medication, Medication.visit_id == lk1.id) == 2
        med = s.scalars(select(Medication).where(Medication.visit_id == lk1.id).limit(1)).one()
        assert med.quantity == Decimal("10.000") and med.personal_id == "001090000001"
        assert med.ordered_at.replace(tzinfo=med.ordered_at.tzinfo or timezone.utc) == \
            datetime(2026, 3, 1, 8, 30, tzinfo=VN)
        events = s.execute(select(OutboxEvent.payload).where(OutboxEvent.topic == "health.visit.accepted")
                           .order_by(OutboxEvent.seq)).scalars().all()
        assert [(e["ma_lk"], e["version"]) for e in events] == [("LK1", 1), ("LK2", 1), ("LK2", 2)]
        assert events[-1] == {"visit_id": lk2.id, "personal_id": "001090000001", "facility_code": FAC,
                              "ma_lk": "LK2", "version": 2, "admitted_at": events[-1]["admitted_at"]}
        assert datetime.fromisoformat(events[-1]["admitted_at"]) == lk2.admitted_at
        batch = s.get(IngestBatch, b3)
        assert (batch.accepted, batch.updated, batch.unchanged, batch.status) == (0, 1, 1, "done")
        assert batch.resources == 3  # visit + diagnosis + medication
        audits = s.scalars(select(AuditEntry).where(AuditEntry.resource == "ingest_batch")).all()
        assert len(audits) == 3  # one per batch, never per record
        assert audits[-1].detail["updated"] == 1 and audits[-1].actor_id == "client-01001"


def test_duplicate_malk_within_one_chunk_is_versioned_in_order(db_url):
    r, _ = run(db_url, [visit("LK9", meds=1), visit("LK9", meds=2), visit("LK9", meds=2)])
    assert (r.accepted, r.updated, r.unchanged) == (1, 1, 1)
    with session_factory(db_url)() as s:
        v = s.scalars(select(Visit)).one()
        assert v.version == 2 and count(s, Medication) == 2 and count(s, VisitVersion) == 2


def test_documents_events_and_referral_decision_survive_resubmission(db_url):
    run(db_url, [visit("LK1", referral="CT-1", appointment="HEN-1", birth_cert="01001.GCS.00001.26")])
    with session_factory(db_url)() as s:
        topics = sorted(s.scalars(select(OutboxEvent.topic)))
        assert topics == ["health.appointment.created", "health.certificate.issued", "health.referral.issued",
                          "health.visit.accepted"]
        cert_event = s.scalars(select(OutboxEvent.payload).where(OutboxEvent.topic == "health.certificate.issued")).one()
        cert = s.scalars(select(Certificate)).one()
        assert cert_event["certificate_id"] == cert.id and cert_event["kind"] == "birth"
        assert cert.data["HO_TEN_NND"] == "Trần Thị Bình" and cert.facility_code == FAC
        ref = s.scalars(select(Referral)).one()
        assert ref.from_facility == FAC and ref.to_facility == "01002" and ref.status == "issued"
        ref.status, ref.decided_by = "accepted", "client-01002"
        s.commit()
    # A correction (different medication) keeps the documents: no new document events, decision kept.
    run(db_url, [visit("LK1", meds=1, referral="CT-1", appointment="HEN-1", birth_cert="01001.GCS.00001.26")])
    with session_factory(db_url)() as s:
        assert count(s, OutboxEvent, OutboxEvent.topic == "health.certificate.issued") == 1
        assert count(s, OutboxEvent, OutboxEvent.topic == "health.referral.issued") == 1
        assert count(s, OutboxEvent, OutboxEvent.topic == "health.visit.accepted") == 2
        ref = s.scalars(select(Referral)).one()
        assert (ref.status, ref.decided_by) == ("accepted", "client-01002")
        assert count(s, Certificate) == 1 and count(s, Appointment) == 1
    # A new referral number is a new document.
    run(db_url, [visit("LK1", meds=1, referral="CT-2", appointment="HEN-1", birth_cert="01001.GCS.00001.26")])
    with session_factory(db_url)() as s:
        assert count(s, OutboxEvent, OutboxEvent.topic == "health.referral.issued") == 2
        ref = s.scalars(select(Referral)).one()
        assert (ref.number, ref.status) == ("CT-2", "issued")


def test_health_profile_latest_measurements_and_chronic_conditions(db_url):
    pid = "001090000002"
    old = datetime(2025, 1, 10, 9, 0, tzinfo=VN)
    new = datetime(2026, 2, 10, 9, 0, tzinfo=VN)
    run(db_url, [visit("A", pid=pid, admitted=new, icd="E11.9", extra_icd=("I10",), weight="70.00"),
                 visit("B", pid="001090000003", icd="J06", weight=None, blood=None)])
    # An older visit submitted later does not overwrite the newer weight; it adds its chronic condition
    # and moves "since" back.
    run(db_url, [visit("C", pid=pid, admitted=old, icd="I10", extra_icd=("J45",), weight="80.00")])
    with session_factory(db_url)() as s:
        prof = s.get(HealthProfile, pid)
        assert prof.weight_kg == Decimal("70.00") and prof.blood_group == "O+" and prof.height_cm == Decimal("168.0")
        conds = {c["icd10"]: c for c in prof.chronic_conditions}
        assert sorted(conds) == ["E11.9", "I10", "J45"]
        assert conds["I10"]["since"] == "2025-01-10" and conds["I10"]["group"] == "Tăng huyết áp"
        assert conds["E11.9"]["since"] == "2026-02-10" and conds["E11.9"]["group"] == "Đái tháo đường"
        other = s.get(HealthProfile, "001090000003")
        assert other.chronic_conditions == [] and other.weight_kg is None and other.blood_group is None
    # A newer visit updates the latest weight.
    run(db_url, [visit("D", pid=pid, admitted=new + timedelta(days=30), icd="J06", weight="68.25")])
    with session_factory(db_url)() as s:
        prof = s.get(HealthProfile, pid)
        assert prof.weight_kg == Decimal("68.25") and len(prof.chronic_conditions) == 3


def test_visit_without_personal_id_is_stored_without_profile(db_url):
    r, _ = run(db_url, [visit("NOPID", pid=None, icd="E11")])
    assert r.accepted == 1
    with session_factory(db_url)() as s:
        assert count(s, HealthProfile) == 0
        assert s.scalars(select(Visit.personal_id)).one() is None


def test_rejections_are_bounded_and_counted(db_url, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_ERRORS_KEPT", 3)
    with session_factory(db_url)() as s:
        batch = ingest.new_batch(s, CLINIC, source="xml130", filename="x.xml")
        ingest.add_rejections(batch, dossiers=3, rejected=2, errors=[
            {"ma_lk": f"L{i}", "table": "XML1", "record": 0, "field": "NGAY_VAO", "code": "invalid_datetime",
             "message": "Ngày vào không hợp lệ"} for i in range(5)])
        ingest.store_visits(s, batch, [visit("OK1")])
        s.commit()
        rec = ingest.receipt(batch)
    assert rec["dossiers"] == 3 and rec["rejected"] == 2 and rec["accepted"] == 1
    assert rec["error_count"] == 5 and len(rec["errors"]) == 3 and rec["errors_truncated"] is True
    assert rec["status"] == "receiving"


def test_store_rejects_other_facility(db_url):
    with session_factory(db_url)() as s:
        batch = ingest.new_batch(s, CLINIC, source="xml130", filename=None)
        with pytest.raises(ValueError):
            ingest.store_visits(s, batch, [replace(visit("X"), facility_code="99999")])


def test_chronic_group_table():
    assert ingest.chronic_group("E11.9") == "Đái tháo đường"
    assert ingest.chronic_group("e14") == "Đái tháo đường"
    assert ingest.chronic_group("I15.0") == "Tăng huyết áp"
    assert ingest.chronic_group("I16") is None
    assert ingest.chronic_group("N18.5") == "Bệnh thận mạn"
    assert ingest.chronic_group("C50.9") == "Ung thư"
    assert ingest.chronic_group("J06") is None
    assert ingest.chronic_group("") is None


def test_fast_canonical_json_equals_the_record_contract():
    rec = visit("LKH", referral="CT-1", appointment="HEN-1", birth_cert="GCS-1", extra_icd=("I10",))
    rec.raw = {"XML1": [{"MA_LK": "LKH", "HO_TEN": "Nguyễn Văn An"}], "XML2": [{"STT": "1"}, {"STT": "2"}]}
    prepared = ingest.prepare_visit(rec)
    assert prepared.digest == rec.content_hash()
    assert records.record_dict(rec) == dataclasses.asdict(rec)
    # the canonical form is the asdict() JSON, sorted and compact
    reference = json.dumps(dataclasses.asdict(rec), default=records.json_default, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    assert prepared.body == reference
    assert prepared.digest == hashlib.sha256(reference.encode()).hexdigest()
