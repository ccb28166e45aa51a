"""Migrations go up and down on both databases and match the models."""

import json

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from lienthong import migrate
from lienthong.db import get_engine
from lienthong.models import metadata


def test_schema_matches_models(db_url):
    with get_engine(db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    assert diff == []


def test_up_down_up(tmp_path, pg_database):
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    for u in (url,):
        migrate.upgrade(u)
        assert migrate.current_revision(u) is not None
        migrate.downgrade(u, "base")
        assert migrate.current_revision(u) is None
        migrate.upgrade(u)
    # PostgreSQL: a separate scratch database
    base = pg_database.rsplit("/", 1)[0]
    name = pg_database.rsplit("/", 1)[1] + "_mig"
    with psycopg.connect(base + "/postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        u = f"{base}/{name}"
        migrate.upgrade(u)
        migrate.downgrade(u, "base")
        assert migrate.current_revision(u) is None
        migrate.upgrade(u)
        assert migrate.current_revision(u) is not None
    finally:
        get_engine(f"{base}/{name}").dispose()
        with psycopg.connect(base + "/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migration_db(tmp_path, pg_database, kind):
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'r.sqlite3'}", None
    base = pg_database.rsplit("/", 1)[0]
    name = pg_database.rsplit("/", 1)[1] + "_rec"
    with psycopg.connect(base + "/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}", (base, name)


@pytest.mark.parametrize("kind", ["sqlite", "sqlite<3.35", "postgresql"])
def test_0002_keeps_every_current_record_in_the_versions(tmp_path, pg_database, kind, monkeypatch):
    from sqlalchemy import select, text

    from lienthong.db import session_factory
    from lienthong.health.models import Visit

    if kind == "sqlite<3.35":  # no DROP COLUMN: the migration copies the table instead
        import sqlite3

        monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
    url, scratch = _migration_db(tmp_path, pg_database, kind.split("<")[0])
    try:
        migrate.upgrade(url, "0001")
        with get_engine(url).begin() as conn:
            for vid, version in ((1, 2), (2, 1)):
                conn.execute(text(
                    "INSERT INTO health_visits (id, facility_code, ma_lk, version, content_hash, source, patient_name, "
                    "admitted_at, record, received_at) VALUES (:id, '01001', :malk, :v, 'h', 'xml130', 'A', "
                    "'2026-03-01 08:00:00+07', :rec, '2026-03-01 09:00:00+07')"),
                    {"id": vid, "malk": f"LK{vid}", "v": version, "rec": f'{{"ma_lk": "LK{vid}", "v": {version}}}'})
            # visit 1 has both versions in the history; visit 2 (hand-made) has none
            for version in (1, 2):
                conn.execute(text(
                    "INSERT INTO health_visit_versions (visit_id, version, content_hash, record, received_at) "
                    "VALUES (1, :v, 'h', :rec, '2026-03-01 09:00:00+07')"), {"v": version, "rec": f'{{"v": {version}}}'})
            conn.execute(text("INSERT INTO health_diagnoses (visit_id, icd10, is_primary, diagnosed_at) "
                              "VALUES (1, 'J02.9', true, '2026-03-01 08:00:00+07')"))
        migrate.upgrade(url)
        with get_engine(url).connect() as conn:  # child rows survive (no cascade from a table copy)
            assert conn.execute(text("SELECT visit_id, icd10 FROM health_diagnoses")).all() == [(1, "J02.9")]
            if kind.startswith("sqlite"):
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with session_factory(url)() as s:
            records = {v.ma_lk: v.record for v in s.scalars(select(Visit).order_by(Visit.id))}
        assert records == {"LK1": {"v": 2}, "LK2": {"ma_lk": "LK2", "v": 1}}
        migrate.downgrade(url, "0001")
        with get_engine(url).connect() as conn:
            rows = conn.execute(text("SELECT ma_lk, record FROM health_visits ORDER BY id")).all()
        assert [(m, r if isinstance(r, dict) else json.loads(r)) for m, r in rows] == \
            [("LK1", {"v": 2}), ("LK2", {"ma_lk": "LK2", "v": 1})]
    finally:
        get_engine(url).dispose()
        if scratch:
            base, name = scratch
            with psycopg.connect(base + "/postgres", autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
