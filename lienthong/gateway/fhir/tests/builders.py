"""Builders of realistic FHIR R4 Bundles for the gateway tests (synthetic people only)."""

from __future__ import annotations

import copy
import uuid

from lienthong.gateway.fhir import mapping as m
from lienthong.population.ids import make_personal_id

FACILITY = "01001"
OTHER_FACILITY = "79560"
PERSONAL_ID = make_personal_id("001", "M", 1985, 123456)  # 001085123456
PERSONAL_ID_2 = make_personal_id("079", "F", 1992, 654321)


def _uid(tag: str) -> str:
    # Deterministic urn:uuid so the same visit built twice is byte-identical (idempotency tests).
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'lienthong-test/' + tag)}"


def organization(code: str, name: str = "Bệnh viện thử nghiệm") -> dict:
    return {"resourceType": "Organization", "identifier": [{"system": m.FACILITY_SYSTEM, "value": code}],
            "name": name}


def patient(personal_id: str = PERSONAL_ID, *, family: str = "Nguyễn", given=("Văn", "An"),
            birth_date: str = "1985-04-12", gender: str = "male", card: str | None = "DN4010112345678") -> dict:
    idents = [{"system": m.PERSONAL_ID_SYSTEM, "value": personal_id}]
    if card:
        idents.append({"system": m.INSURANCE_SYSTEM, "value": card})
    return {"resourceType": "Patient", "identifier": idents,
            "name": [{"use": "official", "family": family, "given": list(given)}],
            "gender": gender, "birthDate": birth_date}


def visit_entries(tag: str, *, ma_lk: str, facility: str = FACILITY, patient_url: str,
                  start: str = "2025-03-02T08:15:00+07:00", end: str | None = "2025-03-06T10:00:00+07:00",
                  icd: tuple[str, str] = ("J18.9", "Viêm phổi, không đặc hiệu"),
                  secondary: tuple[str, str] | None = ("E11.9", "Đái tháo đường type 2 không biến chứng"),
                  referral_to: str | None = "01002", appointment: bool = True) -> list[dict]:
    """Organization + Encounter + Conditions + Observations + MedicationRequest (+ referral, appointment)."""
    u = lambda name: _uid(f"{tag}/{name}")  # noqa: E731
    org_url, enc_url = u("org"), u("encounter")
    enc_ref = {"reference": enc_url}
    subj = {"reference": patient_url}
    entries = [{"fullUrl": org_url, "resource": organization(facility)}]
    cond_main, cond_2 = u("cond-main"), u("cond-2")
    diagnosis = [{"condition": {"reference": cond_main}, "rank": 1,
                  "use": {"coding": [{"system": m.DIAGNOSIS_ROLE_SYSTEM, "code": "DD"}]}}]
    if secondary:
        diagnosis.append({"condition": {"reference": cond_2}, "rank": 2})
    encounter = {
        "resourceType": "Encounter", "status": "finished",
        "identifier": [{"system": m.MA_LK_SYSTEM, "value": ma_lk, "assigner": {"reference": org_url}}],
        "class": {"system": m.ACT_CODE_SYSTEM, "code": "IMP"},
        "type": [{"coding": [{"system": m.VISIT_TYPE_SYSTEM, "code": "03", "display": "Điều trị nội trú"}]}],
        "subject": subj, "serviceProvider": {"reference": org_url},
        "period": {"start": start, **({"end": end} if end else {})},
        "diagnosis": diagnosis,
        "hospitalization": {"dischargeDisposition": {"coding": [
            {"system": m.DISCHARGE_TYPE_SYSTEM, "code": "2" if referral_to else "1"}]}},
        "extension": [{"url": m.OUTCOME_EXTENSION, "valueCode": "2"}],
    }
    entries.append({"fullUrl": enc_url, "resource": encounter})
    entries.append({"fullUrl": cond_main, "resource": condition(icd[0], icd[1], subj, enc_ref)})
    if secondary:
        entries.append({"fullUrl": cond_2, "resource": condition(secondary[0], secondary[1], subj, enc_ref)})
    entries += [
        {"fullUrl": u("weight"), "resource": vital(m.LOINC_WEIGHT, "Body weight", 62.5, "kg", subj, enc_ref, start)},
        {"fullUrl": u("height"), "resource": vital(m.LOINC_HEIGHT, "Body height", 168, "cm", subj, enc_ref, start)},
        {"fullUrl": u("blood"), "resource": {
            "resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": m.LOINC, "code": m.LOINC_BLOOD_GROUP}], "text": "Nhóm máu ABO/Rh"},
            "subject": subj, "encounter": enc_ref, "effectiveDateTime": start,
            "valueCodeableConcept": {"text": "O Rh(D) positive"}}},
        {"fullUrl": u("glucose"), "resource": {
            "resourceType": "Observation", "status": "final",
            "category": [{"coding": [{"system": m.OBS_CATEGORY_SYSTEM, "code": "laboratory"}]}],
            "code": {"coding": [{"system": m.SERVICE_SYSTEM, "code": "23.0075.1494"},
                                {"system": m.LOINC, "code": "2345-7"}], "text": "Định lượng Glucose máu"},
            "subject": subj, "encounter": enc_ref, "effectiveDateTime": "2025-03-02T09:30:00+07:00",
            "valueQuantity": {"value": 7.8, "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                              "code": "mmol/L"},
            "interpretation": [{"text": "Tăng"}]}},
        {"fullUrl": u("med"), "resource": {
            "resourceType": "MedicationRequest", "status": "completed", "intent": "order",
            "medicationCodeableConcept": {"coding": [{"system": m.DRUG_SYSTEM, "code": "40.152"}],
                                          "text": "Amoxicilin 500mg"},
            "subject": subj, "encounter": enc_ref, "authoredOn": "2025-03-02T10:00:00+07:00",
            "dosageInstruction": [{"text": "Uống 1 viên x 3 lần/ngày sau ăn",
                                   "route": {"coding": [{"system": m.ROUTE_SYSTEM, "code": "1.01"}]}}],
            "dispenseRequest": {"quantity": {"value": 21, "unit": "viên"}}}},
    ]
    if referral_to:
        entries.append({"fullUrl": u("referral"), "resource": {
            "resourceType": "ServiceRequest", "status": "active", "intent": "order",
            "identifier": [{"value": f"CT-{ma_lk}"}],
            "category": [{"coding": [{"system": m.SNOMED, "code": m.SNOMED_REFERRAL, "display": "Patient referral"}]}],
            "code": {"text": "Chuyển tuyến điều trị"}, "subject": subj, "encounter": enc_ref,
            "authoredOn": "2025-03-06T09:00:00+07:00",
            "performer": [{"identifier": {"system": m.FACILITY_SYSTEM, "value": referral_to}}],
            "reasonCode": [{"coding": [{"system": m.REFERRAL_REASON_SYSTEM, "code": "2"}]}],
            "reasonReference": [{"reference": cond_main}]}})
    if appointment:
        entries.append({"fullUrl": u("appt"), "resource": {
            "resourceType": "Appointment", "status": "booked", "identifier": [{"value": f"HK-{ma_lk}"}],
            "start": "2025-03-20T08:00:00+07:00", "end": "2025-03-20T08:30:00+07:00",
            "description": "Tái khám sau điều trị viêm phổi",
            "supportingInformation": [enc_ref],
            "participant": [{"actor": subj, "status": "accepted"}]}})
    return entries


def condition(code: str, name: str, subj: dict, enc_ref: dict) -> dict:
    return {"resourceType": "Condition",
            "code": {"coding": [{"system": m.ICD10_SYSTEM, "code": code, "display": name}], "text": name},
            "subject": subj, "encounter": enc_ref}


def vital(loinc: str, text: str, value, unit: str, subj: dict, enc_ref: dict, at: str) -> dict:
    return {"resourceType": "Observation", "status": "final",
            "category": [{"coding": [{"system": m.OBS_CATEGORY_SYSTEM, "code": "vital-signs"}]}],
            "code": {"coding": [{"system": m.LOINC, "code": loinc}], "text": text},
            "subject": subj, "encounter": enc_ref, "effectiveDateTime": at,
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}


def bundle(entries: list[dict], *, type_: str = "batch") -> dict:
    out = {"resourceType": "Bundle", "type": type_, "entry": copy.deepcopy(entries)}
    if type_ in ("transaction", "batch"):
        for e in out["entry"]:
            e["request"] = {"method": "POST", "url": e["resource"]["resourceType"]}
    return out


def one_visit_bundle(ma_lk: str = "LK0001", *, type_: str = "batch", **kw) -> dict:
    p_url = _uid("patient-1")
    return bundle([{"fullUrl": p_url, "resource": patient()}]
                  + visit_entries(ma_lk, ma_lk=ma_lk, patient_url=p_url, **kw), type_=type_)


def two_visit_bundle(*, type_: str = "batch") -> dict:
    """Two patients, two visits at FACILITY: the second visit is a plain outpatient one."""
    p1, p2 = _uid("patient-1"), _uid("patient-2")
    entries = [{"fullUrl": p1, "resource": patient()},
               {"fullUrl": p2, "resource": patient(PERSONAL_ID_2, family="Trần", given=("Thị", "Bình"),
                                                   birth_date="1992-11-30", gender="female", card=None)}]
    entries += visit_entries("LK0001", ma_lk="LK0001", patient_url=p1)
    entries += visit_entries("LK0002", ma_lk="LK0002", patient_url=p2, icd=("I10", "Tăng huyết áp vô căn"),
                             secondary=None, referral_to=None, appointment=False, end=None,
                             start="2025-03-05T14:00:00+07:00")
    return bundle(entries, type_=type_)


def find(bundle_: dict, predicate) -> dict:
    """The first entry (dict with fullUrl/resource) matching ``predicate(resource)``."""
    return next(e for e in bundle_["entry"] if predicate(e["resource"]))
