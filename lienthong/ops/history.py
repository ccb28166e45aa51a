"""Rollout history: dated snapshots, the 63 -> 34 merger view, the weekly timeline and a province's
path from the first snapshot to today.

* :func:`import_table` imports an official per-province status table (the CSV of letter 3546/
  TCTTKĐA, see :data:`lienthong.ops.rules.LETTER_COLUMNS`) as a dated snapshot: the rows are kept as
  read (uncertain cells marked) and applied to the units of the provinces *of that date* — the 63
  pre-2025 provinces for a date before 01/07/2025 — as changes that took effect on that date.
  Importing the same file again changes nothing; a corrected file for the same date replaces the
  snapshot and records only the differences. Tables are imported in date order.
* :func:`import_figures` imports national figures of a dated document (a letter's printed totals, a
  programme's targets), idempotent the same way.
* :func:`derive_merged` gives each merged province whose status nobody recorded since the merger
  the state derived from its members (:func:`lienthong.ops.rules.derive`), as changes that took effect
  on the reform date, marked ``merger`` with the rule.
* :func:`timeline` counts statuses per week for a service (63 provinces before the reform, 34 after);
  :func:`province_path` and :func:`paths` assemble a province's history.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lienthong.audit import service as audit
from lienthong.db import utcnow
from lienthong.errors import DomainError, NotFound
from lienthong.geo import units
from lienthong.identity.principal import Principal
from lienthong.ops import rules, service
from lienthong.ops.models import (
    DEFAULT_SERVICE, ROLLOUT_STATUSES, RolloutChange, RolloutFigure, RolloutProposal, RolloutSnapshot,
    RolloutSnapshotRow, RolloutUnit,
)
from lienthong.web.dates import vndate

DATA_DIR = Path(__file__).parent / "data"
IMPORTER = Principal(kind="system", subject="ops-import", name="Nhập số liệu triển khai")
DERIVER = Principal(kind="system", subject="ops-merger", name="Suy ra khi hợp nhất tỉnh")
REFORM = units.reform_between("vn63", "vn34")


@dataclass(frozen=True)
class KnownTable:
    """Metadata of an official table we know, used as defaults when that table is imported."""

    filename: str
    service_key: str
    as_of: date
    title: str
    source: str


LETTER_3546 = KnownTable(
    "rollout_2024-10-07.csv", "judicial_vneid", date(2024, 10, 7),
    "Tình trạng triển khai cấp phiếu lý lịch tư pháp trên VNeID",
    "Phụ lục công văn 3546/TCTTKĐA ngày 07/10/2024 của Tổ công tác triển khai Đề án 06, chép từ ảnh quét; các ô đọc "
    "không chắc chắn được đánh dấu.")
KNOWN_TABLES = (LETTER_3546,)
BUNDLED_FIGURES = ("cv3546_2024-10-07_totals.json", "kiosk_programme_2024-10-02.json")


def _known(service_key: str, as_of: date) -> KnownTable | None:
    return next((k for k in KNOWN_TABLES if k.service_key == service_key and k.as_of == as_of), None)


# --- import: tables -----------------------------------------------------------------------------


@dataclass
class ImportResult:
    snapshot: RolloutSnapshot
    outcome: str  # created | replaced | unchanged
    rows: int = 0
    changes: int = 0  # field changes recorded on the snapshot's units
    derived_changes: int = 0  # field changes recorded on merged provinces
    uncertain_cells: int = 0


def _province_code(name: str, unit_set: str) -> int:
    return units.old_province_by_name(name) if unit_set == "vn63" else units.province_by_name(name)


def parse_table(data: bytes) -> list[rules.LetterRow]:
    """Read and check a whole table (all rows, or a DomainError naming the bad lines)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError("tệp phải là CSV mã hóa UTF-8") from None
    lines = [line for line in io.StringIO(text) if not line.startswith("#")]
    reader = csv.DictReader(lines)
    missing = [c for c in rules.LETTER_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DomainError(f"thiếu cột: {', '.join(missing)}")
    rows, errors = [], []
    for line_no, cells in enumerate(reader, 2):
        try:
            rows.append(rules.read_letter_row(cells))
        except rules.LetterError as exc:
            errors.append(f"dòng {line_no}: {exc.message}")
    if errors:
        raise DomainError("bảng có lỗi: " + "; ".join(errors[:10]) + (f" (và {len(errors) - 10} lỗi khác)"
                                                                     if len(errors) > 10 else ""))
    if not rows:
        raise DomainError("bảng không có dòng nào")
    return rows


def import_table(db: Session, data: bytes, *, as_of: date, service_key: str = DEFAULT_SERVICE, filename: str = "",
                 title: str = "", source: str = "", source_url: str | None = None,
                 principal: Principal = IMPORTER) -> ImportResult:
    """Import an official per-province table as the snapshot of ``as_of`` (see the module docstring)."""
    service.get_service(db, service_key)
    rows = parse_table(data)
    unit_set = units.unit_set_on(as_of)
    coded, errors = [], []
    for r in rows:
        try:
            coded.append((_province_code(r.province, unit_set), r))
        except units.UnknownUnit:
            errors.append(f"hàng {r.row_no}: không có tỉnh/thành phố «{r.province}» trong danh sách ngày {vndate(as_of)}")
    seen: dict[int, int] = {}
    for code, r in coded:
        if code in seen:
            errors.append(f"hàng {r.row_no}: «{r.province}» trùng với hàng {seen[code]}")
        seen[code] = r.row_no
    if errors:
        raise DomainError("bảng có lỗi: " + "; ".join(errors[:10]))
    known = _known(service_key, as_of)
    title = title or (known.title if known else "Bảng tình trạng triển khai")
    source = source or (known.source if known else (filename or "tệp nhập"))
    digest = hashlib.sha256(data).hexdigest()
    snap = db.scalars(select(RolloutSnapshot).where(RolloutSnapshot.service_key == service_key,
                                                    RolloutSnapshot.as_of == as_of,
                                                    RolloutSnapshot.kind == "table")).first()
    if snap is not None and snap.digest == digest:
        return ImportResult(snap, "unchanged", rows=len(rows), uncertain_cells=sum(len(r.uncertain) for r in rows))
    later = db.scalar(select(RolloutChange.effective_on).join(RolloutUnit, RolloutUnit.id == RolloutChange.unit_id).where(
        RolloutUnit.service_key == service_key, RolloutUnit.unit_set == unit_set,
        RolloutChange.effective_on > as_of, RolloutChange.source != "merger").order_by(
        RolloutChange.effective_on.desc()).limit(1))
    if later is not None:
        raise DomainError(f"đã có số liệu ngày {vndate(later)}, sau ngày {vndate(as_of)} của bảng này: nhập các bảng "
                          f"theo thứ tự thời gian")
    outcome = "replaced" if snap is not None else "created"
    if snap is None:
        snap = RolloutSnapshot(service_key=service_key, as_of=as_of, kind="table", unit_set=unit_set)
        db.add(snap)
    else:
        db.execute(delete(RolloutSnapshotRow).where(RolloutSnapshotRow.snapshot_id == snap.id))
    snap.title, snap.source, snap.source_url = title[:300], source, source_url
    snap.verified, snap.verification = True, ""
    snap.filename, snap.digest = filename[:255], digest
    snap.imported_at, snap.imported_by = utcnow(), principal.subject
    db.flush()
    result = ImportResult(snap, outcome, rows=len(rows))
    note = f"{title} ngày {vndate(as_of)}"
    for code, r in coded:
        db.add(RolloutSnapshotRow(snapshot_id=snap.id, row_no=r.row_no, province_code=code, province_label=r.province,
                                  cells=r.cells, values=rules.values_to_json(r.values), uncertain=sorted(r.uncertain)))
        result.uncertain_cells += len(r.uncertain)
        unit = _ensure_unit(db, service_key, unit_set, code)
        row_note = note + (f" (ô không chắc chắn: {', '.join(sorted(r.uncertain))})" if r.uncertain else "")
        done = service.update_unit(db, principal, unit.id, r.values, note=row_note, source="import",
                                   source_ref=f"snapshot:{snap.id}", effective_on=as_of, checklist=False,
                                   audit_entry=False)
        result.changes += len(done.changes)
    db.flush()
    if unit_set == REFORM.from_set:
        result.derived_changes = sum(len(c) for _, c in derive_merged(db, service_key))
    audit.record(db, principal, "import", "ops.rollout_snapshot", resource_id=str(snap.id),
                 purpose="nhập bảng tình trạng triển khai",
                 detail={"service": service_key, "as_of": as_of.isoformat(), "outcome": outcome, "rows": len(rows),
                         "changes": result.changes, "derived_changes": result.derived_changes, "digest": digest,
                         "filename": filename})
    return result


def _ensure_unit(db: Session, service_key: str, unit_set: str, code: int) -> RolloutUnit:
    unit = service.province_unit(db, service_key, code, unit_set)
    if unit is None:
        unit = RolloutUnit(service_key=service_key, unit_set=unit_set, province_code=code, facility_code=None,
                           status="not_started", source_assessment="not_started", system_assessment="not_started",
                           machine_ready=False, access_granted=False, note="", basis="recorded",
                           updated_at=utcnow(), version=1)
        db.add(unit)
        db.flush()
    return unit


# --- import: figures ----------------------------------------------------------------------------


class FigureIn(BaseModel):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=200)
    value: int = Field(ge=0)
    of: int | None = Field(None, ge=1)
    qualifier: str = Field("exact", pattern=r"^(exact|at_least)$")
    note: str = Field("", max_length=2000)


class FiguresIn(BaseModel):
    service: str
    as_of: date
    unit_set: str | None = Field(None, pattern=r"^(vn34|vn63)$")
    title: str = Field(min_length=1, max_length=300)
    source: str = Field(min_length=1, max_length=4000)
    source_url: str | None = Field(None, max_length=500)
    verified: bool
    verification: str = Field("", max_length=4000)
    figures: list[FigureIn] = Field(min_length=1, max_length=200)


@dataclass
class FiguresResult:
    snapshot: RolloutSnapshot
    outcome: str  # created | replaced | unchanged
    figures: int


def import_figures(db: Session, data: bytes, *, filename: str = "", principal: Principal = IMPORTER) -> FiguresResult:
    """Import a figures file (JSON, see ``data/README.md``) as the figures snapshot of its date."""
    try:
        doc = FiguresIn.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise DomainError(f"tệp số liệu không hợp lệ: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    keys = [f.key for f in doc.figures]
    if len(set(keys)) != len(keys):
        raise DomainError("tệp số liệu có mã số liệu trùng nhau")
    service.get_service(db, doc.service)
    digest = hashlib.sha256(data).hexdigest()
    snap = db.scalars(select(RolloutSnapshot).where(RolloutSnapshot.service_key == doc.service,
                                                    RolloutSnapshot.as_of == doc.as_of,
                                                    RolloutSnapshot.kind == "figures")).first()
    if snap is not None and snap.digest == digest:
        return FiguresResult(snap, "unchanged", len(doc.figures))
    outcome = "replaced" if snap is not None else "created"
    if snap is None:
        snap = RolloutSnapshot(service_key=doc.service, as_of=doc.as_of, kind="figures")
        db.add(snap)
    else:
        db.execute(delete(RolloutFigure).where(RolloutFigure.snapshot_id == snap.id))
    snap.unit_set = doc.unit_set or units.unit_set_on(doc.as_of)
    snap.title, snap.source, snap.source_url = doc.title, doc.source, doc.source_url
    snap.verified, snap.verification = doc.verified, doc.verification
    snap.filename, snap.digest = filename[:255], digest
    snap.imported_at, snap.imported_by = utcnow(), principal.subject
    db.flush()
    for i, f in enumerate(doc.figures):
        db.add(RolloutFigure(snapshot_id=snap.id, key=f.key, label=f.label, value=f.value, of=f.of,
                             qualifier=f.qualifier, note=f.note, position=i))
    db.flush()
    audit.record(db, principal, "import", "ops.rollout_snapshot", resource_id=str(snap.id),
                 purpose="nhập số liệu tổng hợp triển khai",
                 detail={"service": doc.service, "as_of": doc.as_of.isoformat(), "outcome": outcome,
                         "figures": len(doc.figures), "digest": digest, "verified": doc.verified})
    return FiguresResult(snap, outcome, len(doc.figures))


def import_bundled(db: Session, principal: Principal = IMPORTER) -> dict[str, str]:
    """The history shipped with lienthong (``data/``): the 07/10/2024 table, its printed totals and
    the kiosk programme figures of 02/10/2024. Idempotent; returns file -> outcome."""
    out = {}
    for known in KNOWN_TABLES:
        path = DATA_DIR / known.filename
        r = import_table(db, path.read_bytes(), as_of=known.as_of, service_key=known.service_key,
                         filename=known.filename, principal=principal)
        out[known.filename] = r.outcome
    for name in BUNDLED_FIGURES:
        out[name] = import_figures(db, (DATA_DIR / name).read_bytes(), filename=name, principal=principal).outcome
    return out


# --- the merger ---------------------------------------------------------------------------------


def member_states(db: Session, service_key: str, new_code: int) -> list[rules.MemberState]:
    """The last state before the reform of each old province a current province was formed from."""
    codes = units.members_of(new_code, REFORM)
    found = {u.province_code: u for u in db.scalars(select(RolloutUnit).where(
        RolloutUnit.service_key == service_key, RolloutUnit.unit_set == REFORM.from_set,
        RolloutUnit.facility_code.is_(None), RolloutUnit.province_code.in_(codes)))}
    return [rules.MemberState(c, units.old_province_name(c),
                              {f: getattr(found[c], f) for f in rules.STATE_FIELDS} if c in found else None)
            for c in codes]


def recorded_since_merger(db: Session, unit_ids: list[int]) -> set[int]:
    """Units with a recorded (not derived) change: their own status wins over the derivation."""
    if not unit_ids:
        return set()
    return set(db.scalars(select(RolloutChange.unit_id).where(
        RolloutChange.unit_id.in_(unit_ids), RolloutChange.source != "merger").distinct()))


def derive_merged(db: Session, service_key: str, rule: rules.MergerRule | None = None
                  ) -> list[tuple[RolloutUnit, list[RolloutChange]]]:
    """Give every current province with pre-reform history and no recorded status of its own the
    state derived from its members (idempotent: nothing changes when nothing would)."""
    rule = rule or rules.merger_rule()
    has_history = db.scalar(select(RolloutUnit.id).where(RolloutUnit.service_key == service_key,
                                                         RolloutUnit.unit_set == REFORM.from_set).limit(1))
    if has_history is None:
        return []
    service.ensure_provinces(db, service_key)
    targets = {u.province_code: u for u in db.scalars(select(RolloutUnit).where(
        RolloutUnit.service_key == service_key, RolloutUnit.unit_set == REFORM.to_set,
        RolloutUnit.facility_code.is_(None)))}
    recorded = recorded_since_merger(db, [u.id for u in targets.values()])
    out = []
    for code, unit in sorted(targets.items()):
        if unit.id in recorded:
            continue
        members = member_states(db, service_key, code)
        if all(m.values is None for m in members):
            continue
        derived = rules.derive(members, rule)
        done = service.update_unit(db, DERIVER, unit.id, derived.values, note=derived.explanation,
                                   source="merger", source_ref=rule.value, effective_on=REFORM.effective,
                                   checklist=False, audit_entry=False)
        if done.changes:
            out.append((unit, done.changes))
    if out:
        audit.record(db, DERIVER, "update", "ops.rollout", resource_id=service_key,
                     purpose="suy ra trạng thái tỉnh mới sau hợp nhất",
                     detail={"service": service_key, "rule": rule.value, "reform": REFORM.legal_basis,
                             "provinces": [u.province_code for u, _ in out]})
    return out


# --- timeline -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelinePoint:
    day: date  # the state at the end of this day (a Sunday, or the last day asked for)
    unit_set: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _status_history(db: Session, service_key: str) -> tuple[dict[int, str], dict[int, tuple[list, list]]]:
    unit_sets = dict(db.execute(select(RolloutUnit.id, RolloutUnit.unit_set).where(
        RolloutUnit.service_key == service_key, RolloutUnit.facility_code.is_(None))).all())
    hist: dict[int, tuple[list, list]] = {uid: ([], []) for uid in unit_sets}
    rows = db.execute(select(RolloutChange.unit_id, RolloutChange.effective_on, RolloutChange.new_value)
                      .join(RolloutUnit, RolloutUnit.id == RolloutChange.unit_id)
                      .where(RolloutUnit.service_key == service_key, RolloutUnit.facility_code.is_(None),
                             RolloutChange.field == "status")
                      .order_by(RolloutChange.effective_on, RolloutChange.at, RolloutChange.id))
    for uid, day, value in rows:
        days, values = hist[uid]
        days.append(day)
        values.append(value)
    return unit_sets, hist


def status_on(hist: tuple[list, list], day: date) -> str:
    days, values = hist
    i = bisect.bisect_right(days, day)
    return values[i - 1] if i else "not_started"


def timeline(db: Session, service_key: str, *, start: date | None = None, end: date | None = None) -> list[TimelinePoint]:
    """Provinces per status every 7 days from ``start`` (default: the day the service's first recorded
    change took effect, e.g. the date of the first snapshot) to ``end`` (default today, Vietnam time,
    always the last point). Before the reform the 63 old provinces are counted, after it the 34."""
    service.get_service(db, service_key)
    service.ensure_provinces(db, service_key)
    end = end or service.vn_today()
    unit_sets, hist = _status_history(db, service_key)
    first = min((h[0][0] for h in hist.values() if h[0]), default=None)
    start = start or (first if first and first <= end else end - timedelta(weeks=11))
    day = start
    days = []
    while day < end:
        days.append(day)
        day += timedelta(weeks=1)
    days.append(end)
    out = []
    for d in days:
        current = units.unit_set_on(d)
        counts = {s: 0 for s in ROLLOUT_STATUSES}
        for uid, uset in unit_sets.items():
            if uset == current:
                counts[status_on(hist[uid], d)] += 1
        if sum(counts.values()):
            out.append(TimelinePoint(d, current, counts))
    return out


# --- a province's path --------------------------------------------------------------------------


@dataclass
class MemberHistory:
    state: rules.MemberState
    unit: RolloutUnit | None
    snapshot_rows: list[tuple[RolloutSnapshot, RolloutSnapshotRow]] = field(default_factory=list)
    changes: list[RolloutChange] = field(default_factory=list)


@dataclass
class ProvincePath:
    service_key: str
    service_name: str
    province_code: int
    unit: RolloutUnit
    members: list[MemberHistory]
    merged: bool  # formed from several old provinces (or renamed from one)
    derived: rules.Derived | None  # what the members give under today's rule
    merger_changes: list[RolloutChange]
    own_changes: list[RolloutChange]  # recorded after the merger (manual, signal, import)
    proposals: list[RolloutProposal]

    @property
    def basis_text(self) -> str:
        if self.unit.basis == "derived":
            return "suy ra từ các tỉnh cũ khi hợp nhất"
        return "ghi nhận trực tiếp" if self.own_changes else "chưa có dữ liệu"


def province_path(db: Session, province_code: int, service_key: str = DEFAULT_SERVICE) -> ProvincePath:
    svc = service.get_service(db, service_key)
    units.province(province_code)
    unit = service.province_unit(db, service_key, province_code)
    if unit is None:  # pragma: no cover - ensure_provinces creates it
        raise NotFound("không tìm thấy tỉnh/thành phố trong danh sách theo dõi")
    members = member_states(db, service_key, province_code)
    member_units = {u.province_code: u for u in db.scalars(select(RolloutUnit).where(
        RolloutUnit.service_key == service_key, RolloutUnit.unit_set == REFORM.from_set,
        RolloutUnit.facility_code.is_(None), RolloutUnit.province_code.in_([m.code for m in members])))}
    snaps = {s.id: s for s in db.scalars(select(RolloutSnapshot).where(RolloutSnapshot.service_key == service_key,
                                                                       RolloutSnapshot.kind == "table"))}
    rows_by_code: dict[int, list] = defaultdict(list)
    if snaps:
        for row in db.scalars(select(RolloutSnapshotRow).where(RolloutSnapshotRow.snapshot_id.in_(list(snaps)))):
            if snaps[row.snapshot_id].unit_set == REFORM.from_set:
                rows_by_code[row.province_code].append((snaps[row.snapshot_id], row))
    histories = []
    ids = [u.id for u in member_units.values()]
    changes_by_unit: dict[int, list] = defaultdict(list)
    for c in service.history(db, unit_ids=ids, limit=100_000) if ids else []:
        changes_by_unit[c.unit_id].append(c)
    for m in members:
        u = member_units.get(m.code)
        histories.append(MemberHistory(m, u, sorted(rows_by_code.get(m.code, []), key=lambda sr: sr[0].as_of),
                                       sorted(changes_by_unit.get(u.id, []) if u else [],
                                              key=lambda c: (c.effective_on, c.at, c.id))))
    own = sorted(service.history(db, unit_id=unit.id, limit=100_000), key=lambda c: (c.effective_on, c.at, c.id))
    derived = rules.derive(members, rules.merger_rule()) if any(m.values is not None for m in members) else None
    proposals = list(db.scalars(select(RolloutProposal).where(RolloutProposal.unit_id == unit.id)
                                .order_by(RolloutProposal.created_at)))
    return ProvincePath(service_key, svc.name, province_code, unit, histories,
                        len(members) > 1 or members[0].code != province_code, derived,
                        [c for c in own if c.source == "merger"], [c for c in own if c.source != "merger"], proposals)


@dataclass(frozen=True)
class PathSummary:
    """One line of the every-province overview: members' first snapshot, the merger, today."""

    province_code: int
    unit: RolloutUnit
    members: list[tuple[str, str | None, list[str]]]  # (name, status at the first snapshot, uncertain columns)
    at_merger: str | None  # status derived at the merger (None: no history)
    today: str
    basis: str
    pending: int


def paths(db: Session, service_key: str = DEFAULT_SERVICE) -> tuple[RolloutSnapshot | None, list[PathSummary]]:
    """For every current province: its members' status in the service's first table snapshot, the
    status the merger gave it, and today's status."""
    service.ensure_provinces(db, service_key)
    first = db.scalars(select(RolloutSnapshot).where(RolloutSnapshot.service_key == service_key,
                                                     RolloutSnapshot.kind == "table",
                                                     RolloutSnapshot.unit_set == REFORM.from_set)
                       .order_by(RolloutSnapshot.as_of).limit(1)).first()
    rows = {}
    if first is not None:
        rows = {r.province_code: r for r in db.scalars(select(RolloutSnapshotRow).where(
            RolloutSnapshotRow.snapshot_id == first.id))}
    current = list(db.scalars(select(RolloutUnit).where(
        RolloutUnit.service_key == service_key, RolloutUnit.unit_set == REFORM.to_set,
        RolloutUnit.facility_code.is_(None)).order_by(RolloutUnit.province_code)))
    at_merger: dict[int, str] = {}
    for uid, value in db.execute(select(RolloutChange.unit_id, RolloutChange.new_value).where(
            RolloutChange.unit_id.in_([u.id for u in current]), RolloutChange.source == "merger",
            RolloutChange.field == "status").order_by(RolloutChange.at, RolloutChange.id)):
        at_merger[uid] = value
    pending = defaultdict(int)
    for uid in db.scalars(select(RolloutProposal.unit_id).where(RolloutProposal.state == "pending",
                                                                RolloutProposal.unit_id.in_([u.id for u in current]))):
        pending[uid] += 1
    out = []
    for u in current:
        members = []
        for code in units.members_of(u.province_code, REFORM):
            r = rows.get(code)
            members.append((units.old_province_name(code), r.values.get("status") if r else None,
                            list(r.uncertain) if r else []))
        has_history = any(m[1] for m in members)
        merged_status = at_merger.get(u.id) or (u.status if u.basis == "derived" else None)
        if merged_status is None and has_history:
            merged_status = "not_started"
        out.append(PathSummary(u.province_code, u, members, merged_status, u.status, u.basis, pending[u.id]))
    return first, out


# --- snapshots ----------------------------------------------------------------------------------


def list_snapshots(db: Session, service_key: str | None = None) -> list[RolloutSnapshot]:
    stmt = select(RolloutSnapshot).order_by(RolloutSnapshot.as_of, RolloutSnapshot.kind)
    if service_key:
        stmt = stmt.where(RolloutSnapshot.service_key == service_key)
    return list(db.scalars(stmt))


def get_snapshot(db: Session, snapshot_id: int) -> RolloutSnapshot:
    snap = db.get(RolloutSnapshot, snapshot_id)
    if snap is None:
        raise NotFound("không tìm thấy bảng số liệu")
    return snap


def snapshot_rows(db: Session, snap: RolloutSnapshot) -> list[RolloutSnapshotRow]:
    return list(db.scalars(select(RolloutSnapshotRow).where(RolloutSnapshotRow.snapshot_id == snap.id)
                           .order_by(RolloutSnapshotRow.row_no)))


def snapshot_figures(db: Session, snap: RolloutSnapshot) -> list[RolloutFigure]:
    return list(db.scalars(select(RolloutFigure).where(RolloutFigure.snapshot_id == snap.id)
                           .order_by(RolloutFigure.position)))


def printed_for(db: Session, snap: RolloutSnapshot) -> RolloutSnapshot | None:
    """The figures snapshot of the same service and date (the totals printed with a table)."""
    return db.scalars(select(RolloutSnapshot).where(RolloutSnapshot.service_key == snap.service_key,
                                                    RolloutSnapshot.as_of == snap.as_of,
                                                    RolloutSnapshot.kind == "figures")).first()


def letter_rows(rows: list[RolloutSnapshotRow]) -> list[rules.LetterRow]:
    return [rules.read_letter_row(r.cells) for r in rows]


def summary(db: Session, snap: RolloutSnapshot) -> tuple[list[rules.Figure], RolloutSnapshot | None]:
    """The table's own summary figures beside the printed ones (when a figures snapshot of the same
    date exists), with verdicts and explanations."""
    if snap.kind != "table":
        raise DomainError("chỉ bảng theo tỉnh mới có số liệu tổng hợp tính từ dữ liệu")
    printed_snap = printed_for(db, snap)
    printed = {}
    if printed_snap is not None:
        printed = {f.key: (f.value, f.qualifier) for f in snapshot_figures(db, printed_snap)}
    return rules.compare(letter_rows(snapshot_rows(db, snap)), printed), printed_snap


def figures_json(figures: list[RolloutFigure]) -> list[dict]:
    return [{"key": f.key, "label": f.label, "value": f.value, "of": f.of, "qualifier": f.qualifier, "note": f.note}
            for f in figures]


