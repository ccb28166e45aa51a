"""FHIR R4 Bundle -> canonical visit records.

A submitted Bundle (``transaction``, ``batch``, ``collection`` or ``message``) holds one or more
visits. Each ``Encounter`` is one visit (đợt khám chữa bệnh); its resources point at it:

* ``Patient`` (``Encounter.subject``): personal ID (identifier system :data:`PERSONAL_ID_SYSTEM`,
  required and checked against birth date and sex), BHYT card, name, birthDate, gender;
* ``Encounter``: identifier = MA_LK; facility = ``serviceProvider`` (or the MA_LK identifier's
  ``assigner``), an ``Organization`` whose identifier (:data:`FACILITY_SYSTEM`) is the 5-digit
  CSKCB code, or a logical reference carrying that identifier; ``period`` -> admission/discharge;
  ``type`` (MA_LOAI_KCB system) or ``class`` -> visit type; ``hospitalization.dischargeDisposition``
  -> MA_LOAI_RV; outcome (KET_QUA_DTRI) from the :data:`OUTCOME_EXTENSION` extension;
* ``Condition`` (``encounter``): ICD-10 code; primary = ``Encounter.diagnosis`` with rank 1 (else
  use ``DD``/``CC``/billing, else the first listed diagnosis, else the first Condition);
* ``Observation`` (``encounter``): body weight (LOINC 29463-7) / height (8302-2) / ABO+Rh blood
  group (882-1) fill the visit; every other observation is a lab result;
* ``MedicationRequest`` (``encounter``): medication, dosage text, route, dispense quantity;
* ``ServiceRequest`` (``encounter``) with a referral category: a referral (giấy chuyển tuyến);
  other service requests are orders and are not stored;
* ``Appointment`` (``supportingInformation`` -> Encounter, or ``basedOn`` -> a ServiceRequest of
  the encounter): a re-visit appointment (giấy hẹn khám lại).

References resolve by ``fullUrl``, by ``Type/id``, by conditional reference
(``Type?identifier=system|value``) and to ``contained`` resources (``#id``).

Errors. Input that is not a usable Bundle (too big, not JSON, too deep, wrong type) raises
:class:`BundleError` (HTTP 400/413): nothing is accepted. Otherwise every problem is a
:class:`MappingError` naming the resource (fullUrl, else ``Type/id``, else ``entry[i]``) and the
FHIRPath-like path; an encounter with a problem in itself, its patient, or any of its resources is
rejected and the others are accepted. For ``transaction`` bundles FHIR requires all-or-nothing
processing, so one error rejects every encounter (configurable, :attr:`FhirSettings.transaction_atomic`).
Messages are Vietnamese (for the submitter); codes are stable English machine codes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, BinaryIO
from urllib.parse import parse_qs

import pydantic
from fhir.resources.R4B import get_fhir_model_class
from pydantic_settings import BaseSettings, SettingsConfigDict

from lienthong.errors import DomainError
from lienthong.facilities.rules import InvalidFacilityCode, validate_facility_code
from lienthong.health.records import (
    BLOOD_GROUPS, AppointmentRec, DiagnosisRec, LabResultRec, MedicationRec, ReferralRec, VisitRecord,
)
from lienthong.population.ids import InvalidPersonalId, validate_personal_id
from lienthong.workdays.calendar import VN_TZ

SOURCE = "fhir"

# --- Identifier and code systems (VN Core IG canonical; all overridable in FhirSettings) ---------
CANONICAL = "http://fhir.ehealth.gov.vn/core"
PERSONAL_ID_SYSTEM = f"{CANONICAL}/NamingSystem/vn-personal-id"  # số định danh cá nhân (CCCD)
INSURANCE_SYSTEM = f"{CANONICAL}/NamingSystem/bhyt"  # số thẻ BHYT
FACILITY_SYSTEM = f"{CANONICAL}/NamingSystem/cskcb"  # mã cơ sở KCB (5 digits)
MA_LK_SYSTEM = f"{CANONICAL}/NamingSystem/ma-lk"  # mã liên kết of a visit
VISIT_TYPE_SYSTEM = f"{CANONICAL}/CodeSystem/ma-loai-kcb"
DISCHARGE_TYPE_SYSTEM = f"{CANONICAL}/CodeSystem/ma-loai-rv"
OUTCOME_SYSTEM = f"{CANONICAL}/CodeSystem/ket-qua-dieu-tri"
OUTCOME_EXTENSION = f"{CANONICAL}/StructureDefinition/ket-qua-dieu-tri"
REFERRAL_REASON_SYSTEM = f"{CANONICAL}/CodeSystem/ma-lydo-ct"
SERVICE_SYSTEM = f"{CANONICAL}/CodeSystem/dich-vu-ky-thuat"  # MA_DICH_VU (QĐ 7603)
INDICATOR_SYSTEM = f"{CANONICAL}/CodeSystem/chi-so-xet-nghiem"  # MA_CHI_SO
DRUG_SYSTEM = f"{CANONICAL}/CodeSystem/thuoc"  # MA_THUOC
ROUTE_SYSTEM = f"{CANONICAL}/CodeSystem/duong-dung"  # MA_DUONG_DUNG
ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
OBS_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
DISCHARGE_DISPOSITION_SYSTEM = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
DIAGNOSIS_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/diagnosis-role"

LOINC_WEIGHT = "29463-7"
LOINC_HEIGHT = "8302-2"
LOINC_BLOOD_GROUP = "882-1"
SNOMED_REFERRAL = "3457005"  # Patient referral

BUNDLE_TYPES = ("transaction", "batch", "collection", "message")

# Encounter.class (v3 ActCode) -> MA_LOAI_KCB, when no MA_LOAI_KCB type is given.
CLASS_TO_VISIT_TYPE = {
    "AMB": "01", "IMP": "03", "ACUTE": "03", "NONAC": "03", "SS": "04",
    "EMER": "10", "HH": "10", "VR": "10", "FLD": "10", "PRENC": "10", "OBSENC": "10",
}
VISIT_TYPES = {f"{n:02d}" for n in range(1, 11)}
# HL7 discharge-disposition -> MA_LOAI_RV (1 ra viện, 2 chuyển tuyến chuyên môn, 3 trốn viện,
# 4 xin ra viện, 5 chuyển tuyến theo yêu cầu người bệnh).
DISPOSITION_TO_DISCHARGE_TYPE = {
    "home": "1", "alt-home": "1", "exp": "1", "other-hcf": "2", "hosp": "2", "long": "2", "rehab": "2",
    "snf": "2", "psy": "2", "aadvice": "4",
}
DISCHARGE_TYPES = {"1", "2", "3", "4", "5"}
OUTCOMES = {str(n) for n in range(1, 9)}
REFERRAL_REASONS = {"1", "2", "3"}
_ICD10_RE = re.compile(r"^[A-Z][0-9]{2}(\.?[0-9A-Z]{1,4})?$")
_PARTIAL_DATE_RE = re.compile(r"^\d{4}(-\d{2})?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FhirSettings(BaseSettings):
    """FHIR gateway settings (environment prefix ``LIENTHONG_FHIR_``)."""

    model_config = SettingsConfigDict(env_prefix="LIENTHONG_FHIR_", env_file=".env", extra="ignore")

    max_bytes: int = 20 * 1024 * 1024  # a submitted Bundle's size
    max_depth: int = 64  # JSON nesting (a realistic Bundle nests ~12 levels)
    max_entries: int = 10_000
    max_errors: int = 500  # errors listed in a receipt (all are counted)
    transaction_atomic: bool = True  # transaction bundles are all-or-nothing (FHIR semantics)
    personal_id_systems: list[str] = [PERSONAL_ID_SYSTEM, "urn:oid:2.16.704.1.1.1"]
    insurance_systems: list[str] = [INSURANCE_SYSTEM]
    facility_systems: list[str] = [FACILITY_SYSTEM]
    ma_lk_systems: list[str] = [MA_LK_SYSTEM]
    icd10_systems: list[str] = [ICD10_SYSTEM, "http://hl7.org/fhir/sid/icd-10-vn"]


@lru_cache
def get_fhir_settings() -> FhirSettings:
    return FhirSettings()


class BundleError(DomainError):
    """The submission as a whole is unusable: nothing is accepted (HTTP 400, 413 when too big)."""

    status_code = 400

    def __init__(self, message: str, *, code: str = "invalid_bundle", path: str | None = None,
                 status_code: int = 400):
        super().__init__(message, field=path)
        self.code = code
        self.path = path
        self.status_code = status_code


@dataclass(frozen=True)
class MappingError:
    """One problem. ``resource`` names the entry (fullUrl, ``Type/id`` or ``entry[i]``)."""

    resource: str
    path: str | None
    code: str
    message: str
    encounter: str | None = None  # the rejected encounter (its fullUrl / Type/id), when there is one

    def as_dict(self) -> dict:
        out = {"resource": self.resource, "path": self.path, "code": self.code, "message": self.message}
        if self.encounter is not None:
            out["encounter"] = self.encounter
        return out


@dataclass
class MappingResult:
    bundle_type: str
    records: list[VisitRecord] = field(default_factory=list)
    errors: list[MappingError] = field(default_factory=list)
    encounters: int = 0  # Encounter entries seen
    rejected: int = 0  # encounters rejected
    foreign_facilities: set[str] = field(default_factory=set)  # facilities of rejected foreign encounters
    own_encounters: int = 0  # encounters naming the caller's facility (accepted or not)

    @property
    def only_foreign(self) -> bool:
        """Every encounter whose facility is known belongs to another facility."""
        return bool(self.foreign_facilities) and self.own_encounters == 0


# --- Reading and parsing the JSON -------------------------------------------------------------

def read_limited(source: bytes | bytearray | BinaryIO | Iterable[bytes], max_bytes: int) -> bytes:
    """The submitted bytes, refusing more than ``max_bytes`` without reading everything."""
    if isinstance(source, (bytes, bytearray)):
        if len(source) > max_bytes:
            raise _too_big(max_bytes)
        return bytes(source)
    chunks: list[bytes] = []
    total = 0
    if hasattr(source, "read"):
        iterator: Iterable[bytes] = iter(lambda: source.read(1024 * 1024), b"")  # type: ignore[union-attr]
    else:
        iterator = source
    for chunk in iterator:
        total += len(chunk)
        if total > max_bytes:
            raise _too_big(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_big(max_bytes: int) -> BundleError:
    return BundleError(f"Bundle vượt quá kích thước tối đa {max_bytes} byte", code="payload_too_large", status_code=413)


# A JSON string (escapes unrolled) or a bracket; everything else is skipped by finditer.
_JSON_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def check_depth(data: bytes, max_depth: int) -> None:
    """Refuse nesting deeper than ``max_depth`` before the parser recurses into it."""
    depth = 0
    for m in _JSON_TOKEN.finditer(data):
        c = m.group()
        if c in (b"{", b"["):
            depth += 1
            if depth > max_depth:
                raise BundleError(f"JSON lồng nhau quá sâu (tối đa {max_depth} cấp)", code="too_deep")
        elif c in (b"}", b"]"):
            depth -= 1


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


class _DuplicateKey(ValueError):
    pass


def _reject_constant(name: str):
    raise ValueError(f"giá trị {name} không hợp lệ trong JSON")


def parse_json(data: bytes, *, max_depth: int) -> Any:
    """Parse once: UTF-8 only, bounded depth, no duplicate keys, no NaN/Infinity."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise BundleError("nội dung gửi lên trống", code="empty_body")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(f"nội dung không phải UTF-8 hợp lệ (byte {exc.start})", code="invalid_encoding") from None
    check_depth(data, max_depth)
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except _DuplicateKey as exc:
        raise BundleError(f"JSON có khóa trùng lặp: {exc.args[0]!r}", code="duplicate_key") from None
    except json.JSONDecodeError as exc:
        raise BundleError(f"JSON không hợp lệ tại dòng {exc.lineno}, cột {exc.colno}: {exc.msg}",
                          code="invalid_json") from None
    except (ValueError, RecursionError) as exc:
        raise BundleError(f"JSON không hợp lệ: {exc}", code="invalid_json") from None


def load_bundle(source: bytes | bytearray | BinaryIO | Iterable[bytes],
                settings: FhirSettings | None = None) -> dict:
    settings = settings or get_fhir_settings()
    data = read_limited(source, settings.max_bytes)
    bundle = parse_json(data, max_depth=settings.max_depth)
    if not isinstance(bundle, dict):
        raise BundleError("nội dung phải là một tài nguyên FHIR Bundle (đối tượng JSON)", code="not_a_bundle")
    return bundle


# --- Validation -------------------------------------------------------------------------------

_PYDANTIC_MESSAGES = {
    "missing": "thiếu trường bắt buộc",
    "extra_forbidden": "trường không có trong định nghĩa FHIR R4",
    "string_type": "phải là chuỗi",
    "list_type": "phải là mảng",
    "dict_type": "phải là đối tượng",
    "model_type": "phải là đối tượng",
    "model_attributes_type": "phải là đối tượng",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "decimal_type": "phải là số",
    "decimal_parsing": "phải là số",
    "float_parsing": "phải là số",
    "bool_type": "phải là true hoặc false",
    "bool_parsing": "phải là true hoặc false",
    "string_pattern_mismatch": "không đúng định dạng",
    "string_too_short": "không được để trống",
}


def _fhir_path(resource_type: str, loc: Iterable[Any]) -> str:
    out = resource_type
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "__root__":
            continue
        else:
            out += f".{part}"
    return out


def _pydantic_message(err: dict) -> str:
    base = _PYDANTIC_MESSAGES.get(err.get("type", ""))
    if base:
        return base
    msg = str(err.get("msg", "")).removeprefix("Value error, ")
    return f"giá trị không hợp lệ ({msg})" if msg else "giá trị không hợp lệ"


def validate_resource(resource: dict) -> list[tuple[str, str]]:
    """Structural validation against the FHIR R4 definition: [(path, message)]."""
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        return [("resourceType", "thiếu resourceType")]
    try:
        model = get_fhir_model_class(rtype)
    except (ValueError, KeyError, AttributeError):
        return [(f"{rtype}.resourceType", f"loại tài nguyên '{rtype}' không tồn tại trong FHIR R4")]
    try:
        model.model_validate(resource)
    except pydantic.ValidationError as exc:
        return [(_fhir_path(rtype, e.get("loc", ())), _pydantic_message(e)) for e in exc.errors()]
    except (ValueError, TypeError) as exc:  # validators raising outside pydantic's wrapping
        return [(rtype, f"giá trị không hợp lệ ({exc})")]
    return []


# --- Small readers ----------------------------------------------------------------------------

def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _codings(concept: Any) -> list[dict]:
    return [c for c in _list(_dict(concept).get("coding")) if isinstance(c, dict)]


def _code_in(concept: Any, systems: Iterable[str]) -> str | None:
    systems = set(systems)
    for c in _codings(concept):
        if c.get("system") in systems and _str(c.get("code")):
            return _str(c.get("code"))
    return None


def _concept_text(concept: Any) -> str | None:
    concept = _dict(concept)
    if _str(concept.get("text")):
        return _str(concept.get("text"))
    for c in _codings(concept):
        if _str(c.get("display")):
            return _str(c.get("display"))
    return None


def _has_code(concept: Any, system: str | None, code: str) -> bool:
    return any(c.get("code") == code and (system is None or c.get("system") == system) for c in _codings(concept))


def parse_instant(value: Any) -> datetime | None:
    """A FHIR dateTime with at least a full date, as an aware datetime in Vietnam time.

    A date alone is midnight Vietnam time; a time without offset is taken as Vietnam time. Partial
    dates (year, year-month) and junk return ``None``.
    """
    text = _str(value)
    if not text or _PARTIAL_DATE_RE.match(text):
        return None
    try:
        if _DATE_RE.match(text):
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), VN_TZ)
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=VN_TZ)
    return dt.astimezone(VN_TZ)


def parse_date(value: Any) -> date | None:
    text = _str(value)
    if not text or not _DATE_RE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def _plain(d: Decimal) -> str:
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- The bundle index -------------------------------------------------------------------------

@dataclass
class _Entry:
    index: int
    label: str
    resource: dict
    rtype: str
    full_url: str | None
    errors: list[tuple[str, str]]  # structural (path, message)

    @property
    def valid(self) -> bool:
        return not self.errors


class _Index:
    def __init__(self, entries: list[_Entry]):
        self.entries = entries
        self.by_url: dict[str, _Entry] = {}
        self.by_type_id: dict[str, _Entry] = {}
        # (type, system, value) and (type, None, value) -> entries, for conditional references.
        self.by_ident: dict[tuple[str, str | None, str], list[_Entry]] = {}
        for e in entries:
            for ident in _list(e.resource.get("identifier")):
                if isinstance(ident, dict) and isinstance(ident.get("value"), str):
                    keys = {(e.rtype, None, ident["value"])}
                    if isinstance(ident.get("system"), str):
                        keys.add((e.rtype, ident["system"], ident["value"]))
                    for key in keys:
                        self.by_ident.setdefault(key, []).append(e)
            if e.full_url:
                self.by_url.setdefault(e.full_url, e)
            rid = _str(e.resource.get("id"))
            if rid and e.rtype:
                self.by_type_id.setdefault(f"{e.rtype}/{rid}", e)

    def resolve(self, ref: Any, origin: _Entry) -> dict | None:
        """The referenced resource (dict), or None when it is not in the bundle."""
        ref = _dict(ref)
        target = _str(ref.get("reference"))
        if target is None:
            return None
        if target.startswith("#"):
            for c in _list(origin.resource.get("contained")):
                if isinstance(c, dict) and c.get("id") == target[1:]:
                    return c
            return None
        e = self.resolve_entry(target)
        return e.resource if e else None

    def resolve_entry(self, target: str) -> _Entry | None:
        if target in self.by_url:
            return self.by_url[target]
        if "?" in target:
            return self._conditional(target)
        parts = target.split("/_history/")[0].rstrip("/").split("/")
        if len(parts) >= 2:
            return self.by_type_id.get(f"{parts[-2]}/{parts[-1]}")
        return None

    def _conditional(self, target: str) -> _Entry | None:
        rtype, _, query = target.partition("?")
        params = parse_qs(query)
        if set(params) != {"identifier"} or len(params["identifier"]) != 1:
            return None
        system, sep, value = params["identifier"][0].rpartition("|")
        matches = self.by_ident.get((rtype, system if sep else None, value), [])
        return matches[0] if len(matches) == 1 else None


def _label(index: int, entry: dict, resource: dict) -> str:
    url = _str(entry.get("fullUrl"))
    if url:
        return url
    rtype, rid = _str(resource.get("resourceType")), _str(resource.get("id"))
    if rtype and rid:
        return f"{rtype}/{rid}"
    return f"entry[{index}]"


# --- The mapper -------------------------------------------------------------------------------

CHILD_TYPES = ("Condition", "Observation", "MedicationRequest", "ServiceRequest", "Appointment")


class _Problems:
    """Errors for one encounter, collected while mapping it."""

    def __init__(self, encounter: str) -> None:
        self.encounter = encounter
        self.items: list[MappingError] = []

    def add(self, entry_label: str, path: str | None, code: str, message: str) -> None:
        self.items.append(MappingError(entry_label, path, code, message, self.encounter))

    def __bool__(self) -> bool:
        return bool(self.items)


def map_bundle(bundle: dict, *, facility_code: str | None, settings: FhirSettings | None = None,
               abroad_prefixes: Iterable[str] = ()) -> MappingResult:
    """Map a parsed Bundle for the submitting facility ``facility_code``."""
    settings = settings or get_fhir_settings()
    return _Mapper(bundle, facility_code, settings, frozenset(abroad_prefixes)).run()


def map_bytes(source: bytes | bytearray | BinaryIO | Iterable[bytes], *, facility_code: str | None,
              settings: FhirSettings | None = None, abroad_prefixes: Iterable[str] = ()) -> MappingResult:
    settings = settings or get_fhir_settings()
    return map_bundle(load_bundle(source, settings), facility_code=facility_code, settings=settings,
                      abroad_prefixes=abroad_prefixes)


class _Mapper:
    def __init__(self, bundle: dict, facility_code: str | None, settings: FhirSettings,
                 abroad: frozenset[str]):
        self.bundle = bundle
        self.facility_code = facility_code
        self.s = settings
        self.abroad = abroad

    # -- envelope --
    def _check_envelope(self) -> list[dict]:
        b = self.bundle
        if b.get("resourceType") != "Bundle":
            raise BundleError("nội dung phải là tài nguyên Bundle (resourceType = \"Bundle\")",
                              code="not_a_bundle", path="resourceType")
        btype = b.get("type")
        if btype not in BUNDLE_TYPES:
            raise BundleError(f"Bundle.type phải là một trong {', '.join(BUNDLE_TYPES)} (nhận được {btype!r})",
                              code="unsupported_bundle_type", path="Bundle.type")
        entries = b.get("entry", [])
        if not isinstance(entries, list):
            raise BundleError("Bundle.entry phải là mảng", code="invalid_bundle", path="Bundle.entry")
        if len(entries) > self.s.max_entries:
            raise BundleError(f"Bundle có {len(entries)} mục, vượt quá tối đa {self.s.max_entries}",
                              code="too_many_entries", path="Bundle.entry")
        # Validate the envelope without the resources (each is validated on its own below).
        shell = {k: v for k, v in b.items() if k != "entry"}
        shell["entry"] = [{k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e
                          for e in entries]
        problems = validate_resource(shell)
        if problems:
            path, message = problems[0]
            raise BundleError(f"{path}: {message}", code="invalid_bundle", path=path)
        return entries

    def run(self) -> MappingResult:
        raw_entries = self._check_envelope()
        result = MappingResult(bundle_type=self.bundle["type"])
        entries: list[_Entry] = []
        for i, raw in enumerate(raw_entries):
            resource = raw.get("resource")
            label = _label(i, raw, resource if isinstance(resource, dict) else {})
            if not isinstance(resource, dict):
                result.errors.append(MappingError(label, f"Bundle.entry[{i}].resource", "missing_resource",
                                                  "mục không có tài nguyên (resource)"))
                continue
            method = _str(_dict(raw.get("request")).get("method"))
            if method not in (None, "POST", "PUT"):
                result.errors.append(MappingError(label, f"Bundle.entry[{i}].request.method", "unsupported_method",
                                                  f"chỉ chấp nhận POST hoặc PUT (nhận được {method})"))
                continue
            rtype = resource.get("resourceType") if isinstance(resource.get("resourceType"), str) else ""
            entries.append(_Entry(i, label, resource, rtype, _str(raw.get("fullUrl")), validate_resource(resource)))
        self.index = _Index(entries)

        for e in entries:
            for path, message in e.errors:
                result.errors.append(MappingError(e.label, path, "invalid_resource", message))

        # Attach clinical resources to their encounter.
        encounters = [e for e in entries if e.rtype == "Encounter"]
        children: dict[int, list[_Entry]] = {id(e): [] for e in encounters}
        for e in entries:
            if e.rtype not in CHILD_TYPES:
                continue
            if e.rtype == "ServiceRequest" and not self._is_referral(e.resource):
                continue
            enc, path = self._encounter_of(e)
            if enc is None:
                if e.valid:  # a structurally broken resource is already reported
                    result.errors.append(MappingError(
                        e.label, path, "unknown_reference" if path else "unlinked",
                        "không tìm thấy Encounter được tham chiếu trong Bundle" if path
                        else "tài nguyên không gắn với Encounter (đợt khám) nào"))
                continue
            children[id(enc)].append(e)

        for enc in encounters:
            result.encounters += 1
            problems = _Problems(enc.label)
            record = self._map_encounter(enc, children[id(enc)], problems, result)
            if problems or record is None:
                result.rejected += 1
                result.errors.extend(problems.items)
            else:
                result.records.append(record)

        if self.s.transaction_atomic and result.bundle_type == "transaction" and result.errors and result.records:
            result.errors.append(MappingError(
                "Bundle", "Bundle.type", "transaction_rolled_back",
                f"Bundle loại transaction được xử lý toàn bộ hoặc không: {len(result.records)} đợt khám hợp lệ "
                "cũng không được tiếp nhận vì Bundle có lỗi"))
            result.rejected += len(result.records)
            result.records = []
        return result

    # -- linking --
    def _encounter_of(self, e: _Entry) -> tuple[_Entry | None, str | None]:
        r = e.resource
        if e.rtype == "Appointment":
            for i, ref in enumerate(_list(r.get("supportingInformation"))):
                target = _str(_dict(ref).get("reference"))
                if target:
                    hit = self.index.resolve_entry(target)
                    if hit is not None and hit.rtype == "Encounter":
                        return hit, None
            for i, ref in enumerate(_list(r.get("basedOn"))):
                target = _str(_dict(ref).get("reference"))
                hit = self.index.resolve_entry(target) if target else None
                if hit is not None and hit.rtype == "ServiceRequest":
                    return self._encounter_of(hit)
            refs = _list(r.get("supportingInformation")) + _list(r.get("basedOn"))
            return None, ("Appointment.supportingInformation" if refs else None)
        ref = r.get("encounter") if e.rtype != "Encounter" else None
        target = _str(_dict(ref).get("reference"))
        if not target:
            return None, None
        hit = self.index.resolve_entry(target)
        if hit is None or hit.rtype != "Encounter":
            return None, f"{e.rtype}.encounter"
        return hit, None

    def _is_referral(self, r: dict) -> bool:
        for concept in _list(r.get("category")):
            if _has_code(concept, SNOMED, SNOMED_REFERRAL) or _has_code(concept, None, "referral"):
                return True
            text = (_concept_text(concept) or "").lower()
            if "referral" in text or "chuyển tuyến" in text:
                return True
        return False

    # -- facility --
    def _org_facility(self, org: dict | None, origin: _Entry, ref: Any) -> str | None:
        """The CSKCB code from an Organization, or from a logical reference's identifier."""
        idents = []
        if org is not None:
            idents = _list(org.get("identifier"))
        elif isinstance(_dict(ref).get("identifier"), dict):
            idents = [_dict(ref)["identifier"]]
        for ident in idents:
            if isinstance(ident, dict) and ident.get("system") in self.s.facility_systems and _str(ident.get("value")):
                return _str(ident.get("value"))
        return None

    def _facility_of(self, enc: _Entry, malk_ident: dict | None) -> tuple[str | None, str | None, bool]:
        """(code, path, referenced): the encounter's facility and where it came from."""
        candidates = [("Encounter.serviceProvider", enc.resource.get("serviceProvider"))]
        if malk_ident is not None:
            candidates.append(("Encounter.identifier.assigner", malk_ident.get("assigner")))
        referenced = False
        for path, ref in candidates:
            if not isinstance(ref, dict):
                continue
            referenced = True
            org = self.index.resolve(ref, enc)
            code = self._org_facility(org, enc, ref)
            if code:
                return code, path, True
        return None, candidates[0][0], referenced

    # -- the encounter --
    def _map_encounter(self, enc: _Entry, kids: list[_Entry], p: _Problems,
                       result: MappingResult) -> VisitRecord | None:
        r = enc.resource
        label = enc.label
        if not enc.valid:
            p.add(label, "Encounter", "invalid_resource", "Encounter không hợp lệ về cấu trúc (xem lỗi chi tiết)")

        status = _str(r.get("status"))
        if status in ("cancelled", "entered-in-error"):
            p.add(label, "Encounter.status", "unsupported_status",
                  f"không tiếp nhận đợt khám có trạng thái {status}")

        # MA_LK
        idents = [i for i in _list(r.get("identifier")) if isinstance(i, dict) and _str(i.get("value"))]
        malk_ident = next((i for i in idents if i.get("system") in self.s.ma_lk_systems), None)
        if malk_ident is None:
            malk_ident = next((i for i in idents if isinstance(i.get("assigner"), dict)), None)
        if malk_ident is None and len(idents) == 1:
            malk_ident = idents[0]
        ma_lk = _str(malk_ident.get("value")) if malk_ident else None
        if not ma_lk:
            p.add(label, "Encounter.identifier", "missing_ma_lk",
                  f"thiếu mã liên kết (MA_LK): Encounter.identifier với system {self.s.ma_lk_systems[0]}")
        elif len(ma_lk) > 100:
            p.add(label, "Encounter.identifier.value", "too_long", "mã liên kết (MA_LK) dài quá 100 ký tự")

        # Facility
        facility, fpath, referenced = self._facility_of(enc, malk_ident)
        if facility is None:
            p.add(label, fpath, "missing_facility" if not referenced else "unknown_facility",
                  "không xác định được cơ sở khám chữa bệnh: serviceProvider phải là Organization có "
                  f"identifier {self.s.facility_systems[0]} (mã CSKCB 5 chữ số)")
        else:
            try:
                facility = validate_facility_code(facility)
            except InvalidFacilityCode as exc:
                p.add(label, fpath, "invalid_facility_code", str(exc))
                facility = None
        if facility is not None:
            if self.facility_code is not None and facility != self.facility_code:
                result.foreign_facilities.add(facility)
                p.add(label, fpath, "facility_mismatch",
                      f"đợt khám thuộc cơ sở {facility}, không phải cơ sở đã xác thực {self.facility_code}")
            else:
                result.own_encounters += 1

        # Period
        period = _dict(r.get("period"))
        admitted = parse_instant(period.get("start"))
        if admitted is None:
            p.add(label, "Encounter.period.start", "missing_admission",
                  "thiếu hoặc sai thời điểm vào viện/bắt đầu khám (cần ngày đầy đủ)")
        discharged = None
        if period.get("end") is not None:
            discharged = parse_instant(period.get("end"))
            if discharged is None:
                p.add(label, "Encounter.period.end", "invalid_datetime", "thời điểm ra viện không hợp lệ")
            elif admitted is not None and discharged < admitted:
                p.add(label, "Encounter.period.end", "invalid_period", "thời điểm ra viện trước thời điểm vào viện")

        # Patient
        patient = None
        subject = r.get("subject")
        if not isinstance(subject, dict):
            p.add(label, "Encounter.subject", "missing_patient", "Encounter thiếu subject (Patient)")
        else:
            target = _str(subject.get("reference"))
            pe = self.index.resolve_entry(target) if target else None
            if pe is None or pe.rtype != "Patient":
                p.add(label, "Encounter.subject", "unknown_reference",
                      f"không tìm thấy Patient được tham chiếu ({target}) trong Bundle")
            else:
                patient = self._patient(pe, p)

        visit_type = self._visit_type(r, label, p)
        discharge_type, outcome = self._discharge(r, label, p)

        rec = VisitRecord(
            facility_code=facility or "", ma_lk=ma_lk or "", patient_name=(patient or {}).get("name", ""),
            admitted_at=admitted or datetime.min.replace(tzinfo=VN_TZ), source=SOURCE,
            personal_id=(patient or {}).get("personal_id"), birth_date=(patient or {}).get("birth_date"),
            sex=(patient or {}).get("sex"), insurance_card=(patient or {}).get("insurance_card"),
            visit_type=visit_type, discharged_at=discharged, outcome=outcome, discharge_type=discharge_type,
        )
        raw: dict[str, Any] = {"Encounter": r}
        if patient is not None:
            raw["Patient"] = patient["resource"]

        conditions: list[tuple[_Entry, DiagnosisRec]] = []
        for kid in kids:
            if not kid.valid:
                p.add(label, None, "invalid_dependent",
                      f"đợt khám bị từ chối vì tài nguyên {kid.label} ({kid.rtype}) không hợp lệ")
                continue
            raw.setdefault(kid.rtype, []).append(kid.resource)
            if kid.rtype == "Condition":
                d = self._condition(kid, p)
                if d is not None:
                    conditions.append((kid, d))
            elif kid.rtype == "Observation":
                self._observation(kid, rec, p)
            elif kid.rtype == "MedicationRequest":
                m = self._medication(kid, admitted, p)
                if m is not None:
                    rec.medications.append(m)
            elif kid.rtype == "ServiceRequest":
                ref = self._referral(kid, admitted, discharged, p)
                if ref is not None:
                    rec.referrals.append(ref)
            elif kid.rtype == "Appointment":
                a = self._appointment(kid, p)
                if a is not None:
                    rec.appointments.append(a)

        self._primary(enc, conditions)
        rec.diagnoses = [d for _, d in conditions]
        primary = next((d for d in rec.diagnoses if d.is_primary), None)
        if primary is not None:
            rec.main_icd = primary.icd10
            rec.diagnosis_text = primary.name
        rec.raw = raw
        if p or patient is None or facility is None or admitted is None or not ma_lk:
            return None
        return rec

    def _visit_type(self, r: dict, label: str, p: _Problems) -> str | None:
        for i, concept in enumerate(_list(r.get("type"))):
            code = _code_in(concept, [VISIT_TYPE_SYSTEM])
            if code is not None:
                if code not in VISIT_TYPES:
                    p.add(label, f"Encounter.type[{i}]", "invalid_code", f"mã loại KCB {code!r} không hợp lệ (01-10)")
                    return None
                return code
        cls = _dict(r.get("class"))
        if cls.get("code") in CLASS_TO_VISIT_TYPE and cls.get("system") in (None, ACT_CODE_SYSTEM):
            return CLASS_TO_VISIT_TYPE[cls["code"]]
        return None

    def _discharge(self, r: dict, label: str, p: _Problems) -> tuple[str | None, str | None]:
        disposition = _dict(_dict(r.get("hospitalization")).get("dischargeDisposition"))
        discharge_type = _code_in(disposition, [DISCHARGE_TYPE_SYSTEM])
        if discharge_type is not None and discharge_type not in DISCHARGE_TYPES:
            p.add(label, "Encounter.hospitalization.dischargeDisposition", "invalid_code",
                  f"mã loại ra viện {discharge_type!r} không hợp lệ (1-5)")
            discharge_type = None
        hl7 = _code_in(disposition, [DISCHARGE_DISPOSITION_SYSTEM])
        if discharge_type is None and hl7 is not None:
            discharge_type = DISPOSITION_TO_DISCHARGE_TYPE.get(hl7)
        outcome = None
        for i, ext in enumerate(_list(r.get("extension"))):
            if not isinstance(ext, dict) or ext.get("url") != OUTCOME_EXTENSION:
                continue
            value = ext.get("valueCode") or ext.get("valueString") or _code_in(
                ext.get("valueCodeableConcept"), [OUTCOME_SYSTEM])
            if ext.get("valueInteger") is not None:
                value = str(ext["valueInteger"])
            value = _str(value) if isinstance(value, str) else None
            if value not in OUTCOMES:
                p.add(label, f"Encounter.extension[{i}]", "invalid_code",
                      f"mã kết quả điều trị {value!r} không hợp lệ (1-8)")
            else:
                outcome = value
        if outcome is None and hl7 == "exp":
            outcome = "5"  # tử vong
        return discharge_type, outcome

    # -- patient --
    def _patient(self, pe: _Entry, p: _Problems) -> dict | None:
        r = pe.resource
        label = pe.label
        if not pe.valid:
            p.add(label, "Patient", "invalid_resource", "Patient không hợp lệ về cấu trúc (xem lỗi chi tiết)")
            return None
        ok = True
        gender = r.get("gender")
        sex = {"male": "M", "female": "F"}.get(gender)
        if gender not in (None, "male", "female", "other", "unknown"):
            p.add(label, "Patient.gender", "invalid_code", f"giới tính {gender!r} không hợp lệ")
            ok = False
        birth = None
        if r.get("birthDate") is not None:
            birth = parse_date(r.get("birthDate"))
            if birth is None and not _PARTIAL_DATE_RE.match(str(r.get("birthDate"))):
                p.add(label, "Patient.birthDate", "invalid_date", "ngày sinh không hợp lệ")
                ok = False
        name = self._name(r)
        if not name:
            p.add(label, "Patient.name", "missing_name", "thiếu họ tên người bệnh")
            ok = False
        elif len(name) > 255:
            p.add(label, "Patient.name", "too_long", "họ tên dài quá 255 ký tự")
            ok = False
        personal_id = insurance = None
        for i, ident in enumerate(_list(r.get("identifier"))):
            if not isinstance(ident, dict):
                continue
            system, value = ident.get("system"), _str(ident.get("value"))
            if system in self.s.personal_id_systems and personal_id is None:
                try:
                    personal_id = validate_personal_id(value or "", birth, sex if birth else None,
                                                       self.abroad).number
                except InvalidPersonalId as exc:
                    p.add(label, f"Patient.identifier[{i}].value", "invalid_personal_id", str(exc))
                    ok = False
                    personal_id = ""
            elif system in self.s.insurance_systems and value:
                if len(value) > 50:
                    p.add(label, f"Patient.identifier[{i}].value", "too_long", "số thẻ BHYT dài quá 50 ký tự")
                    ok = False
                insurance = value.upper()
        if personal_id is None:
            p.add(label, "Patient.identifier", "missing_personal_id",
                  f"thiếu số định danh cá nhân: Patient.identifier với system {self.s.personal_id_systems[0]}")
            ok = False
        if not ok:
            return None
        return {"resource": r, "name": name, "personal_id": personal_id, "birth_date": birth, "sex": sex,
                "insurance_card": insurance}

    @staticmethod
    def _name(r: dict) -> str | None:
        names = [n for n in _list(r.get("name")) if isinstance(n, dict)]
        if not names:
            return None
        names.sort(key=lambda n: {"official": 0, "usual": 1}.get(n.get("use"), 2))
        n = names[0]
        if _str(n.get("text")):
            return " ".join(n["text"].split())
        parts = [n.get("family")] + _list(n.get("given"))  # Vietnamese order: họ, tên đệm, tên
        text = " ".join(x.strip() for x in parts if isinstance(x, str) and x.strip())
        return " ".join(text.split()) or None

    # -- clinical resources --
    def _condition(self, e: _Entry, p: _Problems) -> DiagnosisRec | None:
        code = _code_in(e.resource.get("code"), self.s.icd10_systems)
        if code is None:
            p.add(e.label, "Condition.code", "missing_icd10",
                  f"Condition phải có mã ICD-10 (system {self.s.icd10_systems[0]})")
            return None
        code = code.upper()
        if not _ICD10_RE.match(code) or len(code) > 10:
            p.add(e.label, "Condition.code.coding.code", "invalid_icd10", f"mã ICD-10 {code!r} không hợp lệ")
            return None
        name = _concept_text(e.resource.get("code"))
        if name and len(name) > 255:
            name = name[:255]
        return DiagnosisRec(icd10=code, name=name)

    def _primary(self, enc: _Entry, conditions: list[tuple[_Entry, DiagnosisRec]]) -> None:
        if not conditions:
            return
        ranked: list[tuple[tuple[int, int], DiagnosisRec]] = []
        for pos, d in enumerate(_list(enc.resource.get("diagnosis"))):
            d = _dict(d)
            target = _str(_dict(d.get("condition")).get("reference"))
            hit = self.index.resolve_entry(target) if target else None
            rec = next((rec for e, rec in conditions if e is hit), None)
            if rec is None:
                continue
            rank = d.get("rank") if isinstance(d.get("rank"), int) else None
            use = {c.get("code") for c in _codings(d.get("use"))}
            prio = 0 if rank == 1 else 1 if use & {"DD", "CC", "billing"} else 2
            ranked.append(((prio, rank or 10_000 + pos), rec))
        if ranked:
            ranked.sort(key=lambda t: t[0])
            ranked[0][1].is_primary = True
            return
        conditions[0][1].is_primary = True

    def _observation(self, e: _Entry, rec: VisitRecord, p: _Problems) -> None:
        r = e.resource
        code = r.get("code")
        if r.get("status") in ("cancelled", "entered-in-error"):
            return
        if _has_code(code, LOINC, LOINC_WEIGHT) or _has_code(code, LOINC, LOINC_HEIGHT):
            weight = _has_code(code, LOINC, LOINC_WEIGHT)
            q = _dict(r.get("valueQuantity"))
            value = _decimal(q.get("value"))
            unit = (q.get("code") or q.get("unit") or "").strip()
            factor = {"kg": 1, "g": Decimal("0.001"), "[lb_av]": Decimal("0.45359237")} if weight else \
                {"cm": 1, "m": 100, "mm": Decimal("0.1"), "[in_i]": Decimal("2.54")}
            if value is None or unit not in factor:
                p.add(e.label, "Observation.valueQuantity", "invalid_quantity",
                      "cân nặng phải có valueQuantity đơn vị kg hoặc g" if weight
                      else "chiều cao phải có valueQuantity đơn vị cm hoặc m")
                return
            value = value * factor[unit]
            if weight:
                if not 0 < value < 1000:
                    p.add(e.label, "Observation.valueQuantity.value", "out_of_range", "cân nặng ngoài khoảng hợp lý")
                    return
                rec.weight_kg = value.quantize(Decimal("0.01"), ROUND_HALF_UP)
            else:
                if not 0 < value < 300:
                    p.add(e.label, "Observation.valueQuantity.value", "out_of_range", "chiều cao ngoài khoảng hợp lý")
                    return
                rec.height_cm = value.quantize(Decimal("0.1"), ROUND_HALF_UP)
            return
        if _has_code(code, LOINC, LOINC_BLOOD_GROUP):
            text = _str(r.get("valueString")) or _concept_text(r.get("valueCodeableConcept"))
            group = normalize_blood_group(text)
            if group is None:
                p.add(e.label, "Observation.value[x]", "invalid_blood_group",
                      f"nhóm máu {text!r} không hợp lệ (A, B, AB, O kèm Rh +/-)")
                return
            rec.blood_group = group
            return
        self._lab_result(e, rec, p)

    def _lab_result(self, e: _Entry, rec: VisitRecord, p: _Problems) -> None:
        r = e.resource
        codings = [c for c in _codings(r.get("code")) if _str(c.get("code"))]
        if not codings:
            p.add(e.label, "Observation.code.coding", "missing_code", "Observation phải có mã (code.coding)")
            return
        service = next((c for c in codings if c.get("system") == SERVICE_SYSTEM), codings[0])
        indicator = next((c for c in codings if c is not service), None)
        result_at = (parse_instant(r.get("effectiveDateTime"))
                     or parse_instant(_dict(r.get("effectivePeriod")).get("start"))
                     or parse_instant(r.get("effectiveInstant")) or parse_instant(r.get("issued")))
        if result_at is None:
            p.add(e.label, "Observation.effective[x]", "missing_datetime", "thiếu thời điểm có kết quả")
            return
        value, unit = _observation_value(r)
        conclusion = "; ".join(t for t in [_concept_text(i) for i in _list(r.get("interpretation"))]
                               + [_str(_dict(n).get("text")) for n in _list(r.get("note"))] if t) or None
        lab = LabResultRec(service_code=_str(service["code"]), result_at=result_at,
                           indicator_code=_str(indicator["code"]) if indicator else None,
                           name=_concept_text(r.get("code")), value=value, unit=unit, conclusion=conclusion)
        for attr, limit, path in (("service_code", 50, "Observation.code.coding.code"),
                                  ("indicator_code", 50, "Observation.code.coding.code"),
                                  ("name", 255, "Observation.code.text"), ("value", 100, "Observation.value[x]"),
                                  ("unit", 50, "Observation.valueQuantity.unit")):
            v = getattr(lab, attr)
            if v is not None and len(v) > limit:
                p.add(e.label, path, "too_long", f"giá trị dài quá {limit} ký tự")
                return
        rec.lab_results.append(lab)

    def _medication(self, e: _Entry, admitted: datetime | None, p: _Problems) -> MedicationRec | None:
        r = e.resource
        if r.get("status") in ("cancelled", "entered-in-error"):
            return None
        concept = r.get("medicationCodeableConcept")
        med = None
        if concept is None and isinstance(r.get("medicationReference"), dict):
            med = self.index.resolve(r["medicationReference"], e)
            if med is None:
                p.add(e.label, "MedicationRequest.medicationReference", "unknown_reference",
                      "không tìm thấy Medication được tham chiếu trong Bundle")
                return None
            concept = med.get("code")
        codings = [c for c in _codings(concept) if _str(c.get("code"))]
        coding = next((c for c in codings if c.get("system") == DRUG_SYSTEM), codings[0] if codings else None)
        name = _concept_text(concept)
        if coding is None or not name:
            p.add(e.label, "MedicationRequest.medication[x]", "missing_code", "thuốc phải có mã và tên")
            return None
        dosages = [_dict(d) for d in _list(r.get("dosageInstruction"))]
        dosage = "; ".join(t for t in (_str(d.get("text")) for d in dosages) if t) or None
        route = None
        for d in dosages:
            route = _code_in(d.get("route"), [ROUTE_SYSTEM]) or next(
                (_str(c.get("code")) for c in _codings(d.get("route")) if _str(c.get("code"))), None)
            if route:
                break
        qty = _dict(_dict(r.get("dispenseRequest")).get("quantity"))
        quantity = _decimal(qty.get("value")) if qty else None
        unit = _str(qty.get("unit")) or _str(qty.get("code"))
        strength = None
        if med is not None:
            parts = []
            for ing in _list(med.get("ingredient")):
                num = _dict(_dict(_dict(ing).get("strength")).get("numerator"))
                den = _dict(_dict(_dict(ing).get("strength")).get("denominator"))
                v = _decimal(num.get("value"))
                if v is not None:
                    s = f"{_plain(v)} {num.get('unit') or num.get('code') or ''}".strip()
                    dv = _decimal(den.get("value"))
                    if dv is not None:
                        s += f"/{_plain(dv)} {den.get('unit') or den.get('code') or ''}".rstrip()
                    parts.append(s)
            strength = "; ".join(parts) or None
        ordered = parse_instant(r.get("authoredOn")) or admitted
        if ordered is None:
            p.add(e.label, "MedicationRequest.authoredOn", "missing_datetime", "thiếu thời điểm kê đơn")
            return None
        rec = MedicationRec(drug_code=_str(coding["code"]), name=name, ordered_at=ordered, strength=strength,
                            route=route, dosage=dosage, quantity=quantity, unit=unit)
        for attr, limit, path in (("drug_code", 255, "MedicationRequest.medication[x]"),
                                  ("name", 1024, "MedicationRequest.medication[x]"),
                                  ("strength", 1024, "Medication.ingredient"),
                                  ("route", 10, "MedicationRequest.dosageInstruction.route"),
                                  ("dosage", 1024, "MedicationRequest.dosageInstruction.text"),
                                  ("unit", 50, "MedicationRequest.dispenseRequest.quantity.unit")):
            v = getattr(rec, attr)
            if v is not None and len(v) > limit:
                p.add(e.label, path, "too_long", f"giá trị dài quá {limit} ký tự")
                return None
        if quantity is not None and not (0 <= quantity < Decimal("1e10")):
            p.add(e.label, "MedicationRequest.dispenseRequest.quantity.value", "out_of_range",
                  "số lượng thuốc ngoài khoảng hợp lệ")
            return None
        return rec

    def _referral(self, e: _Entry, admitted: datetime | None, discharged: datetime | None,
                  p: _Problems) -> ReferralRec | None:
        r = e.resource
        number = next((_str(i.get("value")) for i in _list(r.get("identifier"))
                       if isinstance(i, dict) and _str(i.get("value"))), None)
        if not number:
            p.add(e.label, "ServiceRequest.identifier", "missing_number", "giấy chuyển tuyến phải có số (identifier)")
            return None
        if len(number) > 50:
            p.add(e.label, "ServiceRequest.identifier.value", "too_long", "số giấy chuyển tuyến dài quá 50 ký tự")
            return None
        to_facility = None
        for i, ref in enumerate(_list(r.get("performer"))):
            org = self.index.resolve(ref, e)
            if org is not None and org.get("resourceType") != "Organization":
                continue
            code = self._org_facility(org, e, ref)
            if code:
                try:
                    to_facility = validate_facility_code(code)
                except InvalidFacilityCode as exc:
                    p.add(e.label, f"ServiceRequest.performer[{i}]", "invalid_facility_code", str(exc))
                    return None
                break
        reason = None
        texts = []
        for i, concept in enumerate(_list(r.get("reasonCode"))):
            code = _code_in(concept, [REFERRAL_REASON_SYSTEM])
            if code is not None:
                if code not in REFERRAL_REASONS:
                    p.add(e.label, f"ServiceRequest.reasonCode[{i}]", "invalid_code",
                          f"mã lý do chuyển tuyến {code!r} không hợp lệ (1-3)")
                    return None
                reason = code
            else:
                t = _concept_text(concept)
                if t:
                    texts.append(t)
        for ref in _list(r.get("reasonReference")):
            cond = self.index.resolve(ref, e)
            if cond is not None and cond.get("resourceType") == "Condition":
                icd = _code_in(cond.get("code"), self.s.icd10_systems)
                t = _concept_text(cond.get("code"))
                texts.append(" ".join(x for x in (icd, t) if x))
        issued = parse_instant(r.get("authoredOn")) or discharged or admitted
        if issued is None:
            p.add(e.label, "ServiceRequest.authoredOn", "missing_datetime", "thiếu ngày cấp giấy chuyển tuyến")
            return None
        return ReferralRec(number=number, issued_at=issued, to_facility=to_facility, reason_code=reason,
                           diagnosis="; ".join(texts) or None)

    def _appointment(self, e: _Entry, p: _Problems) -> AppointmentRec | None:
        r = e.resource
        if r.get("status") in ("cancelled", "entered-in-error", "noshow"):
            return None
        number = next((_str(i.get("value")) for i in _list(r.get("identifier"))
                       if isinstance(i, dict) and _str(i.get("value"))), None)
        if not number or len(number) > 50:
            p.add(e.label, "Appointment.identifier", "missing_number" if not number else "too_long",
                  "giấy hẹn khám lại phải có số (identifier, tối đa 50 ký tự)")
            return None
        start = parse_instant(r.get("start"))
        if start is None:
            p.add(e.label, "Appointment.start", "missing_datetime", "thiếu thời điểm hẹn khám lại")
            return None
        texts = [t for t in (_concept_text(c) for c in _list(r.get("reasonCode"))) if t]
        if _str(r.get("description")):
            texts.append(_str(r.get("description")))
        return AppointmentRec(number=number, appointment_at=start, diagnosis="; ".join(texts) or None)


def _observation_value(r: dict) -> tuple[str | None, str | None]:
    if isinstance(r.get("valueQuantity"), dict):
        q = r["valueQuantity"]
        v = _decimal(q.get("value"))
        comparator = q.get("comparator") or ""
        return (comparator + _plain(v) if v is not None else None), _str(q.get("unit")) or _str(q.get("code"))
    for key in ("valueString", "valueDateTime", "valueTime"):
        if _str(r.get(key)):
            return _str(r[key]), None
    if isinstance(r.get("valueBoolean"), bool):
        return ("true" if r["valueBoolean"] else "false"), None
    if isinstance(r.get("valueInteger"), int):
        return str(r["valueInteger"]), None
    if isinstance(r.get("valueCodeableConcept"), dict):
        return _concept_text(r["valueCodeableConcept"]), None
    parts = []
    for comp in _list(r.get("component")):
        comp = _dict(comp)
        v, u = _observation_value(comp)
        if v is not None:
            name = _concept_text(comp.get("code")) or "?"
            parts.append(f"{name}: {v}{' ' + u if u else ''}")
    return ("; ".join(parts) or None), None


_BLOOD_RE = re.compile(r"^(?:group\s+|nhóm\s+(?:máu\s+)?)?(AB|A|B|O)\s*(?:rh\s*\(?d?\)?\s*)?"
                       r"(\+|-|pos(?:itive)?|neg(?:ative)?|dương(?:\s+tính)?|âm(?:\s+tính)?)?$", re.IGNORECASE)


def normalize_blood_group(text: str | None) -> str | None:
    """``"A Rh(D) positive"``, ``"O neg"``, ``"AB+"``, ``"Nhóm máu B"`` -> ``A+``, ``O-``, ``AB+``, ``B``."""
    if not text:
        return None
    text = " ".join(text.split())
    if text in BLOOD_GROUPS:
        return text
    m = _BLOOD_RE.match(text)
    if not m:
        return None
    group, rh = m.group(1).upper(), (m.group(2) or "").lower()
    if rh in ("+",) or rh.startswith("pos") or rh.startswith("dương"):
        return group + "+"
    if rh in ("-",) or rh.startswith("neg") or rh.startswith("âm"):
        return group + "-"
    return group
