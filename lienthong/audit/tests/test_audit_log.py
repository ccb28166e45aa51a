"""The audit log as a transparency log, on both databases: writers only insert, the sequencer builds
the Merkle tree and signs checkpoints, and verification detects edits, insertions, deletions and
truncation (an attacker who holds the deployment secret needs a checkpoint kept elsewhere)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, insert, select, update

from lienthong.audit import merkle, sequencer, service
from lienthong.audit.checkpoint import Checkpoint, Signer, sign_checkpoint
from lienthong.audit.models import AuditCheckpoint, AuditEntry, AuditHead, AuditTreeNode
from lienthong.audit.tree import DbTree
from lienthong.db import get_engine, unit_of_work
from lienthong.identity.principal import Principal

OFFICER = Principal(kind="officer", subject="079088001234", name="Cán bộ Hộ tịch", personal_id="079088001234",
                    assurance_level=2, province_code=79)
FACILITY = Principal(kind="facility", subject="bv-cho-ray", facility_code="79001", scopes=frozenset({"x"}))
CITIZENS = ["001099000001", "001099000002", "079199000003"]


def _fill(url: str, n: int, per_txn: int = 50, start: int = 0) -> None:
    done = 0
    while done < n:
        with unit_of_work(url) as s:
            for _ in range(min(per_txn, n - done)):
                i = start + done
                who = OFFICER if i % 2 else FACILITY
                service.record(s, who, "read" if i % 3 else "update", "population.citizen",
                               resource_id=CITIZENS[i % 3], subject_id=CITIZENS[i % 3],
                               purpose=f"giải quyết hồ sơ số {i}", detail={"i": i, "ghi_chú": "kiểm tra"})
                done += 1


def _seq(url: str, **kw) -> sequencer.SequenceResult:
    return sequencer.run_once(url, **kw)


def _verify(url: str, **kw) -> service.VerifyResult:
    with unit_of_work(url) as s:
        return service.verify(s, **kw)


def _sql(url: str, stmt) -> None:
    with get_engine(url).begin() as conn:
        conn.execute(stmt)


def _entry(url: str, seq: int) -> AuditEntry:
    with unit_of_work(url) as s:
        return s.get(AuditEntry, seq)


def _logged(url: str, n: int) -> service.VerifyResult:
    _fill(url, n)
    _seq(url)
    r = _verify(url)
    assert r.ok and r.entries == n, r
    return r


def test_empty_log_verifies(db_url):
    r = _verify(db_url)
    assert r.ok and r.entries == 0 and r.first_bad_seq is None and r.head_hash == service.EMPTY_ROOT
    assert _seq(db_url).sequenced == 0


def test_entries_are_sealed_by_the_sequencer_and_verify(db_url):
    _fill(db_url, 700, per_txn=350)
    with unit_of_work(db_url) as s:  # written, listed at once, not sequenced yet
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.leaf_index.is_(None))) == 700
        mine = service.entries_about(s, CITIZENS[0], limit=3)
        assert [e.leaf_index for e in mine] == [None] * 3
    pending = _verify(db_url)
    assert pending.ok and pending.entries == 0 and pending.pending == 700
    r = _seq(db_url, batch=500)  # two passes: 500, then 200
    assert r.sequenced == 700 and r.tree_size == 700 and not r.rejected
    calls: list[int] = []
    with unit_of_work(db_url) as s:
        v = service.verify(s, progress=calls.append)
        positions = list(s.scalars(select(AuditEntry.leaf_index).order_by(AuditEntry.seq)))
        leaves = [bytes.fromhex(h) for h in s.scalars(select(AuditEntry.hash).order_by(AuditEntry.leaf_index))]
        nodes = s.scalar(select(func.count()).select_from(AuditTreeNode))
        checkpoints = list(s.scalars(select(AuditCheckpoint.tree_size).order_by(AuditCheckpoint.tree_size)))
        head = s.get(AuditHead, 1)
    assert v.ok and v.entries == 700 and v.pending == 0 and v.checkpoints == 2 and calls == []
    assert positions == list(range(700))  # in seq order, gap-free
    assert v.head_hash == merkle.tree_hash(leaves).hex() == head.tree_root == r.root
    assert nodes == 2  # two complete subtrees of 256 entries (level 8)
    assert checkpoints == [500, 700]
    assert v.checkpoint.startswith(f"lienthong/audit\n700\n")


def test_record_requires_a_purpose(db_url):
    with unit_of_work(db_url) as s, pytest.raises(ValueError):
        service.record(s, OFFICER, "read", "population.citizen", purpose="")


TAMPERS = {
    "at": datetime(2020, 1, 1, tzinfo=UTC),
    "actor_type": "admin",
    "actor_id": "someone-else",
    "action": "delete",
    "resource": "health.record",
    "resource_id": "001099999999",
    "subject_id": "001099999999",
    "purpose": "không có lý do",
    "detail": {"i": 4, "ghi_chú": "đã sửa"},
    "nonce": "f" * 32,
    "hash": "e" * 64,
    "mac": "d" * 64,
}


@pytest.mark.parametrize("field", sorted(TAMPERS))
def test_changing_any_field_of_a_sealed_entry_is_detected(db_url, field):
    _logged(db_url, 10)
    _sql(db_url, update(AuditEntry).where(AuditEntry.seq == 5).values({field: TAMPERS[field]}))
    r = _verify(db_url)
    assert not r.ok and r.first_bad_seq == 5 and r.first_bad_index == 4 and r.entries == 4 and r.problem


def test_clearing_an_optional_field_is_detected(db_url):
    _logged(db_url, 6)
    _sql(db_url, update(AuditEntry).where(AuditEntry.seq == 3).values(subject_id=None))
    r = _verify(db_url)
    assert not r.ok and r.first_bad_seq == 3


def test_rewriting_an_entry_with_its_recomputed_hash_is_caught_by_its_mac(db_url):
    _logged(db_url, 10)
    e = _entry(db_url, 5)
    fields = service._fields(e) | {"purpose": "mục đích bịa ra"}
    _sql(db_url, update(AuditEntry).where(AuditEntry.seq == 5).values(
        purpose="mục đích bịa ra", hash=service.entry_leaf_hash(**fields)))
    r = _verify(db_url)
    assert not r.ok and r.first_bad_seq == 5 and "mã xác thực" in r.problem


def test_a_rewrite_with_the_secret_is_caught_by_the_signed_checkpoints(db_url):
    _logged(db_url, 10)
    e = _entry(db_url, 5)
    digest = service.entry_leaf_hash(**(service._fields(e) | {"purpose": "mục đích bịa ra"}))
    _sql(db_url, update(AuditEntry).where(AuditEntry.seq == 5).values(
        purpose="mục đích bịa ra", hash=digest, mac=service.entry_mac(digest)))
    r = _verify(db_url)
    assert not r.ok and "mốc kiểm tra" in r.problem and r.entries == 10


def test_a_full_rewrite_with_the_secret_needs_a_checkpoint_kept_elsewhere(db_url):
    """Someone holding the secret (hence the derived signing key) rewrites entry 5 and rebuilds the
    tree state and every checkpoint: only a checkpoint kept outside the database shows it."""
    kept = _logged(db_url, 10)
    e = _entry(db_url, 5)
    digest = service.entry_leaf_hash(**(service._fields(e) | {"purpose": "mục đích bịa ra"}))
    _sql(db_url, update(AuditEntry).where(AuditEntry.seq == 5).values(
        purpose="mục đích bịa ra", hash=digest, mac=service.entry_mac(digest)))
    _rebuild_tree_state(db_url)
    assert _verify(db_url).ok  # consistent again...
    for external in (kept.checkpoint, f"{kept.entries}:{kept.head_hash}"):
        r = _verify(db_url, checkpoint=external)
        assert not r.ok and "bên ngoài" in r.problem and r.first_bad_index == 9
    assert _verify(db_url, checkpoint=(kept.entries, kept.head_hash)).ok is False


def _rebuild_tree_state(url: str) -> None:
    from lienthong.audit.checkpoint import origin, signer

    with unit_of_work(url) as s:
        leaves = [service.leaf_of(r) for r in s.execute(select(AuditEntry.__table__).order_by(AuditEntry.leaf_index))]
        f = merkle.Frontier()
        for leaf in leaves:
            f.append(leaf)
        root = f.root().hex()
        s.execute(delete(AuditCheckpoint))
        s.add(AuditCheckpoint(tree_size=f.size, root=root, signed_at=datetime.now(UTC),
                              note=sign_checkpoint(Checkpoint(origin(), f.size, f.root()), signer())))
        s.execute(update(AuditHead).where(AuditHead.id == 1).values(
            tree_size=f.size, tree_root=root, frontier=f.to_hex(), tree_mac=service.tree_mac(f.size, root)))


def test_deleting_a_sealed_entry_is_detected(db_url):
    _logged(db_url, 10)
    _sql(db_url, delete(AuditEntry).where(AuditEntry.seq == 5))
    r = _verify(db_url)
    assert not r.ok and r.first_bad_index == 4 and "thiếu bản ghi số 5" in r.problem


def test_deleting_the_first_entry_is_detected(db_url):
    _logged(db_url, 4)
    _sql(db_url, delete(AuditEntry).where(AuditEntry.seq == 1))
    r = _verify(db_url)
    assert not r.ok and r.first_bad_index == 0


@pytest.mark.parametrize("n_deleted", [1, 3])
def test_deleting_the_last_entries_is_detected(db_url, n_deleted):
    _logged(db_url, 10)
    _sql(db_url, delete(AuditEntry).where(AuditEntry.seq > 10 - n_deleted))
    r = _verify(db_url)
    assert not r.ok and r.entries == 10 - n_deleted and "thiếu các bản ghi cuối" in r.problem


def test_cutting_the_tail_back_to_an_older_checkpoint_needs_the_secret(db_url):
    """Older signed checkpoints stay in the database: rolling the tail back to one of them and
    resetting the tree state to it is caught by the tree state's MAC."""
    _logged(db_url, 8)
    _fill(db_url, 4, start=8)
    _seq(db_url)
    assert _verify(db_url).ok
    with unit_of_work(db_url) as s:
        old = s.get(AuditCheckpoint, 8)
        leaves = [service.leaf_of(r) for r in s.execute(select(AuditEntry.__table__).where(AuditEntry.leaf_index < 8)
                                                         .order_by(AuditEntry.leaf_index))]
    f = merkle.Frontier()
    for leaf in leaves:
        f.append(leaf)
    _sql(db_url, delete(AuditEntry).where(AuditEntry.leaf_index >= 8))
    _sql(db_url, delete(AuditCheckpoint).where(AuditCheckpoint.tree_size > 8))
    _sql(db_url, update(AuditHead).where(AuditHead.id == 1).values(tree_size=8, tree_root=old.root,
                                                                     frontier=f.to_hex()))
    r = _verify(db_url)
    assert not r.ok and "mã xác thực" in r.problem
    assert _seq(db_url).sequenced == 0  # the sequencer does not extend a tree state it did not leave


def test_a_forged_checkpoint_is_refused(db_url):
    _logged(db_url, 5)
    mallory = Signer.from_seed("lienthong/audit", b"\x07" * 32)
    with unit_of_work(db_url) as s:
        row = s.get(AuditCheckpoint, 5)
        row.note = sign_checkpoint(Checkpoint("lienthong/audit", 5, bytes.fromhex(row.root)), mallory)
    r = _verify(db_url)
    assert not r.ok and "không hợp lệ" in r.problem


def _forged_row(**kw) -> dict:
    fields = dict(nonce="a" * 32, at=datetime.now(UTC), actor_type="admin", actor_id="mallory", action="read",
                  resource="population.citizen", resource_id=CITIZENS[0], subject_id=CITIZENS[0],
                  purpose="che giấu truy cập", detail={})
    digest = service.entry_leaf_hash(**fields)
    return fields | {"hash": digest, "mac": "0" * 64} | kw


def test_a_forged_entry_is_refused_by_the_sequencer_and_reported(db_url):
    _logged(db_url, 5)
    _sql(db_url, insert(AuditEntry).values(_forged_row()))
    _fill(db_url, 2, start=5)
    r = _seq(db_url)
    assert r.sequenced == 2 and len(r.rejected) == 1
    v = _verify(db_url)
    assert not v.ok and "chưa niêm phong" in v.problem and v.first_bad_seq == r.rejected[0]


def test_a_forged_entry_given_a_position_is_detected(db_url):
    _logged(db_url, 5)
    _sql(db_url, insert(AuditEntry).values(_forged_row(leaf_index=5)))
    r = _verify(db_url)
    assert not r.ok and r.first_bad_index == 5


def test_rolled_back_entries_leave_no_trace(db_url):
    before = _logged(db_url, 3)
    with pytest.raises(RuntimeError):
        with unit_of_work(db_url) as s:
            service.record(s, OFFICER, "read", "population.citizen", subject_id=CITIZENS[0], purpose="thử")
            raise RuntimeError("request failed")
    _seq(db_url)
    after = _verify(db_url)
    assert after.ok and after.entries == 3 and after.head_hash == before.head_hash


def test_concurrent_writers_and_sequencers(db_url):
    """4 writer threads x 40 entries, each in its own transaction, while two sequencers run."""
    errors: list[BaseException] = []
    start = threading.Barrier(6)
    writing = threading.Event()
    writing.set()

    def writer(t: int) -> None:
        try:
            start.wait()
            for i in range(40):
                with unit_of_work(db_url) as s:
                    service.record(s, OFFICER, "read", "population.citizen", subject_id=CITIZENS[t % 3],
                                   purpose=f"luồng {t} lần {i}", detail={"t": t, "i": i})
        except BaseException as exc:  # reported below
            errors.append(exc)

    def seq_loop() -> None:
        try:
            start.wait()
            while writing.is_set():
                sequencer.run_once(db_url)
        except BaseException as exc:
            errors.append(exc)

    writers = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    seqs = [threading.Thread(target=seq_loop) for _ in range(2)]
    for th in writers + seqs:
        th.start()
    for th in writers:
        th.join(120)
    writing.clear()
    for th in seqs:
        th.join(60)
    assert not errors, errors
    _seq(db_url)
    r = _verify(db_url)
    assert r.ok and r.entries == 160 and r.pending == 0
    with unit_of_work(db_url) as s:
        assert sorted(s.scalars(select(AuditEntry.leaf_index))) == list(range(160))
        per_thread = {t: sorted(e.detail["i"] for e in s.scalars(select(AuditEntry)) if e.detail["t"] == t)
                      for t in range(4)}
    assert all(v == list(range(40)) for v in per_thread.values())


def test_inclusion_and_consistency_proofs_from_the_stored_tree(db_url):
    _fill(db_url, 300, per_txn=300)
    first = _seq(db_url)
    _fill(db_url, 333, per_txn=333, start=300)
    second = _seq(db_url)
    assert (first.tree_size, second.tree_size) == (300, 633)
    with unit_of_work(db_url) as s:
        leaves = [bytes.fromhex(h) for h in s.scalars(select(AuditEntry.hash).order_by(AuditEntry.leaf_index))]
        reference = merkle.subtree_from_leaves(leaves)
        tree = DbTree(s)
        for start, end in [(0, 633), (256, 512), (0, 300), (512, 633), (600, 601)]:
            assert tree.subtree(start, end) == reference(start, end)
        for seq in (1, 2, 257, 300, 301, 512, 633):
            p = service.prove(s, seq)
            e = s.get(AuditEntry, seq)
            assert (p.leaf_index, p.tree_size, p.root) == (e.leaf_index, 633, second.root)
            assert merkle.leaf_hash(bytes.fromhex(p.leaf_data)).hex() == p.leaf_hash == e.hash
            assert merkle.verify_inclusion(bytes.fromhex(p.leaf_hash), p.leaf_index, p.tree_size,
                                           [bytes.fromhex(h) for h in p.path], bytes.fromhex(p.root))
        proof = [bytes.fromhex(h) for h in service.consistency(s, 300, 633)]
        assert merkle.verify_consistency(300, 633, bytes.fromhex(first.root), bytes.fromhex(second.root), proof)


def test_an_unsequenced_entry_has_no_proof_yet(db_url):
    from lienthong.errors import Conflict

    _fill(db_url, 1)
    with unit_of_work(db_url) as s, pytest.raises(Conflict):
        service.prove(s, 1)


def test_entries_about_a_citizen_newest_first(db_url):
    _fill(db_url, 9)
    with unit_of_work(db_url) as s:
        mine = service.entries_about(s, CITIZENS[0])
        assert [e.seq for e in mine] == [7, 4, 1]
        assert [e.seq for e in service.entries_about(s, CITIZENS[0], limit=2)] == [7, 4]
        assert [e.seq for e in service.entries_about(s, CITIZENS[0], before_seq=4)] == [1]
        assert service.entries_about(s, "001099999999") == []


# --- property: the leaf hash covers every field ------------------------------------------------

_text = st.text(min_size=1, max_size=20)
_json = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=10),
                     lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                     max_leaves=8)
_fields = st.fixed_dictionaries({
    "nonce": st.text(alphabet="0123456789abcdef", min_size=32, max_size=32),
    "at": st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda d: d.replace(tzinfo=UTC)),
    "actor_type": st.sampled_from(["citizen", "officer", "admin", "facility", "agency", "system"]),
    "actor_id": _text,
    "action": _text,
    "resource": _text,
    "resource_id": st.none() | _text,
    "subject_id": st.none() | st.text(alphabet="0123456789", min_size=12, max_size=12),
    "purpose": _text,
    "detail": st.dictionaries(st.text(max_size=8), _json, max_size=4),
})


@settings(max_examples=300, deadline=None)
@given(fields=_fields, field=st.sampled_from(["nonce", "at", "actor_type", "actor_id", "action", "resource",
                                              "resource_id", "subject_id", "purpose", "detail"]), data=st.data())
def test_leaf_hash_changes_when_any_field_changes(fields, field, data):
    original = service.entry_leaf_hash(**fields)
    assert original == service.entry_leaf_hash(**dict(fields))  # deterministic
    if field == "at":
        value = fields["at"] + timedelta(microseconds=data.draw(st.integers(1, 10**9)))
    elif field == "nonce":
        value = data.draw(st.text(alphabet="0123456789abcdef", min_size=32, max_size=32).filter(lambda v: v != fields["nonce"]))
    elif field == "detail":
        value = data.draw(st.dictionaries(st.text(max_size=8), _json, max_size=4).filter(lambda d: d != fields["detail"]))
    elif field == "actor_type":
        value = data.draw(st.sampled_from(["citizen", "officer", "admin", "facility", "agency", "system"])
                          .filter(lambda v: v != fields["actor_type"]))
    elif field in ("resource_id", "subject_id"):
        value = data.draw((st.none() | _text).filter(lambda v: v != fields[field]))
    else:
        value = data.draw(_text.filter(lambda v: v != fields[field]))
    assert service.entry_leaf_hash(**(fields | {field: value})) != original
