"""Migrations go up and down on both databases and match the models."""

import psycopg
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
