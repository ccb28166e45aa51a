"""Audit log tables: the entries, the sequencer's tree state, stored tree nodes and signed checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from lienthong.db import Base, BigId, JsonType, UTCDateTime


class AuditEntry(Base):
    """One audited action, written by the request that did it (insert only, no shared lock).

    ``hash`` is the entry's Merkle leaf hash, ``SHA-256(0x00 || canonical JSON of its content)``,
    and ``mac`` an HMAC of it under the deployment secret, both computed by the writer; the
    sequencer later gives the entry its position in the log (``leaf_index``). ``seq`` is the
    insertion id (paging, newest first); ``leaf_index`` is the order the log commits to.

    Entries written before migration 0005 (``prev_hash`` set) keep their hash chain
    (``hash = SHA-256(prev_hash || content)``); their Merkle leaf is that chain hash.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_type: Mapped[str] = mapped_column(String(16))  # citizen, officer, admin, facility, agency, system
    actor_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))  # read, create, update, delete, login, ...
    resource: Mapped[str] = mapped_column(String(64))  # e.g. population.citizen
    resource_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    subject_id: Mapped[str | None] = mapped_column(String(12), nullable=True)  # data subject
    purpose: Mapped[str] = mapped_column(String(255))
    detail: Mapped[dict] = mapped_column(JsonType, default=dict)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)  # legacy chain only
    hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str | None] = mapped_column(String(32), nullable=True)
    mac: Mapped[str | None] = mapped_column(String(64), nullable=True)
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (
        Index("ix_audit_log_subject_seq", "subject_id", "seq"),
        Index("uq_audit_log_leaf_index", "leaf_index", unique=True),
        # The sequencer's queue: only entries still waiting for a position are in this index.
        Index("ix_audit_log_unsequenced", "seq", postgresql_where=text("leaf_index IS NULL"),
              sqlite_where=text("leaf_index IS NULL")),
    )


class AuditHead(Base):
    """The sequencer's state (one row, ``id = 1``), changed only by the sequencer.

    ``tree_size``/``tree_root``/``frontier``/``tree_mac``: the Merkle tree over the sequenced entries (the
    frontier holds the roots of its perfect subtrees, see :class:`lienthong.audit.merkle.Frontier`).
    ``seq``/``hash``/``mac``: the head of the legacy hash chain (entries written before migration
    0005), frozen: the number of legacy entries, the last one's chain hash, and its HMAC.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId)
    hash: Mapped[str] = mapped_column(String(64))
    # HMAC-SHA256 of "seq:hash" under the deployment secret: resetting the head after cutting
    # entries off the end needs the secret, not just write access to the database.
    mac: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    tree_root: Mapped[str | None] = mapped_column(String(64), nullable=True)
    frontier: Mapped[list | None] = mapped_column(JsonType, nullable=True)
    # HMAC of "tree:size:root" under the deployment secret. The older signed checkpoints stay in the
    # database, so without it cutting the tail off and resetting the tree state to an older
    # checkpoint would need no secret.
    tree_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditTreeNode(Base):
    """Interior nodes of the Merkle tree at levels 8, 16, 24, … (each covers 2**level entries), so
    that an inclusion or consistency proof reads at most a few hundred hashes per level group."""

    __tablename__ = "audit_tree_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed tree head (C2SP checkpoint in a signed note), one per sequencing pass that grew the tree."""

    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text)
