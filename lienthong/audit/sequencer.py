"""The audit log's sequencer: gives committed entries their position in the log, extends the Merkle
tree and signs a checkpoint, in batches (Trillian's log signer, in one transaction per pass).

One pass (:func:`sequence`):

1. locks the tree state (the ``audit_head`` row; on PostgreSQL with ``SKIP LOCKED``, so a second
   sequencer, e.g. in another server process, skips the pass instead of waiting; on SQLite by
   taking the database write lock);
2. absorbs entries that already have a position beyond the tree (the entries migration 0005 placed,
   written before the log became a tree);
3. reads up to ``batch`` entries without a position, oldest first (a partial index holds exactly
   those), checks each one's hash against its content and its MAC (an entry that fails is left
   out, logged, and reported by ``lienthong audit verify``), and appends them to the tree;
4. writes the positions, the interior nodes of levels 8, 16, … that became complete, the new tree
   state, and a checkpoint signed with the log's key; the caller's transaction commits them together.

Entries are sequenced in the order their ``seq`` was allocated among those committed by the time of
the pass; an entry whose transaction commits later simply gets a later position.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, field

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from lienthong.audit import merkle
from lienthong.audit.checkpoint import Checkpoint, origin, sign_checkpoint, signer
from lienthong.audit.models import AuditCheckpoint, AuditEntry, AuditHead, AuditTreeNode
from lienthong.audit.service import GENESIS, entry_problem, leaf_of, tree_mac
from lienthong.audit.tree import stored_level
from lienthong.db import session_factory, utcnow

log = logging.getLogger(__name__)

DEFAULT_BATCH = 20_000
PAGE = 2_000


@dataclass
class SequenceResult:
    sequenced: int = 0  # entries given a position in this pass (including placed ones absorbed)
    tree_size: int = 0
    root: str = merkle.EMPTY_ROOT.hex()
    rejected: list[int] = field(default_factory=list)  # seq of entries refused (hash or MAC wrong)
    checkpoint: str | None = None  # the signed note written by this pass
    skipped: bool = False  # another sequencer holds the tree (PostgreSQL)


def _lock_head(session: Session) -> AuditHead | None:
    dialect = session.get_bind().dialect.name
    t = AuditHead.__table__
    if dialect == "sqlite":
        # Take the write lock before reading (pysqlite runs a plain SELECT outside a transaction).
        session.execute(update(t).where(t.c.id == 1).values(seq=t.c.seq))
    stmt = select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    if dialect == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    head = session.scalars(stmt).first()
    if head is None:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert
        created = session.execute(upsert(t).values(id=1, seq=0, hash=GENESIS, tree_size=0, frontier=[])
                                  .on_conflict_do_nothing()).rowcount
        head = session.scalars(stmt).first()
        if head is None and not created:  # created and locked by a concurrent sequencer
            return None
    return head


def sequence(session: Session, *, batch: int = DEFAULT_BATCH) -> SequenceResult:
    """One sequencing pass in the caller's transaction (see the module docstring)."""
    head = _lock_head(session)
    if head is None:
        return SequenceResult(skipped=True)
    try:
        frontier = merkle.Frontier.from_hex(head.tree_size or 0, head.frontier or [])
    except ValueError:
        frontier = None
    if frontier is None or (frontier.size and (
            frontier.root().hex() != head.tree_root
            or not hmac.compare_digest(head.tree_mac or "", tree_mac(frontier.size, head.tree_root or "")))):
        log.error("audit log: the tree state in audit_head is not the one the sequencer left (size %s); "
                  "not sequencing (run `lienthong audit verify`)", head.tree_size)
        return SequenceResult(tree_size=head.tree_size or 0, root=head.tree_root or merkle.EMPTY_ROOT.hex())
    result = SequenceResult(tree_size=frontier.size, root=frontier.root().hex())
    t = AuditEntry.__table__
    nodes: list[dict] = []

    def append(leaf: bytes) -> None:
        for level, idx, h in frontier.append(leaf):
            if stored_level(level):
                nodes.append({"level": level, "idx": idx, "hash": h.hex()})

    # 2. entries placed beyond the tree (migration 0005): absorbed in position order, no gap allowed.
    placed = 0
    while placed < batch:
        rows = session.execute(select(t.c.leaf_index, t.c.hash, t.c.prev_hash).where(t.c.leaf_index >= frontier.size)
                               .order_by(t.c.leaf_index).limit(min(PAGE, batch - placed))).all()
        if not rows:
            break
        for r in rows:
            if r.leaf_index != frontier.size:
                log.error("audit log: position %d is missing before placed entry %d; not sequencing "
                          "(run `lienthong audit verify`)", frontier.size, r.leaf_index)
                return result
            append(leaf_of(r))
            placed += 1

    # 3. entries without a position, oldest first.
    positions: list[dict] = []
    last = 0
    while placed + len(positions) < batch:
        rows = session.execute(select(t).where(t.c.leaf_index.is_(None), t.c.seq > last).order_by(t.c.seq)
                               .limit(min(PAGE, batch - placed - len(positions)))).all()
        if not rows:
            break
        for r in rows:
            last = r.seq
            problem = entry_problem(r)
            if problem:
                result.rejected.append(r.seq)
                log.error("audit log: entry %d not sequenced: %s", r.seq, problem)
                continue
            positions.append({"b_seq": r.seq, "b_index": frontier.size})
            append(bytes.fromhex(r.hash))

    if not placed and not positions:
        return result
    if positions:
        _set_positions(session, positions)
    if nodes:
        session.execute(insert(AuditTreeNode.__table__), nodes)
    root = frontier.root()
    note = sign_checkpoint(Checkpoint(origin(), frontier.size, root), signer())
    session.execute(update(AuditHead.__table__).where(AuditHead.id == 1).values(
        tree_size=frontier.size, tree_root=root.hex(), frontier=frontier.to_hex(),
        tree_mac=tree_mac(frontier.size, root.hex())))
    session.add(AuditCheckpoint(tree_size=frontier.size, root=root.hex(), signed_at=utcnow(), note=note))
    session.flush()
    result.sequenced = placed + len(positions)
    result.tree_size, result.root, result.checkpoint = frontier.size, root.hex(), note
    return result


def _set_positions(session: Session, positions: list[dict]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(
            "UPDATE audit_log AS a SET leaf_index = v.idx FROM unnest(CAST(:seqs AS bigint[]), "
            "CAST(:idxs AS bigint[])) AS v(seq, idx) WHERE a.seq = v.seq"),
            {"seqs": [p["b_seq"] for p in positions], "idxs": [p["b_index"] for p in positions]})
        return
    t = AuditEntry.__table__
    session.execute(update(t).where(t.c.seq == bindparam("b_seq")).values(leaf_index=bindparam("b_index"))
                    .execution_options(synchronize_session=False), positions)


def run_once(database_url: str | None = None, *, batch: int = DEFAULT_BATCH) -> SequenceResult:
    """One pass in its own transaction; passes back to back while a full batch was sequenced."""
    total = SequenceResult()
    while True:
        with session_factory(database_url)() as session:
            r = sequence(session, batch=batch)
            session.commit()
        total.sequenced += r.sequenced
        total.rejected += r.rejected
        total.skipped = r.skipped
        if r.checkpoint or not total.checkpoint:
            total.tree_size, total.root = r.tree_size, r.root
            total.checkpoint = r.checkpoint or total.checkpoint
        if r.sequenced < batch or r.skipped:
            return total
