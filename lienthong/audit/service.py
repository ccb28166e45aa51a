"""Recording and verifying the audit log.

Each entry's hash covers its content and the previous entry's hash, so changing, inserting or
removing an entry breaks the chain from that point on; the ``audit_head`` row (updated in the
same transaction) holds the last sequence number and hash, MACed with the deployment secret, so
cutting entries off the end is detected too (unless the attacker also holds the secret: keep the
checkpoints that :func:`verify` returns outside the database for that case). Writers are serialized on the head row (``SELECT ... FOR UPDATE`` on PostgreSQL,
the database write lock on SQLite), which also gives gap-free sequence numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lienthong.audit.models import AuditEntry, AuditHead
from lienthong.db import aware, utcnow
from lienthong.identity.principal import Principal

GENESIS = "0" * 64


def _iso(ts: datetime) -> str:
    return aware(ts).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(prev_hash: str, *, seq: int, at: datetime, actor_type: str, actor_id: str, action: str,
               resource: str, resource_id: str | None, subject_id: str | None, purpose: str,
               detail: dict) -> str:
    body = json.dumps(
        {
            "seq": seq, "at": _iso(at), "actor_type": actor_type, "actor_id": actor_id,
            "action": action, "resource": resource, "resource_id": resource_id,
            "subject_id": subject_id, "purpose": purpose, "detail": detail,
        },
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str,
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _lock_head(session: Session) -> AuditHead:
    """The head row, locked for this transaction (created on first use, race-free)."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        # Take the database write lock *before* reading the head: a plain SELECT runs outside a
        # transaction in pysqlite, so two writers could otherwise read the same head and collide.
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq)
                        .execution_options(synchronize_session=False))
    stmt = select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    if dialect == "postgresql":
        stmt = stmt.with_for_update()
    head = session.scalars(stmt).first()
    if head is None:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        session.execute(insert(AuditHead).values(id=1, seq=0, hash=GENESIS).on_conflict_do_nothing())
        head = session.scalars(stmt).one()
    return head


def record(session: Session, principal: Principal, action: str, resource: str, *,
           resource_id: str | None = None, subject_id: str | None = None, purpose: str,
           detail: dict | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction (it commits or rolls back with the data)."""
    if not purpose:
        raise ValueError("an audit entry needs a purpose")
    detail = json.loads(json.dumps(detail or {}, default=str))
    head = _lock_head(session)
    seq = head.seq + 1
    at = utcnow()
    digest = entry_hash(
        head.hash, seq=seq, at=at, actor_type=principal.actor_type, actor_id=principal.subject,
        action=action, resource=resource, resource_id=resource_id, subject_id=subject_id,
        purpose=purpose, detail=detail,
    )
    entry = AuditEntry(
        seq=seq, at=at, actor_type=principal.actor_type, actor_id=principal.subject, action=action,
        resource=resource, resource_id=resource_id, subject_id=subject_id, purpose=purpose,
        detail=detail, prev_hash=head.hash, hash=digest,
    )
    session.add(entry)
    head.seq = seq
    head.hash = digest
    head.mac = head_mac(seq, digest)
    session.flush()
    return entry


def head_mac(seq: int, digest: str) -> str:
    from lienthong.identity.keys import secret_key

    return hmac.new(secret_key(), f"{seq}:{digest}".encode(), hashlib.sha256).hexdigest()


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str = ""
    # The last verified hash: keep it outside the database (with ``entries``) as a checkpoint and
    # pass it back to :func:`verify` later; only that detects a rewrite of the chain's tail by
    # someone able to recompute the hashes and the head row.
    head_hash: str = GENESIS


def iter_entries(session: Session, batch: int = 5000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify(session: Session, progress=None, *, checkpoint: tuple[int, str] | None = None) -> VerifyResult:
    """Recompute the whole chain. ``progress(n)`` is called every 1,000 entries if given.

    ``checkpoint=(seq, hash)``, from an earlier result kept elsewhere, must still be in the chain.
    """
    prev = GENESIS
    expected_seq = 1
    count = 0
    for e in iter_entries(session):
        if e.seq != expected_seq:
            return VerifyResult(False, count, expected_seq, f"thiếu bản ghi số {expected_seq}", prev)
        if e.prev_hash != prev:
            return VerifyResult(False, count, e.seq, "liên kết băm với bản ghi trước bị sai", prev)
        digest = entry_hash(
            prev, seq=e.seq, at=e.at, actor_type=e.actor_type, actor_id=e.actor_id, action=e.action,
            resource=e.resource, resource_id=e.resource_id, subject_id=e.subject_id,
            purpose=e.purpose, detail=e.detail,
        )
        if digest != e.hash:
            return VerifyResult(False, count, e.seq, "nội dung bản ghi đã bị sửa", prev)
        if checkpoint is not None and e.seq == checkpoint[0] and e.hash != checkpoint[1]:
            return VerifyResult(False, count, e.seq, "bản ghi khác với mốc kiểm tra đã lưu", prev)
        prev = e.hash
        expected_seq += 1
        count += 1
        if progress and count % 1000 == 0:
            progress(count)
    head = session.get(AuditHead, 1, populate_existing=True)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq > count:
        return VerifyResult(False, count, count + 1,
                            f"thiếu các bản ghi cuối: đầu chuỗi ghi số {head_seq}, chỉ còn {count}", prev)
    if head_seq < count:
        return VerifyResult(False, count, head_seq + 1,
                            f"có bản ghi sau đầu chuỗi (số {head_seq}): bị chèn thêm", prev)
    if head_hash != prev:
        return VerifyResult(False, count, max(count, 1), "bản ghi cuối không khớp đầu chuỗi", prev)
    if head is not None and count and not hmac.compare_digest(head.mac or "", head_mac(head_seq, head_hash)):
        return VerifyResult(False, count, head_seq + 1,
                            "đầu chuỗi không có chữ ký hợp lệ: các bản ghi cuối có thể đã bị cắt bỏ", prev)
    if checkpoint is not None and checkpoint[0] > count:
        return VerifyResult(False, count, count + 1,
                            f"nhật ký ngắn hơn mốc kiểm tra đã lưu (số {checkpoint[0]})", prev)
    return VerifyResult(True, count, head_hash=prev)


def entries_about(session: Session, personal_id: str, limit: int = 100, before_seq: int | None = None) -> list[AuditEntry]:
    """What was done with a citizen's data, newest first (the citizen's own access history)."""
    stmt = select(AuditEntry).where(AuditEntry.subject_id == personal_id)
    if before_seq is not None:
        stmt = stmt.where(AuditEntry.seq < before_seq)
    return list(session.scalars(stmt.order_by(AuditEntry.seq.desc()).limit(limit)))
