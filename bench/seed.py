"""Benchmark: load a synthetic province into a fresh PostgreSQL database.

    .venv/bin/python bench/seed.py [--citizens 100000] [--province 1] [--seed 2026]
                                   [--pg postgresql://postgres@127.0.0.1:5432] [--keep]

Creates a database ``lienthong_bench_<pid>``, migrates it, runs
``lienthong.demo.seed.seed_database`` and prints citizens/s, rows/s per table and the total time
against the 60 s target for 100,000 citizens. As the physical limit it then COPYs the very same
citizen rows (regenerated from the same seed, so generation is not timed) into an empty copy of the
``citizens`` table, once through the same ``write_row`` path and once as pre-formatted COPY text,
and prints the ratios. The database is dropped afterwards unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from datetime import date
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lienthong import migrate  # noqa: E402
from lienthong.db import dispose_engines, utcnow  # noqa: E402
from lienthong.demo import synthetic as S  # noqa: E402
from lienthong.demo.seed import BULK_TABLES, CITIZEN_COLS, copy_rows, household_rows, seed_database  # noqa: E402

TARGET_S = 60.0
TARGET_CITIZENS = 100_000


def _copy_text(rows: list[tuple]) -> bytes:
    """COPY text format (tab-separated, \\N for NULL); the generated data has no tabs or newlines."""
    out = io.StringIO()
    for row in rows:
        out.write("\t".join(r"\N" if v is None else str(v) for v in row))
        out.write("\n")
    return out.getvalue().encode()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--citizens", type=int, default=TARGET_CITIZENS)
    ap.add_argument("--province", type=int, default=1)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--pg", default=os.environ.get("LIENTHONG_TEST_PG", "postgresql://postgres@127.0.0.1:5432"))
    ap.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = ap.parse_args()

    base = args.pg.rstrip("/")
    name = f"lienthong_bench_{os.getpid()}"
    admin = base + "/postgres"
    url = f"{base}/{name}"
    ref = date.today()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        server = conn.execute("SHOW server_version").fetchone()[0]
    try:
        t = time.perf_counter()
        migrate.upgrade(url)
        migrate_s = time.perf_counter() - t
        print(f"PostgreSQL {server}, {os.cpu_count()} CPUs; database {name} migrated in {migrate_s:.2f} s")

        last = [0.0]

        def progress(stage: str, done: int, total: int) -> None:
            now = time.perf_counter()
            if stage == "citizens" and (now - last[0] > 2 or done == total):
                last[0] = now
                print(f"  {stage}: {done:,}/{total:,}", flush=True)

        report = seed_database(url, citizens=args.citizens, province_code=args.province, seed=args.seed,
                               ref_date=ref, progress=progress)
        n = report.counts["citizens"]
        total_rows = sum(report.counts.values())
        print()
        print(f"Seeded {n:,} citizens ({total_rows:,} rows) in {report.elapsed_s:.2f} s "
              f"-> {n / report.elapsed_s:,.0f} citizens/s, {total_rows / report.elapsed_s:,.0f} rows/s overall")
        print(f"{'table':<16}{'rows':>10}{'COPY s':>9}{'rows/s':>12}")
        for table in BULK_TABLES:
            secs = report.timings.get(f"write.{table}", 0.0)
            rows = report.counts[table]
            print(f"{table:<16}{rows:>10,}{secs:>9.2f}{rows / secs if secs else 0:>12,.0f}")
        for key in ("facilities", "agencies", "staff_accounts", "service_clients"):
            print(f"{key:<16}{report.counts.get(key, 0):>10,}")
        phases = ", ".join(f"{k} {v:.2f} s" for k, v in report.timings.items() if not k.startswith("write."))
        print(f"phases: {phases}")
        scaled = report.elapsed_s * TARGET_CITIZENS / n if n else 0.0
        verdict = "OK" if scaled < TARGET_S else "TOO SLOW"
        print(f"total {report.elapsed_s:.2f} s for {n:,} citizens (scaled to {TARGET_CITIZENS:,}: {scaled:.2f} s) "
              f"vs target {TARGET_S:.0f} s: {verdict} ({TARGET_S / scaled if scaled else 0:.1f}x headroom)")

        # Physical limit: the same citizen rows, COPYed into an empty copy of the table.
        gen = S.PopulationGenerator(random.Random(args.seed), S.province_profile(args.province), ref)
        rows = household_rows(gen.households(n), utcnow())["citizens"]
        payload = _copy_text(rows)
        with psycopg.connect(url) as conn:
            results = {}
            for label, with_indexes in (("with indexes", True), ("no indexes", False)):
                for how in ("write_row", "text"):
                    conn.execute("DROP TABLE IF EXISTS citizens_copy")
                    like = "INCLUDING ALL" if with_indexes else "INCLUDING DEFAULTS"
                    conn.execute(f"CREATE TABLE citizens_copy (LIKE citizens {like})")
                    conn.commit()
                    t = time.perf_counter()
                    if how == "write_row":
                        copy_rows(conn, "citizens_copy", CITIZEN_COLS, rows)
                    else:
                        with conn.cursor() as cur, cur.copy(
                                f"COPY citizens_copy ({', '.join(CITIZEN_COLS)}) FROM STDIN") as cp:
                            cp.write(payload)
                    conn.commit()
                    results[(label, how)] = time.perf_counter() - t
            conn.execute("DROP TABLE citizens_copy")
            conn.commit()
        seed_citizens = report.timings.get("write.citizens", 0.0)
        print()
        print(f"Physical limit: raw COPY of the same {len(rows):,} citizen rows into an empty copy of the table")
        for (label, how), secs in results.items():
            print(f"  {label:<13} {how:<10} {secs:6.2f} s  {len(rows) / secs:>10,.0f} rows/s")
        raw = results[("with indexes", "write_row")]
        raw_text = results[("with indexes", "text")]
        print(f"  seeding's COPY of citizens {seed_citizens:.2f} s = {seed_citizens / raw:.2f}x the raw write_row COPY, "
              f"{seed_citizens / raw_text:.2f}x the pre-formatted COPY")
        print(f"  whole seed {report.elapsed_s:.2f} s = {report.elapsed_s / raw:.1f}x the raw citizens COPY "
              f"(it also generates the data and loads {total_rows - n:,} other rows)")
    finally:
        dispose_engines()
        if not args.keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
