"""Benchmark: QĐ 130/4750 envelope ingest into a fresh PostgreSQL database, end to end.

    .venv/bin/python bench/ingest.py [--visits 20000] [--citizens 5000] [--workers N]
                                     [--pg postgresql://postgres@127.0.0.1:5432] [--breakdown]
                                     [--profile FILE] [--keep] [--cold]

Creates ``lienthong_bench_ingest_<pid>``, migrates it, seeds citizens (so visits carry real personal
IDs and land in real health profiles), writes a synthetic envelope of ``--visits`` dossiers with
the xml130 generator, then times:

* the end-to-end ingest (stream parse + validate + map + canonical JSON/hash + store, with events,
  versions, profiles and the batch audit entry), in visits/s and resources/s (resources = the visit
  plus its diagnoses, lab results, medications, referrals, appointments and certificates);
* the resubmission of the same file (every visit unchanged);
* the physical limit: the very rows that ingest wrote (visits, versions, child rows, outbox events,
  profiles), dumped with ``COPY TO`` and loaded with ``COPY FROM`` into empty copies of the tables
  (same columns and indexes) on the same server, and the ratio of the two rates;
* the CPU the raw COPY takes per visit, and the CPU budget per visit that the target leaves on this
  many cores, beside what any ingest on PostgreSQL + lxml cannot avoid (the database's share of the
  COPY, the envelope scan with its digests, base64 and the lxml parse of the inner files) and what
  that leaves for each field of a visit;
* with ``--breakdown``, a single-process pass over the file timing parse / validate / map /
  canonical JSON separately (where the CPU goes).

The worker pool is started before the timed ingest (a server starts it once, see
``start_workers``); ``--cold`` times the first ingest with the pool start-up included.

The CPU used per visit by this process, the worker processes and the database backend is printed
too, with the rate it allows on this many cores: on a shared machine wall-clock rates swing with the
load of other processes, CPU per visit much less.

Peak RSS of this process and of the worker processes is printed. The database is dropped
afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lienthong import migrate  # noqa: E402
from lienthong.db import dispose_engines  # noqa: E402

TARGET_RESOURCES_PER_S = 30_000
COPY_TABLES = ("health_visits", "health_visit_versions", "health_diagnoses", "health_lab_results",
               "health_medications", "health_referrals", "health_appointments", "health_certificates", "outbox",
               "health_profiles")


def rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: KiB


def seed_citizens(url: str, n: int) -> list[tuple]:
    try:
        from lienthong.demo.seed import seed_database
    except ImportError:  # pragma: no cover - the demo seeder is optional here
        seed_database = None
    if seed_database is not None and n > 0:
        seed_database(url, citizens=n, province_code=1, seed=2026, demo_accounts=False)
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT personal_id, full_name, birth_date, sex FROM citizens "
                            "WHERE status = 'alive' ORDER BY personal_id").fetchall()
    return [tuple(r) for r in rows]


def breakdown(path: str, facility: str) -> dict[str, float]:
    from lienthong.gateway.xml130.parser import EnvelopeReader
    from lienthong.gateway.xml130.validate import validate_dossier
    from lienthong.health.ingest import prepare_visit
    from lienthong.health.xml_mapping import dossier_to_visit

    t = {"parse": 0.0, "validate": 0.0, "map": 0.0, "json+hash": 0.0}
    it = iter(EnvelopeReader(path))
    clock = time.perf_counter
    while True:
        a = clock()
        try:
            d = next(it)
        except StopIteration:
            t["parse"] += clock() - a
            break
        b = clock()
        r = validate_dossier(d, authenticated_facility=facility)
        c = clock()
        if r.accepted:
            v = dossier_to_visit(d, r.values)
            e = clock()
            prepare_visit(v)
            f = clock()
            t["map"] += e - c
            t["json+hash"] += f - e
        t["parse"] += b - a
        t["validate"] += c - b
    return t


def library_floor(path: str) -> dict[str, float]:
    """CPU seconds of the steps any ingest built on this stack must take, whatever its own code costs:
    the envelope scan as the ingest does it (lxml ``iterparse`` and the HOSO digests), and base64
    decoding plus the hardened lxml parse of every inner file (no record extraction). Also counts
    the inner files and the fields (leaf elements) that validation has to look at."""
    import base64

    from lxml import etree

    from lienthong.gateway.xml130.parser import hardened_parser
    from lienthong.health.xml_mapping import _reader_class

    clock = time.process_time
    parser = hardened_parser()
    leaves = etree.XPath("count(//*[not(*)])")
    visits = files = fields = 0
    scan = decode_parse = 0.0
    it = iter(_reader_class()(path))  # streamed, as the ingest reads it
    while True:
        t = clock()
        d = next(it, None)
        scan += clock() - t
        if d is None:
            break
        t = clock()
        roots = [etree.fromstring(base64.b64decode(text, validate=True), parser) for _loai, text in d.files]
        decode_parse += clock() - t
        visits += 1
        files += len(roots)
        fields += int(sum(leaves(r) for r in roots))
    return {"scan": scan, "decode_parse": decode_parse, "files": files, "fields": fields, "visits": visits}


def _proc_cpu(pid: int) -> float:
    """utime + stime of a process in seconds (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            parts = fh.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def cpu_snapshot(url: str, name: str) -> dict[str, float]:
    """CPU seconds used so far by this process, the worker pool and this database's backends.

    On a shared machine wall-clock rates vary with the load; CPU per visit does not (much), and
    ``cores / CPU per visit`` bounds the rate on an otherwise idle machine.
    """
    from lienthong.health import xml_mapping

    pool = xml_mapping._pool
    workers = sum(_proc_cpu(pid) for pid in (getattr(pool, "_processes", None) or {})) if pool else 0.0
    with psycopg.connect(url, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                                           "AND pid <> pg_backend_pid()", (name,))]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"main": usage.ru_utime + usage.ru_stime, "workers": workers,
            "postgres": {pid: _proc_cpu(pid) for pid in pids}}


def cpu_delta(before: dict, after: dict) -> dict[str, float]:
    pg = sum(v - before["postgres"].get(pid, 0.0) for pid, v in after["postgres"].items())
    return {"main": after["main"] - before["main"], "workers": after["workers"] - before["workers"], "postgres": pg}


def copy_limit(url: str, name: str) -> tuple[float, int, dict[str, float]]:
    """Seconds to COPY the rows ingest wrote into empty copies of the tables; total rows; CPU seconds
    of that COPY (:func:`cpu_delta`: this process as ``main``, the database backend as ``postgres``)."""
    dumps: dict[str, tuple[str, bytes]] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for table in COPY_TABLES:
            cols = [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
                (table,))]
            collist = ", ".join(cols)
            buf = bytearray()
            with conn.cursor().copy(f"COPY (SELECT {collist} FROM {table}) TO STDOUT") as cp:
                for block in cp:
                    buf += block
            dumps[table] = (collist, bytes(buf))
            conn.execute(f"DROP TABLE IF EXISTS bench_copy_{table}")
            conn.execute(f"CREATE TABLE bench_copy_{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES)")
    rows = sum(data.count(b"\n") for _c, data in dumps.values())
    with psycopg.connect(url) as conn:
        conn.execute("SET default_toast_compression = 'lz4'")
        before = cpu_snapshot(url, name)
        start = time.perf_counter()
        with conn.cursor() as cur:
            for table, (collist, data) in dumps.items():
                with cur.copy(f"COPY bench_copy_{table} ({collist}) FROM STDIN") as cp:
                    for i in range(0, len(data), 1 << 20):
                        cp.write(data[i:i + (1 << 20)])
        conn.commit()
        elapsed = time.perf_counter() - start
        cpu = cpu_delta(before, cpu_snapshot(url, name))
    with psycopg.connect(url, autocommit=True) as conn:
        for table in COPY_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS bench_copy_{table}")
    return elapsed, rows, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--visits", type=int, default=20_000)
    ap.add_argument("--citizens", type=int, default=5_000)
    ap.add_argument("--workers", type=int, default=None, help="validation processes (default: auto)")
    ap.add_argument("--facility", default="01001")
    ap.add_argument("--pg", default=os.environ.get("LIENTHONG_TEST_PG", "postgresql://postgres@127.0.0.1:5432"))
    ap.add_argument("--breakdown", action="store_true", help="also time parse/validate/map/json separately")
    ap.add_argument("--profile", help="write cProfile stats of the ingest (main process) to this file")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--cold", action="store_true", help="include the worker pool start-up in the timed ingest")
    args = ap.parse_args()

    from lienthong.gateway.cli import cli_principal, gen_xml130
    from lienthong.health.xml_mapping import default_workers, ingest_xml130, shutdown_workers, start_workers

    name = f"lienthong_bench_ingest_{os.getpid()}"
    admin = args.pg.rstrip("/") + "/postgres"
    url = args.pg.rstrip("/") + "/" + name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    tmp = tempfile.mkdtemp(prefix="lienthong-bench-")
    path = os.path.join(tmp, "envelope.xml")
    try:
        migrate.upgrade(url)
        t = time.perf_counter()
        citizens = seed_citizens(url, args.citizens)
        print(f"seeded {len(citizens):,} citizens in {time.perf_counter() - t:.1f} s")

        t = time.perf_counter()
        gen = gen_xml130(path, args.visits, args.facility, 2026, citizens=citizens or None)
        size = os.path.getsize(path)
        print(f"generated {gen.visits:,} visits, {gen.records:,} inner records, {size / 1e6:,.1f} MB "
              f"in {time.perf_counter() - t:.1f} s")

        workers = default_workers() if args.workers is None else args.workers
        principal = cli_principal(args.facility)
        if workers and not args.cold:
            # A server keeps its pool: start it (spawn + imports) before timing, as at server start-up.
            t = time.perf_counter()
            start_workers(workers)
            print(f"started {workers} worker processes in {time.perf_counter() - t:.2f} s (not timed; --cold to include)")
        profiler = cProfile.Profile() if args.profile else None
        cpu0 = cpu_snapshot(url, name)
        t = time.perf_counter()
        if profiler:
            profiler.enable()
        batch = ingest_xml130(path, principal, database_url=url, filename="envelope.xml", workers=workers)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        e2e = time.perf_counter() - t
        cpu = cpu_delta(cpu0, cpu_snapshot(url, name))
        if batch.status != "done" or batch.rejected:
            print(f"!! batch {batch.status}, rejected {batch.rejected}: {batch.errors[:3]}")
        print(f"\ningest ({workers} validation workers): {batch.dossiers:,} visits, {batch.resources:,} resources "
              f"in {e2e:.2f} s")
        print(f"  {batch.dossiers / e2e:,.0f} visits/s, {batch.resources / e2e:,.0f} resources/s "
              f"(target {TARGET_RESOURCES_PER_S:,}: {'met' if batch.resources / e2e >= TARGET_RESOURCES_PER_S else 'NOT met'})"
              f", {size / e2e / 1e6:,.1f} MB/s of XML")

        cpu_total = sum(cpu.values())
        cores = os.cpu_count() or 1
        print(f"  CPU per visit: {cpu_total / batch.dossiers * 1e3:.3f} ms (main {cpu['main'] / batch.dossiers * 1e3:.3f}, "
              f"workers {cpu['workers'] / batch.dossiers * 1e3:.3f}, postgres {cpu['postgres'] / batch.dossiers * 1e3:.3f}); "
              f"{cores} cores -> at most {cores * batch.resources / cpu_total:,.0f} resources/s on an idle machine"
              f" (load average now {os.getloadavg()[0]:.1f})")

        rss_after_ingest = rss_mb(resource.RUSAGE_SELF)

        t = time.perf_counter()
        again = ingest_xml130(path, principal, database_url=url, filename="envelope.xml", workers=workers)
        re_s = time.perf_counter() - t
        print(f"resubmission (unchanged {again.unchanged:,}/{again.dossiers:,}): {re_s:.2f} s, "
              f"{again.dossiers / re_s:,.0f} visits/s")

        shutdown_workers()  # children's peak RSS is reported once they have exited
        workers_rss = rss_mb(resource.RUSAGE_CHILDREN)

        copy_s, rows, copy_cpu = copy_limit(url, name)
        print(f"\nraw COPY of the same rows ({rows:,} rows in {len(COPY_TABLES)} tables, same indexes): {copy_s:.2f} s, "
              f"{batch.resources / copy_s:,.0f} resources/s, {rows / copy_s:,.0f} rows/s")
        print(f"  end-to-end / COPY = {copy_s / e2e:.1%} of the physical limit")
        per = 1e3 / batch.dossiers
        print(f"  CPU per visit of that COPY: postgres {copy_cpu['postgres'] * per:.3f} ms, "
              f"client {copy_cpu['main'] * per:.3f} ms")

        # What the target leaves per visit on this many cores, against what this stack cannot avoid.
        floor = library_floor(path)
        budget = cores * 1e3 / (TARGET_RESOURCES_PER_S / (batch.resources / batch.dossiers))
        fixed = copy_cpu["postgres"] * per + (floor["scan"] + floor["decode_parse"]) * per
        print(f"\nCPU budget per visit at the target on {cores} cores: {budget:.3f} ms (this run used "
              f"{cpu_total * per:.3f} ms)")
        print(f"  unavoidable with PostgreSQL + lxml: {fixed:.3f} ms = postgres COPY {copy_cpu['postgres'] * per:.3f} + "
              f"envelope scan and digests {floor['scan'] * per:.3f} + base64 and lxml parse of "
              f"{floor['files'] / floor['visits']:.1f} inner files {floor['decode_parse'] * per:.3f}")
        left = budget - fixed
        fields = floor["fields"] / floor["visits"]
        print(f"  left for record extraction, validation, mapping, canonical JSON, hand-over and COPY rows: "
              f"{left:.3f} ms per visit, {left * 1e3 / fields:.2f} µs for each of its {fields:,.0f} fields")

        if args.breakdown:
            parts = breakdown(path, args.facility)
            total = sum(parts.values())
            print(f"\nsingle-process CPU breakdown ({total:.2f} s, {batch.dossiers / total:,.0f} visits/s, "
                  f"{batch.resources / total:,.0f} resources/s without storage):")
            for k, v in parts.items():
                print(f"  {k:10s} {v:6.2f} s  {v / total:5.1%}  {v / batch.dossiers * 1e3:.3f} ms/visit")

        print(f"\npeak RSS during ingest: main {rss_after_ingest:,.0f} MB, largest worker {workers_rss:,.0f} MB; "
              f"envelope {size / 1e6:,.0f} MB (memory does not grow with the file: one chunk in flight)")
        if args.profile:
            pstats.Stats(args.profile).sort_stats("tottime").print_stats(20)
    finally:
        shutdown_workers()
        dispose_engines()
        if os.path.exists(path):
            os.unlink(path)
        os.rmdir(tmp)
        if not args.keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
