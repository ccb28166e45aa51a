"""The normalized visit record: what every format adapter (XML 130/4750, FHIR R4) produces and
what the ingest service stores. Adapters own parsing and field validation; this module owns the
canonical shape, so both formats land in the same tables.

All datetimes are timezone-aware (Vietnam time when the source has none).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal

import orjson


# Blood groups accepted in a visit record (ABO with or without Rh, or Rh alone), as both adapters
# (XML 130 and FHIR) read them; anything else is dropped rather than stored.
BLOOD_GROUPS = frozenset({"A", "A+", "A-", "B", "B+", "B-", "AB", "AB+", "AB-", "O", "O+", "O-", "Rh", "Rh+", "Rh-"})


@dataclass
class DiagnosisRec:
    icd10: str
    name: str | None = None
    is_primary: bool = False


@dataclass
class LabResultRec:
    service_code: str
    result_at: datetime
    indicator_code: str | None = None
    name: str | None = None
    value: str | None = None
    unit: str | None = None
    conclusion: str | None = None


@dataclass
class MedicationRec:
    drug_code: str
    name: str
    ordered_at: datetime
    strength: str | None = None
    route: str | None = None
    dosage: str | None = None
    quantity: Decimal | None = None
    unit: str | None = None


@dataclass
class ReferralRec:
    number: str
    issued_at: datetime
    to_facility: str | None = None
    reason_code: str | None = None
    diagnosis: str | None = None


@dataclass
class AppointmentRec:
    number: str
    appointment_at: datetime
    diagnosis: str | None = None


@dataclass
class CertificateRec:
    kind: str  # birth, death, driver_health, sick_leave, discharge
    issued_at: datetime
    number: str | None = None
    valid_until: date | None = None
    data: dict = field(default_factory=dict)


@dataclass
class VisitRecord:
    facility_code: str
    ma_lk: str
    patient_name: str
    admitted_at: datetime
    source: str  # xml130, fhir
    personal_id: str | None = None
    birth_date: date | None = None
    sex: str | None = None  # M, F, or None (unknown)
    insurance_card: str | None = None
    visit_type: str | None = None
    discharged_at: datetime | None = None
    main_icd: str | None = None
    diagnosis_text: str | None = None
    outcome: str | None = None
    discharge_type: str | None = None
    blood_group: str | None = None
    weight_kg: Decimal | None = None
    height_cm: Decimal | None = None
    diagnoses: list[DiagnosisRec] = field(default_factory=list)
    lab_results: list[LabResultRec] = field(default_factory=list)
    medications: list[MedicationRec] = field(default_factory=list)
    referrals: list[ReferralRec] = field(default_factory=list)
    appointments: list[AppointmentRec] = field(default_factory=list)
    certificates: list[CertificateRec] = field(default_factory=list)
    # The full source record, table by table (e.g. {"XML1": {...}, "XML2": [...]}) as JSON-able values.
    raw: dict = field(default_factory=dict)

    def resource_count(self) -> int:
        """Resources in FHIR terms: the visit (Encounter) plus each clinical item."""
        return 1 + len(self.diagnoses) + len(self.lab_results) + len(self.medications) + len(self.referrals) + \
            len(self.appointments) + len(self.certificates)

    def to_json(self) -> dict:
        return json.loads(json.dumps(asdict(self), default=json_default))

    def content_hash(self) -> str:
        """Stable digest of the clinical content: an identical resubmission is recognised as unchanged."""
        return hashlib.sha256(canonical_json(self).encode()).hexdigest()


def json_default(value):
    """``json.dumps`` fallback for the record's values: dates as ISO 8601, decimals as strings."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


_CHILD_LISTS = ("diagnoses", "lab_results", "medications", "referrals", "appointments", "certificates")
_SCALARS = tuple(f.name for f in fields(VisitRecord) if f.name not in _CHILD_LISTS)
_FIELD_CACHE: dict[type, tuple[str, ...]] = {}


def _field_names(cls) -> tuple[str, ...]:
    names = _FIELD_CACHE.get(cls)
    if names is None:
        names = _FIELD_CACHE[cls] = tuple(f.name for f in fields(cls))
    return names


def _shallow(obj) -> dict:
    return {f: getattr(obj, f) for f in _field_names(type(obj))}


def record_dict(rec: VisitRecord) -> dict:
    """``dataclasses.asdict(rec)`` without its deep copy (``raw`` can be large): same JSON, ~10x faster."""
    out = {name: getattr(rec, name) for name in _SCALARS}
    for name in _CHILD_LISTS:
        out[name] = [_shallow(item) for item in getattr(rec, name)]
    return out


def canonical_json(rec: VisitRecord) -> str:
    """The canonical JSON of a record: what is stored and what :meth:`VisitRecord.content_hash` digests.

    The reference is ``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
    with :func:`json_default`. XML 130 records hold only the validator's types (str, int, Decimal,
    date, datetime, bool, None, lists and dicts), for which orjson writes the very same bytes several
    times faster (a property test checks it); orjson refuses what it cannot write like the reference
    (integers beyond 64 bits, lone surrogates...) and those records take the reference path. FHIR
    records keep the reference: their ``raw`` holds JSON floats, which the two print differently
    (``1e-05`` / ``1e-5``, NaN).
    """
    data = record_dict(rec)
    if rec.source == "xml130":
        try:
            return orjson.dumps(data, default=json_default, option=_ORJSON_OPTIONS).decode()
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            pass
    return reference_json(data)


def reference_json(data) -> str:
    return json.dumps(data, default=json_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# Dates and datetimes go through json_default (isoformat) too: orjson writes some UTC offsets
# differently (sub-minute ones).
_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
