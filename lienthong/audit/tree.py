"""The audit log's Merkle tree as stored: leaf hashes in ``audit_log`` (by ``leaf_index``) and the
interior nodes of levels 8, 16, 24, … in ``audit_tree_nodes`` (written by the sequencer).

:meth:`DbTree.subtree` gives ``MTH(D[start:end])`` for the proof functions of
:mod:`lienthong.audit.merkle`; any perfect, aligned subtree is computed from at most 128 stored
hashes of the stored level below it (one range query), so a proof costs O(log n) small reads.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.audit import merkle
from lienthong.audit.models import AuditEntry, AuditTreeNode

NODE_STRIDE = 8  # interior nodes are stored at levels that are multiples of this


def stored_level(level: int) -> bool:
    return level > 0 and level % NODE_STRIDE == 0


class DbTree:
    def __init__(self, session: Session):
        self.session = session
        self._cache: dict[tuple[int, int], bytes] = {}

    def _leaves(self, lo: int, hi: int) -> list[bytes]:
        t = AuditEntry.__table__
        rows = self.session.execute(select(t.c.leaf_index, t.c.hash, t.c.prev_hash)
                                    .where(t.c.leaf_index >= lo, t.c.leaf_index < hi).order_by(t.c.leaf_index)).all()
        if [r.leaf_index for r in rows] != list(range(lo, hi)):
            raise LookupError(f"audit log positions {lo}..{hi - 1} are incomplete")
        from lienthong.audit.service import leaf_of

        return [leaf_of(r) for r in rows]

    def _stored(self, level: int, lo: int, hi: int) -> list[bytes]:
        t = AuditTreeNode.__table__
        rows = self.session.execute(select(t.c.idx, t.c.hash).where(t.c.level == level, t.c.idx >= lo, t.c.idx < hi)
                                    .order_by(t.c.idx)).all()
        if [r.idx for r in rows] != list(range(lo, hi)):
            raise LookupError(f"audit tree nodes {level}:{lo}..{hi - 1} are missing")
        return [bytes.fromhex(r.hash) for r in rows]

    def node(self, level: int, index: int) -> bytes:
        """The root of the perfect subtree of leaves ``[index << level, (index + 1) << level)``."""
        key = (level, index)
        if key in self._cache:
            return self._cache[key]
        base = level - level % NODE_STRIDE
        span = level - base
        lo, hi = index << span, (index + 1) << span
        hashes = self._leaves(lo, hi) if base == 0 else self._stored(base, lo, hi)
        while len(hashes) > 1:
            hashes = [merkle.node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
        self._cache[key] = hashes[0]
        return hashes[0]

    def subtree(self, start: int, end: int) -> bytes:
        n = end - start
        if n <= 0:
            return merkle.EMPTY_ROOT
        if merkle.is_power_of_two(n) and start % n == 0:
            return self.node(n.bit_length() - 1, start // n)
        k = merkle.split_point(n)
        return merkle.node_hash(self.subtree(start, start + k), self.subtree(start + k, end))
