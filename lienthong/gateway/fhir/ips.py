"""A citizen's International Patient Summary (IPS) as a FHIR R4 document Bundle.

Built read-only from the health tables (plus the population registry for the Patient's
demographics when the citizen is registered there):

* ``Patient``: registry record, else the latest visit's patient data;
* Problem list (LOINC 11450-4): chronic conditions of the health profile (clinicalStatus
  ``active``) and the latest diagnosis of every other ICD-10 code (confirmed, dated);
* Allergies and intolerances (48765-2): the profile's allergies, else ``emptyReason`` (the section
  is mandatory in IPS);
* Medication summary (10160-0): the latest :data:`MAX_MEDICATIONS` medications as
  ``MedicationStatement`` (status ``unknown``: the tables hold orders, not whether they are taken);
* Results (30954-2): the latest :data:`MAX_RESULTS` lab results and the blood group;
* Vital signs (8716-3): body weight and height from the profile.

The document is regenerated on every request (``Bundle.identifier`` is new each time); entry
``fullUrl``s are stable ``urn:uuid``s derived from table row ids. Every section has a generated
XHTML narrative (Vietnamese). The output validates against ``fhir.resources.R4B``; IPS profile
(``*-uv-ips``) conformance is not claimed in ``meta.profile``.
"""

from __future__ import annotations

import html
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.db import aware
from lienthong.gateway.fhir import mapping as m
from lienthong.health.models import Diagnosis, HealthProfile, LabResult, Medication, Visit
from lienthong.web.dates import vndate

MAX_PROBLEMS = 100
MAX_MEDICATIONS = 100
MAX_RESULTS = 200

LOINC_IPS = "60591-5"
SECTIONS = {
    "problems": ("11450-4", "Problem list - Reported", "Danh sách bệnh/vấn đề sức khỏe"),
    "allergies": ("48765-2", "Allergies and adverse reactions Document", "Dị ứng và phản ứng có hại"),
    "medications": ("10160-0", "History of Medication use Narrative", "Thuốc đã sử dụng"),
    "results": ("30954-2", "Relevant diagnostic tests/laboratory data Narrative", "Kết quả xét nghiệm, cận lâm sàng"),
    "vitals": ("8716-3", "Vital signs", "Dấu hiệu sinh tồn"),
}
CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
LIST_EMPTY_REASON = "http://terminology.hl7.org/CodeSystem/list-empty-reason"
_NS = uuid.UUID("6f1b8a52-3c1e-4c57-9d6a-2f8e0f4b6c11")
XHTML = "http://www.w3.org/1999/xhtml"


def _urn(*parts: object) -> str:
    return f"urn:uuid:{uuid.uuid5(_NS, '/'.join(str(p) for p in parts))}"


def _aware(dt: datetime) -> datetime:
    """A datetime in Vietnam time (a naive one being UTC)."""
    return aware(dt).astimezone(m.VN_TZ)


def _iso(dt: datetime) -> str:
    return _aware(dt).isoformat(timespec="seconds")


def _number(value) -> int | float | None:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not d.is_finite():
        return None
    return int(d) if d == d.to_integral_value() else float(d)


def _div(items: list[str], empty: str) -> dict:
    if items:
        body = "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"
    else:
        body = f"<p>{html.escape(empty)}</p>"
    return {"status": "generated", "div": f'<div xmlns="{XHTML}">{body}</div>'}


def _section(key: str, entries: list[str], lines: list[str], empty: str) -> dict:
    code, display, title = SECTIONS[key]
    section = {"title": title, "code": {"coding": [{"system": m.LOINC, "code": code, "display": display}]},
               "text": _div(lines, empty)}
    if entries:
        section["entry"] = [{"reference": u} for u in entries]
    else:
        section["emptyReason"] = {"coding": [{"system": LIST_EMPTY_REASON, "code": "unavailable",
                                              "display": "Unavailable"}]}
    return section


def build_ips(session: Session, personal_id: str, *, fallback_name: str | None = None,
              now: datetime | None = None) -> dict:
    """The IPS document Bundle (a JSON-ready dict) of ``personal_id``."""
    now = _aware(now or datetime.now(UTC))
    patient_url = _urn("patient", personal_id)
    subject = {"reference": patient_url}
    author_url = _urn("organization", "lienthong")
    entries: list[dict] = []

    # --- Patient ---
    patient = _patient(session, personal_id, fallback_name)
    entries.append({"fullUrl": patient_url, "resource": patient})

    profile = session.get(HealthProfile, personal_id)

    # --- Problems ---
    problem_urls, problem_lines = [], []
    chronic_codes = set()
    for c in (profile.chronic_conditions if profile else None) or []:
        icd = (c or {}).get("icd10") if isinstance(c, dict) else None
        if not icd or icd in chronic_codes:
            continue
        chronic_codes.add(icd)
        url = _urn("chronic", personal_id, icd)
        name = c.get("name") or c.get("group") or icd
        cond = {"resourceType": "Condition",
                "clinicalStatus": {"coding": [{"system": CLINICAL_STATUS, "code": "active"}]},
                "verificationStatus": {"coding": [{"system": VERIFICATION_STATUS, "code": "confirmed"}]},
                "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
                "code": {"coding": [{"system": m.ICD10_SYSTEM, "code": icd, "display": name}], "text": name},
                "subject": subject}
        if c.get("since"):
            cond["onsetDateTime"] = str(c["since"])
        entries.append({"fullUrl": url, "resource": cond})
        problem_urls.append(url)
        since = f" (từ {c['since']})" if c.get("since") else ""
        problem_lines.append(f"{icd} {name}{since}: bệnh mạn tính, đang theo dõi")
    seen = set(chronic_codes)
    rows = session.execute(
        select(Diagnosis.id, Diagnosis.icd10, Diagnosis.name, Diagnosis.diagnosed_at)
        .where(Diagnosis.personal_id == personal_id)
        .order_by(Diagnosis.diagnosed_at.desc(), Diagnosis.id.desc())).all()
    for did, icd, name, at in rows:
        if icd in seen:
            continue
        if len(problem_urls) >= MAX_PROBLEMS:
            break
        seen.add(icd)
        url = _urn("diagnosis", did)
        text = name or icd
        entries.append({"fullUrl": url, "resource": {
            "resourceType": "Condition",
            "verificationStatus": {"coding": [{"system": VERIFICATION_STATUS, "code": "confirmed"}]},
            "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}],
            "code": {"coding": [{"system": m.ICD10_SYSTEM, "code": icd, **({"display": name} if name else {})}],
                     "text": text},
            "subject": subject, "onsetDateTime": _iso(at), "recordedDate": _iso(at)}})
        problem_urls.append(url)
        problem_lines.append(f"{icd} {text}: chẩn đoán ngày {vndate(at)}")

    # --- Allergies ---
    allergy_urls, allergy_lines = [], []
    for i, a in enumerate((profile.allergies if profile else None) or []):
        text = (a.get("name") or a.get("substance") or a.get("text")) if isinstance(a, dict) else str(a)
        if not text:
            continue
        url = _urn("allergy", personal_id, i)
        entries.append({"fullUrl": url, "resource": {
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
            "code": {"text": str(text)}, "patient": subject}})
        allergy_urls.append(url)
        allergy_lines.append(str(text))

    # --- Medications ---
    med_urls, med_lines = [], []
    meds = session.execute(
        select(Medication).where(Medication.personal_id == personal_id)
        .order_by(Medication.ordered_at.desc(), Medication.id.desc()).limit(MAX_MEDICATIONS)).scalars().all()
    for med in meds:
        url = _urn("medication", med.id)
        statement = {
            "resourceType": "MedicationStatement", "status": "unknown",
            "medicationCodeableConcept": {"coding": [{"system": m.DRUG_SYSTEM, "code": med.drug_code}],
                                          "text": med.name},
            "subject": subject, "effectiveDateTime": _iso(med.ordered_at), "dateAsserted": _iso(med.ordered_at)}
        dosage: dict = {}
        if med.dosage:
            dosage["text"] = med.dosage
        if med.route:
            dosage["route"] = {"coding": [{"system": m.ROUTE_SYSTEM, "code": med.route}]}
        if dosage:
            statement["dosage"] = [dosage]
        if med.strength:
            statement["note"] = [{"text": f"Hàm lượng: {med.strength}"}]
        entries.append({"fullUrl": url, "resource": statement})
        med_urls.append(url)
        med_lines.append(f"{vndate(med.ordered_at)}: {med.name}" + (f" ({med.dosage})" if med.dosage else ""))

    # --- Results ---
    result_urls, result_lines = [], []
    if profile is not None and profile.blood_group:
        url = _urn("blood-group", personal_id)
        entries.append({"fullUrl": url, "resource": {
            "resourceType": "Observation", "status": "final",
            "category": [{"coding": [{"system": m.OBS_CATEGORY_SYSTEM, "code": "laboratory"}]}],
            "code": {"coding": [{"system": m.LOINC, "code": m.LOINC_BLOOD_GROUP,
                                 "display": "ABO and Rh group [Type] in Blood"}], "text": "Nhóm máu"},
            "subject": subject, "valueString": profile.blood_group}})
        result_urls.append(url)
        result_lines.append(f"Nhóm máu: {profile.blood_group}")
    labs = session.execute(
        select(LabResult).where(LabResult.personal_id == personal_id)
        .order_by(LabResult.result_at.desc(), LabResult.id.desc()).limit(MAX_RESULTS)).scalars().all()
    for lab in labs:
        url = _urn("lab", lab.id)
        codings = [{"system": m.SERVICE_SYSTEM, "code": lab.service_code}]
        if lab.indicator_code:
            codings.append({"system": m.INDICATOR_SYSTEM, "code": lab.indicator_code})
        obs = {"resourceType": "Observation", "status": "final",
               "category": [{"coding": [{"system": m.OBS_CATEGORY_SYSTEM, "code": "laboratory"}]}],
               "code": {"coding": codings, **({"text": lab.name} if lab.name else {})},
               "subject": subject, "effectiveDateTime": _iso(lab.result_at)}
        number = _number(lab.value) if lab.value is not None else None
        if number is not None and lab.unit:
            obs["valueQuantity"] = {"value": number, "unit": lab.unit}
        elif lab.value:
            obs["valueString"] = lab.value
        if lab.conclusion:
            obs["note"] = [{"text": lab.conclusion}]
        entries.append({"fullUrl": url, "resource": obs})
        result_urls.append(url)
        value = " ".join(x for x in (lab.value, lab.unit) if x) or "chưa có kết quả"
        result_lines.append(f"{vndate(lab.result_at)}: {lab.name or lab.service_code}: {value}"
                            + (f" ({lab.conclusion})" if lab.conclusion else ""))

    # --- Vital signs ---
    vital_urls, vital_lines = [], []
    if profile is not None:
        for loinc, display, text, value, unit in (
                (m.LOINC_WEIGHT, "Body weight", "Cân nặng", profile.weight_kg, "kg"),
                (m.LOINC_HEIGHT, "Body height", "Chiều cao", profile.height_cm, "cm")):
            number = _number(value) if value is not None else None
            if number is None:
                continue
            url = _urn("vital", personal_id, loinc)
            entries.append({"fullUrl": url, "resource": {
                "resourceType": "Observation", "status": "final",
                "category": [{"coding": [{"system": m.OBS_CATEGORY_SYSTEM, "code": "vital-signs"}]}],
                "code": {"coding": [{"system": m.LOINC, "code": loinc, "display": display}], "text": text},
                "subject": subject, "effectiveDateTime": _iso(profile.updated_at),
                "valueQuantity": {"value": number, "unit": unit, "system": "http://unitsofmeasure.org",
                                  "code": unit}}})
            vital_urls.append(url)
            vital_lines.append(f"{text}: {number} {unit}")

    sections = [
        _section("problems", problem_urls, problem_lines, "Chưa có thông tin bệnh."),
        _section("allergies", allergy_urls, allergy_lines, "Chưa có thông tin dị ứng."),
        _section("medications", med_urls, med_lines, "Chưa có thông tin thuốc đã sử dụng."),
        _section("results", result_urls, result_lines, "Chưa có kết quả xét nghiệm."),
    ]
    if vital_urls:
        sections.append(_section("vitals", vital_urls, vital_lines, ""))

    composition_url = _urn("composition", personal_id)
    composition = {
        "resourceType": "Composition", "status": "final",
        "type": {"coding": [{"system": m.LOINC, "code": LOINC_IPS, "display": "Patient summary Document"}]},
        "subject": subject, "date": now.isoformat(timespec="seconds"),
        "author": [{"reference": author_url}], "custodian": {"reference": author_url},
        "title": f"Tóm tắt thông tin sức khỏe (International Patient Summary) - {patient_name(patient)}",
        "confidentiality": "R",
        "section": sections,
    }
    author = {"resourceType": "Organization", "name": "Nền tảng liên thông dữ liệu công dân (lienthong)",
              "identifier": [{"system": "urn:ietf:rfc:3986", "value": author_url}]}
    bundle_id = uuid.uuid4()
    return {
        "resourceType": "Bundle", "id": str(bundle_id),
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{bundle_id}"},
        "type": "document", "timestamp": now.isoformat(timespec="seconds"),
        "entry": [{"fullUrl": composition_url, "resource": composition}]
        + entries + [{"fullUrl": author_url, "resource": author}],
    }


def patient_name(patient: dict) -> str:
    names = patient.get("name") or [{}]
    return names[0].get("text") or ""


def _patient(session: Session, personal_id: str, fallback_name: str | None) -> dict:
    name = birth = sex = card = None
    family = given = None
    try:
        from lienthong.population.models import Citizen

        citizen = session.get(Citizen, personal_id)
    except Exception:  # noqa: BLE001 - the registry is optional for the summary
        citizen = None
    visit = session.execute(
        select(Visit.patient_name, Visit.birth_date, Visit.sex, Visit.insurance_card)
        .where(Visit.personal_id == personal_id)
        .order_by(Visit.admitted_at.desc(), Visit.id.desc()).limit(1)).first()
    if citizen is not None:
        name, birth, sex = citizen.full_name, citizen.birth_date, citizen.sex
        family = citizen.family_name
        given = [x for x in ((citizen.middle_name or "").split() + [citizen.given_name]) if x]
    elif visit is not None:
        name, birth, sex = visit.patient_name, visit.birth_date, visit.sex
    if visit is not None:
        card = visit.insurance_card
    name = name or fallback_name or ""
    identifiers = [{"system": m.PERSONAL_ID_SYSTEM, "value": personal_id}]
    if card:
        identifiers.append({"system": m.INSURANCE_SYSTEM, "value": card})
    human = {"use": "official", "text": name}
    if family:
        human["family"] = family
        if given:
            human["given"] = given
    patient: dict = {"resourceType": "Patient", "identifier": identifiers, "name": [human]}
    if sex in ("M", "F"):
        patient["gender"] = "male" if sex == "M" else "female"
    else:
        patient["gender"] = "unknown"
    if isinstance(birth, date):
        patient["birthDate"] = birth.isoformat()
    return patient
