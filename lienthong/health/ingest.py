"""Storing normalized visits (:class:`~lienthong.health.records.VisitRecord`) from any adapter.

Contract (used by the XML 130/4750 gateway and the FHIR adapter):

1. ``batch = new_batch(session, principal, source=..., filename=...)`` creates the receipt;
2. ``store_visits(session, batch, records)`` upserts a chunk of visits by (facility, MA_LK) and
   updates the batch counters; the caller commits (one transaction per chunk, so a killed process
   loses at most the chunk in flight and everything committed stays, with the receipt counting it);
3. ``add_rejections(batch, ...)`` counts dossiers that failed validation and keeps their errors
   (bounded to :data:`MAX_ERRORS_KEPT`, with the full count in ``error_count``);
4. ``finish_batch(session, principal, batch)`` marks it done and writes the one audit entry of the
   submission (per batch, not per record: auditing each record would dominate the cost).

Upsert rules: an unknown (facility, MA_LK) becomes version 1; the same content hash is *unchanged*
(nothing is written); a different hash becomes version + 1, its child rows (diagnoses, lab results,
medications, referrals, appointments, certificates) are replaced, and a ``health_visit_versions``
row keeps every version. A referral's decision (accepted/rejected by the receiving facility)
survives a resubmission when the referral number is unchanged.

Events (transactional outbox, written in bulk with the data): ``health.visit.accepted`` for every
new or changed visit; ``health.referral.issued``, ``health.appointment.created`` and
``health.certificate.issued`` only for documents that were not in the previous version (a cost
correction must not re-trigger the birth registration a birth certificate starts). Payloads carry
what their consumers need (the admission time; a certificate's data), so a consumer running after a
later resubmission replaced the rows still sees the document the event was about.

Health profiles: blood group, height and weight come from the person's latest visit that has them
(by admission time, so an old visit resubmitted late does not overwrite newer measurements);
chronic conditions (:data:`CHRONIC_ICD10`) accumulate, each with the date first seen.

PostgreSQL path: COPY into a temporary staging table, one set-based ``INSERT ... ON CONFLICT DO
UPDATE ... WHERE content_hash differs RETURNING`` (which also writes the version rows), then COPY
of child rows and outbox events, and a set-based profile upsert that merges chronic conditions in
SQL (atomic under concurrent batches). SQLite path: the same rules with ``executemany``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.orm import Session

from lienthong.db import aware, utcnow
from lienthong.events.models import OutboxEvent
from lienthong.health.models import (
    Appointment, Certificate, Diagnosis, HealthProfile, IngestBatch, LabResult, Medication, Referral, Visit,
    VisitVersion,
)
from lienthong.health.records import VisitRecord, canonical_json, json_default
from lienthong.identity.principal import Principal

log = logging.getLogger(__name__)

CHUNK_VISITS = 2_000  # visits per transaction for callers that chunk a stream (see ingest pipelines)
MAX_ERRORS_KEPT = 1_000  # errors kept in a receipt; ``error_count`` has the total
SOURCES = ("xml130", "fhir")

# Chronic conditions by ICD-10 category range (inclusive, 3-character categories). Data, not code:
# extend the table to track more conditions in health profiles.
CHRONIC_ICD10: tuple[tuple[str, str, str], ...] = (
    ("B18", "B18", "Viêm gan virus mạn tính"),
    ("B20", "B24", "Bệnh do HIV"),
    ("C00", "D09", "Ung thư"),
    ("E03", "E03", "Suy giáp"),
    ("E05", "E05", "Cường giáp"),
    ("E10", "E14", "Đái tháo đường"),
    ("E66", "E66", "Béo phì"),
    ("E78", "E78", "Rối loạn chuyển hóa lipid"),
    ("F20", "F29", "Tâm thần phân liệt và rối loạn hoang tưởng"),
    ("F31", "F33", "Rối loạn cảm xúc lưỡng cực, trầm cảm tái diễn"),
    ("G20", "G20", "Bệnh Parkinson"),
    ("G30", "G30", "Bệnh Alzheimer"),
    ("G40", "G40", "Động kinh"),
    ("I10", "I15", "Tăng huyết áp"),
    ("I20", "I25", "Bệnh tim thiếu máu cục bộ"),
    ("I48", "I48", "Rung nhĩ"),
    ("I50", "I50", "Suy tim"),
    ("I69", "I69", "Di chứng bệnh mạch máu não"),
    ("J44", "J44", "Bệnh phổi tắc nghẽn mạn tính"),
    ("J45", "J45", "Hen phế quản"),
    ("K74", "K74", "Xơ gan"),
    ("M05", "M06", "Viêm khớp dạng thấp"),
    ("M10", "M10", "Gút"),
    ("M32", "M32", "Lupus ban đỏ hệ thống"),
    ("N18", "N18", "Bệnh thận mạn"),
)


def chronic_group(icd10: str) -> str | None:
    """The chronic-condition label of an ICD-10 code (``E11.9`` -> ``Đái tháo đường``), or None."""
    cat = icd10.strip().upper()[:3]
    if len(cat) != 3:
        return None
    for lo, hi, label in CHRONIC_ICD10:
        if lo <= cat <= hi:
            return label
    return None


@dataclass
class StoreResult:
    accepted: int = 0  # new visits (version 1)
    unchanged: int = 0  # same content as the stored version: nothing written
    updated: int = 0  # stored as a new version
    resources: int = 0  # resources written (visit + clinical items) for accepted and updated visits

    def add(self, other: StoreResult) -> None:
        self.accepted += other.accepted
        self.unchanged += other.unchanged
        self.updated += other.updated
        self.resources += other.resources


# --- batches -----------------------------------------------------------------------------------------


def new_batch(session: Session, principal: Principal, *, source: str, filename: str | None,
              facility_code: str | None = None) -> IngestBatch:
    """Create the receipt of one submission (flushed, not committed).

    ``facility_code`` defaults to the principal's facility (facility clients); trusted callers
    (CLI, system) pass it explicitly.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    fac = facility_code or principal.facility_code
    if not fac:
        raise ValueError("a batch needs a facility code")
    now = utcnow()
    batch = IngestBatch(
        id=str(uuid.uuid4()), facility_code=fac, client_id=principal.subject[:64], source=source,
        filename=(filename or None) and filename[-255:], received_at=now, updated_at=now, status="receiving",
        dossiers=0, accepted=0, rejected=0, unchanged=0, updated=0, resources=0, errors=[], error_count=0,
    )
    session.add(batch)
    session.flush()
    return batch


def add_rejections(batch: IngestBatch, *, dossiers: int, rejected: int, errors: Sequence[dict]) -> None:
    """Count ``dossiers`` seen (valid or not) and ``rejected`` ones, and keep ``errors`` (bounded).

    Errors are dicts ``{ma_lk, table, record, field, code, message}`` (warnings may carry
    ``severity``); they are kept for valid dossiers too (warnings) and counted in ``error_count``.
    """
    batch.dossiers += dossiers
    batch.rejected += rejected
    if errors:
        batch.error_count += len(errors)
        room = MAX_ERRORS_KEPT - len(batch.errors or [])
        if room > 0:
            batch.errors = list(batch.errors or []) + [dict(e) for e in errors[:room]]
    batch.updated_at = utcnow()


def finish_batch(session: Session, principal: Principal, batch: IngestBatch, *, status: str = "done") -> None:
    """Close the batch and write its audit entry (in the caller's transaction)."""
    from lienthong.audit.service import record

    batch.status = status
    batch.finished_at = batch.updated_at = utcnow()
    record(session, principal, "health.submit", "ingest_batch", resource_id=batch.id,
           purpose="tiếp nhận dữ liệu khám chữa bệnh từ cơ sở", detail=receipt(batch))


# A batch still "receiving" whose heartbeat (updated_at, bumped by every committed chunk) is older than
# this was interrupted: its process died. Marked failed by the periodic sweep (and when read).
STALE_AFTER = timedelta(minutes=10)
INTERRUPTED = {
    "ma_lk": None, "table": "GIAMDINHHS", "record": None, "field": None, "code": "interrupted",
    "message": "Việc xử lý tệp bị gián đoạn; dữ liệu đã tiếp nhận được giữ nguyên, hãy gửi lại tệp "
               "để hoàn tất (hồ sơ đã có sẽ không bị trùng)"}
FAIL_RETRY_S = 1.0


def fail_interrupted(batch: IngestBatch, error: dict | None = None) -> bool:
    """Mark a batch that stopped while ``receiving`` failed, with the error saying so (in the
    caller's transaction). False when it had already ended."""
    if batch.status != "receiving":
        return False
    batch.status = "failed"
    batch.finished_at = batch.updated_at = utcnow()
    batch.errors = list(batch.errors or []) + [dict(error or INTERRUPTED)]
    batch.error_count = (batch.error_count or 0) + 1
    return True


def sweep_stale_batches(session: Session, now: datetime | None = None) -> int:
    """Mark failed every batch still ``receiving`` without a heartbeat for :data:`STALE_AFTER`."""
    limit = (now or utcnow()) - STALE_AFTER
    stale = list(session.scalars(select(IngestBatch).where(IngestBatch.status == "receiving",
                                                           IngestBatch.updated_at < limit)))
    return sum(fail_interrupted(b) for b in stale)


_failing: dict[tuple[str | None, str], dict | None] = {}
_failing_lock = threading.Lock()
_failing_thread: threading.Thread | None = None


def mark_failed(database_url: str | None, batch_id: str, error: dict | None = None) -> bool:
    """Mark an interrupted batch failed in its own transaction; when the database cannot be reached
    (the usual reason the ingest stopped), keep trying every :data:`FAIL_RETRY_S` from a background
    thread, so the batch is failed as soon as the database is back. True if done now."""
    from lienthong.db import session_factory

    try:
        with session_factory(database_url)() as s:
            b = s.get(IngestBatch, batch_id)
            if b is not None and fail_interrupted(b, error):
                s.commit()
        return True
    except Exception as exc:  # noqa: BLE001 - the database is away: retried below
        log.warning("batch %s: cannot mark it failed now (%s); retrying until the database is back", batch_id,
                    exc.__class__.__name__)
    global _failing_thread
    with _failing_lock:
        _failing[(database_url, batch_id)] = error
        if _failing_thread is None or not _failing_thread.is_alive():
            _failing_thread = threading.Thread(target=_retry_failing, name="ingest-mark-failed", daemon=True)
            _failing_thread.start()
    return False


def pending_failures() -> list[str]:
    with _failing_lock:
        return [batch_id for _, batch_id in _failing]


def _retry_failing() -> None:
    from lienthong.db import session_factory

    while True:
        time.sleep(FAIL_RETRY_S)
        with _failing_lock:
            todo = dict(_failing)
        if not todo:
            return
        for (url, batch_id), error in todo.items():
            try:
                with session_factory(url)() as s:
                    b = s.get(IngestBatch, batch_id)
                    if b is not None and fail_interrupted(b, error):
                        s.commit()
            except Exception:  # noqa: BLE001 - still away
                continue
            log.info("batch %s marked failed (database back)", batch_id)
            with _failing_lock:
                _failing.pop((url, batch_id), None)
        with _failing_lock:
            if not _failing:
                global _failing_thread
                _failing_thread = None
                return


def receipt(batch: IngestBatch, *, max_errors: int | None = None) -> dict:
    """The receipt returned to the submitter."""
    errors = list(batch.errors or [])
    if max_errors is not None:
        errors = errors[:max_errors]
    return {
        "batch_id": batch.id, "facility_code": batch.facility_code, "source": batch.source,
        "filename": batch.filename, "status": batch.status,
        "received_at": _iso(batch.received_at), "finished_at": _iso(batch.finished_at),
        "dossiers": batch.dossiers, "accepted": batch.accepted, "updated": batch.updated,
        "unchanged": batch.unchanged, "rejected": batch.rejected, "resources": batch.resources,
        "error_count": batch.error_count, "errors_truncated": batch.error_count > len(errors),
        "errors": errors,
    }


@dataclass(frozen=True)
class FirstAccepted:
    """The first submission with accepted records from a province's facilities."""

    province_code: int  # the facility's (34-set) province
    facility_code: str
    facility_name: str
    batch_id: str
    received_at: datetime
    accepted: int


def first_accepted_by_province(session: Session) -> list[FirstAccepted]:
    """For every province whose facilities have had data accepted, the first such submission
    (receipts only: one grouped query, whatever the number of visits). Used by the rollout tracker's
    live signal (``lienthong.ops.signals``)."""
    from sqlalchemy import func

    from lienthong.facilities.models import Facility

    ranked = (select(Facility.province_code, Facility.name.label("facility_name"), IngestBatch.facility_code,
                     IngestBatch.id, IngestBatch.received_at, IngestBatch.accepted,
                     func.row_number().over(partition_by=Facility.province_code,
                                            order_by=(IngestBatch.received_at, IngestBatch.id)).label("rn"))
              .join(Facility, Facility.code == IngestBatch.facility_code)
              .where(IngestBatch.accepted > 0).subquery())
    rows = session.execute(select(ranked).where(ranked.c.rn == 1).order_by(ranked.c.province_code))
    return [FirstAccepted(int(r.province_code), r.facility_code, r.facility_name, r.id, aware(r.received_at),
                          int(r.accepted)) for r in rows]


def _iso(value: datetime | None) -> str | None:
    return aware(value).isoformat() if value is not None else None


# --- preparation ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class PreparedVisit:
    """A record with its canonical JSON and content hash, computed once (possibly in a worker process).

    ``rec.raw`` may be emptied after preparing (``body`` holds it): storage reads ``body`` only.
    """

    rec: VisitRecord
    body: str  # canonical JSON of the record (stored in ``record``)
    digest: str  # == rec.content_hash()
    source_digest: str | None = None  # digest of the submitted files (XML 130), see Visit.source_digest


def prepare_visit(rec: VisitRecord, source_digest: str | None = None) -> PreparedVisit:
    # The record's canonical JSON (as VisitRecord.content_hash() digests it), computed once and
    # reused as the stored JSON.
    body = canonical_json(rec)
    return PreparedVisit(rec, body, hashlib.sha256(body.encode()).hexdigest(), source_digest)


def _rounds(prepared: list[PreparedVisit]) -> list[list[PreparedVisit]]:
    """Split so that each round has each MA_LK at most once (in submission order)."""
    rounds: list[list[PreparedVisit]] = []
    seen: dict[str, int] = {}
    for p in prepared:
        i = seen.get(p.rec.ma_lk, 0)
        if i == len(rounds):
            rounds.append([])
        rounds[i].append(p)
        seen[p.rec.ma_lk] = i + 1
    return rounds


VISIT_COLS = ("facility_code", "ma_lk", "personal_id", "content_hash", "source", "patient_name", "birth_date",
              "sex", "insurance_card", "visit_type", "admitted_at", "discharged_at", "main_icd", "diagnosis_text",
              "outcome", "discharge_type", "blood_group", "weight_kg", "height_cm", "source_digest")
STAGE_COLS = VISIT_COLS + ("record",)  # the record goes to health_visit_versions only

DIAG_COLS = ("visit_id", "personal_id", "icd10", "name", "is_primary", "diagnosed_at")
LAB_COLS = ("visit_id", "personal_id", "service_code", "indicator_code", "name", "value", "unit", "conclusion",
            "result_at")
MED_COLS = ("visit_id", "personal_id", "drug_code", "name", "strength", "route", "dosage", "quantity", "unit",
            "ordered_at")
REF_COLS = ("visit_id", "personal_id", "number", "from_facility", "to_facility", "reason_code", "diagnosis",
            "issued_at", "status", "decided_at", "decided_by")
APPT_COLS = ("visit_id", "personal_id", "number", "facility_code", "appointment_at", "diagnosis")
CERT_COLS = ("visit_id", "personal_id", "kind", "facility_code", "number", "issued_at", "valid_until", "data")
OUTBOX_COLS = ("event_id", "topic", "payload", "occurred_at", "attempts")

CHILD_TABLES = (
    (Diagnosis.__table__, DIAG_COLS), (LabResult.__table__, LAB_COLS), (Medication.__table__, MED_COLS),
    (Referral.__table__, REF_COLS), (Appointment.__table__, APPT_COLS), (Certificate.__table__, CERT_COLS),
)


def _visit_row(p: PreparedVisit) -> tuple:
    r = p.rec
    return (r.facility_code, r.ma_lk, r.personal_id, p.digest, r.source, r.patient_name, r.birth_date, r.sex,
            r.insurance_card, r.visit_type, r.admitted_at, r.discharged_at, r.main_icd,
            r.diagnosis_text, r.outcome, r.discharge_type, r.blood_group, r.weight_kg, r.height_cm, p.source_digest)


@dataclass
class _Changed:
    visit_id: int
    version: int
    p: PreparedVisit


class _Children:
    """Child rows of the changed visits, per table, plus the documents they issue."""

    def __init__(self):
        self.rows: dict[str, list[tuple]] = {t.name: [] for t, _ in CHILD_TABLES}

    def add(self, ch: _Changed, dumps, carried: dict) -> None:
        r = ch.p.rec
        vid, pid, fac = ch.visit_id, r.personal_id, r.facility_code
        at = r.admitted_at
        rows = self.rows
        out = rows["health_diagnoses"]
        for d in r.diagnoses:
            out.append((vid, pid, d.icd10, d.name, d.is_primary, at))
        out = rows["health_lab_results"]
        for x in r.lab_results:
            out.append((vid, pid, x.service_code, x.indicator_code, x.name, x.value, x.unit, x.conclusion,
                        x.result_at))
        out = rows["health_medications"]
        for m in r.medications:
            out.append((vid, pid, m.drug_code, m.name, m.strength, m.route, m.dosage, m.quantity, m.unit,
                        m.ordered_at))
        for x in r.referrals:
            status, decided_at, decided_by = carried.get(("ref", vid, x.number), ("issued", None, None))
            rows["health_referrals"].append((vid, pid, x.number, fac, x.to_facility, x.reason_code, x.diagnosis,
                                             x.issued_at, status, decided_at, decided_by))
        for x in r.appointments:
            rows["health_appointments"].append((vid, pid, x.number, fac, x.appointment_at, x.diagnosis))
        for c in r.certificates:
            rows["health_certificates"].append((vid, pid, c.kind, fac, c.number, c.issued_at, c.valid_until,
                                                dumps(c.data)))


def _visit_event(ch: _Changed) -> dict:
    r = ch.p.rec
    return {"visit_id": ch.visit_id, "personal_id": r.personal_id, "facility_code": r.facility_code,
            "ma_lk": r.ma_lk, "version": ch.version, "admitted_at": r.admitted_at.isoformat()}


def _doc_events(changed: list[_Changed], ids: dict[tuple, int], previous: set[tuple]) -> list[tuple[str, dict]]:
    """Events for referrals/appointments/certificates not present in the previous version."""
    events: list[tuple[str, dict]] = []
    for ch in changed:
        r, vid = ch.p.rec, ch.visit_id
        base = {"visit_id": vid, "personal_id": r.personal_id, "facility_code": r.facility_code, "ma_lk": r.ma_lk}
        for x in r.referrals:
            if ("ref", vid, x.number) not in previous:
                events.append(("health.referral.issued", {
                    **base, "referral_id": ids.get(("ref", vid, x.number)), "number": x.number,
                    "to_facility": x.to_facility, "reason_code": x.reason_code, "issued_at": x.issued_at.isoformat()}))
        for x in r.appointments:
            if ("appt", vid, x.number) not in previous:
                events.append(("health.appointment.created", {
                    **base, "appointment_id": ids.get(("appt", vid, x.number)), "number": x.number,
                    "appointment_at": x.appointment_at.isoformat()}))
        for c in r.certificates:
            if ("cert", vid, c.kind, c.number) not in previous:
                # The document's data travels with the event: a corrected resubmission replaces the
                # certificate rows (new ids) before a consumer may get to read them.
                events.append(("health.certificate.issued", {
                    **base, "certificate_id": ids.get(("cert", vid, c.kind, c.number)), "kind": c.kind,
                    "number": c.number, "issued_at": c.issued_at.isoformat(),
                    "valid_until": c.valid_until.isoformat() if c.valid_until else None, "data": c.data}))
    return events


def _chronic_by_person(changed: list[_Changed]) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for ch in changed:
        r = ch.p.rec
        if not r.personal_id:
            continue
        since = r.admitted_at.date().isoformat()
        for d in r.diagnoses:
            group = chronic_group(d.icd10)
            if group is None:
                continue
            conds = out.setdefault(r.personal_id, {})
            prev = conds.get(d.icd10)
            if prev is None or since < prev["since"]:
                conds[d.icd10] = {"icd10": d.icd10, "name": d.name or group, "group": group, "since": since}
    return out


def _merge_conditions(existing: Iterable[dict], new: Iterable[dict]) -> list[dict]:
    merged: dict[str, dict] = {}
    for c in list(existing or []) + list(new):
        code = c.get("icd10")
        if not code:
            continue
        prev = merged.get(code)
        if prev is None or (c.get("since") or "") < (prev.get("since") or ""):
            merged[code] = c
    return [merged[k] for k in sorted(merged)]


def _replace_children(session: Session, changed: list[_Changed]) -> tuple[dict[tuple, tuple], set[tuple]]:
    """For replaced visits (version > 1): their documents, referral decisions carried over to the
    new version, then their child rows deleted. -> (carried, previous documents)."""
    carried: dict[tuple, tuple] = {}
    previous: set[tuple] = set()
    updated_ids = [c.visit_id for c in changed if c.version > 1]
    if not updated_ids:
        return carried, previous
    rt, at, ct = Referral.__table__, Appointment.__table__, Certificate.__table__
    for vid, number, status, decided_at, decided_by in session.execute(
            select(rt.c.visit_id, rt.c.number, rt.c.status, rt.c.decided_at, rt.c.decided_by)
            .where(rt.c.visit_id.in_(updated_ids))):
        carried[("ref", vid, number)] = (status, decided_at, decided_by)
        previous.add(("ref", vid, number))
    previous.update(("appt", vid, n) for vid, n in session.execute(
        select(at.c.visit_id, at.c.number).where(at.c.visit_id.in_(updated_ids))))
    previous.update(("cert", vid, k, n) for vid, k, n in session.execute(
        select(ct.c.visit_id, ct.c.kind, ct.c.number).where(ct.c.visit_id.in_(updated_ids))))
    for table, _cols in CHILD_TABLES:
        session.execute(delete(table).where(table.c.visit_id.in_(updated_ids)))
    return carried, previous


def _document_ids(session: Session, changed: list[_Changed]) -> dict[tuple, int]:
    """Ids of the documents the changed visits issue, for their events (few rows)."""
    ids: dict[tuple, int] = {}
    doc_visits = sorted({ch.visit_id for ch in changed
                         if ch.p.rec.referrals or ch.p.rec.appointments or ch.p.rec.certificates})
    if not doc_visits:
        return ids
    rt, at, ct = Referral.__table__, Appointment.__table__, Certificate.__table__
    ids.update((("ref", vid, n), i) for i, vid, n in session.execute(
        select(rt.c.id, rt.c.visit_id, rt.c.number).where(rt.c.visit_id.in_(doc_visits))))
    ids.update((("appt", vid, n), i) for i, vid, n in session.execute(
        select(at.c.id, at.c.visit_id, at.c.number).where(at.c.visit_id.in_(doc_visits))))
    ids.update((("cert", vid, k, n), i) for i, vid, k, n in session.execute(
        select(ct.c.id, ct.c.visit_id, ct.c.kind, ct.c.number).where(ct.c.visit_id.in_(doc_visits))))
    return ids


# --- entry point -----------------------------------------------------------------------------------------


def store_visits(session: Session, batch: IngestBatch,
                 records: Sequence[VisitRecord | PreparedVisit]) -> StoreResult:
    """Upsert ``records`` (all of ``batch``'s facility) in the caller's transaction; see module doc.

    Items may be :class:`VisitRecord` or :class:`PreparedVisit` (see :func:`prepare_visit`). Updates
    the batch counters (accepted, updated, unchanged, resources) and heartbeat. The caller commits;
    pass chunks of about :data:`CHUNK_VISITS` visits per transaction.
    """
    result = StoreResult()
    if not records:
        return result
    prepared = [r if isinstance(r, PreparedVisit) else prepare_visit(r) for r in records]
    for p in prepared:
        if p.rec.facility_code != batch.facility_code:
            raise ValueError(f"visit {p.rec.ma_lk!r} belongs to facility {p.rec.facility_code!r}, "
                             f"not the batch's {batch.facility_code!r}")
    is_pg = session.get_bind().dialect.name == "postgresql"
    for round_ in _rounds(prepared):
        for start in range(0, len(round_), CHUNK_VISITS * 2):
            part = round_[start:start + CHUNK_VISITS * 2]
            result.add(_store_pg(session, batch, part) if is_pg else _store_generic(session, batch, part))
    batch.accepted += result.accepted
    batch.updated += result.updated
    batch.unchanged += result.unchanged
    batch.resources += result.resources
    batch.updated_at = utcnow()
    return result


# --- PostgreSQL ------------------------------------------------------------------------------------------

_STAGE_DDL = """
CREATE TEMP TABLE IF NOT EXISTS lt_stage_visits (
    facility_code varchar(5), ma_lk varchar(100), personal_id varchar(12), content_hash varchar(64),
    source varchar(8), patient_name varchar(255), birth_date date, sex varchar(1), insurance_card varchar(50),
    visit_type varchar(2), admitted_at timestamptz, discharged_at timestamptz, main_icd varchar(10),
    diagnosis_text text, outcome varchar(2), discharge_type varchar(2), blood_group varchar(4),
    weight_kg numeric(6,2), height_cm numeric(6,1), source_digest varchar(64), record jsonb
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS lt_stage_profiles (
    personal_id varchar(12), chronic_conditions jsonb
) ON COMMIT DELETE ROWS;
"""

_SET_COLS = [c for c in VISIT_COLS if c not in ("facility_code", "ma_lk")]
_UPSERT_SQL = f"""
WITH up AS (
    INSERT INTO health_visits AS v ({", ".join(VISIT_COLS)}, version, batch_id, received_at)
    SELECT {", ".join(VISIT_COLS)}, 1, %(batch)s, %(now)s FROM lt_stage_visits
    ORDER BY ma_lk  -- one lock order for concurrent batches touching the same visits (no deadlocks)
    ON CONFLICT (facility_code, ma_lk) DO UPDATE SET
        {", ".join(f"{c} = EXCLUDED.{c}" for c in _SET_COLS)},
        version = v.version + 1, batch_id = EXCLUDED.batch_id, received_at = EXCLUDED.received_at
    WHERE v.content_hash <> EXCLUDED.content_hash
    RETURNING v.id, v.ma_lk, v.version, v.content_hash
), ver AS (
    INSERT INTO health_visit_versions (visit_id, version, content_hash, batch_id, record, received_at)
    SELECT up.id, up.version, up.content_hash, %(batch)s, s.record, %(now)s
    FROM up JOIN lt_stage_visits s ON s.ma_lk = up.ma_lk  -- one row per MA_LK in a round
)
SELECT id, ma_lk, version FROM up
"""

_PROFILE_SQL = """
INSERT INTO health_profiles AS hp (personal_id, blood_group, height_cm, weight_kg, chronic_conditions, allergies,
                                   updated_at)
SELECT s.personal_id,
       (SELECT v.blood_group FROM health_visits v WHERE v.personal_id = s.personal_id AND v.blood_group IS NOT NULL
         ORDER BY v.admitted_at DESC LIMIT 1),
       (SELECT v.height_cm FROM health_visits v WHERE v.personal_id = s.personal_id AND v.height_cm IS NOT NULL
         ORDER BY v.admitted_at DESC LIMIT 1),
       (SELECT v.weight_kg FROM health_visits v WHERE v.personal_id = s.personal_id AND v.weight_kg IS NOT NULL
         ORDER BY v.admitted_at DESC LIMIT 1),
       s.chronic_conditions, '[]'::jsonb, %(now)s
FROM lt_stage_profiles s
ORDER BY s.personal_id
ON CONFLICT (personal_id) DO UPDATE SET
    blood_group = COALESCE(EXCLUDED.blood_group, hp.blood_group),
    height_cm = COALESCE(EXCLUDED.height_cm, hp.height_cm),
    weight_kg = COALESCE(EXCLUDED.weight_kg, hp.weight_kg),
    chronic_conditions = (
        SELECT COALESCE(jsonb_agg(e ORDER BY e->>'icd10'), '[]'::jsonb) FROM (
            SELECT DISTINCT ON (e->>'icd10') e
            FROM jsonb_array_elements(hp.chronic_conditions || EXCLUDED.chronic_conditions) AS e
            ORDER BY e->>'icd10', e->>'since'
        ) AS merged(e)
    ),
    updated_at = EXCLUDED.updated_at
"""


def _dumps(value) -> str:
    return json.dumps(value, default=json_default, ensure_ascii=False, separators=(",", ":"))


def _copy(cur, table: str, cols: Sequence[str], rows: Iterable[tuple]) -> None:
    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
        write = cp.write_row
        for row in rows:
            write(row)


_LZ4: dict[str, bool] = {}


def _use_lz4(cur, key: str) -> None:
    """Compress this transaction's large JSON values with lz4 (several times faster than pglz)."""
    ok = _LZ4.get(key)
    if ok is None:
        cur.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        row = cur.fetchone()
        ok = _LZ4[key] = bool(row and row[0])
    if ok:
        cur.execute("SET LOCAL default_toast_compression = 'lz4'")


def _store_pg(session: Session, batch: IngestBatch, part: list[PreparedVisit]) -> StoreResult:
    result = StoreResult()
    session.flush()
    raw = session.connection().connection.driver_connection
    now = utcnow()
    with raw.cursor() as cur:
        # Unchanged resubmissions are recognised by hash before anything large is sent (the upsert's
        # WHERE repeats the check, so a concurrent writer cannot make us skip a real change).
        cur.execute("SELECT ma_lk, content_hash FROM health_visits WHERE facility_code = %s AND ma_lk = ANY(%s)",
                    (batch.facility_code, [p.rec.ma_lk for p in part]))
        known = dict(cur.fetchall())
        todo = [p for p in part if known.get(p.rec.ma_lk) != p.digest]
        result.unchanged = len(part) - len(todo)
        if not todo:
            return result
        _use_lz4(cur, str(session.get_bind().url))
        cur.execute(_STAGE_DDL)
        cur.execute("TRUNCATE lt_stage_visits, lt_stage_profiles")
        _copy(cur, "lt_stage_visits", STAGE_COLS, (_visit_row(p) + (p.body,) for p in todo))
        cur.execute(_UPSERT_SQL, {"batch": batch.id, "now": now})
        returned = cur.fetchall()
        by_malk = {p.rec.ma_lk: p for p in todo}
        changed = [_Changed(vid, version, by_malk[malk]) for vid, malk, version in returned]
        changed.sort(key=lambda c: c.visit_id)
        result.accepted = sum(1 for c in changed if c.version == 1)
        result.updated = len(changed) - result.accepted
        result.unchanged = len(part) - len(changed)
        if not changed:
            return result
        result.resources = sum(c.p.rec.resource_count() for c in changed)

        carried, previous = _replace_children(session, changed)

        children = _Children()
        for ch in changed:
            children.add(ch, _dumps, carried)
        for table, cols in CHILD_TABLES:
            rows = children.rows[table.name]
            if rows:
                _copy(cur, table.name, cols, rows)

        events = [("health.visit.accepted", _visit_event(ch)) for ch in changed]
        events += _doc_events(changed, _document_ids(session, changed), previous)
        uuid4 = uuid.uuid4
        _copy(cur, "outbox", OUTBOX_COLS, ((str(uuid4()), topic, _dumps(payload), now, 0) for topic, payload in events))

        persons = sorted({ch.p.rec.personal_id for ch in changed if ch.p.rec.personal_id})
        if persons:
            chronic = _chronic_by_person(changed)
            _copy(cur, "lt_stage_profiles", ("personal_id", "chronic_conditions"),
                  ((pid, _dumps([chronic[pid][k] for k in sorted(chronic.get(pid, {}))]) if pid in chronic else "[]")
                   for pid in persons))
            cur.execute(_PROFILE_SQL, {"now": now})
    return result


# --- SQLite (and any other database) ----------------------------------------------------------------------


def _store_generic(session: Session, batch: IngestBatch, part: list[PreparedVisit]) -> StoreResult:
    result = StoreResult()
    vt = Visit.__table__
    now = utcnow()
    existing: dict[str, tuple[int, int, str]] = {}
    keys = [p.rec.ma_lk for p in part]
    for i in range(0, len(keys), 500):
        for vid, malk, version, digest in session.execute(
                select(vt.c.id, vt.c.ma_lk, vt.c.version, vt.c.content_hash)
                .where(vt.c.facility_code == batch.facility_code, vt.c.ma_lk.in_(keys[i:i + 500]))):
            existing[malk] = (vid, version, digest)

    def row(p: PreparedVisit) -> dict:
        values = dict(zip(VISIT_COLS, _visit_row(p)))
        values.update(batch_id=batch.id, received_at=now)
        return values

    new = [p for p in part if p.rec.ma_lk not in existing]
    changed: list[_Changed] = []
    if new:
        returned = session.execute(
            insert(vt).returning(vt.c.id, vt.c.ma_lk, sort_by_parameter_order=True),
            [{**row(p), "version": 1} for p in new]).all()
        by_malk = {p.rec.ma_lk: p for p in new}
        changed += [_Changed(vid, 1, by_malk[malk]) for vid, malk in returned]
    upd = [(existing[p.rec.ma_lk], p) for p in part
           if p.rec.ma_lk in existing and existing[p.rec.ma_lk][2] != p.digest]
    if upd:
        session.execute(
            update(vt).where(vt.c.id == bindparam("b_id")).values(
                {**{c: bindparam(f"b_{c}") for c in VISIT_COLS[2:]}, "version": bindparam("b_version"),
                 "batch_id": bindparam("b_batch_id"), "received_at": bindparam("b_received_at")}),
            [{"b_id": vid, "b_version": version + 1, **{f"b_{k}": v for k, v in row(p).items()}}
             for (vid, version, _d), p in upd])
        changed += [_Changed(vid, version + 1, p) for (vid, version, _d), p in upd]
    result.accepted = sum(1 for c in changed if c.version == 1)
    result.updated = len(changed) - result.accepted
    result.unchanged = len(part) - len(changed)
    if not changed:
        return result
    result.resources = sum(c.p.rec.resource_count() for c in changed)
    session.execute(insert(VisitVersion.__table__), [
        {"visit_id": c.visit_id, "version": c.version, "content_hash": c.p.digest, "batch_id": batch.id,
         "record": json.loads(c.p.body), "received_at": now} for c in changed])

    carried, previous = _replace_children(session, changed)

    children = _Children()
    for ch in changed:
        children.add(ch, lambda d: json.loads(_dumps(d)), carried)
    for table, cols in CHILD_TABLES:
        rows = children.rows[table.name]
        if rows:
            session.execute(insert(table), [dict(zip(cols, r)) for r in rows])

    events = [("health.visit.accepted", _visit_event(ch)) for ch in changed]
    events += _doc_events(changed, _document_ids(session, changed), previous)
    session.execute(insert(OutboxEvent.__table__), [
        {"event_id": str(uuid.uuid4()), "topic": topic, "payload": json.loads(_dumps(payload)), "occurred_at": now,
         "attempts": 0} for topic, payload in events])

    persons = sorted({ch.p.rec.personal_id for ch in changed if ch.p.rec.personal_id})
    if persons:
        _update_profiles_generic(session, persons, _chronic_by_person(changed), now)
    return result


def _update_profiles_generic(session: Session, persons: list[str], chronic: dict[str, dict[str, dict]],
                             now: datetime) -> None:
    pt = HealthProfile.__table__
    latest: dict[str, dict] = {p: {} for p in persons}
    for col in ("blood_group", "height_cm", "weight_kg"):
        for i in range(0, len(persons), 500):
            part = persons[i:i + 500]
            sql = text(f"""
                SELECT personal_id, {col} FROM (
                  SELECT personal_id, {col},
                         ROW_NUMBER() OVER (PARTITION BY personal_id ORDER BY admitted_at DESC) AS rn
                  FROM health_visits WHERE personal_id IN :pids AND {col} IS NOT NULL) AS t
                WHERE rn = 1""").bindparams(bindparam("pids", expanding=True))
            for pid, value in session.execute(sql, {"pids": part}):
                latest[pid][col] = value
    existing = {}
    for i in range(0, len(persons), 500):
        for row in session.execute(select(pt).where(pt.c.personal_id.in_(persons[i:i + 500]))):
            existing[row.personal_id] = row
    inserts, updates = [], []
    for pid in persons:
        values = latest[pid]
        new_conds = list(chronic.get(pid, {}).values())
        old = existing.get(pid)
        if old is None:
            inserts.append({"personal_id": pid, "blood_group": values.get("blood_group"),
                            "height_cm": values.get("height_cm"), "weight_kg": values.get("weight_kg"),
                            "chronic_conditions": _merge_conditions([], new_conds), "allergies": [],
                            "updated_at": now})
        else:
            updates.append({
                "b_pid": pid,
                "b_blood_group": values.get("blood_group", old.blood_group),
                "b_height_cm": values.get("height_cm", old.height_cm),
                "b_weight_kg": values.get("weight_kg", old.weight_kg),
                "b_chronic": _merge_conditions(old.chronic_conditions or [], new_conds),
                "b_now": now})
    if inserts:
        session.execute(insert(pt), inserts)
    if updates:
        session.execute(update(pt).where(pt.c.personal_id == bindparam("b_pid")).values(
            blood_group=bindparam("b_blood_group"), height_cm=bindparam("b_height_cm"),
            weight_kg=bindparam("b_weight_kg"), chronic_conditions=bindparam("b_chronic"),
            updated_at=bindparam("b_now")), updates)
