"""HTTP routes of the audit log: a citizen's own access history, the operators' view, chain verification."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.params import INT64_MAX
from lienthong.audit import service
from lienthong.audit.models import AuditEntry
from lienthong.deps import get_db
from lienthong.errors import DomainError
from lienthong.identity.policy import forbidden, requires
from lienthong.identity.principal import Principal

router = APIRouter(prefix="/api/v1", tags=["audit"])


class Actor(BaseModel):
    type: str  # citizen, officer, admin, facility, agency, system
    id: str


class AccessOut(BaseModel):
    """One access to a citizen's data, as shown to that citizen."""

    seq: int
    time: datetime
    who: Actor
    action: str
    resource: str
    resource_id: str | None
    purpose: str


class AuditEntryOut(AccessOut):
    subject_id: str | None
    detail: dict
    hash: str


class AccessPage(BaseModel):
    items: list[AccessOut]
    next_before: int | None  # pass as ``before`` for the next (older) page


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_before: int | None


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    first_bad_seq: int | None
    problem: str
    head_hash: str  # keep (entries, head_hash) outside the database as a checkpoint


def _access(e: AuditEntry) -> dict:
    return dict(seq=e.seq, time=e.at, who=Actor(type=e.actor_type, id=e.actor_id), action=e.action,
                resource=e.resource, resource_id=e.resource_id, purpose=e.purpose)


@router.get("/me/audit", response_model=AccessPage, summary="Every access to the logged-in citizen's data")
def my_audit(
    before: int | None = Query(None, ge=1, le=INT64_MAX, description="only entries with seq below this (paging)"),
    limit: int = Query(50, ge=1, le=200),
    principal: Principal = Depends(requires("audit.read")),
    db: Session = Depends(get_db),
):
    if not principal.personal_id:
        raise forbidden("tài khoản này không gắn với công dân")
    entries = service.entries_about(db, principal.personal_id, limit=limit, before_seq=before)
    return AccessPage(items=[AccessOut(**_access(e)) for e in entries],
                      next_before=entries[-1].seq if len(entries) == limit else None)


@router.get("/audit", response_model=AuditPage, summary="Search the audit log (operators)")
def list_audit(
    subject: str | None = Query(None, max_length=12, description="personal ID of the data subject"),
    actor: str | None = Query(None, max_length=64, description="actor id (personal ID or client_id)"),
    actor_type: str | None = Query(None, max_length=16),
    resource: str | None = Query(None, max_length=64),
    action: str | None = Query(None, max_length=32),
    before: int | None = Query(None, ge=1, le=INT64_MAX, description="only entries with seq below this (paging)"),
    limit: int = Query(50, ge=1, le=500),
    purpose: str = Query("kiểm tra nhật ký truy cập", min_length=3, max_length=255,
                         description="why the log is consulted (audited)"),
    principal: Principal = Depends(requires("audit.read")),
    db: Session = Depends(get_db),
):
    if principal.kind != "admin":
        raise forbidden("chỉ quản trị viên được tra cứu toàn bộ nhật ký; công dân xem tại /api/v1/me/audit")
    stmt = select(AuditEntry)
    filters = {"subject": subject, "actor": actor, "actor_type": actor_type, "resource": resource,
               "action": action, "before": before}
    if subject:
        stmt = stmt.where(AuditEntry.subject_id == subject)
    if actor:
        stmt = stmt.where(AuditEntry.actor_id == actor)
    if actor_type:
        stmt = stmt.where(AuditEntry.actor_type == actor_type)
    if resource:
        stmt = stmt.where(AuditEntry.resource == resource)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if before is not None:
        stmt = stmt.where(AuditEntry.seq < before)
    entries = list(db.scalars(stmt.order_by(AuditEntry.seq.desc()).limit(limit)))
    items = [AuditEntryOut(**_access(e), subject_id=e.subject_id, detail=e.detail or {}, hash=e.hash)
             for e in entries]
    # Reading the log is itself an access to personal data: audited (after the query, so the
    # caller does not see their own read in this page).
    service.record(db, principal, "read", "audit.log", subject_id=subject, purpose=purpose,
                   detail={k: v for k, v in filters.items() if v is not None} | {"count": len(items)})
    return AuditPage(items=items, next_before=entries[-1].seq if len(entries) == limit else None)


@router.post("/audit/verify", response_model=VerifyOut, summary="Recompute the audit hash chain")
def verify_chain(
    checkpoint_seq: int | None = Query(None, ge=1, le=INT64_MAX, description="seq of a checkpoint kept outside the database"),
    checkpoint_hash: str | None = Query(None, min_length=64, max_length=64, pattern="^[0-9a-f]{64}$"),
    principal: Principal = Depends(requires("audit.verify")),
    db: Session = Depends(get_db),
):
    if (checkpoint_seq is None) != (checkpoint_hash is None):
        raise DomainError("cần cả checkpoint_seq và checkpoint_hash", field="checkpoint_hash")
    checkpoint = (checkpoint_seq, checkpoint_hash) if checkpoint_seq is not None else None
    result = service.verify(db, checkpoint=checkpoint)
    return VerifyOut(ok=result.ok, entries=result.entries, first_bad_seq=result.first_bad_seq,
                     problem=result.problem, head_hash=result.head_hash)
