"""The database goes away (cut through a local TCP proxy) and comes back.

While it is away every database-backed request is answered 503 with Retry-After and a Vietnamese
message (HTML for browsers, the JSON error body for API clients) within the configured timeouts;
afterwards requests work again without a restart; an XML ingest cut mid-way leaves its batch
``receiving`` only until the database is back, then it is marked failed at once.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlparse

import psycopg
import pytest
from fastapi.testclient import TestClient

from lienthong.db import get_engine
from lienthong.identity.principal import Principal
from lienthong.testing import clean, configure
from lienthong.testing_proxy import TcpProxy
from lienthong.web import unavailable

AN = Principal(kind="citizen", subject="001099000001", name="Nguyễn Văn An", personal_id="001099000001",
               assurance_level=2)
FAC = "01001"
CLINIC = Principal(kind="facility", subject="client-01001", facility_code=FAC, scopes=frozenset({"health.submit"}))


@pytest.fixture
def proxied(pg_database, monkeypatch, tmp_path):
    """This process configured to reach the test database through a proxy; small, quick timeouts."""
    real = urlparse(pg_database)
    proxy = TcpProxy(real.hostname or "127.0.0.1", real.port or 5432)
    url = f"postgresql://{real.username or 'postgres'}@127.0.0.1:{proxy.port}{real.path}"
    configure(monkeypatch, tmp_path, url)
    for key, value in {"DB_POOL_SIZE": "3", "DB_MAX_OVERFLOW": "0", "DB_POOL_TIMEOUT_S": "1",
                       "DB_CONNECT_TIMEOUT_S": "2", "UNAVAILABLE_RETRY_AFTER_S": "7"}.items():
        monkeypatch.setenv(f"LIENTHONG_{key}", value)
    from lienthong.config import reset_settings_cache

    reset_settings_cache()
    yield proxy, url, pg_database
    get_engine(url).dispose()
    proxy.close()
    clean(pg_database)


def _client():
    from lienthong.app import create_app

    return TestClient(create_app(), base_url="http://testserver")


def _auth(p: Principal) -> dict:
    from lienthong.identity.tokens import issue_access_token

    return {"Authorization": f"Bearer {issue_access_token(p)}"}


def _assert_unavailable(r, *, html: bool) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "7"
    if html:
        assert r.headers["content-type"].startswith("text/html")
        assert "Dịch vụ tạm thời gián đoạn" in r.text and "thử lại" in r.text
    else:
        assert r.json()["error"]["code"] == "service_unavailable"
        assert "cơ sở dữ liệu" in r.json()["error"]["message"]


def test_requests_get_503_while_the_database_is_away_and_work_again_after(proxied):
    proxy, _url, _real = proxied
    with _client() as client:
        assert client.get("/api/v1/me/health", headers=_auth(AN)).status_code == 200

        proxy.cut()  # connections reset, new ones refused
        t = time.monotonic()
        _assert_unavailable(client.get("/api/v1/me/health", headers=_auth(AN)), html=False)
        _assert_unavailable(client.get("/api/v1/me/audit", headers=_auth(AN)), html=False)
        r = client.get("/nhat-ky", headers=_auth(AN) | {"Accept": "text/html,application/xhtml+xml"})
        _assert_unavailable(r, html=True)
        assert time.monotonic() - t < 5

        proxy.cut(mode="blackhole")  # a partition: connection attempts hang
        t = time.monotonic()
        _assert_unavailable(client.get("/api/v1/me/health", headers=_auth(AN)), html=False)
        assert time.monotonic() - t < 2 + 2  # the connect timeout, not 30 s

        proxy.restore()
        assert client.get("/api/v1/me/health", headers=_auth(AN)).status_code == 200
        assert client.get("/healthz").status_code == 200


def test_a_busy_pool_gives_503_after_the_pool_timeout_not_a_long_wait(proxied):
    _proxy, url, _real = proxied
    engine = get_engine(url)
    with _client() as client:
        held = [engine.connect() for _ in range(3)]  # the whole pool (size 3, no overflow)
        try:
            t = time.monotonic()
            _assert_unavailable(client.get("/api/v1/me/health", headers=_auth(AN)), html=False)
            assert time.monotonic() - t < 3
        finally:
            for c in held:
                c.close()
        assert client.get("/api/v1/me/health", headers=_auth(AN)).status_code == 200


def _batch_status(real_url: str) -> list[tuple]:
    with psycopg.connect(real_url) as conn:
        return conn.execute("SELECT status, accepted, errors FROM ingest_batches").fetchall()


def test_an_ingest_cut_midway_is_marked_failed_as_soon_as_the_database_is_back(proxied, tmp_path, monkeypatch):
    from lienthong.gateway.xml130.generate import write_envelope

    proxy, _url, real = proxied
    monkeypatch.setenv("LIENTHONG_INGEST_CHUNK", "100")
    path = tmp_path / "big.xml"
    write_envelope(path, 1500, facility_code=FAC, seed=7)
    outcome: dict = {}
    with _client() as client:
        def submit():
            with open(path, "rb") as fh:
                outcome["r"] = client.post("/api/v1/gateway/xml130", content=fh.read(),
                                           headers=_auth(CLINIC) | {"Content-Type": "application/xml"})

        sender = threading.Thread(target=submit, daemon=True)
        sender.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = _batch_status(real)
            if rows and rows[0][1] >= 200:
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"no committed progress: {outcome}")
        proxy.cut()
        sender.join(30)
        _assert_unavailable(outcome["r"], html=False)
        time.sleep(2)
        [(status, accepted, _errors)] = _batch_status(real)
        assert status == "receiving" and 0 < accepted < 1500  # cannot be marked while the database is away

        proxy.restore()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _batch_status(real)[0][0] == "receiving":
            time.sleep(0.1)
        [(status, _accepted, errors)] = _batch_status(real)
        assert status == "failed" and errors[-1]["code"] == "interrupted"
        assert "gửi lại tệp" in errors[-1]["message"]


def test_only_outages_are_503():
    import sqlite3

    from sqlalchemy.exc import OperationalError, ProgrammingError

    def op(orig):
        return OperationalError("SELECT 1", {}, orig)

    assert unavailable.is_outage(op(psycopg.OperationalError("connection refused")))
    assert unavailable.is_outage(op(sqlite3.OperationalError("database is locked")))
    assert not unavailable.is_outage(op(sqlite3.OperationalError("no such column: x")))  # a bug: 500
    assert not unavailable.is_outage(ProgrammingError("SELECT 1", {}, Exception("syntax")))
