"""Recording, sequencing, proving and verifying the audit log: a transparency log in the style of
Certificate Transparency / Trillian (RFC 6962 / RFC 9162 Merkle tree, C2SP signed checkpoints).

* **Writers** (:func:`record`, in the caller's transaction) only insert: each entry carries its own
  Merkle leaf hash ``SHA-256(0x00 || canonical JSON of its content)`` (the content includes a random
  nonce, so no two entries share a hash) and an HMAC of that hash under the deployment secret. No
  shared row is read or locked, so audited requests of the whole deployment no longer queue behind
  one another; an entry rolled back with its request leaves no trace.
* The **sequencer** (:mod:`lienthong.audit.sequencer`; run by ``lienthong worker`` and by ``serve``'s
  background jobs every ``LIENTHONG_AUDIT_SEQUENCE_INTERVAL_S``) takes the committed entries without a
  position, checks their hash and MAC, gives them consecutive positions (``leaf_index``), extends the
  Merkle tree and signs a checkpoint of it (tree size + root, Ed25519) in one transaction.
* **Verification** (:func:`verify`, ``lienthong audit verify``) recomputes every entry's hash and the
  tree, and checks each signed checkpoint against it: an edited entry (content vs hash), an inserted
  one (MAC, or a position the tree does not cover), a deleted one (a missing position) and a cut-off
  tail (checkpoints and the head name a larger tree) are all reported. A checkpoint kept outside the
  database (the signed note ``verify`` prints, or ``SIZE:ROOT``) also catches someone who holds the
  deployment secret and rewrites history: the root of the tree at that size would differ.
* **Proofs**: :func:`prove` gives an entry's RFC 9162 inclusion proof against the latest signed
  checkpoint, and :func:`consistency` the proof that an older checkpoint is a prefix of a newer one.

Entries written before migration 0005 keep their hash chain; they were given the first positions of
the tree by that migration and are verified as a chain, as before (including the chain head's MAC).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.audit import merkle
from lienthong.audit.checkpoint import Checkpoint, CheckpointError, open_checkpoint, origin, trusted_verifiers
from lienthong.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from lienthong.db import aware, utcnow
from lienthong.errors import Conflict, DomainError, NotFound
from lienthong.identity.principal import Principal

GENESIS = "0" * 64  # prev_hash of the first entry of the legacy chain
ENTRY_FORMAT = 1
EMPTY_ROOT = merkle.EMPTY_ROOT.hex()


def _iso(ts: datetime) -> str:
    return aware(ts).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- entry hashing -------------------------------------------------------------------------------------------


def leaf_data(*, nonce: str, at: datetime, actor_type: str, actor_id: str, action: str, resource: str,
              resource_id: str | None, subject_id: str | None, purpose: str, detail: dict) -> bytes:
    """The bytes an entry's Merkle leaf hashes: canonical JSON (sorted keys, no spaces, UTF-8)."""
    return json.dumps(
        {
            "v": ENTRY_FORMAT, "nonce": nonce, "at": _iso(at), "actor_type": actor_type, "actor_id": actor_id,
            "action": action, "resource": resource, "resource_id": resource_id, "subject_id": subject_id,
            "purpose": purpose, "detail": detail,
        },
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str,
    ).encode()


def entry_leaf_hash(**fields) -> str:
    return merkle.leaf_hash(leaf_data(**fields)).hex()


def entry_mac(leaf_hex: str) -> str:
    """HMAC-SHA256 of an entry's leaf hash under the deployment secret: forging an entry takes the secret."""
    from lienthong.identity.keys import secret_key

    return hmac.new(secret_key(), b"lienthong-audit-entry\x00" + bytes.fromhex(leaf_hex), hashlib.sha256).hexdigest()


def legacy_chain_hash(prev_hash: str, *, seq: int, at: datetime, actor_type: str, actor_id: str, action: str,
                      resource: str, resource_id: str | None, subject_id: str | None, purpose: str,
                      detail: dict) -> str:
    """The hash of an entry written before migration 0005: ``SHA-256(prev_hash || canonical JSON)``."""
    body = json.dumps(
        {
            "seq": seq, "at": _iso(at), "actor_type": actor_type, "actor_id": actor_id,
            "action": action, "resource": resource, "resource_id": resource_id,
            "subject_id": subject_id, "purpose": purpose, "detail": detail,
        },
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str,
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def head_mac(seq: int, digest: str) -> str:
    """HMAC of the legacy chain head (``seq:hash``)."""
    from lienthong.identity.keys import secret_key

    return hmac.new(secret_key(), f"{seq}:{digest}".encode(), hashlib.sha256).hexdigest()


def tree_mac(size: int, root_hex: str) -> str:
    """HMAC of the tree state the sequencer leaves in ``audit_head``."""
    from lienthong.identity.keys import secret_key

    return hmac.new(secret_key(), f"tree:{size}:{root_hex}".encode(), hashlib.sha256).hexdigest()


def _fields(e) -> dict:
    return dict(nonce=e.nonce or "", at=e.at, actor_type=e.actor_type, actor_id=e.actor_id, action=e.action,
                resource=e.resource, resource_id=e.resource_id, subject_id=e.subject_id, purpose=e.purpose,
                detail=e.detail if e.detail is not None else {})


def leaf_of(e) -> bytes:
    """The Merkle leaf hash of a stored entry (ORM object or row), as stored (not recomputed)."""
    if e.prev_hash is not None:  # legacy: the leaf data is the 32-byte chain hash
        return merkle.leaf_hash(bytes.fromhex(e.hash))
    return bytes.fromhex(e.hash)


def entry_problem(e) -> str | None:
    """Why a new-style entry cannot be trusted (its content does not give its hash, or its MAC is
    not the deployment's), or None."""
    if e.prev_hash is not None or not e.nonce:
        return "bản ghi không đúng định dạng hiện hành"
    try:
        if entry_leaf_hash(**_fields(e)) != e.hash:
            return "nội dung bản ghi đã bị sửa"
    except (TypeError, ValueError):
        return "nội dung bản ghi đã bị sửa"
    if not e.mac or not hmac.compare_digest(e.mac, entry_mac(e.hash)):
        return "bản ghi không có mã xác thực hợp lệ: bị chèn hoặc bị sửa"
    return None


# --- writing ---------------------------------------------------------------------------------------------------


def record(session: Session, principal: Principal, action: str, resource: str, *,
           resource_id: str | None = None, subject_id: str | None = None, purpose: str,
           detail: dict | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction (it commits or rolls back with the data).

    Insert only: nothing shared is read or locked. The entry gets its position in the log from the
    sequencer a moment after it commits (see the module docstring)."""
    if not purpose:
        raise ValueError("an audit entry needs a purpose")
    detail = json.loads(json.dumps(detail or {}, default=str))
    fields = dict(nonce=secrets.token_hex(16), at=utcnow(), actor_type=principal.actor_type,
                  actor_id=principal.subject, action=action, resource=resource, resource_id=resource_id,
                  subject_id=subject_id, purpose=purpose, detail=detail)
    digest = entry_leaf_hash(**fields)
    entry = AuditEntry(**fields, hash=digest, mac=entry_mac(digest))
    session.add(entry)
    session.flush()
    return entry


# --- reading -----------------------------------------------------------------------------------------------------


def entries_about(session: Session, personal_id: str, limit: int = 100, before_seq: int | None = None) -> list[AuditEntry]:
    """What was done with a citizen's data, newest first (the citizen's own access history), sequenced
    or not: an entry is listed as soon as its transaction commits (``leaf_index`` None until sequenced)."""
    stmt = select(AuditEntry).where(AuditEntry.subject_id == personal_id)
    if before_seq is not None:
        stmt = stmt.where(AuditEntry.seq < before_seq)
    return list(session.scalars(stmt.order_by(AuditEntry.seq.desc()).limit(limit)))


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)).first()


# --- proofs --------------------------------------------------------------------------------------------------------


@dataclass
class InclusionProof:
    seq: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    path: list[str]
    root: str
    checkpoint: str  # the signed note the proof is against
    leaf_data: str  # hex of the bytes the leaf hashes (canonical JSON, or the legacy chain hash)


def _trusted_checkpoint(row: AuditCheckpoint) -> Checkpoint:
    cp = open_checkpoint(row.note, trusted_verifiers(), origin())
    if cp.size != row.tree_size or cp.root.hex() != row.root:
        raise CheckpointError("mốc kiểm tra đã ký không khớp với dữ liệu lưu kèm")
    return cp


def prove(session: Session, seq: int) -> InclusionProof:
    """The inclusion proof of entry ``seq`` in the tree of the latest signed checkpoint (checked here)."""
    from lienthong.audit.tree import DbTree

    e = session.get(AuditEntry, seq)
    if e is None:
        raise NotFound("không tìm thấy bản ghi nhật ký", field="seq")
    row = latest_checkpoint(session)
    if e.leaf_index is None or row is None or e.leaf_index >= row.tree_size:
        raise Conflict("bản ghi vừa được ghi nhận, chưa được niêm phong vào nhật ký; hãy thử lại sau vài giây",
                       field="seq")
    try:
        cp = _trusted_checkpoint(row)
    except CheckpointError as exc:
        raise DomainError(f"mốc kiểm tra mới nhất không hợp lệ: {exc}") from None
    leaf = leaf_of(e)
    path = merkle.inclusion_path(e.leaf_index, cp.size, DbTree(session).subtree)
    if not merkle.verify_inclusion(leaf, e.leaf_index, cp.size, path, cp.root):
        raise DomainError("bản ghi không nằm trong cây của mốc kiểm tra mới nhất: nhật ký có thể đã bị sửa")
    data = bytes.fromhex(e.hash) if e.prev_hash is not None else leaf_data(**_fields(e))
    return InclusionProof(seq=e.seq, leaf_index=e.leaf_index, tree_size=cp.size, leaf_hash=leaf.hex(),
                          path=[p.hex() for p in path], root=cp.root.hex(), checkpoint=row.note, leaf_data=data.hex())


def consistency(session: Session, first: int, second: int) -> list[str]:
    """The RFC 9162 consistency proof between the trees of ``first`` and ``second`` entries."""
    from lienthong.audit.tree import DbTree

    return [h.hex() for h in merkle.consistency_path(first, second, DbTree(session).subtree)]


# --- verification ----------------------------------------------------------------------------------------------------


@dataclass
class VerifyResult:
    ok: bool
    entries: int  # sequenced entries verified (the size of the verified tree)
    first_bad_seq: int | None = None  # the entry (seq) where the first problem is, when it is one entry
    problem: str = ""
    # The root of the verified tree: keep ``entries:head_hash`` (or better, ``checkpoint``) outside
    # the database and pass it back to :func:`verify` later; only that detects a rewrite of the log
    # by someone holding the deployment secret.
    head_hash: str = EMPTY_ROOT
    first_bad_index: int | None = None  # position in the log (0-based) of the first problem
    pending: int = 0  # entries committed but not sequenced yet (each checked)
    checkpoints: int = 0  # signed checkpoints checked
    checkpoint: str | None = None  # the latest signed checkpoint (a signed note), when the log is intact
    legacy: int = 0  # entries of the pre-0005 hash chain among them


@dataclass
class _Walk:
    frontier: merkle.Frontier = field(default_factory=merkle.Frontier)
    result: VerifyResult | None = None


def _bad(count: int, problem: str, *, seq: int | None = None, index: int | None = None,
         root: bytes | None = None) -> VerifyResult:
    return VerifyResult(False, count, seq, problem, (root or merkle.EMPTY_ROOT).hex(), first_bad_index=index)


def _pages(session: Session, table, key, *conditions, batch: int = 5000) -> Iterator:
    """Every row of ``table`` matching ``conditions``, in ``key`` order, read ``batch`` rows at a time."""
    last = None
    while True:
        stmt = select(table).where(*conditions)
        if last is not None:
            stmt = stmt.where(key > last)
        rows = session.execute(stmt.order_by(key).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = getattr(rows[-1], key.name)


def _by_position(session: Session) -> Iterator:
    t = AuditEntry.__table__
    return _pages(session, t, t.c.leaf_index, t.c.leaf_index.is_not(None))


def _checkpoints(session: Session) -> Iterator:
    t = AuditCheckpoint.__table__
    return _pages(session, t, t.c.tree_size, batch=2000)


def _unsequenced(session: Session) -> Iterator:
    t = AuditEntry.__table__
    return _pages(session, t, t.c.seq, t.c.leaf_index.is_(None))


def parse_external(text: str) -> tuple[int, bytes | None, str | None]:
    """A checkpoint kept outside the database: a signed note, or ``SIZE:ROOTHEX`` -> (size, root, note)."""
    text = text.strip("\ufeff")
    if "\n" in text.strip():
        note = text if text.endswith("\n") else text + "\n"
        cp = open_checkpoint(note, trusted_verifiers(), origin())
        return cp.size, cp.root, note
    size, _, root = text.strip().partition(":")
    if not size.isdigit() or len(root) != 64:
        raise CheckpointError("mốc kiểm tra phải là ghi chú đã ký hoặc SỐ:GỐC (64 ký tự hex)")
    try:
        return int(size), bytes.fromhex(root), None
    except ValueError:
        raise CheckpointError("gốc cây phải là 64 ký tự hex") from None


def verify(session: Session, progress=None, *, checkpoint: tuple[int, str] | str | None = None) -> VerifyResult:
    """Recompute the whole log and check it against the signed checkpoints (and ``checkpoint``, one
    kept outside the database: ``(size, root hex)`` or a signed note). ``progress(n)`` is called every
    1,000 entries if given."""
    ext_size = ext_root = None
    if checkpoint is not None:
        if isinstance(checkpoint, str):
            try:
                ext_size, ext_root, _ = parse_external(checkpoint)
            except CheckpointError as exc:
                return _bad(0, f"mốc kiểm tra bên ngoài không hợp lệ: {exc}")
        else:
            ext_size, ext_root = checkpoint[0], bytes.fromhex(checkpoint[1])
    head = session.get(AuditHead, 1, populate_existing=True)
    legacy = head.seq if head is not None else 0
    trusted, log_origin = trusted_verifiers(), origin()
    frontier = merkle.Frontier()
    cps = _checkpoints(session)
    next_cp = next(cps, None)
    checked = 0
    latest_note: str | None = None
    prev = GENESIS

    def check_checkpoints() -> VerifyResult | None:
        nonlocal next_cp, checked, latest_note
        while next_cp is not None and next_cp.tree_size <= frontier.size:
            size = frontier.size
            try:
                cp = open_checkpoint(next_cp.note, trusted, log_origin)
            except CheckpointError as exc:
                return _bad(size, f"mốc kiểm tra đã ký của cây {next_cp.tree_size} bản ghi không hợp lệ: {exc}",
                            index=next_cp.tree_size - 1, root=frontier.root())
            if cp.size != next_cp.tree_size or cp.root.hex() != next_cp.root:
                return _bad(size, f"mốc kiểm tra của cây {next_cp.tree_size} bản ghi không khớp chữ ký của nó",
                            index=next_cp.tree_size - 1, root=frontier.root())
            if next_cp.tree_size == size and cp.root != frontier.root():
                return _bad(size, f"các bản ghi đến số {size} khác với mốc kiểm tra đã ký: nhật ký đã bị sửa",
                            index=size - 1, root=frontier.root())
            checked += 1
            latest_note = next_cp.note
            next_cp = next(cps, None)
        return None

    for row in _by_position(session):
        i = frontier.size
        if row.leaf_index != i:
            return _bad(i, f"thiếu bản ghi số {i + 1} của nhật ký: bị xóa", index=i, root=frontier.root())
        if row.prev_hash is not None:  # the legacy hash chain
            if i >= legacy:
                return _bad(i, f"bản ghi số {i + 1} theo định dạng cũ nằm ngoài chuỗi cũ: bị chèn", seq=row.seq,
                            index=i, root=frontier.root())
            if row.prev_hash != prev:
                return _bad(i, "liên kết băm với bản ghi trước bị sai", seq=row.seq, index=i, root=frontier.root())
            digest = legacy_chain_hash(prev, seq=row.seq, at=row.at, actor_type=row.actor_type,
                                       actor_id=row.actor_id, action=row.action, resource=row.resource,
                                       resource_id=row.resource_id, subject_id=row.subject_id,
                                       purpose=row.purpose, detail=row.detail)
            if digest != row.hash:
                return _bad(i, "nội dung bản ghi đã bị sửa", seq=row.seq, index=i, root=frontier.root())
            prev = row.hash
        else:
            if i < legacy:
                return _bad(i, f"thiếu bản ghi số {i + 1} của chuỗi cũ", seq=row.seq, index=i,
                            root=frontier.root())
            problem = entry_problem(row)
            if problem:
                return _bad(i, problem, seq=row.seq, index=i, root=frontier.root())
        frontier.append(leaf_of(row))
        if frontier.size == legacy and legacy:
            if prev != head.hash or not hmac.compare_digest(head.mac or "", head_mac(head.seq, head.hash)):
                return _bad(legacy, "đầu chuỗi cũ không khớp hoặc không có chữ ký hợp lệ", index=legacy - 1,
                            root=frontier.root())
        if ext_size is not None and frontier.size == ext_size and frontier.root() != ext_root:
            return _bad(ext_size, "bản ghi khác với mốc kiểm tra đã lưu bên ngoài: nhật ký đã bị viết lại",
                        index=ext_size - 1, root=frontier.root())
        bad = check_checkpoints()
        if bad:
            return bad
        if progress and frontier.size % 1000 == 0:
            progress(frontier.size)

    size, root = frontier.size, frontier.root()
    bad = check_checkpoints()
    if bad:
        return bad
    tree_size = head.tree_size if head is not None else 0
    if legacy > size:
        return _bad(size, f"thiếu các bản ghi cuối của chuỗi cũ: đầu chuỗi ghi {legacy}, chỉ còn {size}",
                    index=size, root=root)
    if next_cp is not None:  # a signed checkpoint of a larger tree than what is left
        return _bad(size, f"thiếu các bản ghi cuối: mốc kiểm tra đã ký ghi {next_cp.tree_size} bản ghi, "
                          f"chỉ còn {size}", index=size, root=root)
    if tree_size > size:
        return _bad(size, f"thiếu các bản ghi cuối: đầu cây ghi {tree_size}, chỉ còn {size}", index=size, root=root)
    if tree_size < size:
        return _bad(size, f"có bản ghi sau đầu cây (số {tree_size}): bị chèn thêm", index=tree_size, root=root)
    if size and (head.tree_root != root.hex()):
        return _bad(size, "gốc cây lưu trong đầu cây không khớp với các bản ghi", index=size - 1, root=root)
    if size and not hmac.compare_digest(head.tree_mac or "", tree_mac(size, root.hex())):
        return _bad(size, "đầu cây không có mã xác thực hợp lệ: các bản ghi cuối có thể đã bị cắt bỏ",
                    index=size, root=root)
    if size and latest_note is None:
        return _bad(size, "cây không có mốc kiểm tra đã ký nào", index=size - 1, root=root)
    if size and Checkpoint.parse_text(latest_note.split("\n\n")[0] + "\n").size != size:
        return _bad(size, "mốc kiểm tra đã ký mới nhất không bao trùm cây: các bản ghi cuối chưa được ký",
                    index=size - 1, root=root)
    if ext_size is not None and ext_size > size:
        return _bad(size, f"nhật ký ngắn hơn mốc kiểm tra đã lưu bên ngoài (số {ext_size})", index=size, root=root)

    pending = 0
    for row in _unsequenced(session):
        problem = entry_problem(row)
        if problem:
            return _bad(size, f"bản ghi chưa niêm phong: {problem}", seq=row.seq, root=root)
        pending += 1
    return VerifyResult(True, size, head_hash=root.hex(), pending=pending, checkpoints=checked,
                        checkpoint=latest_note, legacy=min(legacy, size))


def counts(session: Session) -> tuple[int, int]:
    """(sequenced, pending) entries."""
    t = AuditEntry.__table__
    total = session.scalar(select(func.count()).select_from(t)) or 0
    pending = session.scalar(select(func.count()).select_from(t).where(t.c.leaf_index.is_(None))) or 0
    return total - pending, pending
