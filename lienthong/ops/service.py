"""Rollout tracker and kiosk registry: reads, versioned updates and audit entries.

Every change of a tracked rollout field writes one :class:`RolloutChange` row (who, when, old ->
new, note) and the whole update writes one audit entry, in the caller's transaction.
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
from lienthong.ops.models import (
    ASSESSMENT_STATES, ROLLOUT_STATUSES, KioskCommitment, RolloutChange, RolloutUnit,
)

STATUS_LABELS = {
    "not_started": "Chưa bắt đầu",
    "testing": "Đang kiểm thử",
    "test_done": "Đã kiểm thử xong",
    "production": "Đã đưa vào vận hành",
    "completed": "Hoàn thành",
}
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


def province_name(code: int | None) -> str:
    if code is None:
        return ""
    try:
        return units.province(code).name
    except units.UnknownUnit:
        return f"Tỉnh {code}"


def province_codes() -> list[int]:
    return [int(p.code) for p in units.provinces()]


# --- rollout ------------------------------------------------------------------------------------


def ensure_provinces(db: Session) -> None:
    """One province-wide row for every current province (idempotent, safe under concurrency)."""
    have = set(db.scalars(select(RolloutUnit.province_code).where(RolloutUnit.facility_code.is_(None))))
    missing = [c for c in province_codes() if c not in have]
    if not missing:
        return
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    now = utcnow()
    db.execute(insert(RolloutUnit).values([
        {"province_code": c, "facility_code": None, "status": "not_started", "source_assessment": "not_started",
         "system_assessment": "not_started", "machine_ready": False, "access_granted": False, "note": "",
         "updated_at": now, "version": 1}
        for c in missing
    ]).on_conflict_do_nothing())
    db.flush()


def list_units(db: Session, *, province_code: int | None = None, status: str | None = None,
               include_facilities: bool = True) -> list[RolloutUnit]:
    ensure_provinces(db)
    stmt = select(RolloutUnit)
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


def add_facility_unit(db: Session, principal: Principal, facility_code: str, note: str = "") -> RolloutUnit:
    facility = db.get(Facility, facility_code)
    if facility is None:
        raise NotFound(f"không tìm thấy cơ sở khám chữa bệnh {facility_code}", field="facility_code")
    exists = db.scalar(select(RolloutUnit.id).where(RolloutUnit.facility_code == facility_code))
    if exists is not None:
        raise Conflict("cơ sở này đã có trong danh sách theo dõi triển khai", field="facility_code")
    unit = RolloutUnit(province_code=facility.province_code, facility_code=facility_code, status="not_started",
                       source_assessment="not_started", system_assessment="not_started", machine_ready=False,
                       access_granted=False, note=note, updated_at=utcnow(), updated_by=principal.subject)
    db.add(unit)
    db.flush()
    audit.record(db, principal, "create", "ops.rollout", resource_id=str(unit.id),
                 purpose="theo dõi triển khai theo cơ sở", detail={"facility_code": facility_code,
                                                                   "province_code": facility.province_code})
    return unit


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _validate(unit: RolloutUnit, new: dict) -> None:
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
    if merged["status"] in ("test_done", "production", "completed") and merged["status"] != unit.status:
        if not merged["test_start"]:
            raise DomainError("cần nhập ngày bắt đầu kiểm thử trước khi chuyển trạng thái này", field="test_start")
    if merged["status"] in ("production", "completed") and merged["status"] != unit.status:
        missing = []
        if merged["source_assessment"] != "passed":
            missing.append("đánh giá an toàn thông tin mã nguồn đạt")
        if merged["system_assessment"] != "passed":
            missing.append("đánh giá an toàn thông tin hệ thống đạt")
        if not merged["machine_ready"]:
            missing.append("máy chủ sẵn sàng")
        if not merged["access_granted"]:
            missing.append("đã cấp quyền truy cập")
        if missing:
            raise DomainError("chưa đủ điều kiện đưa vào vận hành: cần " + ", ".join(missing), field="status")


@dataclass
class UpdateResult:
    unit: RolloutUnit
    changes: list[RolloutChange]


def update_unit(db: Session, principal: Principal, unit_id: int, values: dict, *, note: str = "",
                expected_version: int | None = None) -> UpdateResult:
    """Apply the given field values; record one history row per changed field and one audit entry.

    ``expected_version`` (optimistic locking) rejects an edit made on a stale copy with 409.
    """
    unit = get_unit(db, unit_id)
    if expected_version is not None and unit.version != expected_version:
        raise Conflict("dữ liệu đã được người khác cập nhật; vui lòng tải lại trang")
    unknown = set(values) - set(TRACKED)
    if unknown:
        raise DomainError(f"trường không hợp lệ: {', '.join(sorted(unknown))}")
    new = {k: v for k, v in values.items() if v != getattr(unit, k)}
    if not new:
        return UpdateResult(unit, [])
    _validate(unit, new)
    if new.get("status") == "production" and unit.production_date is None and "production_date" not in new:
        new["production_date"] = utcnow().date()
    now = utcnow()
    changes = []
    for field, value in new.items():
        change = RolloutChange(unit_id=unit.id, at=now, actor_id=principal.subject, actor_name=principal.name,
                               field=field, old_value=_text(getattr(unit, field)), new_value=_text(value),
                               note=note)
        changes.append(change)
        setattr(unit, field, value)
    unit.updated_at = now
    unit.updated_by = principal.subject
    db.add_all(changes)
    try:
        db.flush()  # UPDATE ... WHERE version = n: a concurrent edit makes it match no row
    except StaleDataError:
        raise Conflict("dữ liệu đã được người khác cập nhật; vui lòng tải lại trang") from None
    audit.record(db, principal, "update", "ops.rollout", resource_id=str(unit.id),
                 purpose="cập nhật tiến độ triển khai",
                 detail={"province_code": unit.province_code, "facility_code": unit.facility_code, "note": note,
                         "changes": {c.field: [c.old_value, c.new_value] for c in changes}})
    return UpdateResult(unit, changes)


def history(db: Session, *, unit_id: int | None = None, since=None, limit: int = 200) -> list[RolloutChange]:
    stmt = select(RolloutChange)
    if unit_id is not None:
        stmt = stmt.where(RolloutChange.unit_id == unit_id)
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
