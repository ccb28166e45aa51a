"""Migration 0004 keeps the tracker's existing rows and history (as the criminal-record service,
today's provinces, manual changes effective on their Vietnam date), on SQLite and PostgreSQL, and
goes back down."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from sqlalchemy import text

from lienthong import migrate
from lienthong.db import get_engine


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_0004_keeps_existing_rows_and_history(tmp_path, pg_database, kind):
    scratch = None
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'm4.sqlite3'}"
    else:
        base, name = pg_database.rsplit("/", 1)[0], pg_database.rsplit("/", 1)[1] + "_m4"
        with psycopg.connect(base + "/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{name}"')
        url, scratch = f"{base}/{name}", (base, name)
    try:
        migrate.upgrade(url, "0003")
        with get_engine(url).begin() as conn:
            conn.execute(text(
                "INSERT INTO ops_rollout_units (id, province_code, facility_code, status, source_assessment, "
                "system_assessment, machine_ready, access_granted, note, updated_at, version) VALUES "
                "(1, 1, NULL, 'testing', 'not_started', 'not_started', false, false, '', '2026-03-01 20:00:00+00', 2), "
                "(2, 1, '01001', 'not_started', 'not_started', 'not_started', false, false, '', "
                "'2026-03-01 20:00:00+00', 1)"))
            conn.execute(text(
                "INSERT INTO ops_rollout_changes (unit_id, at, actor_id, actor_name, field, old_value, new_value, note) "
                "VALUES (1, '2026-03-01 20:00:00+00', '079090000001', 'Quản trị', 'status', 'not_started', "
                "'testing', 'đợt 1')"))
        migrate.upgrade(url)
        with get_engine(url).connect() as conn:
            units = conn.execute(text("SELECT id, service_key, unit_set, basis, facility_code FROM ops_rollout_units "
                                      "ORDER BY id")).all()
            assert units == [(1, "judicial_vneid", "vn34", "recorded", None),
                             (2, "judicial_vneid", "vn34", "recorded", "01001")]
            change = conn.execute(text("SELECT unit_id, effective_on, source, note FROM ops_rollout_changes")).one()
            eff = change[1] if isinstance(change[1], date) else date.fromisoformat(change[1])
            assert (change[0], eff, change[2], change[3]) == (1, date(2026, 3, 2), "manual", "đợt 1")  # 03:00 in Hà Nội
            assert conn.execute(text("SELECT count(*) FROM ops_rollout_services WHERE builtin")).scalar() == 5
            # the old one-row-per-province rule now holds per service and unit set
            conn.execute(text(
                "INSERT INTO ops_rollout_units (id, service_key, unit_set, province_code, status, source_assessment, "
                "system_assessment, machine_ready, access_granted, note, basis, updated_at, version) VALUES "
                "(3, 'health_book', 'vn34', 1, 'not_started', 'not_started', 'not_started', false, false, '', "
                "'recorded', '2026-03-01 20:00:00+00', 1)"))
            with pytest.raises(Exception):
                conn.execute(text(
                    "INSERT INTO ops_rollout_units (id, service_key, unit_set, province_code, status, source_assessment, "
                    "system_assessment, machine_ready, access_granted, note, basis, updated_at, version) VALUES "
                    "(4, 'health_book', 'vn34', 1, 'not_started', 'not_started', 'not_started', false, false, '', "
                    "'recorded', '2026-03-01 20:00:00+00', 1)"))
            conn.rollback()
        migrate.downgrade(url, "0003")
        with get_engine(url).connect() as conn:
            assert conn.execute(text("SELECT id, province_code, status FROM ops_rollout_units ORDER BY id")).all() == [
                (1, 1, "testing"), (2, 1, "not_started")]
            assert conn.execute(text("SELECT count(*) FROM ops_rollout_changes")).scalar() == 1
    finally:
        get_engine(url).dispose()
        if scratch:
            base, name = scratch
            with psycopg.connect(base + "/postgres", autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
