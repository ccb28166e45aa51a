"""Shared test fixtures.

Every test run creates its own fresh PostgreSQL database (dropped at the end) and its own SQLite
file. Database-backed tests take the ``db_url`` fixture, which runs them once per database.
PostgreSQL must be reachable (``LIENTHONG_TEST_PG``, default postgresql://postgres@127.0.0.1:5432);
NATS tests use ``LIENTHONG_TEST_NATS`` (default nats://127.0.0.1:4222). Unreachable servers fail the
run with a clear message rather than skipping silently.
"""

from __future__ import annotations

import os
import secrets
import socket
from urllib.parse import urlparse

import psycopg
import pytest

from lienthong.testing import clean as _clean, configure  # noqa: F401

PG_BASE = os.environ.get("LIENTHONG_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
NATS_URL = os.environ.get("LIENTHONG_TEST_NATS", "nats://127.0.0.1:4222")


def _reachable(url: str, default_port: int) -> bool:
    p = urlparse(url)
    try:
        with socket.create_connection((p.hostname or "127.0.0.1", p.port or default_port), timeout=3):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def pg_database():
    """A fresh, migrated PostgreSQL database for this test run."""
    if not _reachable(PG_BASE, 5432):
        pytest.fail(f"PostgreSQL is not reachable at {PG_BASE} (set LIENTHONG_TEST_PG)", pytrace=False)
    name = f"lienthong_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin_url = PG_BASE.rstrip("/") + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_BASE.rstrip("/") + "/" + name
    from lienthong import migrate

    migrate.upgrade(url)
    yield url
    from lienthong.db import dispose_engines

    dispose_engines()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory):
    path = tmp_path_factory.mktemp("db") / "lienthong.sqlite3"
    url = f"sqlite:///{path}"
    from lienthong import migrate

    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def nats_url():
    if not _reachable(NATS_URL, 4222):
        pytest.fail(f"NATS is not reachable at {NATS_URL} (set LIENTHONG_TEST_NATS)", pytrace=False)
    return NATS_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, monkeypatch, tmp_path):
    """Runs the test on both databases, with this process configured to use it.

    Tables are emptied after each test.
    """
    url = request.getfixturevalue("sqlite_database" if request.param == "sqlite" else "pg_database")
    configure(monkeypatch, tmp_path, url)
    yield url
    _clean(url)


@pytest.fixture
def pg_url(request, monkeypatch, tmp_path):
    """PostgreSQL only (bulk paths, concurrency)."""
    url = request.getfixturevalue("pg_database")
    configure(monkeypatch, tmp_path, url)
    yield url
    _clean(url)


@pytest.fixture
def client(db_url):
    from fastapi.testclient import TestClient

    from lienthong.app import create_app

    with TestClient(create_app(), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def bearer():
    """``bearer(principal)`` -> headers with a platform access token for that principal."""
    from lienthong.identity.tokens import issue_access_token

    def make(principal):
        return {"Authorization": f"Bearer {issue_access_token(principal)}"}

    return make
