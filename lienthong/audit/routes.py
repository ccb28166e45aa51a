"""HTTP routes of the audit log: a citizen's own access history, the operators' view, verification,
the latest signed checkpoint and an entry's inclusion proof."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.params import INT64_MAX
from lienthong.audit import service
from lienthong.audit.models import AuditEntry
from lienthong.deps import get_db
from lienthong.errors import DomainError, NotFound
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
    # Position in the log (0-based) once the sequencer has sealed the entry into the Merkle tree;
    # None for the second or so after the access, while it waits for the next sequencing pass.
    leaf_index: int | None = None
    sequenced: bool = False


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
    entries: int  # sequenced entries verified (tree size)
    first_bad_seq: int | None
    first_bad_index: int | None = None
    problem: str
    head_hash: str  # the tree's root: keep (entries, head_hash), or better the signed checkpoint, outside
    pending: int = 0  # entries not sequenced yet (each checked)
    checkpoints: int = 0  # signed checkpoints checked
    checkpoint: str | None = None  # latest signed checkpoint (C2SP signed note)


class CheckpointOut(BaseModel):
    origin: str
    tree_size: int
    root: str  # hex
    signed_at: datetime | None
    note: str | None  # the C2SP checkpoint in a signed note; None for an empty log
    verifier_key: str  # name+id+key (Go note format) that verifies it


class ProofOut(BaseModel):
    """RFC 9162 inclusion proof of one entry in the tree of the latest signed checkpoint."""

    seq: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    leaf_data: str  # hex of the bytes hashed into the leaf (SHA-256(0x00 || leaf_data) = leaf_hash)
    path: list[str]  # sibling hashes, innermost first
    root: str
    checkpoint: str
    verifier_key: str


def _access(e: AuditEntry) -> dict:
    return dict(seq=e.seq, time=e.at, who=Actor(type=e.actor_type, id=e.actor_id), action=e.action,
                resource=e.resource, resource_id=e.resource_id, purpose=e.purpose, leaf_index=e.leaf_index,
                sequenced=e.leaf_index is not None)


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


@router.post("/audit/verify", response_model=VerifyOut, summary="Recompute the audit log and check its signed checkpoints")
def verify_chain(
    checkpoint_seq: int | None = Query(None, ge=1, le=INT64_MAX,
                                       description="tree size of a checkpoint kept outside the database"),
    checkpoint_hash: str | None = Query(None, min_length=64, max_length=64, pattern="^[0-9a-f]{64}$",
                                        description="its root hash (hex)"),
    principal: Principal = Depends(requires("audit.verify")),
    db: Session = Depends(get_db),
):
    if (checkpoint_seq is None) != (checkpoint_hash is None):
        raise DomainError("cần cả checkpoint_seq và checkpoint_hash", field="checkpoint_hash")
    checkpoint = (checkpoint_seq, checkpoint_hash) if checkpoint_seq is not None else None
    result = service.verify(db, checkpoint=checkpoint)
    return VerifyOut(ok=result.ok, entries=result.entries, first_bad_seq=result.first_bad_seq,
                     first_bad_index=result.first_bad_index, problem=result.problem, head_hash=result.head_hash,
                     pending=result.pending, checkpoints=result.checkpoints, checkpoint=result.checkpoint)


@router.get("/audit/checkpoint", response_model=CheckpointOut,
            summary="The latest signed checkpoint of the audit log (keep it to check the log later)")
def latest_checkpoint(principal: Principal = Depends(requires("audit.read")), db: Session = Depends(get_db)):
    from lienthong.audit.checkpoint import origin, signer

    row = service.latest_checkpoint(db)
    return CheckpointOut(origin=origin(), tree_size=row.tree_size if row else 0,
                         root=row.root if row else service.EMPTY_ROOT, signed_at=row.signed_at if row else None,
                         note=row.note if row else None, verifier_key=signer().verifier.encode())


@router.get("/audit/entries/{seq}/proof", response_model=ProofOut,
            summary="Inclusion proof of one audit entry (citizens: entries about themselves)")
def entry_proof(seq: int = Path(ge=1, le=INT64_MAX), principal: Principal = Depends(requires("audit.read")),
                db: Session = Depends(get_db)):
    from lienthong.audit.checkpoint import signer

    entry = db.get(AuditEntry, seq)
    if entry is None or (principal.kind != "admin" and (
            not principal.personal_id or entry.subject_id != principal.personal_id)):
        raise NotFound("không tìm thấy bản ghi nhật ký", field="seq")
    proof = service.prove(db, seq)
    if principal.kind == "admin":
        service.record(db, principal, "read", "audit.proof", resource_id=str(seq), subject_id=entry.subject_id,
                       purpose="kiểm tra bằng chứng bản ghi nhật ký")
    return ProofOut(seq=proof.seq, leaf_index=proof.leaf_index, tree_size=proof.tree_size, leaf_hash=proof.leaf_hash,
                    leaf_data=proof.leaf_data, path=proof.path, root=proof.root, checkpoint=proof.checkpoint,
                    verifier_key=signer().verifier.encode())
