"""No orphans: every process a server started ends with it, however the server ends.

A real server (uvicorn in one process, or ``lienthong serve --workers 2`` with its supervisor) ingests
an XML 130 envelope large enough to use the validation worker pool; while it does, the server is
killed (SIGKILL: no shutdown code runs) or terminated (SIGTERM). Its process tree, taken just before,
must be gone within seconds: the ingest workers and uvicorn's worker processes watch their parent
(:mod:`lienthong.procs`). Before, each kill left the pool (~200 MB) running.
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
import pytest

from lienthong.gateway.xml130.generate import write_envelope
from lienthong.identity.principal import Principal
from lienthong.identity.tokens import issue_access_token

ROOT = Path(__file__).resolve().parents[1]
FAC = "01001"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(pid: int) -> set[int]:
    tree, out, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has ended; only its exit status is left


@pytest.fixture(scope="module")
def envelope(tmp_path_factory):
    path = tmp_path_factory.mktemp("hygiene") / "envelope.xml"
    write_envelope(path, 1200, facility_code=FAC, seed=42)  # ~33 MB: validated by the worker pool
    return path


@pytest.mark.slow
@pytest.mark.parametrize(("how", "sig"), [("uvicorn", signal.SIGKILL), ("uvicorn", signal.SIGTERM),
                                          ("serve --workers 2", signal.SIGKILL)])
def test_killing_the_server_leaves_no_orphan(pg_url, envelope, tmp_path, how, sig):
    port = _free_port()
    env = dict(os.environ, LIENTHONG_INGEST_CHUNK="50", LIENTHONG_INGEST_WORKERS="2",
               LIENTHONG_BACKGROUND_JOBS="false", PYTHONPATH=str(ROOT))
    if how == "uvicorn":
        cmd = [sys.executable, "-m", "uvicorn", "lienthong.app:create_app", "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning", "--timeout-graceful-shutdown", "3"]
    else:
        cmd = [sys.executable, "-m", "lienthong.cli", "serve", "--workers", "2", "--port", str(port),
               "--graceful-timeout", "3"]
    log = open(tmp_path / "server.log", "wb")
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    token = issue_access_token(Principal(kind="facility", subject="client-hygiene", facility_code=FAC,
                                         scopes=frozenset({"health.submit"})))
    tree: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            time.sleep(0.2)

        def submit():
            try:
                httpx.post(f"http://127.0.0.1:{port}/api/v1/gateway/xml130", content=envelope.read_bytes(),
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"},
                           timeout=120)
            except httpx.HTTPError:
                pass  # the server went away: expected

        threading.Thread(target=submit, daemon=True).start()
        least = 2 + (2 if how != "uvicorn" else 0)  # pool workers (+ the uvicorn workers)
        deadline = time.monotonic() + 60
        while len(descendants(server.pid)) < least + 1:  # + multiprocessing's resource tracker
            assert time.monotonic() < deadline, f"no worker pool: {descendants(server.pid)}"
            time.sleep(0.1)
        time.sleep(0.5)  # ingest under way
        tree = descendants(server.pid)
        os.kill(server.pid, sig)
        server.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(alive(p) for p in tree) and time.monotonic() < deadline:
            time.sleep(0.1)
        orphans = [p for p in tree if alive(p)]
        assert not orphans, f"left running after {signal.Signals(sig).name}: {orphans}"
    finally:
        for pid in [server.pid, *tree]:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        server.wait(timeout=10)
        log.close()
