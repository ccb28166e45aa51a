"""Merkle tree hashing, inclusion and consistency proofs (RFC 6962 §2.1, RFC 9162 §2.1). Pure functions.

The tree over leaves ``d(0) … d(n-1)`` is the Merkle Tree Hash of RFC 9162 §2.1.1::

    MTH({})      = SHA-256()
    MTH({d(0)})  = SHA-256(0x00 || d(0))                       (leaf hash)
    MTH(D[n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  k = largest power of two < n

This module works on *leaf hashes* (``SHA-256(0x00 || leaf data)``, see :func:`leaf_hash`): the log
stores one per entry. Proof generation takes a function ``subtree(start, end) -> bytes`` that returns
``MTH(D[start:end])``, so the same code serves an in-memory list (tests, :func:`tree_hash`) and the
database-backed tree (:mod:`lienthong.audit.tree`), which keeps some interior nodes.

:class:`Frontier` is the compact form of a tree that grows by appending (one hash per set bit of the
size, the roots of its perfect subtrees from left to right): appending is O(log n) and reports each
completed interior node, which the sequencer stores at some levels so proofs need few reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Subtree = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2)."""
    if n < 2:
        raise ValueError("split_point needs n >= 2")
    return 1 << ((n - 1).bit_length() - 1)


def is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


# --- growing tree ----------------------------------------------------------------------------------------


class Frontier:
    """The roots of the perfect subtrees that make up a tree of ``size`` leaves, largest first."""

    __slots__ = ("size", "nodes")

    def __init__(self, size: int = 0, nodes: Sequence[bytes] = ()):
        if len(nodes) != bin(size).count("1"):
            raise ValueError(f"a frontier of size {size} has {bin(size).count('1')} nodes, not {len(nodes)}")
        self.size = size
        self.nodes = list(nodes)

    def copy(self) -> Frontier:
        return Frontier(self.size, self.nodes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf hash; returns the interior nodes it completes as ``(level, index, hash)``
        (``level`` >= 1; the node covers leaves ``[index << level, (index + 1) << level)``)."""
        created: list[tuple[int, int, bytes]] = []
        h, level, index, n = leaf, 0, self.size, self.size
        while n & 1:
            h = node_hash(self.nodes.pop(), h)
            level += 1
            index >>= 1
            n >>= 1
            created.append((level, index, h))
        self.nodes.append(h)
        self.size += 1
        return created

    def root(self) -> bytes:
        if not self.nodes:
            return EMPTY_ROOT
        r = self.nodes[-1]
        for node in reversed(self.nodes[:-1]):
            r = node_hash(node, r)
        return r

    def to_hex(self) -> list[str]:
        return [n.hex() for n in self.nodes]

    @classmethod
    def from_hex(cls, size: int, nodes: Sequence[str]) -> Frontier:
        return cls(size, [bytes.fromhex(n) for n in nodes])


# --- proofs ----------------------------------------------------------------------------------------------


def subtree_from_leaves(leaves: Sequence[bytes]) -> Subtree:
    """``subtree(start, end)`` over an in-memory list of leaf hashes (reference implementation)."""

    def mth(start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n == 1:
            return leaves[start]
        k = split_point(n)
        return node_hash(mth(start, start + k), mth(start + k, end))

    return mth


def tree_hash(leaves: Sequence[bytes]) -> bytes:
    """``MTH`` of a list of leaf hashes."""
    return subtree_from_leaves(leaves)(0, len(leaves))


def inclusion_path(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 6962 §2.1.1 ``PATH``)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    path.reverse()  # innermost sibling first
    return path


def consistency_path(first: int, second: int, subtree: Subtree) -> list[bytes]:
    """The proof that the tree of ``first`` leaves is a prefix of that of ``second`` (RFC 6962 §2.1.2)."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second}")
    proof: list[bytes] = []

    def sub(m: int, start: int, end: int, complete: bool) -> None:
        n = end - start
        if m == n:
            if not complete:
                proof.append(subtree(start, end))
            return
        k = split_point(n)
        if m <= k:
            sub(m, start, start + k, complete)
            proof.append(subtree(start + k, end))
        else:
            sub(m - k, start + k, end, False)
            proof.append(subtree(start, start + k))

    sub(first, 0, second, True)
    return proof


def root_from_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """The root that ``path`` proves ``leaf`` at ``index`` to be under, or None if the path has the
    wrong shape (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    return root_from_inclusion(leaf, index, size, path) == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       path: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    if not path:
        return False
    path = list(path)
    if is_power_of_two(first):
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
