"""The FHIR endpoints over HTTP, on both databases: submission receipts, idempotency, partial
acceptance, authorization, hostile input, and the citizen's IPS export."""

from __future__ import annotations

import copy
import json

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import func, select

from lienthong.audit.models import AuditEntry
from lienthong.db import session_factory
from lienthong.gateway.fhir import mapping as m
from lienthong.gateway.fhir.tests import builders as b
from lienthong.health.models import (
    Appointment, Diagnosis, HealthProfile, IngestBatch, LabResult, Medication, Referral, Visit,
)
from lienthong.identity.principal import Principal

URL = "/api/v1/gateway/fhir"
IPS_URL = "/api/v1/me/health/ips"
FHIR_JSON = {"Content-Type": "application/fhir+json"}
CLINIC = Principal(kind="facility", subject="c1", facility_code=b.FACILITY, scopes=frozenset({"health.submit"}))
OTHER_CLINIC = Principal(kind="facility", subject="c2", facility_code=b.OTHER_FACILITY,
                         scopes=frozenset({"health.submit"}))
CITIZEN = Principal(kind="citizen", subject=b.PERSONAL_ID, name="Nguyễn Văn An", personal_id=b.PERSONAL_ID,
                    assurance_level=2)


@pytest.fixture
def api(client):
    """The application's test client (the shared ``client`` fixture)."""
    return client


def post(api, bearer, bundle, principal=CLINIC, headers=FHIR_JSON):
    data = bundle if isinstance(bundle, bytes) else json.dumps(bundle, ensure_ascii=False).encode()
    return api.post(URL, content=data, headers={**headers, **bearer(principal)})


def count(model, **where) -> int:
    with session_factory()() as s:
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return s.scalar(stmt)


def test_submit_and_resubmit(api, bearer):
    bundle = b.two_visit_bundle()
    expected = [r.resource_count() for r in m.map_bundle(bundle, facility_code=b.FACILITY).records]

    r = post(api, bearer, bundle)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["accepted"], body["updated"], body["unchanged"], body["rejected"]) == (
        "done", 2, 0, 0, 0)
    assert body["resources"] == sum(expected) and body["errors"] == []
    assert body["source"] == "fhir" and body["bundle_type"] == "batch" and body["facility_code"] == b.FACILITY
    with session_factory()() as s:
        v = s.scalars(select(Visit).where(Visit.ma_lk == "LK0001")).one()
        assert (v.source, v.personal_id, v.main_icd, v.visit_type, v.blood_group) == (
            "fhir", b.PERSONAL_ID, "J18.9", "03", "O+")
        assert float(v.weight_kg) == 62.5 and v.version == 1
        batch = s.get(IngestBatch, body["batch_id"])
        assert (batch.source, batch.status, batch.client_id) == ("fhir", "done", "c1")
    assert count(Diagnosis, personal_id=b.PERSONAL_ID) == 2
    assert count(LabResult, personal_id=b.PERSONAL_ID) == 1
    assert count(Medication) == 2
    assert count(Referral, to_facility="01002") == 1
    assert count(Appointment, number="HK-LK0001") == 1
    assert count(AuditEntry, resource="ingest_batch", resource_id=body["batch_id"]) == 1

    # The same bundle again: nothing changes.
    again = post(api, bearer, bundle).json()
    assert (again["accepted"], again["updated"], again["unchanged"], again["rejected"]) == (0, 0, 2, 0)
    assert count(Visit) == 2 and count(Diagnosis) == 3

    # One visit corrected: a new version of that visit only.
    changed = copy.deepcopy(bundle)
    b.find(changed, lambda x: x["resourceType"] == "Observation"
           and x["code"].get("text") == "Body weight")["resource"]["valueQuantity"]["value"] = 63
    third = post(api, bearer, changed).json()
    assert (third["accepted"], third["updated"], third["unchanged"]) == (0, 1, 1)
    with session_factory()() as s:
        v = s.scalars(select(Visit).where(Visit.ma_lk == "LK0001")).one()
        assert v.version == 2 and float(v.weight_kg) == 63
    assert count(Visit) == 2 and count(Diagnosis) == 3 and count(Referral) == 1


def test_partial_acceptance_and_invalid_resources(api, bearer):
    bundle = b.two_visit_bundle()
    pat2 = b.find(bundle, lambda x: x["resourceType"] == "Patient" and x["name"][0]["family"] == "Trần")
    pat2["resource"]["birthDate"] = "30/11/1992"  # structurally invalid
    r = post(api, bearer, bundle)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["rejected"], body["dossiers"]) == (1, 1, 2)
    err = next(e for e in body["errors"] if e["code"] == "invalid_resource")
    assert err == {"resource": pat2["fullUrl"], "path": "Patient.birthDate", "code": "invalid_resource",
                   "message": err["message"]}
    assert "không hợp lệ" in err["message"]
    assert any(e["code"] == "invalid_resource" and e["path"] == "Patient" and e.get("encounter")
               for e in body["errors"])
    assert count(Visit) == 1 and count(Visit, ma_lk="LK0001") == 1
    with session_factory()() as s:
        assert s.get(IngestBatch, body["batch_id"]).error_count == len(body["errors"])


def test_transaction_bundle_with_error_stores_nothing(api, bearer):
    bundle = b.two_visit_bundle(type_="transaction")
    cond = b.find(bundle, lambda x: x["resourceType"] == "Condition" and x["code"]["text"].startswith("Tăng"))
    cond["resource"]["code"]["coding"][0]["system"] = "http://example.org/khong-phai-icd"
    body = post(api, bearer, bundle).json()
    assert (body["accepted"], body["rejected"]) == (0, 2)
    assert {e["code"] for e in body["errors"]} == {"missing_icd10", "transaction_rolled_back"}
    assert count(Visit) == 0


def test_facility_mismatch_is_403(api, bearer):
    r = post(api, bearer, b.one_visit_bundle(), principal=OTHER_CLINIC)
    assert r.status_code == 403
    assert "01001" in r.text and count(IngestBatch) == 0 and count(Visit) == 0
    # A mixed bundle: the foreign visit is rejected, the own one accepted.
    p_url = "urn:uuid:8a1c0e9e-1111-4000-8000-000000000001"
    mixed = b.bundle([{"fullUrl": p_url, "resource": b.patient()}]
                     + b.visit_entries("own", ma_lk="OWN1", patient_url=p_url)
                     + b.visit_entries("foreign", ma_lk="FOR1", patient_url=p_url, facility=b.OTHER_FACILITY))
    body = post(api, bearer, mixed).json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert [e["code"] for e in body["errors"]] == ["facility_mismatch"]
    assert count(Visit, facility_code=b.OTHER_FACILITY) == 0


def test_authorization(api, bearer):
    bundle = b.one_visit_bundle()
    assert api.post(URL, content=json.dumps(bundle), headers=FHIR_JSON).status_code == 401
    no_scope = Principal(kind="facility", subject="c3", facility_code=b.FACILITY, scopes=frozenset({"health.read"}))
    assert post(api, bearer, bundle, principal=no_scope).status_code == 403
    assert post(api, bearer, bundle, principal=CITIZEN).status_code == 403
    no_facility = Principal(kind="facility", subject="c4", scopes=frozenset({"health.submit"}))
    assert post(api, bearer, bundle, principal=no_facility).status_code == 403
    assert count(Visit) == 0


def test_unusable_submissions(api, bearer, monkeypatch):
    r = post(api, bearer, b.one_visit_bundle(), headers={"Content-Type": "application/xml"})
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
    r = post(api, bearer, b'{"resourceType":"Bundle","type":"batch","entry":' + b"[" * 5000 + b"]" * 5000 + b"}")
    assert r.status_code == 400 and r.json()["error"]["code"] == "too_deep"
    r = post(api, bearer, b"{not json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    monkeypatch.setattr(m, "get_fhir_settings", lambda: m.FhirSettings(max_bytes=2000))
    r = post(api, bearer, b.one_visit_bundle())
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    data = json.dumps(b.one_visit_bundle(), ensure_ascii=False).encode()
    r = api.post(URL, content=(data[i:i + 500] for i in range(0, len(data), 500)),  # chunked: no Content-Length
                 headers={**FHIR_JSON, **bearer(CLINIC)})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert count(Visit) == 0 and count(IngestBatch) == 0


def _validate(document: dict) -> Bundle:
    bundle = Bundle.model_validate(document)
    for entry in document["entry"]:  # each resource against its own definition, explicitly
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    return bundle


def test_ips_contains_the_submitted_data(api, bearer):
    assert post(api, bearer, b.two_visit_bundle()).status_code == 200
    r = api.get(IPS_URL, headers=bearer(CITIZEN))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    doc = r.json()
    _validate(doc)
    assert doc["type"] == "document" and doc["identifier"]["value"].startswith("urn:uuid:")
    composition = doc["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"
    assert composition["type"]["coding"][0]["code"] == "60591-5"
    by_url = {e["fullUrl"]: e["resource"] for e in doc["entry"]}
    assert len(by_url) == len(doc["entry"])
    sections = {s["code"]["coding"][0]["code"]: s for s in composition["section"]}
    assert {"11450-4", "48765-2", "10160-0", "30954-2"} <= set(sections)
    for s in composition["section"]:  # every reference resolves inside the document
        assert s["text"]["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
        for ref in s.get("entry", []):
            assert ref["reference"] in by_url
    patient = by_url[composition["subject"]["reference"]]
    assert patient["resourceType"] == "Patient"
    assert {"system": m.PERSONAL_ID_SYSTEM, "value": b.PERSONAL_ID} in patient["identifier"]
    assert (patient["gender"], patient["birthDate"]) == ("male", "1985-04-12")

    problems = [by_url[x["reference"]] for x in sections["11450-4"]["entry"]]
    codes = {c["code"]["coding"][0]["code"]: c for c in problems}
    assert set(codes) == {"J18.9", "E11.9"}  # not the other citizen's I10
    assert codes["E11.9"]["clinicalStatus"]["coding"][0]["code"] == "active"  # chronic (diabetes)
    meds = [by_url[x["reference"]] for x in sections["10160-0"]["entry"]]
    assert [x["medicationCodeableConcept"]["text"] for x in meds] == ["Amoxicilin 500mg"]
    assert meds[0]["dosage"][0]["text"] == "Uống 1 viên x 3 lần/ngày sau ăn"
    results = [by_url[x["reference"]] for x in sections["30954-2"]["entry"]]
    glucose = next(o for o in results if o["code"].get("text") == "Định lượng Glucose máu")
    assert glucose["valueQuantity"] == {"value": 7.8, "unit": "mmol/L"}
    assert any(o.get("valueString") == "O+" for o in results)
    vitals = [by_url[x["reference"]] for x in sections["8716-3"]["entry"]]
    assert {o["code"]["coding"][0]["code"]: o["valueQuantity"]["value"] for o in vitals} == {
        m.LOINC_WEIGHT: 62.5, m.LOINC_HEIGHT: 168}
    assert "emptyReason" in sections["48765-2"]
    with session_factory()() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.resource == "health.ips")).one()
        assert (entry.action, entry.subject_id, entry.actor_id) == ("read", b.PERSONAL_ID, b.PERSONAL_ID)
        assert s.get(HealthProfile, b.PERSONAL_ID) is not None  # read-only: the profile came from ingest


def test_ips_without_data_and_authorization(api, bearer):
    r = api.get(IPS_URL, headers=bearer(CITIZEN))
    assert r.status_code == 200
    doc = r.json()
    _validate(doc)
    sections = doc["entry"][0]["resource"]["section"]
    assert all("emptyReason" in s and "entry" not in s for s in sections)
    assert api.get(IPS_URL, headers=bearer(CLINIC)).status_code == 403
    assert api.get(IPS_URL).status_code == 401
