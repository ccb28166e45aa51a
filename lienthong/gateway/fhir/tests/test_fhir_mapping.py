"""FHIR Bundle -> VisitRecord mapping (pure: no database)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from lienthong.gateway.fhir import mapping as m
from lienthong.gateway.fhir.tests import builders as b


def _map(bundle: dict, facility: str = b.FACILITY, **kw) -> m.MappingResult:
    return m.map_bundle(bundle, facility_code=facility, **kw)


def _codes(result: m.MappingResult) -> list[str]:
    return [e.code for e in result.errors]


def test_realistic_bundle_round_trip():
    result = _map(b.two_visit_bundle())
    assert result.errors == []
    assert (result.encounters, result.rejected, len(result.records)) == (2, 0, 2)
    r1, r2 = result.records
    assert (r1.facility_code, r1.ma_lk, r1.source) == ("01001", "LK0001", "fhir")
    assert (r1.personal_id, r1.patient_name, r1.birth_date, r1.sex) == (
        b.PERSONAL_ID, "Nguyễn Văn An", date(1985, 4, 12), "M")
    assert r1.insurance_card == "DN4010112345678"
    assert r1.admitted_at == datetime.fromisoformat("2025-03-02T08:15:00+07:00")
    assert r1.admitted_at.utcoffset().total_seconds() == 7 * 3600
    assert r1.discharged_at == datetime.fromisoformat("2025-03-06T10:00:00+07:00")
    assert (r1.visit_type, r1.outcome, r1.discharge_type) == ("03", "2", "2")
    assert (r1.main_icd, r1.diagnosis_text) == ("J18.9", "Viêm phổi, không đặc hiệu")
    assert [(d.icd10, d.is_primary) for d in r1.diagnoses] == [("J18.9", True), ("E11.9", False)]
    assert (r1.weight_kg, r1.height_cm, r1.blood_group) == (Decimal("62.50"), Decimal("168.0"), "O+")
    [lab] = r1.lab_results
    assert (lab.service_code, lab.indicator_code, lab.name, lab.value, lab.unit, lab.conclusion) == (
        "23.0075.1494", "2345-7", "Định lượng Glucose máu", "7.8", "mmol/L", "Tăng")
    [med] = r1.medications
    assert (med.drug_code, med.name, med.route, med.dosage, med.quantity, med.unit) == (
        "40.152", "Amoxicilin 500mg", "1.01", "Uống 1 viên x 3 lần/ngày sau ăn", Decimal("21"), "viên")
    [ref] = r1.referrals
    assert (ref.number, ref.to_facility, ref.reason_code) == ("CT-LK0001", "01002", "2")
    assert "J18.9" in ref.diagnosis
    [appt] = r1.appointments
    assert (appt.number, appt.appointment_at) == ("HK-LK0001", datetime.fromisoformat("2025-03-20T08:00:00+07:00"))
    assert r1.resource_count() == 1 + 2 + 1 + 1 + 1 + 1
    assert set(r1.raw) >= {"Encounter", "Patient", "Condition", "Observation", "MedicationRequest",
                           "ServiceRequest", "Appointment"}
    assert (r2.personal_id, r2.sex, r2.insurance_card, r2.discharged_at) == (b.PERSONAL_ID_2, "F", None, None)
    assert (r2.main_icd, r2.referrals, r2.appointments) == ("I10", [], [])
    json.dumps(r1.to_json())  # storable


@pytest.mark.parametrize("type_", ["transaction", "batch", "collection", "message"])
def test_bundle_types(type_):
    bundle = b.one_visit_bundle(type_=type_)
    if type_ == "message":
        bundle["entry"].insert(0, {"fullUrl": "urn:uuid:0b8f2c7e-0000-4000-8000-000000000001", "resource": {
            "resourceType": "MessageHeader", "eventUri": "http://fhir.ehealth.gov.vn/core/event/visit",
            "source": {"endpoint": "http://his.example.vn"}}})
    result = _map(bundle)
    assert result.errors == [] and len(result.records) == 1


def test_same_bundle_maps_to_same_hash():
    h1 = [r.content_hash() for r in _map(b.two_visit_bundle()).records]
    h2 = [r.content_hash() for r in _map(m.load_bundle(json.dumps(b.two_visit_bundle()).encode())).records]
    assert h1 == h2


def test_structurally_invalid_resource_rejects_only_its_encounter():
    bundle = b.two_visit_bundle()
    glucose = [e for e in bundle["entry"] if e["resource"].get("code", {}).get("text") == "Định lượng Glucose máu"]
    glucose[1]["resource"]["valueQuantity"]["value"] = "bảy"  # LK0002's lab result
    glucose[1]["resource"]["bogus"] = 1
    result = _map(bundle)
    assert [r.ma_lk for r in result.records] == ["LK0001"]
    assert result.rejected == 1
    structural = [e for e in result.errors if e.code == "invalid_resource"]
    assert {e.path for e in structural} == {"Observation.valueQuantity.value", "Observation.bogus"}
    assert all(e.resource == glucose[1]["fullUrl"] for e in structural)
    dependent = [e for e in result.errors if e.code == "invalid_dependent"]
    assert dependent and dependent[0].encounter.endswith(
        b.find(bundle, lambda r: r["resourceType"] == "Encounter"
               and r["identifier"][0]["value"] == "LK0002")["fullUrl"])


def test_unknown_resource_type_reported():
    bundle = b.one_visit_bundle()
    bundle["entry"].append({"fullUrl": "urn:uuid:5", "resource": {"resourceType": "Ghost"}})
    result = _map(bundle)
    assert len(result.records) == 1
    [err] = result.errors
    assert (err.resource, err.code, err.path) == ("urn:uuid:5", "invalid_resource", "Ghost.resourceType")


def test_missing_and_invalid_personal_id():
    bundle = b.two_visit_bundle()
    p1 = b.find(bundle, lambda r: r["resourceType"] == "Patient" and r["name"][0]["family"] == "Nguyễn")
    p1["resource"]["identifier"] = [i for i in p1["resource"]["identifier"] if i["system"] != m.PERSONAL_ID_SYSTEM]
    result = _map(bundle)
    assert [r.ma_lk for r in result.records] == ["LK0002"]
    [err] = [e for e in result.errors if e.code == "missing_personal_id"]
    assert err.resource == p1["fullUrl"] and err.path == "Patient.identifier"

    bundle = b.two_visit_bundle()
    p2 = b.find(bundle, lambda r: r["resourceType"] == "Patient" and r["name"][0]["family"] == "Trần")
    p2["resource"]["identifier"][0]["value"] = "079092654321"  # male digit for a woman born 1992
    result = _map(bundle)
    assert [r.ma_lk for r in result.records] == ["LK0001"]
    [err] = [e for e in result.errors if e.code == "invalid_personal_id"]
    assert err.path == "Patient.identifier[0].value"
    assert "không khớp giới tính" in err.message


def test_unknown_references():
    bundle = b.two_visit_bundle()
    enc2 = b.find(bundle, lambda r: r["resourceType"] == "Encounter" and r["identifier"][0]["value"] == "LK0002")
    enc2["resource"]["subject"] = {"reference": "Patient/khong-co"}
    cond = b.find(bundle, lambda r: r["resourceType"] == "Condition" and r["code"]["text"].startswith("Đái"))
    cond["resource"]["encounter"] = {"reference": "Encounter/khong-co"}
    result = _map(bundle)
    assert [r.ma_lk for r in result.records] == ["LK0001"]
    assert [d.icd10 for d in result.records[0].diagnoses] == ["J18.9"]
    by_code = {(e.resource, e.code, e.path) for e in result.errors}
    assert (enc2["fullUrl"], "unknown_reference", "Encounter.subject") in by_code
    assert (cond["fullUrl"], "unknown_reference", "Condition.encounter") in by_code


def test_unlinked_resource_reported():
    bundle = b.one_visit_bundle()
    obs = b.find(bundle, lambda r: r["resourceType"] == "Observation" and r["code"].get("text") == "Body weight")
    del obs["resource"]["encounter"]
    result = _map(bundle)
    assert len(result.records) == 1 and result.records[0].weight_kg is None
    assert [(e.resource, e.code) for e in result.errors] == [(obs["fullUrl"], "unlinked")]


def test_facility_mismatch():
    result = _map(b.one_visit_bundle(facility=b.OTHER_FACILITY))
    assert result.records == [] and result.only_foreign
    [err] = result.errors
    assert err.code == "facility_mismatch" and b.OTHER_FACILITY in err.message

    # Mixed: only the foreign encounter is rejected.
    p_url = "urn:uuid:8a1c0e9e-1111-4000-8000-000000000001"
    bundle = b.bundle([{"fullUrl": p_url, "resource": b.patient()}]
                      + b.visit_entries("own", ma_lk="OWN1", patient_url=p_url)
                      + b.visit_entries("foreign", ma_lk="FOR1", patient_url=p_url, facility=b.OTHER_FACILITY))
    result = _map(bundle)
    assert [r.ma_lk for r in result.records] == ["OWN1"] and not result.only_foreign
    assert _codes(result) == ["facility_mismatch"]


def test_facility_from_logical_reference_and_assigner():
    bundle = b.one_visit_bundle()
    enc = b.find(bundle, lambda r: r["resourceType"] == "Encounter")["resource"]
    enc["serviceProvider"] = {"identifier": {"system": m.FACILITY_SYSTEM, "value": b.FACILITY}}
    assert _map(bundle).records[0].facility_code == b.FACILITY
    del enc["serviceProvider"]  # the MA_LK identifier's assigner (an Organization entry) still names it
    assert _map(bundle).records[0].facility_code == b.FACILITY
    del enc["identifier"][0]["assigner"]
    result = _map(bundle)
    assert result.records == [] and _codes(result) == ["missing_facility"]


def test_transaction_is_all_or_nothing():
    bundle = b.two_visit_bundle(type_="transaction")
    enc2 = b.find(bundle, lambda r: r["resourceType"] == "Encounter" and r["identifier"][0]["value"] == "LK0002")
    del enc2["resource"]["period"]["start"]
    result = _map(bundle)
    assert result.records == [] and result.rejected == 2
    assert _codes(result) == ["missing_admission", "transaction_rolled_back"]
    # As a batch, the valid visit goes through.
    bundle["type"] = "batch"
    assert [r.ma_lk for r in _map(bundle).records] == ["LK0001"]
    # Configurable.
    bundle["type"] = "transaction"
    relaxed = m.FhirSettings(transaction_atomic=False)
    assert [r.ma_lk for r in _map(bundle, settings=relaxed).records] == ["LK0001"]


def test_references_by_type_id_and_conditional():
    bundle = b.one_visit_bundle()
    pat = b.find(bundle, lambda r: r["resourceType"] == "Patient")
    enc = b.find(bundle, lambda r: r["resourceType"] == "Encounter")
    pat["resource"]["id"] = "bn1"
    enc["resource"]["id"] = "lk1"
    pat["fullUrl"] = "http://his.example.vn/fhir/Patient/bn1"
    enc["fullUrl"] = "http://his.example.vn/fhir/Encounter/lk1"
    enc["resource"]["subject"] = {"reference": f"Patient?identifier={m.PERSONAL_ID_SYSTEM}|{b.PERSONAL_ID}"}
    for e in bundle["entry"]:
        r = e["resource"]
        if "encounter" in r:
            r["encounter"] = {"reference": "Encounter/lk1"}
        if r["resourceType"] == "Appointment":
            r["supportingInformation"] = [{"reference": "Encounter/lk1"}]
    result = _map(bundle)
    assert result.errors == []
    rec = result.records[0]
    assert rec.personal_id == b.PERSONAL_ID and len(rec.diagnoses) == 2 and rec.appointments


def test_primary_diagnosis_by_rank_and_invalid_icd():
    bundle = b.one_visit_bundle()
    enc = b.find(bundle, lambda r: r["resourceType"] == "Encounter")["resource"]
    enc["diagnosis"].reverse()
    enc["diagnosis"][0]["rank"], enc["diagnosis"][1]["rank"] = 1, 2  # E11.9 is now rank 1
    rec = _map(bundle).records[0]
    assert rec.main_icd == "E11.9"
    assert [d.icd10 for d in rec.diagnoses if d.is_primary] == ["E11.9"]

    cond = b.find(bundle, lambda r: r["resourceType"] == "Condition")
    cond["resource"]["code"]["coding"][0]["code"] = "viem phoi"
    result = _map(bundle)
    assert result.records == [] and _codes(result) == ["invalid_icd10"]


def test_observation_units_and_blood_groups():
    bundle = b.one_visit_bundle()
    w = b.find(bundle, lambda r: r["resourceType"] == "Observation" and r["code"].get("text") == "Body weight")
    w["resource"]["valueQuantity"].update(value=3250, unit="g", code="g")
    h = b.find(bundle, lambda r: r["resourceType"] == "Observation" and r["code"].get("text") == "Body height")
    h["resource"]["valueQuantity"].update(value=0.5, unit="m", code="m")
    rec = _map(bundle).records[0]
    assert (rec.weight_kg, rec.height_cm) == (Decimal("3.25"), Decimal("50.0"))
    for text, expected in [("AB+", "AB+"), ("B Rh(D) negative", "B-"), ("Nhóm máu O", "O"), ("A neg", "A-"),
                           ("A dương tính", "A+"), ("X+", None), ("", None)]:
        assert m.normalize_blood_group(text) == expected, text


def test_naive_and_date_only_times_are_vietnam_time():
    assert m.parse_instant("2025-03-02T08:15:00") == datetime.fromisoformat("2025-03-02T08:15:00+07:00")
    assert m.parse_instant("2025-03-02T01:15:00Z") == datetime.fromisoformat("2025-03-02T08:15:00+07:00")
    assert m.parse_instant("2025-03-02") == datetime.fromisoformat("2025-03-02T00:00:00+07:00")
    assert m.parse_instant("2025-03") is None and m.parse_instant("hôm qua") is None


# --- hostile and unusable input -----------------------------------------------------------------

def _bundle_error(data: bytes, **settings) -> m.BundleError:
    with pytest.raises(m.BundleError) as info:
        m.map_bytes(data, facility_code=b.FACILITY, settings=m.FhirSettings(**settings))
    return info.value


def test_deep_nesting_rejected_before_parsing():
    err = _bundle_error(b'{"resourceType":"Bundle","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert err.code == "too_deep" and err.status_code == 400
    # Brackets inside strings do not count.
    ok = json.dumps({**b.one_visit_bundle(), "identifier": {"value": '[[[["\\{' * 40}}).encode()
    assert len(m.map_bytes(ok, facility_code=b.FACILITY).records) == 1


def test_size_cap():
    data = json.dumps(b.one_visit_bundle()).encode()
    err = _bundle_error(data, max_bytes=len(data) - 1)
    assert err.code == "payload_too_large" and err.status_code == 413
    # A stream is cut off at the cap as well.
    import io

    with pytest.raises(m.BundleError):
        m.read_limited(io.BytesIO(data), len(data) - 1)
    assert m.read_limited(io.BytesIO(data), len(data)) == data


@pytest.mark.parametrize("data, code", [
    (b"", "empty_body"),
    (b"\xff\xfe{}", "invalid_encoding"),
    (b'{"resourceType": "Bundle", "type": "batch", "type": "collection"}', "duplicate_key"),
    (b'{"resourceType": "Bundle", "type": "batch", "total": NaN}', "invalid_json"),
    (b'{"resourceType": "Bundle", "type": ', "invalid_json"),
    (b"[1, 2]", "not_a_bundle"),
    (b'{"resourceType": "Patient"}', "not_a_bundle"),
    (b'{"resourceType": "Bundle", "type": "searchset"}', "unsupported_bundle_type"),
    (b'{"resourceType": "Bundle", "type": "batch", "entry": {}}', "invalid_bundle"),
    (b'{"resourceType": "Bundle", "type": "batch", "timestamp": "yesterday"}', "invalid_bundle"),
])
def test_unusable_input(data, code):
    err = _bundle_error(data)
    assert err.code == code
    assert err.message  # Vietnamese, for the submitter


def test_too_many_entries():
    bundle = b.one_visit_bundle()
    err = _bundle_error(json.dumps(bundle).encode(), max_entries=3)
    assert err.code == "too_many_entries"


def test_delete_entries_are_refused():
    bundle = b.one_visit_bundle(type_="transaction")
    bundle["entry"].append({"request": {"method": "DELETE", "url": "Encounter/1"}, "resource": {
        "resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"}}})
    result = _map(bundle, settings=m.FhirSettings(transaction_atomic=False))
    assert "unsupported_method" in _codes(result) and len(result.records) == 1
