"""QĐ 130/4750 dossier -> :class:`VisitRecord`, and the streaming XML ingest pipeline.

Mapping (typed values from :func:`lienthong.gateway.xml130.validate.validate_dossier`; datetimes
there are naive Vietnam local time and get the +07:00 offset here):

* XML1 -> the visit: HO_TEN, SO_CCCD (a 12-digit personal ID becomes ``personal_id``; a CMND or
  passport number does not), NGAY_SINH (full dates only), GIOI_TINH (1 -> M, 2 -> F, 3 -> unknown),
  MA_THE_BHYT (``;``-joined), MA_LOAI_KCB, NGAY_VAO / NGAY_RA, MA_BENH_CHINH + CHAN_DOAN_RV,
  KET_QUA_DTRI, MA_LOAI_RV, CAN_NANG (kg) and NHOM_MAU (blood group; a QĐ 3176 field, read from
  the raw record when the spec in force does not list it, and kept only when it is a known group);
* MA_BENH_CHINH (primary) and MA_BENH_KT -> diagnoses (duplicates dropped);
* XML2 -> medications; XML4 -> lab results;
* XML13 -> a referral (number SO_CHUYENTUYEN, to MA_NOI_DEN); XML14 -> an appointment;
* XML9 -> one birth certificate per child record; XML7 -> discharge certificate; XML11 -> sick-leave
  certificate (valid until DEN_NGAY); a GIAYBAOTU record -> death certificate; without one, a
  visit whose outcome is death (KET_QUA_DTRI 5 or 8) yields a death certificate derived from XML1
  (number empty, ``data.derived_from = "XML1.KET_QUA_DTRI"``), since civil death registration
  starts from it;
* ``raw``: every submitted table with its non-empty raw string values, exactly as submitted.

Heights are not in XML 130 (``height_cm`` stays empty for this source).

The pipeline (:func:`ingest_xml130`) streams the envelope (constant memory: one chunk of dossiers
at a time), validates every dossier, stores the valid ones with :func:`store_visits` and commits
every ``chunk_size`` dossiers together with the receipt counters, so a killed process keeps
everything up to the last commit and a resubmission of the same file completes it without
duplicates; a HOSO identical to the one a visit's current version came from is counted unchanged
without being parsed again (:func:`source_digest`). Processing is synchronous (the HTTP request
waits for the receipt).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, BinaryIO

from sqlalchemy import select, text

from lienthong.db import session_factory, utcnow
from lienthong.errors import DomainError
from lienthong.health import ingest
from lienthong.health.models import IngestBatch, Visit
from lienthong.health.records import (
    BLOOD_GROUPS, AppointmentRec, CertificateRec, DiagnosisRec, LabResultRec, MedicationRec, ReferralRec, VisitRecord,
)
from lienthong.identity.policy import Target, authorize
from lienthong.identity.principal import Principal

log = logging.getLogger(__name__)

VN_TZ = timezone(timedelta(hours=7))
SEX = {1: "M", 2: "F"}
DEATH_OUTCOMES = frozenset({5, 8})  # KET_QUA_DTRI: tử vong, tử vong ngoại viện


class FacilityMismatch(DomainError):
    status_code = 403
    code = "facility_mismatch"


def _dt(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=VN_TZ)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=VN_TZ)
    return None


def _str(value: Any) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return _dt(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "year") and hasattr(value, "month"):  # PartialDateTime (unknown day/month)
        return f"{value.year:04d}" + (f"-{value.month:02d}" if value.month else "")
    return value


def _data(row: dict) -> dict:
    return {k: _jsonable(v) for k, v in row.items() if v is not None and v != "" and v != []}


def _first(values: dict, name: str) -> dict | None:
    rows = values.get(name)
    return rows[0] if rows else None


def dossier_to_visit(dossier, values: dict[str, list[dict]], *, source: str = "xml130") -> VisitRecord:
    """A validated dossier (``values`` = typed records by table) -> the canonical visit record."""
    x1 = values["XML1"][0]
    raw_x1 = (dossier.tables.get("XML1") or [{}])[0]
    admitted = _dt(x1["NGAY_VAO"])
    discharged = _dt(x1.get("NGAY_RA"))
    cccd = x1.get("SO_CCCD")
    personal_id = cccd if isinstance(cccd, str) and len(cccd) == 12 and cccd.isdigit() else None
    birth = x1.get("NGAY_SINH")
    birth_date = birth.date() if isinstance(birth, datetime) else None
    blood = x1.get("NHOM_MAU", raw_x1.get("NHOM_MAU"))
    blood = blood.strip() if isinstance(blood, str) else None
    blood = blood if blood in BLOOD_GROUPS else None
    weight = x1.get("CAN_NANG")
    main_icd = x1.get("MA_BENH_CHINH")
    diag_text = x1.get("CHAN_DOAN_RV")
    outcome = x1.get("KET_QUA_DTRI")

    rec = VisitRecord(
        facility_code=dossier.facility_code, ma_lk=x1["MA_LK"], patient_name=x1["HO_TEN"], admitted_at=admitted,
        source=source, personal_id=personal_id, birth_date=birth_date, sex=SEX.get(x1.get("GIOI_TINH")),
        insurance_card=_str(x1.get("MA_THE_BHYT")), visit_type=_str(x1.get("MA_LOAI_KCB")),
        discharged_at=discharged, main_icd=main_icd, diagnosis_text=diag_text, outcome=_str(outcome),
        discharge_type=_str(x1.get("MA_LOAI_RV")), blood_group=blood,
        weight_kg=weight if isinstance(weight, Decimal) and weight > 0 else None,
    )

    seen: set[str] = set()
    if main_icd:
        rec.diagnoses.append(DiagnosisRec(main_icd, diag_text, True))
        seen.add(main_icd)
    for code in x1.get("MA_BENH_KT") or []:
        if code not in seen:
            seen.add(code)
            rec.diagnoses.append(DiagnosisRec(code, None, False))

    for r in values.get("XML2") or []:
        rec.medications.append(MedicationRec(
            drug_code=r["MA_THUOC"], name=r["TEN_THUOC"],
            ordered_at=_dt(r.get("NGAY_YL")) or _dt(r.get("NGAY_TH_YL")) or admitted,
            strength=r.get("HAM_LUONG"), route=r.get("DUONG_DUNG"), dosage=r.get("LIEU_DUNG"),
            quantity=r.get("SO_LUONG"), unit=r.get("DON_VI_TINH")))

    for r in values.get("XML4") or []:
        conclusion = r.get("KET_LUAN")
        if r.get("MO_TA"):
            conclusion = f"{r['MO_TA']}\n{conclusion}" if conclusion else r["MO_TA"]
        rec.lab_results.append(LabResultRec(
            service_code=r["MA_DICH_VU"], result_at=_dt(r.get("NGAY_KQ")) or admitted,
            indicator_code=r.get("MA_CHI_SO"), name=r.get("TEN_CHI_SO"), value=r.get("GIA_TRI"),
            unit=r.get("DON_VI_DO"), conclusion=conclusion))

    x13 = _first(values, "XML13")
    if x13:
        rec.referrals.append(ReferralRec(
            number=x13["SO_CHUYENTUYEN"],
            issued_at=_dt(x13.get("NGAY_RA")) or discharged or admitted,
            to_facility=x13.get("MA_NOI_DEN") or x1.get("MA_NOI_DEN"),
            reason_code=_str(x13.get("MA_LYDO_CT")),
            diagnosis=x13.get("CHAN_DOAN_RV") or diag_text))

    x14 = _first(values, "XML14")
    if x14:
        rec.appointments.append(AppointmentRec(
            number=x14["SO_GIAYHEN_KL"], appointment_at=_dt(x14["NGAY_HEN_KL"]),
            diagnosis=x14.get("CHAN_DOAN_RV") or diag_text))

    for r in values.get("XML9") or []:
        rec.certificates.append(CertificateRec(
            kind="birth", issued_at=_dt(r.get("NGAY_CT")) or _dt(r.get("NGAY_SINH_CON")) or admitted,
            number=r.get("SO"), data=_data(r)))
    x7 = _first(values, "XML7")
    if x7:
        rec.certificates.append(CertificateRec(
            kind="discharge", issued_at=_dt(x7.get("NGAY_CT")) or discharged or admitted,
            number=x7.get("SO_LUU_TRU"), data=_data(x7)))
    x11 = _first(values, "XML11")
    if x11:
        rec.certificates.append(CertificateRec(
            kind="sick_leave", issued_at=_dt(x11.get("NGAY_CT")) or discharged or admitted,
            number=x11.get("SO_CT"), valid_until=x11.get("DEN_NGAY"), data=_data(x11)))
    death = _first(values, "GIAYBAOTU")
    if death:
        rec.certificates.append(CertificateRec(
            kind="death", issued_at=_dt(death.get("NGAY_CAPGIAYBT")) or _dt(death.get("NGAY_TV")) or admitted,
            number=death.get("SO_BAOTU") or death.get("MA_GBT"), data=_data(death)))
    elif outcome in DEATH_OUTCOMES:
        rec.certificates.append(CertificateRec(
            kind="death", issued_at=discharged or admitted, number=None,
            data={"derived_from": "XML1.KET_QUA_DTRI", "KET_QUA_DTRI": outcome, "HO_TEN": rec.patient_name,
                  "SO_CCCD": cccd, "NGAY_TV": _jsonable(discharged or admitted), "MA_BENH_CHINH": main_icd,
                  "CHAN_DOAN_RV": diag_text}))

    rec.raw = {name: [{k: v for k, v in row.items() if v} for row in rows] for name, rows in dossier.tables.items()}
    return rec


# --- pipeline ----------------------------------------------------------------------------------------------


def error_dict(ma_lk: str | None, e) -> dict:
    out = {"ma_lk": ma_lk, "table": e.table, "record": e.record_index, "field": e.field, "code": e.code,
           "message": e.message}
    if e.severity != "error":
        out["severity"] = e.severity
    return out


Progress = Callable[[IngestBatch, int], None]  # (batch, bytes read so far)

# Parallel validation: the envelope is parsed in the calling process (one sequential stream) and
# dossiers go to worker processes in groups for validation, mapping and canonical JSON/hashing; the
# caller stores the results in submission order. Worth it from a few MB on; small files stay in-process.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024
WORK_GROUP = 100  # dossiers per task sent to a worker
# PostgreSQL: statistics of health_visits are refreshed after this many new visits in one ingest
# (and at its end from ANALYZE_AT_END), so that the identical-HOSO look-ups of an immediate
# resubmission use the index rather than a plan made for a smaller table.
ANALYZE_EVERY = 10_000
ANALYZE_AT_END = 1_000
_pool = None
_pool_size = 0
_pool_lock = threading.Lock()


def default_workers() -> int:
    env = os.environ.get("LIENTHONG_INGEST_WORKERS")
    if env and env.isdigit():
        return int(env)
    return min(os.cpu_count() or 1, 4)


def _get_pool(workers: int):
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != workers:
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            # spawn, not fork: safe from a threaded server holding database connections. The workers
            # end with this process, however it ends (lienthong.procs).
            from lienthong import procs

            _pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=procs.pool_worker_init, initargs=(os.getpid(),))
            _pool_size = workers
        return _pool


def _discard_pool(pool) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def shutdown_workers(wait: bool = True) -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=wait, cancel_futures=True)
            _pool = None


def validation_options():
    """The XML 130 validation options from the settings (the abroad personal-ID prefixes), built
    in the ingesting process and handed to the workers with each group of dossiers."""
    from lienthong.gateway.xml130.validate import ValidationOptions
    from lienthong.population.service import abroad_prefixes

    return ValidationOptions(abroad_prefixes=abroad_prefixes())


def process_dossier(dossier, expected: str, options=None) -> tuple[str | None, ingest.PreparedVisit | None, list[dict]]:
    """Validate, map and prepare one dossier -> (ma_lk, prepared visit or None if rejected, errors).

    ``options``: :class:`~lienthong.gateway.xml130.validate.ValidationOptions` (default:
    :func:`validation_options`); the authenticated facility is always ``expected``."""
    from lienthong.gateway.xml130.validate import validate_dossier

    result = validate_dossier(dossier, authenticated_facility=expected,
                              options=options if options is not None else validation_options())
    ma_lk = dossier.ma_lk
    errors = [error_dict(ma_lk, e) for e in result.errors if e.is_error]
    prepared = None
    if result.accepted:
        try:
            prepared = ingest.prepare_visit(dossier_to_visit(dossier, result.values), dossier.source_digest)
            prepared.rec.raw = {}  # kept in prepared.body; frees memory (and pickling) while a chunk fills
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning("mapping failed for dossier %s (%s): %r", dossier.index, ma_lk, exc)
            errors.append({"ma_lk": ma_lk, "table": "HOSO", "record": None, "field": None,
                           "code": "mapping_failed", "message": "Không chuyển đổi được hồ sơ sang dữ liệu sổ sức khỏe"})
    return ma_lk, prepared, errors


# Identical resubmissions: a HOSO whose files are byte for byte those a stored visit's current
# version came from is counted unchanged without being parsed and validated again. Bump this when
# validation or mapping changes what the same files are stored as: visits stored under another
# value are then processed again on resubmission.
SOURCE_DIGEST_VERSION = "xml130/1"


def source_digest(files: list[tuple[str, str]]) -> str:
    """Digest of a HOSO's ``(LOAIHOSO, NOIDUNGFILE)`` pairs, in submitted order."""
    h = hashlib.sha256(SOURCE_DIGEST_VERSION.encode())
    for loai, content in files:
        h.update(b"\x00" + loai.encode() + b"\x01")
        h.update(content.encode())
    return h.hexdigest()


class _Deferred:
    """A HOSO whose inner files are not decoded yet (picklable; materialized in a worker)."""

    __slots__ = ("index", "line", "files", "facility_code", "declared", "max_file_bytes", "source_digest")
    record_count = 0  # read by the reader's statistics; the worker parses the records

    def __init__(self, index, line, files, facility_code, declared, max_file_bytes, digest):
        self.index, self.line, self.files = index, line, files
        self.facility_code, self.declared, self.max_file_bytes = facility_code, declared, max_file_bytes
        self.source_digest = digest

    @property
    def beyond_declared(self) -> bool:  # reported as an error by the parser: never skipped
        return self.declared is not None and self.index > self.declared


class _Skipped:
    """A HOSO whose files are those of a stored visit's current version: not decoded, parsed nor
    validated (:func:`_processed` yields it with that visit's MA_LK)."""

    __slots__ = ("deferred",)

    def __init__(self, deferred: _Deferred):
        self.deferred = deferred


def _reader_class():
    """The EnvelopeReader of an ingest: it only scans the envelope (one sequential stream, cheap)
    and digests each HOSO's files (:func:`source_digest`); base64 decoding and inner-file parsing
    (most of the parse cost) are left to whoever processes the deferred HOSO (a worker process, or
    this one), so an identical HOSO can be skipped before either.

    Overrides the reader's public per-dossier step ``build_dossier(index, line, files, inner_parser)``;
    :func:`_materialize` runs :func:`lienthong.gateway.xml130.parser.build_dossier` on the deferred HOSO.
    """
    from lienthong.gateway.xml130.parser import EnvelopeReader

    class SplitReader(EnvelopeReader):
        def build_dossier(self, index, line, files, inner_parser=None):
            return _Deferred(index, line, list(files), self.header.facility_code or "", self.header.declared_count,
                             self.max_file_bytes, source_digest(files))

    return SplitReader


class _InProcess:
    """The worker pool's ``submit`` for ``workers=0``: each group is processed here, at once."""

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # noqa: BLE001 - re-raised by result(), in envelope order
            future.set_exception(exc)
        return future


_worker_parser = None


def _materialize(d: _Deferred):
    global _worker_parser
    from lienthong.gateway.xml130.parser import build_dossier, hardened_parser

    if _worker_parser is None:
        _worker_parser = hardened_parser()
    dossier = build_dossier(d.index, d.line, d.files, facility_code=d.facility_code, declared_count=d.declared,
                            max_file_bytes=d.max_file_bytes, parser=_worker_parser)
    dossier.source_digest = d.source_digest
    return dossier


def _warm() -> int:
    """Import the worker-side modules (run once in each new worker process)."""
    from lienthong.gateway.xml130 import parser, validate  # noqa: F401

    return os.getpid()


def start_workers(workers: int | None = None) -> int:
    """Start the validation process pool now (and import the worker modules in each process), so the
    first ingest does not pay the start-up (~1 s with spawn). Returns the pool size; idempotent."""
    workers = default_workers() if workers is None else workers
    if workers < 1:
        return 0
    pool = _get_pool(workers)
    for future in [pool.submit(_warm) for _ in range(workers * 2)]:
        future.result()
    return workers


def _process_group(dossiers: list, expected: str, options=None) -> list:
    # The cyclic GC has next to nothing to free here (parse/validate/map build no reference cycles),
    # but its collections, triggered by the many short-lived objects, cost ~20% of the work: pause
    # it for the group (bounded: WORK_GROUP dossiers) and let it run again afterwards.
    enabled = gc.isenabled()
    gc.disable()
    try:
        out = []
        for d in dossiers:
            if isinstance(d, _Deferred):
                d = _materialize(d)
            out.append(process_dossier(d, expected, options))
        return out
    finally:
        if enabled:
            gc.enable()


_gc_lock = threading.Lock()
_gc_users = 0
_gc_saved: tuple[int, int, int] | None = None
GC_GEN0_WHILE_INGESTING = 20_000


def _relax_gc(on: bool) -> None:
    """While results stream in from the workers, run the young-generation GC less often: unpickling
    them creates many objects that all stay alive until stored, so frequent collections only
    re-scan them (about half of the unpickling cost). Restored when the last ingest ends."""
    global _gc_users, _gc_saved
    with _gc_lock:
        if on:
            _gc_users += 1
            if _gc_users == 1:
                _gc_saved = gc.get_threshold()
                if _gc_saved[0] and _gc_saved[0] < GC_GEN0_WHILE_INGESTING:
                    gc.set_threshold(GC_GEN0_WHILE_INGESTING, *_gc_saved[1:])
        else:
            _gc_users -= 1
            if _gc_users == 0 and _gc_saved is not None:
                if gc.get_threshold()[0] == GC_GEN0_WHILE_INGESTING:
                    gc.set_threshold(*_gc_saved)
                _gc_saved = None


def _processed(reader, expected_of: Callable[[], str], workers: int, chunk_size: int, options=None,
               known: Callable[[list[str]], dict[str, str]] | None = None):
    """(ma_lk, prepared | None, errors) per dossier, in envelope order.

    Dossiers go in groups of :data:`WORK_GROUP` to the worker processes (``workers=0``: processed
    here); up to about one chunk is queued ahead, so the workers keep going while the caller stores
    the previous chunk. ``known(digests)`` -> ``{source digest: MA_LK}`` of the stored visits whose
    current version came from identical files: those HOSO are not processed but come back as
    ``(ma_lk, _Skipped, [])`` (the caller decides, see :func:`ingest_xml130`).
    """
    it = iter(reader)
    expected = None
    options = options if options is not None else validation_options()
    pool = _get_pool(workers) if workers >= 1 else _InProcess()
    pending: deque = deque()
    group: list = []

    def submit(group: list) -> None:
        found = known([d.source_digest for d in group]) if known is not None else {}
        skip = [d.source_digest in found and not d.beyond_declared for d in group]
        todo = [d for d, s in zip(group, skip) if not s]
        pending.append((group, skip, found, pool.submit(_process_group, todo, expected, options) if todo else None))

    def results(entry):
        group, skip, found, future = entry
        done = iter(future.result() if future is not None else ())
        for d, s in zip(group, skip):
            yield (found[d.source_digest], _Skipped(d), []) if s else next(done)

    from lienthong.gateway.xml130.errors import EnvelopeError

    _relax_gc(True)
    try:
        try:
            for dossier in it:
                if expected is None:
                    expected = expected_of()
                group.append(dossier)
                if len(group) >= WORK_GROUP:
                    submit(group)
                    group = []
                    while len(pending) > 2 * workers + chunk_size // WORK_GROUP:
                        yield from results(pending.popleft())
        except EnvelopeError as exc:  # the envelope breaks here: what was read before comes out first
            broken: EnvelopeError | None = exc
        else:
            broken = None
        if group:
            submit(group)
        while pending:
            yield from results(pending.popleft())
        if broken is not None:
            raise broken
    except BrokenProcessPool:
        _discard_pool(pool)  # a worker died (e.g. out of memory): the next ingest gets a fresh pool
        raise
    finally:
        _relax_gc(False)
        for entry in pending:
            if entry[3] is not None:
                entry[3].cancel()


def ingest_xml130(source: str | BinaryIO, principal: Principal, *, database_url: str | None = None,
                  filename: str | None = None, facility_code: str | None = None,
                  chunk_size: int | None = None, progress: Progress | None = None,
                  max_file_bytes: int | None = None, workers: int | None = None) -> IngestBatch:
    """Stream, validate, map and store one GIAMDINHHS envelope; return its (committed) receipt.

    ``facility_code`` defaults to the principal's: the envelope's MACSKCB must equal it
    (:class:`FacilityMismatch`, HTTP 403, before anything is stored). A broken envelope before the
    first dossier raises :class:`EnvelopeError` (HTTP 400, nothing stored); one found later keeps
    the chunks already committed (valid dossiers, stored idempotently), marks the batch ``failed``
    and records the error in it. ``workers``: processes that decode, parse the inner files, validate,
    map and hash (0 = all in this process; default: 0 for small inputs, :func:`default_workers` for
    files from :data:`PARALLEL_MIN_BYTES`). ``chunk_size``:
    dossiers per transaction (default ``LIENTHONG_INGEST_CHUNK`` or :data:`ingest.CHUNK_VISITS`).

    A HOSO whose files are identical to those of a stored visit's current version
    (:func:`source_digest`) is counted unchanged without being parsed or validated, unless an
    earlier HOSO of the same file has the same MA_LK (then it is processed here, in order, as any
    other).
    """
    from lienthong.gateway.xml130.errors import EnvelopeError
    from lienthong.gateway.xml130.parser import DEFAULT_MAX_FILE_BYTES

    expected = facility_code or principal.facility_code
    if not expected and principal.kind != "system":
        raise ValueError("ingest needs the submitting facility's code")
    if chunk_size is None:
        env = os.environ.get("LIENTHONG_INGEST_CHUNK", "")
        chunk_size = int(env) if env.isdigit() and int(env) > 0 else ingest.CHUNK_VISITS
    if workers is None:
        big = isinstance(source, (str, os.PathLike)) and os.path.getsize(source) >= PARALLEL_MIN_BYTES
        workers = default_workers() if big else 0
    reader = _reader_class()(source, max_file_bytes=max_file_bytes or DEFAULT_MAX_FILE_BYTES)
    session = session_factory(database_url)()
    batch: IngestBatch | None = None
    records: list[ingest.PreparedVisit] = []
    errors: list[dict] = []
    seen = rejected = skipped = 0
    new_visits = 0  # since the last ANALYZE (PostgreSQL)
    is_pg = session.get_bind().dialect.name == "postgresql"
    options = validation_options()
    # MA_LK of every HOSO of this file so far (~100 bytes each): an identical HOSO is skipped only
    # if no earlier one in the file touched the same visit.
    file_malks: set[str] = set()

    def open_batch() -> IngestBatch:
        nonlocal expected
        found = reader.header.facility_code
        if expected is None:  # trusted operator (CLI): the envelope names the facility
            expected = found
        if found != expected:
            raise FacilityMismatch(
                f"Mã cơ sở KCB trong tệp (MACSKCB={found}) không khớp cơ sở của ứng dụng đã xác thực ({expected})",
                field="MACSKCB")
        if principal.kind != "system":
            authorize(principal, "health.submit", Target(facility_code=found))
        b = ingest.new_batch(session, principal, source="xml130", filename=filename, facility_code=expected)
        session.commit()
        return b

    def expected_of() -> str:
        # Called when the first dossier has been read (the header is known): open the batch first.
        nonlocal batch
        if batch is None:
            batch = open_batch()
        return expected

    def known(digests: list[str]) -> dict[str, str]:
        # By digest alone (its own index; the facility is checked here): with stale statistics,
        # e.g. right after a large first ingest, a facility condition in SQL can make the planner
        # scan the facility's visits for every group.
        rows = session.execute(select(Visit.source_digest, Visit.facility_code, Visit.ma_lk)
                               .where(Visit.source_digest.in_(digests)))
        return {digest: ma_lk for digest, facility, ma_lk in rows if facility == expected}

    def analyze(at_least: int) -> None:
        nonlocal new_visits
        if is_pg and new_visits >= at_least:
            session.execute(text("ANALYZE health_visits"))
            session.commit()
            new_visits = 0

    def flush() -> None:
        nonlocal seen, rejected, skipped, new_visits
        stored = ingest.store_visits(session, batch, records)
        ingest.add_rejections(batch, dossiers=seen, rejected=rejected, errors=errors)
        batch.unchanged += skipped
        session.commit()
        new_visits += stored.accepted
        analyze(ANALYZE_EVERY)
        records.clear()
        errors.clear()
        seen = rejected = skipped = 0
        if progress is not None:
            progress(batch, reader.stats.bytes_read)

    try:
        try:
            for ma_lk, prepared, dossier_errors in _processed(reader, expected_of, workers, chunk_size, options,
                                                              known):
                if isinstance(prepared, _Skipped) and ma_lk in file_malks:
                    # the visit changed earlier in this file: process it in order
                    ma_lk, prepared, dossier_errors = process_dossier(_materialize(prepared.deferred), expected,
                                                                      options)
                if ma_lk:
                    file_malks.add(ma_lk)
                seen += 1
                if isinstance(prepared, _Skipped):
                    skipped += 1
                elif prepared is None:
                    rejected += 1
                else:
                    records.append(prepared)
                errors.extend(dossier_errors)
                if seen >= chunk_size:
                    flush()
            if batch is None:  # an envelope without dossiers
                batch = open_batch()
            flush()
            ingest.add_rejections(batch, dossiers=0, rejected=0,
                                  errors=[error_dict(None, e) for e in reader.envelope_errors])
            ingest.finish_batch(session, principal, batch)
            session.commit()
            analyze(ANALYZE_AT_END)
            return batch
        except EnvelopeError as exc:
            session.rollback()  # the chunk in flight; committed chunks stay
            if batch is None:
                raise
            ingest.add_rejections(batch, dossiers=0, rejected=0, errors=[{
                "ma_lk": None, "table": "GIAMDINHHS", "record": None, "field": exc.field, "code": exc.code,
                "message": exc.message}])
            ingest.finish_batch(session, principal, batch, status="failed")
            session.commit()
            return batch
    except BaseException:
        # The id first: the rollback expires the batch, and reloading it needs the database.
        batch_id = batch.__dict__.get("id") if batch is not None else None
        try:
            session.rollback()
        except Exception:  # noqa: BLE001 - the connection is gone (database away): nothing to roll back
            log.debug("rollback after a failed ingest", exc_info=True)
        if batch_id is not None:
            _mark_failed(database_url, batch_id)
        raise
    finally:
        session.close()


def _mark_failed(database_url: str | None, batch_id: str) -> None:
    # Now, or (database away) as soon as the database is back: see ingest.mark_failed.
    ingest.mark_failed(database_url, batch_id)
