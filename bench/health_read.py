"""Benchmark: health book read latency at scale, and live-update (SSE) freshness under load.

    .venv/bin/python bench/health_read.py [--citizens 1000000] [--reads 2000] [--http-reads 2000]
        [--threads 8] [--sse-clients 200] [--sse-rate 50] [--sse-seconds 20] [--seed 2026]
        [--pg postgresql://postgres@127.0.0.1:5432] [--keep] [--skip-load URL]

1. Creates a fresh PostgreSQL database ``lienthong_bench_health_<pid>``, migrates it, and COPYs
   synthetic health data straight into the health tables, 10,000 citizens per chunk (memory
   bounded): on average 3 visits per citizen (each with a version row, 1-2 diagnoses, ~1.5 lab
   results, ~1.5 drugs), referrals on 5 % of visits, appointments on 20 %, certificates on 3 %,
   and a profile row for 30 % of citizens. Prints rows and rows/s.
2. Read latency: ``health_book(...)`` for random citizens, in process (one thread, then
   ``--threads`` threads), each call in its own committed transaction, audit entry included.
   Then the same through HTTP (``GET /api/v1/me/health``) on a uvicorn subprocess.
3. Freshness: ``--sse-clients`` SSE streams (``GET /api/v1/me/health/events``) of distinct citizens
   on the same server, while a writer commits accepted visits (visit + version row, as the ingest
   service does) for those citizens at ``--sse-rate`` per second for ``--sse-seconds``; prints
   p50/p95/p99/max of (received - committed).
The database is dropped unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ICD = ["J06.9", "J02.9", "I10", "E11.9", "K29.7", "M54.5", "J20.9", "E78.5", "K21.9", "A09", "R51", "N39.0",
       "M17", "J45.9", "H10", "L50", "B34.9", "Z00.0", "I25", "E03.9"]
LABS = [("Glucose", "mmol/L"), ("HbA1c", "%"), ("Cholesterol", "mmol/L"), ("Creatinin", "µmol/L"),
        ("AST", "U/L"), ("ALT", "U/L"), ("Hồng cầu", "T/L"), ("Bạch cầu", "G/L")]
DRUGS = [("40.677", "Metformin"), ("40.111", "Amlodipin"), ("40.21", "Paracetamol"), ("40.55", "Amoxicilin"),
         ("40.90", "Omeprazol"), ("40.12", "Losartan"), ("40.33", "Atorvastatin"), ("40.8", "Cetirizin")]
CHUNK = 10_000
FACILITIES = 300


def pid_of(i: int) -> str:
    return f"0010{50 + i // 1_000_000:02d}{i % 1_000_000:06d}"


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def fmt(ms: list[float]) -> str:
    return (f"n={len(ms)} p50={pct(ms, 50):.2f} ms p95={pct(ms, 95):.2f} ms p99={pct(ms, 99):.2f} ms "
            f"max={max(ms):.2f} ms")


class Copier:
    """Buffers rows per table as COPY text and flushes them with psycopg's COPY."""

    COLS = {
        "health_visits": ("id", "facility_code", "ma_lk", "personal_id", "version", "content_hash", "source",
                          "patient_name", "birth_date", "sex", "insurance_card", "visit_type", "admitted_at",
                          "discharged_at", "main_icd", "diagnosis_text", "outcome", "blood_group", "weight_kg",
                          "height_cm", "received_at"),
        "health_visit_versions": ("id", "visit_id", "version", "content_hash", "record", "received_at"),
        "health_diagnoses": ("visit_id", "personal_id", "icd10", "name", "is_primary", "diagnosed_at"),
        "health_lab_results": ("visit_id", "personal_id", "service_code", "indicator_code", "name", "value", "unit",
                               "result_at"),
        "health_medications": ("visit_id", "personal_id", "drug_code", "name", "strength", "route", "dosage",
                               "quantity", "unit", "ordered_at"),
        "health_referrals": ("visit_id", "personal_id", "number", "from_facility", "to_facility", "reason_code",
                             "diagnosis", "issued_at", "status"),
        "health_appointments": ("visit_id", "personal_id", "number", "facility_code", "appointment_at", "diagnosis"),
        "health_certificates": ("visit_id", "personal_id", "kind", "facility_code", "number", "issued_at", "data"),
        "health_profiles": ("personal_id", "blood_group", "height_cm", "weight_kg", "chronic_conditions", "allergies",
                            "updated_at"),
    }

    def __init__(self):
        self.buf = {t: io.StringIO() for t in self.COLS}
        self.counts = {t: 0 for t in self.COLS}

    def add(self, table: str, *values) -> None:
        b = self.buf[table]
        b.write("\t".join(r"\N" if v is None else str(v) for v in values))
        b.write("\n")
        self.counts[table] += 1

    def flush(self, conn: psycopg.Connection) -> None:
        with conn.cursor() as cur:
            for table, b in self.buf.items():
                data = b.getvalue()
                if not data:
                    continue
                with cur.copy(f"COPY {table} ({', '.join(self.COLS[table])}) FROM STDIN") as cp:
                    cp.write(data)
                self.buf[table] = io.StringIO()


def load(url: str, citizens: int, seed: int) -> dict:
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    copier = Copier()
    visit_id = 0
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            with cur.copy("COPY facilities (code, name, province_code, tier, ownership, insurance_contracted, active, "
                          "created_at) FROM STDIN") as cp:
                for f in range(FACILITIES):
                    cp.write_row((f"01{f:03d}", f"Bệnh viện số {f}", 1, "provincial", "public", True, True, now))
        conn.commit()
        last_print = started
        for i in range(citizens):
            pid = pid_of(i)
            nvisits = rnd.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 3))
            if rnd.random() < 0.3:
                copier.add("health_profiles", pid, rnd.choice(("A+", "B+", "O+", "AB+")), 150 + rnd.randint(0, 40),
                           45 + rnd.randint(0, 40), '[{"icd10": "I10", "name": "Tăng huyết áp", "since": "2020-01-01"}]',
                           "[]", now.isoformat())
            for _ in range(nvisits):
                visit_id += 1
                at = now - timedelta(days=rnd.randint(0, 3650), minutes=rnd.randint(0, 1440))
                fac = f"01{rnd.randrange(FACILITIES):03d}"
                icd = rnd.choice(ICD)
                ts = at.isoformat()
                copier.add("health_visits", visit_id, fac, f"LK{visit_id}", pid, 1, "0" * 64, "xml130",
                           "Nguyễn Văn An", "1985-03-04", "M", "DN4799413000573", "01", ts,
                           (at + timedelta(hours=2)).isoformat(), icd, "Khám bệnh", "2", None, None, None, ts)
                copier.add("health_visit_versions", visit_id, visit_id, 1, "0" * 64, "{}", ts)
                copier.add("health_diagnoses", visit_id, pid, icd, None, "t", ts)
                if rnd.random() < 0.5:
                    copier.add("health_diagnoses", visit_id, pid, rnd.choice(ICD), None, "f", ts)
                for _ in range(rnd.choice((0, 0, 1, 2, 3, 3))):
                    name, unit = rnd.choice(LABS)
                    copier.add("health_lab_results", visit_id, pid, "XN", name, name, f"{rnd.uniform(1, 10):.1f}",
                               unit, ts)
                for _ in range(rnd.choice((0, 1, 1, 2, 2, 3))):
                    code, name = rnd.choice(DRUGS)
                    copier.add("health_medications", visit_id, pid, code, name, "500mg", "1", "Ngày 2 lần", 14, "viên",
                               ts)
                r = rnd.random()
                if r < 0.05:
                    copier.add("health_referrals", visit_id, pid, f"CT{visit_id}", fac, "01000", "1", icd, ts, "issued")
                if r < 0.20:
                    copier.add("health_appointments", visit_id, pid, f"H{visit_id}", fac,
                               (at + timedelta(days=14)).isoformat(), icd)
                if r < 0.03:
                    copier.add("health_certificates", visit_id, pid, "driver_health", fac, f"GKSK{visit_id}", ts, "{}")
            if (i + 1) % CHUNK == 0 or i + 1 == citizens:
                copier.flush(conn)
                conn.commit()
                t = time.perf_counter()
                if t - last_print > 10 or i + 1 == citizens:
                    last_print = t
                    print(f"  loaded {i + 1:,}/{citizens:,} citizens, {sum(copier.counts.values()):,} rows, "
                          f"{t - started:.0f} s", flush=True)
        with conn.cursor() as cur:
            for table in ("health_visits", "health_visit_versions"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
    load_s = time.perf_counter() - started
    t = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    total = sum(copier.counts.values())
    print(f"loaded {total:,} rows in {load_s:.1f} s ({total / load_s:,.0f} rows/s); VACUUM ANALYZE "
          f"{time.perf_counter() - t:.1f} s")
    for table, n in copier.counts.items():
        print(f"    {table:24s} {n:>12,}")
    return copier.counts


def bench_in_process(url: str, citizens: int, reads: int, threads: int) -> None:
    from lienthong.db import session_factory
    from lienthong.health.book import health_book
    from lienthong.identity.principal import Principal

    factory = session_factory(url)
    rnd = random.Random(7)

    def one(i: int) -> float:
        pid = pid_of(rnd.randrange(citizens))
        p = Principal(kind="citizen", subject=pid, name="Công dân", personal_id=pid, assurance_level=2)
        t = time.perf_counter()
        with factory() as s:
            book = health_book(s, p, pid, purpose="benchmark")
            s.commit()
        assert book.visits.items
        return (time.perf_counter() - t) * 1000

    for _ in range(50):  # warm up the connection pool and the code paths
        one(0)
    ms = [one(i) for i in range(reads)]
    print(f"in-process health_book, 1 thread:   {fmt(ms)}")
    with ThreadPoolExecutor(threads) as ex:
        t = time.perf_counter()
        ms = list(ex.map(one, range(reads)))
        wall = time.perf_counter() - t
    print(f"in-process health_book, {threads} threads:  {fmt(ms)}  ({reads / wall:,.0f} reads/s)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER = """
import uvicorn
from lienthong.app import create_app
from lienthong.health.routes import router
app = create_app()
if "/api/v1/me/health" not in app.openapi()["paths"]:
    app.include_router(router)
app.openapi_schema = None
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning", timeout_graceful_shutdown=1)
"""


def start_server(url: str, secret: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "LIENTHONG_DATABASE_URL": url, "LIENTHONG_SECRET_KEY": secret,
           "LIENTHONG_STATE_DIR": f"/tmp/lt_bench_state_{os.getpid()}"}
    proc = subprocess.Popen([sys.executable, "-c", SERVER.format(port=port)], env=env, cwd=str(ROOT))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.2)


def tokens_for(pids: list[str]) -> dict[str, str]:
    from lienthong.identity.principal import Principal
    from lienthong.identity.tokens import issue_access_token

    return {pid: issue_access_token(Principal(kind="citizen", subject=pid, name="Công dân", personal_id=pid,
                                              assurance_level=2), ttl_s=3600) for pid in pids}


def bench_http(base: str, citizens: int, reads: int, threads: int) -> None:
    rnd = random.Random(11)
    pids = [pid_of(rnd.randrange(citizens)) for _ in range(reads)]
    toks = tokens_for(sorted(set(pids)))
    local = threading.local()

    def one(pid: str) -> float:
        client = getattr(local, "c", None) or httpx.Client(base_url=base, timeout=30)
        local.c = client
        t = time.perf_counter()
        r = client.get("/api/v1/me/health", headers={"Authorization": f"Bearer {toks[pid]}"})
        ms = (time.perf_counter() - t) * 1000
        assert r.status_code == 200, r.text
        return ms

    for pid in pids[:50]:
        one(pid)
    ms = [one(pid) for pid in pids]
    print(f"HTTP GET /api/v1/me/health, 1 client:   {fmt(ms)}")
    with ThreadPoolExecutor(threads) as ex:
        t = time.perf_counter()
        ms = list(ex.map(one, pids))
        wall = time.perf_counter() - t
    print(f"HTTP GET /api/v1/me/health, {threads} clients:  {fmt(ms)}  ({reads / wall:,.0f} req/s)")


def bench_sse(base: str, url: str, citizens: int, clients: int, rate: float, seconds: float) -> None:
    rnd = random.Random(13)
    pids = rnd.sample(range(citizens), clients)
    pids = [pid_of(i) for i in pids]
    toks = tokens_for(pids)
    received: dict[str, float] = {}
    ready = 0

    async def listen(client: httpx.AsyncClient, pid: str, stop: asyncio.Event):
        nonlocal ready
        async with client.stream("GET", "/api/v1/me/health/events",
                                 headers={"Authorization": f"Bearer {toks[pid]}"}) as r:
            assert r.status_code == 200
            event = None
            async for line in r.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "ready":
                    ready += 1
                elif line.startswith("data:") and event == "visit":
                    received[json.loads(line[5:])["ma_lk"]] = time.time()
                if stop.is_set():
                    return

    committed: dict[str, float] = {}

    def writer(stop_at: float):
        now = datetime.now(UTC)
        with psycopg.connect(url) as conn:
            n = 0
            start = time.perf_counter()
            while time.perf_counter() < stop_at:
                pid = rnd.choice(pids)
                ma_lk = f"SSE{uuid.uuid4().hex[:16]}"
                with conn.cursor() as cur:
                    vid = cur.execute(
                        "INSERT INTO health_visits (facility_code, ma_lk, personal_id, version, content_hash, source, "
                        "patient_name, admitted_at, received_at) VALUES ('01001', %s, %s, 1, %s, 'xml130', "
                        "'Nguyễn Văn An', %s, now()) RETURNING id", (ma_lk, pid, "1" * 64, now)).fetchone()[0]
                    cur.execute("INSERT INTO health_visit_versions (visit_id, version, content_hash, record, received_at) "
                                "VALUES (%s, 1, %s, '{}', now())", (vid, "1" * 64))
                conn.commit()
                committed[ma_lk] = time.time()
                n += 1
                delay = start + n / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)

    async def run():
        stop = asyncio.Event()
        limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=clients + 10)
        async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(30, read=None), limits=limits) as client:
            tasks = [asyncio.create_task(listen(client, pid, stop)) for pid in pids]
            t = time.monotonic()
            while ready < clients and time.monotonic() - t < 120:
                await asyncio.sleep(0.1)
            print(f"  {ready}/{clients} SSE clients connected in {time.monotonic() - t:.1f} s")
            th = threading.Thread(target=writer, args=(time.perf_counter() + seconds,))
            th.start()
            while th.is_alive():
                await asyncio.sleep(0.1)
            await asyncio.sleep(2.0)  # let the last pushes arrive
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(run())
    lat = [(received[k] - committed[k]) * 1000 for k in committed if k in received]
    missing = len(committed) - len(lat)
    print(f"SSE freshness, {clients} clients, {len(committed)} visits at {rate:g}/s: {fmt(lat)}; missing {missing}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--citizens", type=int, default=1_000_000)
    ap.add_argument("--reads", type=int, default=2000)
    ap.add_argument("--http-reads", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--sse-clients", type=int, default=200)
    ap.add_argument("--sse-rate", type=float, default=50.0)
    ap.add_argument("--sse-seconds", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--pg", default=os.environ.get("LIENTHONG_TEST_PG", "postgresql://postgres@127.0.0.1:5432"))
    ap.add_argument("--keep", action="store_true", help="keep the benchmark database")
    ap.add_argument("--skip-load", metavar="URL", help="reuse a database kept earlier (with --keep)")
    args = ap.parse_args()

    secret = "bench-" + uuid.uuid4().hex
    os.environ["LIENTHONG_SECRET_KEY"] = secret
    os.environ["LIENTHONG_STATE_DIR"] = f"/tmp/lt_bench_state_{os.getpid()}"
    from lienthong import migrate
    from lienthong.config import reset_settings_cache
    from lienthong.db import dispose_engines

    base = args.pg.rstrip("/")
    admin = base + "/postgres"
    name = f"lienthong_bench_health_{os.getpid()}"
    url = args.skip_load or f"{base}/{name}"
    os.environ["LIENTHONG_DATABASE_URL"] = url
    reset_settings_cache()
    if not args.skip_load:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    proc = None
    try:
        with psycopg.connect(url) as conn:
            server = conn.execute("SHOW server_version").fetchone()[0]
        print(f"PostgreSQL {server}, {os.cpu_count()} CPUs, {args.citizens:,} citizens")
        if not args.skip_load:
            migrate.upgrade(url)
            load(url, args.citizens, args.seed)
        bench_in_process(url, args.citizens, args.reads, args.threads)
        proc, http_base = start_server(url, secret)
        bench_http(http_base, args.citizens, args.http_reads, args.threads)
        if args.sse_clients:
            bench_sse(http_base, url, args.citizens, args.sse_clients, args.sse_rate, args.sse_seconds)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        dispose_engines()
        if not args.keep and not args.skip_load:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        elif args.keep:
            print(f"kept database: {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
