"""Benchmark: concurrent health-book readers against a real server while hospitals' data is ingested.

    .venv/bin/python bench/load.py [--citizens 20000] [--readers 50,100,200] [--workers 1,2]
        [--seconds 20] [--warmup 5] [--ingest-rate 100] [--ingest-visits 200] [--code DIR]
        [--envelopes DIR] [--pg postgresql://postgres@127.0.0.1:5432] [--keep]

Bounded and loopback only: the server listens on 127.0.0.1, at most 500 readers, each run lasts
``--warmup`` + ``--seconds`` seconds.

1. Creates ``lienthong_bench_load_<pid>``, migrates it with the code under test, and COPYs synthetic
   health books for ``--citizens`` citizens (bench/health_read.py's loader: ~3 visits each, with
   diagnoses, labs, drugs, referrals, appointments, certificates, profiles) and 300 facilities.
2. For each ``--workers`` value, starts ``lienthong serve --workers N`` (background jobs on, as
   deployed: outbox relay and audit sequencer run in the server) from ``--code`` (default: this
   checkout), so the same benchmark measures another version of the code side by side.
3. Ingest running: a facility submits QĐ 130 envelopes of ``--ingest-visits`` visits through
   ``POST /api/v1/gateway/xml130``, paced to ``--ingest-rate`` visits/s (0: back to back). The
   envelopes are generated once (cached in ``--envelopes``), each with its own visits, so every
   submission stores new data (worker pool, COPY, events, audit).
4. For each ``--readers`` level: that many concurrent clients, each on its own keep-alive
   connection, read ``GET /api/v1/me/health`` for random citizens (own tokens) in a closed loop.
   After the warm-up, prints reads/s, p50/p90/p99/max latency, errors (non-200 answers, resets,
   timeouts at 30 s), the ingest rate achieved meanwhile (visits/s), the CPU the server's processes
   and the database's backends used (cores busy on average), and the machine's load average (this
   machine is shared: ``load`` well above the core count means others' work slowed every figure).
   The client is a minimal asyncio
   HTTP/1.1 reader (a few µs per request) so that the load generator takes little of the CPU the
   server needs.

The database is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

MAX_READERS = 500
FACILITY = "01001"
TIMEOUT_S = 30.0


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- server -----------------------------------------------------------------------------------------------


def code_env(code: Path, url: str, secret: str, state: Path) -> dict:
    env = dict(os.environ, LIENTHONG_DATABASE_URL=url, LIENTHONG_SECRET_KEY=secret, LIENTHONG_STATE_DIR=str(state),
               LIENTHONG_BACKGROUND_JOBS="true", PYTHONPATH=str(code))
    env.pop("LIENTHONG_NATS_URL", None)
    return env


def migrate(code: Path, env: dict) -> None:
    subprocess.run([sys.executable, "-c", "from lienthong import migrate; migrate.upgrade()"], cwd=code, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_server(code: Path, env: dict, workers: int, log_path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log = open(log_path, "ab")
    proc = subprocess.Popen([sys.executable, "-m", "lienthong.cli", "serve", "--host", "127.0.0.1", "--port",
                             str(port), "--workers", str(workers)], cwd=code, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not start, see {log_path}")
        time.sleep(0.2)


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


# --- ingest --------------------------------------------------------------------------------------------------


def make_envelopes(directory: Path, count: int, visits: int) -> list[Path]:
    from lienthong.gateway.xml130.generate import write_envelope

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = directory / f"envelope-{visits}-{i:03d}.xml"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            write_envelope(tmp, visits, facility_code=FACILITY, seed=10_000 + i)
            tmp.rename(path)
        paths.append(path)
    return paths


class Ingest(threading.Thread):
    """Submits the envelopes one after another, paced to ``rate`` visits/s (0: back to back)."""

    def __init__(self, port: int, token: str, envelopes: list[Path], visits: int, rate: float):
        super().__init__(daemon=True)
        self.port, self.token, self.queue, self.visits, self.rate = port, token, list(envelopes), visits, rate
        self.stop = threading.Event()
        self.done: list[tuple[float, float, int, int]] = []  # (start, end, status, visits stored)
        self.started = time.monotonic()

    def run(self) -> None:
        client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=600)
        n = 0
        while not self.stop.is_set() and self.queue:
            path = self.queue.pop(0)
            t0 = time.monotonic()
            try:
                r = client.post("/api/v1/gateway/xml130", content=path.read_bytes(),
                                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/xml"})
                stored = r.json().get("accepted", 0) + r.json().get("updated", 0) if r.status_code == 200 else 0
                self.done.append((t0, time.monotonic(), r.status_code, stored))
            except (httpx.HTTPError, ValueError):
                self.done.append((t0, time.monotonic(), 0, 0))
            n += 1
            if self.rate > 0:
                wait = self.started + n * self.visits / self.rate - time.monotonic()
                if wait > 0:
                    self.stop.wait(wait)

    def visits_between(self, a: float, b: float) -> float:
        """Visits stored per second in [a, b] (each submission's visits spread over its duration)."""
        total = 0.0
        for t0, t1, _status, stored in self.done:
            overlap = max(0.0, min(b, t1) - max(a, t0))
            if t1 > t0:
                total += stored * overlap / (t1 - t0)
        return total / (b - a)


# --- readers ---------------------------------------------------------------------------------------------------


async def _read_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if length is not None:
        await reader.readexactly(length)
    elif chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _reader(port: int, requests: list[bytes], start_at: float, stop_at: float, out: dict) -> None:
    rnd = random.Random()
    conn = None
    while True:
        now = time.monotonic()
        if now >= stop_at:
            break
        try:
            if conn is None:
                conn = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT_S)
            t0 = time.monotonic()
            status = await asyncio.wait_for(_read_once(*conn, rnd.choice(requests)), TIMEOUT_S)
            t1 = time.monotonic()
            if t0 >= start_at and t1 <= stop_at:
                out["lat"].append(t1 - t0)
                if status != 200:
                    out["errors"][status] = out["errors"].get(status, 0) + 1
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            if time.monotonic() >= start_at:
                key = exc.__class__.__name__
                out["errors"][key] = out["errors"].get(key, 0) + 1
            if conn is not None:
                conn[1].close()
            conn = None
            await asyncio.sleep(0.05)
    if conn is not None:
        conn[1].close()


def run_readers(port: int, tokens: list[tuple[str, str]], n: int, warmup: float, seconds: float,
                snapshot=None) -> dict:
    requests = [f"GET /api/v1/me/health HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {tok}\r\n"
                f"Accept: application/json\r\n\r\n".encode() for _, tok in tokens]
    out: dict = {"lat": [], "errors": {}, "cpu": []}

    async def probe(at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        if snapshot is not None:
            out["cpu"].append(await asyncio.get_running_loop().run_in_executor(None, snapshot))

    async def main():
        start_at = time.monotonic() + warmup
        stop_at = start_at + seconds
        await asyncio.gather(probe(start_at), probe(stop_at),
                             *(_reader(port, requests, start_at, stop_at, out) for _ in range(n)))
        return start_at, stop_at

    out["window"] = asyncio.run(main())
    return out


def _tree(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = {pid}, [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def cpu_snapshot(server_pid: int, url: str, dbname: str) -> dict[str, dict[int, float]]:
    from ingest import _proc_cpu  # bench/ingest.py

    """CPU seconds so far of the server's process tree (uvicorn, workers, ingest pool) and of the
    database's backends: a shared machine's wall-clock rates vary with others' load, CPU per read less."""
    with psycopg.connect(url, autocommit=True) as conn:
        pg = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                                         "AND pid <> pg_backend_pid()", (dbname,))]
    return {"server": {p: _proc_cpu(p) for p in _tree(server_pid)}, "postgres": {p: _proc_cpu(p) for p in pg}}


def cpu_used(before: dict, after: dict) -> tuple[float, float]:
    return tuple(sum(v - before[k].get(p, 0.0) for p, v in after[k].items()) for k in ("server", "postgres"))


# --- main -------------------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--citizens", type=int, default=20_000)
    ap.add_argument("--readers", default="50,100,200")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--ingest-rate", type=float, default=100.0, help="visits/s submitted (0: back to back)")
    ap.add_argument("--ingest-visits", type=int, default=200, help="visits per envelope")
    ap.add_argument("--code", type=Path, default=ROOT, help="checkout whose server is measured")
    ap.add_argument("--envelopes", type=Path, default=Path("/tmp/lienthong_bench_envelopes"))
    ap.add_argument("--pg", default=os.environ.get("LIENTHONG_TEST_PG", "postgresql://postgres@127.0.0.1:5432"))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    levels = [int(x) for x in args.readers.split(",")]
    worker_counts = [int(x) for x in args.workers.split(",")]
    if max(levels) > MAX_READERS or args.seconds > 600:
        ap.error(f"bounded benchmark: at most {MAX_READERS} readers and 600 s per level")

    secret = "bench-" + uuid.uuid4().hex
    state = Path(f"/tmp/lt_bench_load_{os.getpid()}")
    state.mkdir(parents=True, exist_ok=True)
    os.environ.update(LIENTHONG_SECRET_KEY=secret, LIENTHONG_STATE_DIR=str(state))
    from lienthong.config import reset_settings_cache
    from lienthong.identity.principal import Principal
    from lienthong.identity.tokens import issue_access_token

    reset_settings_cache()
    import health_read

    base = args.pg.rstrip("/")
    name = f"lienthong_bench_load_{os.getpid()}"
    url = f"{base}/{name}"
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = code_env(args.code.resolve(), url, secret, state)
    total_seconds = len(levels) * len(worker_counts) * (args.warmup + args.seconds + 10)
    n_env = 4 if args.ingest_rate == 0 else int(total_seconds * args.ingest_rate / args.ingest_visits) + 2
    try:
        with psycopg.connect(url) as conn:
            server_version = conn.execute("SHOW server_version").fetchone()[0]
        print(f"PostgreSQL {server_version}, {os.cpu_count()} CPUs, code {args.code.resolve()}, "
              f"{args.citizens:,} citizens; ingest {args.ingest_rate:g} visits/s in envelopes of "
              f"{args.ingest_visits} visits", flush=True)
        migrate(args.code.resolve(), env)
        health_read.load(url, args.citizens, 2026)
        t = time.monotonic()
        envelopes = make_envelopes(args.envelopes, n_env, args.ingest_visits)
        print(f"{len(envelopes)} envelopes ready in {time.monotonic() - t:.0f} s", flush=True)
        rnd = random.Random(5)
        pids = [health_read.pid_of(rnd.randrange(args.citizens)) for _ in range(2000)]
        tokens = [(pid, issue_access_token(Principal(kind="citizen", subject=pid, name="Công dân", personal_id=pid,
                                                     assurance_level=2), ttl_s=3600)) for pid in pids]
        facility = issue_access_token(Principal(kind="facility", subject="bench-facility", facility_code=FACILITY,
                                                scopes=frozenset({"health.submit"})), ttl_s=3600)
        print(f"{'workers':>7} {'readers':>7} {'reads/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
              f"{'max ms':>8} {'errors':>7} {'ingest v/s':>10} {'srv CPU':>8} {'pg CPU':>7} {'load':>5}", flush=True)
        queue = list(envelopes)
        for workers in worker_counts:
            proc, port = start_server(args.code.resolve(), env, workers, state / "server.log")
            try:
                for n in levels:
                    ingest = Ingest(port, facility, queue, args.ingest_visits, args.ingest_rate)
                    ingest.start()
                    r = run_readers(port, tokens, n, args.warmup, args.seconds,
                                    snapshot=lambda: cpu_snapshot(proc.pid, url, name))
                    ingest.stop.set()
                    ingest.join(120)  # a collapsed server may never finish it: go on
                    queue = ingest.queue
                    a, b = r["window"]
                    lat = [x * 1000 for x in r["lat"]]
                    errors = sum(r["errors"].values())
                    ok = len(lat) - sum(v for k, v in r["errors"].items() if isinstance(k, int))
                    detail = f" {r['errors']}" if errors else ""
                    srv, pg = cpu_used(*r["cpu"]) if len(r["cpu"]) == 2 else (float("nan"), float("nan"))
                    print(f"{workers:>7} {n:>7} {ok / (b - a):>8.1f} {pct(lat, 50):>8.0f} {pct(lat, 90):>8.0f} "
                          f"{pct(lat, 99):>8.0f} {max(lat or [0]):>8.0f} {errors:>7} "
                          f"{ingest.visits_between(a, b):>10.0f} {srv / (b - a):>8.2f} {pg / (b - a):>7.2f} "
                          f"{os.getloadavg()[0]:>5.1f}{detail}", flush=True)
                    if not queue:
                        print("  (envelopes used up: later levels ran without ingest)", flush=True)
            finally:
                stop_server(proc)
    finally:
        from lienthong.db import dispose_engines

        dispose_engines()
        if not args.keep:
            with psycopg.connect(base + "/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            print(f"kept database: {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
