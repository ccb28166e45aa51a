"""Migration 0005 on a log written by the hash-chain code: the old entries become the first leaves of
the tree, keep being verified as a chain (with the chain head's MAC), and new entries follow them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import select, text

from lienthong import migrate
from lienthong.audit import sequencer, service
from lienthong.audit.models import AuditEntry
from lienthong.db import get_engine, session_factory, unit_of_work
from lienthong.identity.principal import Principal
from lienthong.testing import configure

LEGACY = 12


def _legacy_rows(n: int) -> tuple[list[dict], str]:
    rows, prev = [], service.GENESIS
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    for seq in range(1, n + 1):
        fields = dict(at=start + timedelta(minutes=seq), actor_type="officer", actor_id="079088001234",
                      action="read", resource="population.citizen", resource_id="001099000001",
                      subject_id="001099000001", purpose=f"hồ sơ cũ {seq}", detail={"seq": seq})
        digest = service.legacy_chain_hash(prev, seq=seq, **fields)
        rows.append(fields | {"seq": seq, "prev_hash": prev, "hash": digest})
        prev = digest
    return rows, prev


@pytest.fixture(params=["sqlite", "postgresql"])
def legacy_url(request, tmp_path, monkeypatch, pg_database):
    if request.param == "sqlite":
        url, scratch = f"sqlite:///{tmp_path / 'legacy.sqlite3'}", None
    else:
        base, name = pg_database.rsplit("/", 1)[0], pg_database.rsplit("/", 1)[1] + "_legacy"
        with psycopg.connect(base + "/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{name}"')
        url, scratch = f"{base}/{name}", (base, name)
    configure(monkeypatch, tmp_path, url)
    migrate.upgrade(url, "0004")
    rows, last = _legacy_rows(LEGACY)
    with get_engine(url).begin() as conn:
        for r in rows:
            conn.execute(text(
                "INSERT INTO audit_log (seq, at, actor_type, actor_id, action, resource, resource_id, subject_id, "
                "purpose, detail, prev_hash, hash) VALUES (:seq, :at, :actor_type, :actor_id, :action, :resource, "
                ":resource_id, :subject_id, :purpose, :detail, :prev_hash, :hash)"),
                r | {"detail": '{"seq": %d}' % r["seq"]})
        conn.execute(text("INSERT INTO audit_head (id, seq, hash, mac) VALUES (1, :n, :h, :m)"),
                     {"n": LEGACY, "h": last, "m": service.head_mac(LEGACY, last)})
    migrate.upgrade(url)
    yield url
    get_engine(url).dispose()
    if scratch:
        with psycopg.connect(scratch[0] + "/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{scratch[1]}" WITH (FORCE)')


def test_the_old_chain_becomes_the_start_of_the_tree(legacy_url):
    r = sequencer.run_once(legacy_url)
    assert r.sequenced == LEGACY and r.tree_size == LEGACY
    with unit_of_work(legacy_url) as s:
        e = service.record(s, Principal(kind="citizen", subject="001099000001", personal_id="001099000001"),
                           "read", "health.book", subject_id="001099000001", purpose="xem sổ")
        assert e.seq == LEGACY + 1  # the insertion id continues after the old entries
    assert sequencer.run_once(legacy_url).tree_size == LEGACY + 1
    with session_factory(legacy_url)() as s:
        v = service.verify(s)
        assert v.ok and v.entries == LEGACY + 1 and v.legacy == LEGACY, v
        positions = list(s.scalars(select(AuditEntry.leaf_index).order_by(AuditEntry.seq)))
        assert positions == list(range(LEGACY + 1))
        proof = service.prove(s, 3)  # an old entry has an inclusion proof too
        assert proof.leaf_index == 2 and proof.leaf_data == s.get(AuditEntry, 3).hash


@pytest.mark.parametrize("change", ["content", "delete_middle", "delete_last"])
def test_tampering_with_the_old_chain_is_still_detected(legacy_url, change):
    sequencer.run_once(legacy_url)
    with get_engine(legacy_url).begin() as conn:
        if change == "content":
            conn.execute(text("UPDATE audit_log SET purpose = 'sửa' WHERE seq = 5"))
        elif change == "delete_middle":
            conn.execute(text("DELETE FROM audit_log WHERE seq = 5"))
        else:
            conn.execute(text(f"DELETE FROM audit_log WHERE seq = {LEGACY}"))
    with session_factory(legacy_url)() as s:
        v = service.verify(s)
    assert not v.ok and v.problem


def test_a_log_tampered_before_the_migration_is_reported(legacy_url):
    with get_engine(legacy_url).begin() as conn:  # an old entry edited before the first sequencing pass
        conn.execute(text("UPDATE audit_log SET purpose = 'sửa' WHERE seq = 5"))
    sequencer.run_once(legacy_url)
    with session_factory(legacy_url)() as s:
        v = service.verify(s)
    assert not v.ok and v.first_bad_seq == 5 and "sửa" in v.problem
