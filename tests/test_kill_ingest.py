"""Durability of the XML 130 ingest: SIGKILL a real server mid-ingest, restart it, resubmit.

A real ``uvicorn`` process serves the app against this run's PostgreSQL database; a facility token
is minted with the secret shared through the environment. The server commits every
``LIENTHONG_INGEST_CHUNK`` dossiers; once the receipt shows committed progress the server is
killed with SIGKILL (no shutdown code runs). Then: everything the receipt counts is in the
database and nothing else (data and receipt commit together), the killed batch stays
``receiving``; after a restart the same file is resubmitted and completes the ingest: every MA_LK
exactly once, each at version 1 with one version row and one ``health.visit.accepted`` event.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from lienthong.gateway.xml130.generate import write_envelope
from lienthong.identity.principal import Principal
from lienthong.identity.tokens import issue_access_token

ROOT = Path(__file__).resolve().parents[1]
FAC = "01001"
VISITS = 3000
CHUNK = 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(port: int, log_path: Path) -> subprocess.Popen:
    env = dict(os.environ, LIENTHONG_INGEST_CHUNK=str(CHUNK), LIENTHONG_INGEST_WORKERS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]))
    log = open(log_path, "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "lienthong.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("server did not start")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)  # the server and its worker processes (its own session)
    proc.wait(timeout=10)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # leftover workers of a killed server
    except ProcessLookupError:
        pass


def _batches(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id, status, dossiers, accepted, unchanged, updated, rejected FROM ingest_batches "
                            "ORDER BY received_at").fetchall()


@pytest.mark.slow
def test_sigkill_mid_ingest_loses_nothing_and_resubmission_completes(pg_url, tmp_path):
    path = tmp_path / "envelope.xml"
    write_envelope(path, VISITS, facility_code=FAC, seed=42)
    token = issue_access_token(Principal(kind="facility", subject="client-kill", facility_code=FAC,
                                         scopes=frozenset({"health.submit"})))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
    log_path = tmp_path / "server.log"

    port = _free_port()
    server = _start_server(port, log_path)
    outcome: dict = {}

    def submit():
        try:
            with open(path, "rb") as fh:
                outcome["response"] = httpx.post(f"http://127.0.0.1:{port}/api/v1/gateway/xml130", content=fh,
                                                 headers=headers, timeout=120)
        except httpx.HTTPError as exc:
            outcome["error"] = exc

    try:
        sender = threading.Thread(target=submit, daemon=True)
        sender.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = _batches(pg_url)
            if rows and rows[0][3] >= 2 * CHUNK:
                break
            assert "response" not in outcome, f"ingest finished before the kill: {outcome['response'].text[:300]}"
            time.sleep(0.05)
        else:
            raise AssertionError(f"no committed progress: {log_path.read_text()[-2000:]}")
        os.kill(server.pid, signal.SIGKILL)
        sender.join(30)
        assert "error" in outcome, "the client should see the connection drop"
    finally:
        _stop(server)

    (batch_id, status, dossiers, accepted, _unchanged, _updated, rejected), = _batches(pg_url)
    assert status == "receiving" and rejected == 0
    assert 0 < accepted < VISITS
    with psycopg.connect(pg_url) as conn:
        stored = conn.execute("SELECT count(*) FROM health_visits").fetchone()[0]
        events = conn.execute("SELECT count(*) FROM outbox WHERE topic = 'health.visit.accepted'").fetchone()[0]
    # The receipt counters commit with the data: what it says was accepted is exactly what is stored.
    assert stored == accepted == dossiers == events

    port = _free_port()
    server = _start_server(port, log_path)
    try:
        with open(path, "rb") as fh:
            r = httpx.post(f"http://127.0.0.1:{port}/api/v1/gateway/xml130", content=fh, headers=headers,
                           timeout=120)
        assert r.status_code == 200, r.text
        receipt = r.json()
        assert receipt["status"] == "done"
        assert (receipt["dossiers"], receipt["unchanged"], receipt["accepted"], receipt["updated"]) == \
            (VISITS, accepted, VISITS - accepted, 0)
        old = httpx.get(f"http://127.0.0.1:{port}/api/v1/gateway/batches/{batch_id}",
                        headers={"Authorization": headers["Authorization"]}, timeout=10)
        assert old.status_code == 200 and old.json()["accepted"] == accepted
    finally:
        _stop(server)

    with psycopg.connect(pg_url) as conn:
        total, distinct, max_version = conn.execute(
            "SELECT count(*), count(DISTINCT (facility_code, ma_lk)), max(version) FROM health_visits").fetchone()
        versions = conn.execute("SELECT count(*), count(DISTINCT visit_id) FROM health_visit_versions").fetchone()
        events = conn.execute("SELECT count(*), count(DISTINCT payload->>'ma_lk') FROM outbox "
                              "WHERE topic = 'health.visit.accepted'").fetchone()
        orphans = conn.execute("SELECT count(*) FROM health_medications m LEFT JOIN health_visits v "
                               "ON v.id = m.visit_id WHERE v.id IS NULL").fetchone()[0]
    assert total == distinct == VISITS and max_version == 1
    assert versions == (VISITS, VISITS)
    assert events == (VISITS, VISITS)
    assert orphans == 0
