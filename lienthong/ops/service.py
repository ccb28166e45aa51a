"""Rollout tracker and kiosk registry: services, reads, versioned updates and audit entries.

Every change of a tracked rollout field writes one :class:`RolloutChange` row (who, when, old ->
new, note, the day it took effect, its source) and the whole update writes one audit entry, in the
caller's transaction. Snapshots, the merger view and the timeline are in :mod:`lienthong.ops.history`;
live signals in :mod:`lienthong.ops.signals`; the rules both use in :mod:`lienthong.ops.rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from lienthong.audit import service as audit
from lienthong.db import utcnow
from lienthong.errors import Conflict, DomainError, NotFound
from lienthong.facilities.models import Facility
from lienthong.geo import units
from lienthong.identity.principal import Principal
from lienthong.ops import rules
from lienthong.ops.models import (
    ASSESSMENT_STATES, CHANGE_SOURCES, DEFAULT_SERVICE, ROLLOUT_STATUSES, KioskCommitment, RolloutChange,
    RolloutService, RolloutUnit,
)

STATUS_LABELS = rules.STATUS_LABELS
ASSESSMENT_LABELS = {"not_started": "Chưa đánh giá", "in_progress": "Đang đánh giá", "passed": "Đạt",
                     "failed": "Không đạt"}
TIER_LABELS = {"central": "Trung ương", "provincial": "Tỉnh", "regional": "Khu vực", "commune": "Xã/phường"}
TIERS = ("central", "provincial", "regional", "commune")
FIELD_LABELS = {
    "test_batch": "Đợt kiểm thử", "test_start": "Ngày bắt đầu kiểm thử", "test_end": "Ngày kết thúc kiểm thử",
    "status": "Trạng thái", "source_assessment": "Đánh giá ATTT mã nguồn",
    "system_assessment": "Đánh giá ATTT hệ thống", "machine_ready": "Máy chủ sẵn sàng",
    "access_granted": "Đã cấp quyền truy cập", "production_date": "Ngày vận hành", "note": "Ghi chú",
}
TRACKED = tuple(FIELD_LABELS)
SOURCE_LABELS = {"manual": "Cập nhật", "import": "Nhập bảng số liệu", "merger": "Hợp nhất tỉnh",
                 "signal": "Tín hiệu vận hành"}
BASIS_LABELS = {"recorded": "Ghi nhận", "derived": "Suy ra khi hợp nhất"}
PROPOSAL_STATE_LABELS = {"pending": "Chờ xác nhận", "confirmed": "Đã xác nhận", "rejected": "Không xác nhận"}


def province_name(code: int | None, unit_set: str = "vn34") -> str:
    if code is None:
        return ""
    try:
        if unit_set == "vn63":
            return units.old_province_name(code)
        return units.province(code).name
    except units.UnknownUnit:
        return f"Tỉnh {code}"


def unit_label(unit: RolloutUnit) -> str:
    name = province_name(unit.province_code, unit.unit_set)
    return f"{name} (trước 01/07/2025)" if unit.unit_set == "vn63" else name


def province_codes() -> list[int]:
    return [int(p.code) for p in units.provinces()]


# --- services -----------------------------------------------------------------------------------

# (key, name, description). Keep in step with migration 0004 (which inserts them for existing rows).
BUILTIN_SERVICES = (
    ("judicial_vneid", "Cấp Phiếu lý lịch tư pháp trên VNeID",
     "Tiếp nhận và trả kết quả Phiếu lý lịch tư pháp trên ứng dụng VNeID; theo dõi theo công văn 3546/TCTTKĐA."),
    ("health_book", "Sổ sức khỏe điện tử",
     "Cơ sở khám chữa bệnh gửi dữ liệu (QĐ 130/4750, FHIR) để lập sổ sức khỏe điện tử của công dân."),
    ("birth_linked", "Liên thông thủ tục khai sinh",
     "Giấy chứng sinh – đăng ký khai sinh – đăng ký thường trú – thẻ BHYT trẻ dưới 6 tuổi."),
    ("death_linked", "Liên thông thủ tục khai tử",
     "Giấy báo tử – đăng ký khai tử – xóa đăng ký thường trú – trợ cấp mai táng."),
    ("medical_kiosk", "Ki-ốt y tế", "Ki-ốt y tế tại cơ sở khám chữa bệnh (căn cước gắn chip, VNeID)."),
)
SERVICE_KEY_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"


def _insert(db: Session):
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def ensure_services(db: Session) -> None:
    """The built-in services exist (idempotent, safe under concurrency)."""
    have = set(db.scalars(select(RolloutService.key)))
    missing = [(i, s) for i, s in enumerate(BUILTIN_SERVICES, 1) if s[0] not in have]
    if not missing:
        return
    now = utcnow()
    db.execute(_insert(db)(RolloutService).values([
        {"key": k, "name": n, "description": d, "builtin": True, "position": i, "created_at": now}
        for i, (k, n, d) in missing]).on_conflict_do_nothing())
    db.flush()


def list_services(db: Session) -> list[RolloutService]:
    ensure_services(db)
    return list(db.scalars(select(RolloutService).order_by(RolloutService.position, RolloutService.key)))


def get_service(db: Session, key: str) -> RolloutService:
    ensure_services(db)
    service = db.get(RolloutService, key)
    if service is None:
        raise NotFound(f"không có dịch vụ theo dõi triển khai {key!r}", field="service")
    return service


def add_service(db: Session, principal: Principal, key: str, name: str, description: str = "") -> RolloutService:
    """A new tracked service (admin); its 34 province rows are created on first read."""
    import re

    key, name = key.strip(), " ".join(name.split())
    if not re.match(SERVICE_KEY_PATTERN, key):
        raise DomainError("mã dịch vụ gồm 2–40 chữ thường không dấu, số hoặc dấu gạch dưới, bắt đầu bằng chữ",
                          field="key")
    if not name:
        raise DomainError("cần nhập tên dịch vụ", field="name")
    ensure_services(db)
    if db.get(RolloutService, key) is not None:
        raise Conflict(f"dịch vụ {key} đã có", field="key")
    position = (db.scalar(select(func.max(RolloutService.position))) or 0) + 1
    service = RolloutService(key=key, name=name[:200], description=description.strip()[:2000], builtin=False,
                             position=position, created_at=utcnow(), created_by=principal.subject)
    db.add(service)
    db.flush()
    audit.record(db, principal, "create", "ops.rollout_service", resource_id=key, purpose="thêm dịch vụ theo dõi triển khai",
                 detail={"name": service.name})
    return service


# --- rollout ------------------------------------------------------------------------------------


def ensure_provinces(db: Session, service_key: str | None = None) -> None:
    """One province-wide vn34 row for every current province and service (idempotent, safe under
    concurrency). ``service_key``: only that service."""
    ensure_services(db)
    keys = [service_key] if service_key else list(db.scalars(select(RolloutService.key)))
    have = set(db.execute(select(RolloutUnit.service_key, RolloutUnit.province_code).where(
        RolloutUnit.facility_code.is_(None), RolloutUnit.unit_set == "vn34")).all())
    missing = [(k, c) for k in keys for c in province_codes() if (k, c) not in have]
    if not missing:
        return
    now = utcnow()
    db.execute(_insert(db)(RolloutUnit).values([
        {"service_key": k, "unit_set": "vn34", "province_code": c, "facility_code": None, "status": "not_started",
         "source_assessment": "not_started", "system_assessment": "not_started", "machine_ready": False,
         "access_granted": False, "note": "", "basis": "recorded", "updated_at": now, "version": 1}
        for k, c in missing
    ]).on_conflict_do_nothing())
    db.flush()


def province_unit(db: Session, service_key: str, province_code: int, unit_set: str = "vn34") -> RolloutUnit | None:
    if unit_set == "vn34":
        ensure_provinces(db, service_key)
    return db.scalars(select(RolloutUnit).where(
        RolloutUnit.service_key == service_key, RolloutUnit.unit_set == unit_set,
        RolloutUnit.province_code == province_code, RolloutUnit.facility_code.is_(None))).first()


def list_units(db: Session, *, service_key: str = DEFAULT_SERVICE, province_code: int | None = None,
               status: str | None = None, include_facilities: bool = True, unit_set: str = "vn34") -> list[RolloutUnit]:
    get_service(db, service_key)
    ensure_provinces(db, service_key)
    stmt = select(RolloutUnit).where(RolloutUnit.service_key == service_key, RolloutUnit.unit_set == unit_set)
    if province_code is not None:
        stmt = stmt.where(RolloutUnit.province_code == province_code)
    if status:
        stmt = stmt.where(RolloutUnit.status == status)
    if not include_facilities:
        stmt = stmt.where(RolloutUnit.facility_code.is_(None))
    stmt = stmt.order_by(RolloutUnit.province_code, RolloutUnit.facility_code.is_not(None), RolloutUnit.facility_code)
    return list(db.scalars(stmt))


def get_unit(db: Session, unit_id: int) -> RolloutUnit:
    unit = db.get(RolloutUnit, unit_id)
    if unit is None:
        raise NotFound("không tìm thấy đơn vị triển khai")
    return unit


def add_facility_unit(db: Session, principal: Principal, facility_code: str, note: str = "",
                      service_key: str = DEFAULT_SERVICE) -> RolloutUnit:
    get_service(db, service_key)
    facility = db.get(Facility, facility_code)
    if facility is None:
        raise NotFound(f"không tìm thấy cơ sở khám chữa bệnh {facility_code}", field="facility_code")
    exists = db.scalar(select(RolloutUnit.id).where(RolloutUnit.facility_code == facility_code,
                                                    RolloutUnit.service_key == service_key))
    if exists is not None:
        raise Conflict("cơ sở này đã có trong danh sách theo dõi triển khai", field="facility_code")
    unit = RolloutUnit(service_key=service_key, unit_set="vn34", basis="recorded",
                       province_code=facility.province_code, facility_code=facility_code, status="not_started",
                       source_assessment="not_started", system_assessment="not_started", machine_ready=False,
                       access_granted=False, note=note, updated_at=utcnow(), updated_by=principal.subject)
    db.add(unit)
    db.flush()
    audit.record(db, principal, "create", "ops.rollout", resource_id=str(unit.id),
                 purpose="theo dõi triển khai theo cơ sở", detail={"facility_code": facility_code,
                                                                   "province_code": facility.province_code,
                                                                   "service": service_key})
    return unit


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _validate(unit: RolloutUnit, new: dict, *, checklist: bool = True) -> None:
    merged = {f: new.get(f, getattr(unit, f)) for f in TRACKED}
    if merged["status"] not in ROLLOUT_STATUSES:
        raise DomainError(f"trạng thái không hợp lệ: {merged['status']}", field="status")
    for f in ("source_assessment", "system_assessment"):
        if merged[f] not in ASSESSMENT_STATES:
            raise DomainError(f"kết quả đánh giá không hợp lệ: {merged[f]}", field=f)
    if merged["test_batch"] is not None and not (1 <= int(merged["test_batch"]) <= 99):
        raise DomainError("đợt kiểm thử phải từ 1 đến 99", field="test_batch")
    if merged["test_start"] and merged["test_end"] and merged["test_start"] > merged["test_end"]:
        raise DomainError("ngày kết thúc kiểm thử phải sau ngày bắt đầu", field="test_end")
    if not checklist:  # the process preconditions below guard manual claims only
        return
    if merged["status"] in ("test_done", "production", "completed") and merged["status"] != unit.status:
        if not merged["test_start"]:
            raise DomainError("cần nhập ngày bắt đầu kiểm thử trước khi chuyển trạng thái này", field="test_start")
    if merged["status"] in ("production", "completed") and merged["status"] != unit.status:
        missing = rules.checklist_missing(merged)
        if missing:
            raise DomainError("chưa đủ điều kiện đưa vào vận hành: cần " + ", ".join(missing), field="status")


@dataclass
class UpdateResult:
    unit: RolloutUnit
    changes: list[RolloutChange]


def vn_today() -> date:
    from datetime import datetime

    from lienthong.workdays.calendar import VN_TZ

    return datetime.now(VN_TZ).date()


def update_unit(db: Session, principal: Principal, unit_id: int, values: dict, *, note: str = "",
                expected_version: int | None = None, source: str = "manual", source_ref: str | None = None,
                effective_on: date | None = None, checklist: bool = True, audit_entry: bool = True) -> UpdateResult:
    """Apply the given field values; record one history row per changed field and one audit entry.

    ``expected_version`` (optimistic locking) rejects an edit made on a stale copy with 409.
    ``source`` says where the change comes from (``manual`` edit, ``import`` of a snapshot,
    ``merger`` derivation, confirmed ``signal``) and ``effective_on`` the day it took effect (default:
    today, Vietnam time). Pre-2025 (vn63) rows are history: only imports change them.
    ``checklist=False`` records a production/completed status without the manual checklist (imports,
    derivations, signal confirmations under :func:`lienthong.ops.rules.signal_needs_checklist`).
    ``audit_entry=False``: the caller writes one audit entry for a whole batch (imports, derivations).
    """
    if source not in CHANGE_SOURCES:
        raise ValueError(f"unknown change source {source!r}")
    unit = get_unit(db, unit_id)
    if expected_version is not None and unit.version != expected_version:
        raise Conflict("dữ liệu đã được người khác cập nhật; vui lòng tải lại trang")
    if unit.unit_set != "vn34" and source != "import":
        raise DomainError("tỉnh cũ (trước 01/07/2025) là dữ liệu lịch sử, chỉ thay đổi bằng cách nhập bảng số liệu")
    unknown = set(values) - set(TRACKED)
    if unknown:
        raise DomainError(f"trường không hợp lệ: {', '.join(sorted(unknown))}")
    new = {k: v for k, v in values.items() if v != getattr(unit, k)}
    basis = "derived" if source == "merger" else "recorded"
    if not new and unit.basis == basis:
        return UpdateResult(unit, [])
    effective_on = effective_on or vn_today()
    if new:
        _validate(unit, new, checklist=checklist)
        if (source in ("manual", "signal") and new.get("status") == "production" and unit.production_date is None
                and "production_date" not in new):  # documents and derivations say only what they say
            new["production_date"] = effective_on
    now = utcnow()
    changes = []
    for field, value in new.items():
        change = RolloutChange(unit_id=unit.id, at=now, actor_id=principal.subject, actor_name=principal.name,
                               field=field, old_value=_text(getattr(unit, field)), new_value=_text(value),
                               note=note, effective_on=effective_on, source=source, source_ref=source_ref)
        changes.append(change)
        setattr(unit, field, value)
    unit.basis = basis
    unit.updated_at = now
    unit.updated_by = principal.subject
    db.add_all(changes)
    try:
        db.flush()  # UPDATE ... WHERE version = n: a concurrent edit makes it match no row
    except StaleDataError:
        raise Conflict("dữ liệu đã được người khác cập nhật; vui lòng tải lại trang") from None
    if not audit_entry:
        return UpdateResult(unit, changes)
    audit.record(db, principal, "update", "ops.rollout", resource_id=str(unit.id),
                 purpose="cập nhật tiến độ triển khai",
                 detail={"service": unit.service_key, "unit_set": unit.unit_set, "province_code": unit.province_code,
                         "facility_code": unit.facility_code, "note": note, "source": source,
                         "effective_on": effective_on.isoformat(),
                         "changes": {c.field: [c.old_value, c.new_value] for c in changes}})
    return UpdateResult(unit, changes)


def history(db: Session, *, unit_id: int | None = None, since=None, limit: int = 200,
            service_key: str | None = None, unit_ids: list[int] | None = None) -> list[RolloutChange]:
    stmt = select(RolloutChange)
    if unit_id is not None:
        stmt = stmt.where(RolloutChange.unit_id == unit_id)
    if unit_ids is not None:
        stmt = stmt.where(RolloutChange.unit_id.in_(unit_ids))
    if service_key is not None:
        stmt = stmt.where(RolloutChange.unit_id.in_(select(RolloutUnit.id).where(RolloutUnit.service_key == service_key)))
    if since is not None:
        stmt = stmt.where(RolloutChange.at >= since)
    return list(db.scalars(stmt.order_by(RolloutChange.at.desc(), RolloutChange.id.desc()).limit(limit)))


def status_counts(units_: list[RolloutUnit]) -> dict[str, int]:
    counts = {s: 0 for s in ROLLOUT_STATUSES}
    for u in units_:
        counts[u.status] += 1
    return counts


# --- kiosks -------------------------------------------------------------------------------------


def set_kiosks(db: Session, principal: Principal, facility_code: str, *, committed: int, deployed: int,
               note: str = "") -> KioskCommitment:
    if committed < 0 or deployed < 0:
        raise DomainError("số ki-ốt không được âm")
    if deployed > committed:
        raise DomainError("số ki-ốt đã triển khai không được vượt số đã cam kết", field="deployed")
    facility = db.get(Facility, facility_code)
    if facility is None:
        raise NotFound(f"không tìm thấy cơ sở khám chữa bệnh {facility_code}", field="facility_code")
    row = db.get(KioskCommitment, facility_code)
    old = (row.committed, row.deployed) if row else (0, 0)
    if row is None:
        row = KioskCommitment(facility_code=facility_code)
        db.add(row)
    row.committed, row.deployed, row.note = committed, deployed, note
    row.updated_at, row.updated_by = utcnow(), principal.subject
    db.flush()
    audit.record(db, principal, "update", "ops.kiosk", resource_id=facility_code, purpose="cập nhật ki-ốt y tế",
                 detail={"committed": [old[0], committed], "deployed": [old[1], deployed],
                         "province_code": facility.province_code})
    if deployed > 0 and old[1] == 0:  # a live signal for the medical-kiosk rollout (proposed, not applied)
        from lienthong.ops import signals

        signals.kiosks_deployed(db, facility.province_code, facility_code, deployed)
    return row


def kiosk_rows(db: Session, *, province_code: int | None = None, tier: str | None = None):
    stmt = (select(KioskCommitment, Facility).join(Facility, Facility.code == KioskCommitment.facility_code)
            .order_by(Facility.province_code, Facility.code))
    if province_code is not None:
        stmt = stmt.where(Facility.province_code == province_code)
    if tier:
        stmt = stmt.where(Facility.tier == tier)
    return list(db.execute(stmt))


@dataclass
class KioskAggregate:
    key: str | int
    label: str
    facilities: int = 0
    committed: int = 0
    deployed: int = 0

    @property
    def percent(self) -> float | None:
        return round(100 * self.deployed / self.committed, 1) if self.committed else None


def kiosk_summary(db: Session, *, province_code: int | None = None) -> dict:
    """Committed vs deployed, aggregated by tier, by province and in total (SQL aggregates)."""

    def query(*group):
        stmt = select(*group, func.count(), func.coalesce(func.sum(KioskCommitment.committed), 0),
                      func.coalesce(func.sum(KioskCommitment.deployed), 0)).select_from(KioskCommitment).join(
            Facility, Facility.code == KioskCommitment.facility_code)
        if province_code is not None:
            stmt = stmt.where(Facility.province_code == province_code)
        if group:
            stmt = stmt.group_by(*group).order_by(*group)
        return db.execute(stmt)

    by_tier = {t: KioskAggregate(t, TIER_LABELS[t]) for t in TIERS}
    for tier, n, c, d in query(Facility.tier):
        by_tier[tier] = KioskAggregate(tier, TIER_LABELS.get(tier, tier), int(n), int(c), int(d))
    by_province = [KioskAggregate(int(p), province_name(p), int(n), int(c), int(d))
                   for p, n, c, d in query(Facility.province_code)]
    n, c, d = query().one()
    return {"total": KioskAggregate("total", "Tổng cộng", int(n), int(c), int(d)),
            "by_tier": list(by_tier.values()), "by_province": by_province}
