"""The hash-chained audit log: recording, verification and tamper detection on both databases."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update

from lienthong.audit import service
from lienthong.audit.models import AuditEntry, AuditHead
from lienthong.db import get_engine, session_factory, unit_of_work
from lienthong.identity.principal import Principal

OFFICER = Principal(kind="officer", subject="079088001234", name="Cán bộ Hộ tịch", personal_id="079088001234",
                    assurance_level=2, province_code=79)
FACILITY = Principal(kind="facility", subject="bv-cho-ray", facility_code="79001", scopes=frozenset({"x"}))
CITIZENS = ["001099000001", "001099000002", "079199000003"]


def _fill(url: str, n: int, per_txn: int = 50) -> None:
    done = 0
    while done < n:
        with unit_of_work(url) as s:
            for _ in range(min(per_txn, n - done)):
                i = done
                who = OFFICER if i % 2 else FACILITY
                service.record(s, who, "read" if i % 3 else "update", "population.citizen",
                               resource_id=CITIZENS[i % 3], subject_id=CITIZENS[i % 3],
                               purpose=f"giải quyết hồ sơ số {i}", detail={"i": i, "ghi_chú": "kiểm tra"})
                done += 1


def _verify(url: str, **kw) -> service.VerifyResult:
    with unit_of_work(url) as s:
        return service.verify(s, **kw)


def _sql(url: str, stmt) -> None:
    with get_engine(url).begin() as conn:
        conn.execute(stmt)


def _entry(url: str, seq: int) -> AuditEntry:
    with unit_of_work(url) as s:
        return s.get(AuditEntry, seq)


def test_empty_log_verifies(db_url):
    r = _verify(db_url)
    assert r.ok and r.entries == 0 and r.first_bad_seq is None and r.head_hash == service.GENESIS


def test_chain_verifies_after_many_entries(db_url):
    _fill(db_url, 2100, per_txn=300)
    calls: list[int] = []
    with unit_of_work(db_url) as s:
        r = service.verify(s, progress=calls.append)
    assert r.ok and r.entries == 2100 and r.first_bad_seq is None and r.problem == ""
    assert calls == [1000, 2000]
    with unit_of_work(db_url) as s:
        seqs = list(s.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
        head = s.get(AuditHead, 1)
        last = s.get(AuditEntry, 2100)
    assert seqs == list(range(1, 2101))
    assert head.seq == 2100 and head.hash == last.hash == r.head_hash
    assert last.detail == {"i": 2099, "ghi_chú": "kiểm tra"}


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
    "prev_hash": "f" * 64,
    "hash": "e" * 64,
}


@pytest.mark.parametrize("field", sorted(TAMPERS))
def test_changing_any_field_of_a_middle_entry_is_detected(db_url, field):
    _fill(db_url, 10)
    assert _verify(db_url).ok
    _sql(db_url, update(AuditEntry).where(AuditEntry.seq == 5).values({field: TAMPERS[field]}))
    r = _verify(db_url)
    assert not r.ok and r.first_bad_seq == 5 and r.entries == 4 and r.problem


def test_clearing_an_optional_field_is_detected(db_url):
    _fill(db_url, 6)
    _sql(db_url, update(AuditEntry).where(AuditEntry.seq == 3).values(subject_id=None))
    r = _verify(db_url)
    assert not r.ok and r.first_bad_seq == 3


def test_rewriting_an_entry_with_its_recomputed_hash_breaks_the_next_link(db_url):
    _fill(db_url, 10)
    e = _entry(db_url, 5)
    forged = service.entry_hash(e.prev_hash, seq=5, at=e.at, actor_type=e.actor_type, actor_id=e.actor_id,
                                action=e.action, resource=e.resource, resource_id=e.resource_id,
                                subject_id=e.subject_id, purpose="mục đích bịa ra", detail=e.detail)
    _sql(db_url, update(AuditEntry).where(AuditEntry.seq == 5).values(purpose="mục đích bịa ra", hash=forged))
    r = _verify(db_url)
    assert not r.ok and r.first_bad_seq == 6 and "liên kết" in r.problem


def test_deleting_a_middle_entry_is_detected(db_url):
    _fill(db_url, 10)
    _sql(db_url, delete(AuditEntry).where(AuditEntry.seq == 5))
    r = _verify(db_url)
    assert not r.ok and r.first_bad_seq == 5 and "thiếu bản ghi số 5" in r.problem


def test_deleting_the_first_entry_is_detected(db_url):
    _fill(db_url, 4)
    _sql(db_url, delete(AuditEntry).where(AuditEntry.seq == 1))
    r = _verify(db_url)
    assert not r.ok and r.first_bad_seq == 1


@pytest.mark.parametrize("n_deleted", [1, 3])
def test_deleting_the_last_entries_is_detected(db_url, n_deleted):
    _fill(db_url, 10)
    _sql(db_url, delete(AuditEntry).where(AuditEntry.seq > 10 - n_deleted))
    r = _verify(db_url)
    assert not r.ok and r.first_bad_seq == 10 - n_deleted + 1 and r.entries == 10 - n_deleted
    assert "thiếu các bản ghi cuối" in r.problem


def test_deleting_the_last_entries_and_fixing_the_head_seq_is_detected(db_url):
    _fill(db_url, 10)
    _sql(db_url, delete(AuditEntry).where(AuditEntry.seq > 8))
    _sql(db_url, update(AuditHead).where(AuditHead.id == 1).values(seq=8))
    r = _verify(db_url)
    # entry 8 is intact but is not what the head points to
    assert not r.ok and r.first_bad_seq == 8 and "đầu chuỗi" in r.problem


def test_deleting_the_last_entries_and_rewriting_the_head_is_detected_by_its_mac(db_url):
    _fill(db_url, 10)
    checkpoint = _verify(db_url)
    assert checkpoint.ok and checkpoint.entries == 10
    e8 = _entry(db_url, 8)
    _sql(db_url, delete(AuditEntry).where(AuditEntry.seq > 8))
    _sql(db_url, update(AuditHead).where(AuditHead.id == 1).values(seq=8, hash=e8.hash))
    # The hashes are consistent again, but the head's MAC (keyed with the deployment secret) is not
    r = _verify(db_url)
    assert not r.ok and r.first_bad_seq == 9 and "chữ ký" in r.problem


def test_an_attacker_with_the_secret_needs_a_checkpoint(db_url):
    from lienthong.audit.service import head_mac

    _fill(db_url, 10)
    checkpoint = _verify(db_url)
    e8 = _entry(db_url, 8)
    _sql(db_url, delete(AuditEntry).where(AuditEntry.seq > 8))
    _sql(db_url, update(AuditHead).where(AuditHead.id == 1).values(seq=8, hash=e8.hash, mac=head_mac(8, e8.hash)))
    assert _verify(db_url).ok
    # ... the checkpoint kept outside the database shows the cut.
    r = _verify(db_url, checkpoint=(checkpoint.entries, checkpoint.head_hash))
    assert not r.ok and r.first_bad_seq == 9 and "mốc kiểm tra" in r.problem


def test_checkpoint_catches_a_rewritten_history(db_url):
    _fill(db_url, 5)
    cp = _verify(db_url)
    _fill(db_url, 3)
    assert _verify(db_url, checkpoint=(cp.entries, cp.head_hash)).ok
    assert not _verify(db_url, checkpoint=(cp.entries, "0" * 63 + "1")).ok
    assert _verify(db_url, checkpoint=(cp.entries, "0" * 63 + "1")).first_bad_seq == 5


def _forged_row(seq: int, prev_hash: str, hash_: str) -> dict:
    return dict(seq=seq, at=datetime.now(UTC), actor_type="admin", actor_id="mallory", action="read",
                resource="population.citizen", resource_id=CITIZENS[0], subject_id=CITIZENS[0],
                purpose="che giấu truy cập", detail={}, prev_hash=prev_hash, hash=hash_)


def test_appended_forged_entry_is_detected(db_url):
    _fill(db_url, 10)
    last = _entry(db_url, 10)
    row = _forged_row(11, last.hash, "")
    row["hash"] = service.entry_hash(last.hash, **{k: v for k, v in row.items() if k not in ("prev_hash", "hash")})
    _sql(db_url, insert(AuditEntry).values(row))
    r = _verify(db_url)  # the chain itself is valid, but the head still says 10
    assert not r.ok and r.first_bad_seq == 11 and "chèn" in r.problem


def test_forged_entry_inserted_in_the_middle_is_detected(db_url):
    _fill(db_url, 10)
    prev = _entry(db_url, 4)
    for seq in range(10, 4, -1):  # make room at 5
        _sql(db_url, update(AuditEntry).where(AuditEntry.seq == seq).values(seq=seq + 1))
    fake = hashlib.sha256(b"forged").hexdigest()
    _sql(db_url, insert(AuditEntry).values(_forged_row(5, prev.hash, fake)))
    _sql(db_url, update(AuditHead).where(AuditHead.id == 1).values(seq=11))
    r = _verify(db_url)
    assert not r.ok and r.first_bad_seq == 5 and "sửa" in r.problem


def test_rolled_back_entries_leave_no_trace(db_url):
    _fill(db_url, 3)
    before = _verify(db_url)
    with pytest.raises(RuntimeError):
        with unit_of_work(db_url) as s:
            service.record(s, OFFICER, "read", "population.citizen", subject_id=CITIZENS[0], purpose="thử")
            service.record(s, OFFICER, "read", "population.citizen", subject_id=CITIZENS[1], purpose="thử")
            raise RuntimeError("request failed")
    after = _verify(db_url)
    assert after.ok and after.entries == 3 and after.head_hash == before.head_hash
    with unit_of_work(db_url) as s:
        assert s.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc())) == 3
        assert s.get(AuditHead, 1).seq == 3
        e = service.record(s, OFFICER, "read", "population.citizen", purpose="tiếp tục")
        assert e.seq == 4 and e.prev_hash == before.head_hash
    assert _verify(db_url).ok


def test_a_long_lived_session_sees_other_writers(db_url):
    """expire_on_commit=False keeps a stale head object in the session; the head is re-read."""
    s1 = session_factory(db_url)()
    try:
        service.record(s1, OFFICER, "read", "population.citizen", purpose="phiên 1")
        s1.commit()
        held = s1.get(AuditHead, 1)  # kept alive in the identity map, with seq 1
        _fill(db_url, 3)
        e = service.record(s1, OFFICER, "read", "population.citizen", purpose="phiên 1 lần 2")
        s1.commit()
        assert e.seq == 5 and held.seq == 5
    finally:
        s1.close()
    assert _verify(db_url).ok


def test_concurrent_writers_keep_the_chain_valid_and_gap_free(db_url):
    """4 threads x 50 records, each in its own transaction (PostgreSQL: row lock; SQLite: write lock)."""
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(t: int) -> None:
        try:
            start.wait()
            for i in range(50):
                with unit_of_work(db_url) as s:
                    service.record(s, OFFICER, "read", "population.citizen", subject_id=CITIZENS[t % 3],
                                   purpose=f"luồng {t} lần {i}", detail={"t": t, "i": i})
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not errors
    r = _verify(db_url)
    assert r.ok and r.entries == 200
    with unit_of_work(db_url) as s:
        assert list(s.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq))) == list(range(1, 201))
        per_thread = {t: sorted(e.detail["i"] for e in s.scalars(select(AuditEntry)) if e.detail["t"] == t)
                      for t in range(4)}
    assert all(v == list(range(50)) for v in per_thread.values())


def test_entries_about_a_citizen_newest_first(db_url):
    _fill(db_url, 9)
    with unit_of_work(db_url) as s:
        mine = service.entries_about(s, CITIZENS[0])
        assert [e.seq for e in mine] == [7, 4, 1]
        assert [e.seq for e in service.entries_about(s, CITIZENS[0], limit=2)] == [7, 4]
        assert [e.seq for e in service.entries_about(s, CITIZENS[0], before_seq=4)] == [1]
        assert service.entries_about(s, "001099999999") == []


# --- property: the hash covers every field ---------------------------------------------------

_text = st.text(min_size=1, max_size=20)
_json = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=10),
                     lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                     max_leaves=8)
_fields = st.fixed_dictionaries({
    "seq": st.integers(1, 10**12),
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
@given(fields=_fields, prev=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
       field=st.sampled_from(["prev", "seq", "at", "actor_type", "actor_id", "action", "resource",
                              "resource_id", "subject_id", "purpose", "detail"]),
       data=st.data())
def test_entry_hash_changes_when_any_field_changes(fields, prev, field, data):
    original = service.entry_hash(prev, **fields)
    assert original == service.entry_hash(prev, **dict(fields))  # deterministic
    if field == "prev":
        new_prev = data.draw(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64).filter(lambda p: p != prev))
        assert service.entry_hash(new_prev, **fields) != original
        return
    if field == "at":
        value = fields["at"] + timedelta(microseconds=data.draw(st.integers(1, 10**9)))
    elif field == "seq":
        value = data.draw(st.integers(1, 10**12).filter(lambda v: v != fields["seq"]))
    elif field == "detail":
        value = data.draw(st.dictionaries(st.text(max_size=8), _json, max_size=4).filter(lambda d: d != fields["detail"]))
    elif field == "actor_type":
        value = data.draw(st.sampled_from(["citizen", "officer", "admin", "facility", "agency", "system"])
                          .filter(lambda v: v != fields["actor_type"]))
    elif field in ("resource_id", "subject_id"):
        value = data.draw((st.none() | _text).filter(lambda v: v != fields[field]))
    else:
        value = data.draw(_text.filter(lambda v: v != fields[field]))
    assert service.entry_hash(prev, **(fields | {field: value})) != original
