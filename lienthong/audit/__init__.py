"""Tamper-evident audit log of every read or write of personal data, as a transparency log:
insert-only entries, a sequencer that builds an RFC 6962 Merkle tree with signed checkpoints,
inclusion and consistency proofs (see :mod:`lienthong.audit.service`)."""
