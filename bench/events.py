"""Benchmark: the outbox relay during ingest: events/s delivered and event lag (commit -> JetStream).

    .venv/bin/python bench/events.py [--visits 3000] [--files 2] [--code DIR] [--nats nats://127.0.0.1:4222]
        [--pg postgresql://postgres@127.0.0.1:5432] [--envelopes DIR] [--keep]

1. Creates ``lienthong_bench_events_<pid>``, migrated by the code under test (``--code``, default this
   checkout), and a JetStream stream of its own (deleted afterwards).
2. Starts the relay as deployed (``lienthong outbox relay`` from ``--code``: in-process handlers,
   i.e. notifications, reminders, civil intake, and the JetStream publication) and a JetStream
   subscriber here that records when each event arrives.
3. Ingests ``--files`` envelopes of ``--visits`` visits each with ``lienthong ingest`` (the gateway's
   pipeline, worker pool included), one after the other: the same load as ``bench/ingest.py``.
4. Meanwhile polls ``max(seq)`` of the outbox every 20 ms: the time an event's seq first becomes
   visible is (within 20 ms) when its transaction committed. Lag = arrival on JetStream - commit.
5. Prints the ingest's event production rate, the relay's delivery rate while ingest runs and
   overall, lag p50/p90/p99/max, and how long the backlog took to drain after the last commit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from bisect import bisect_left
from pathlib import Path

import psycopg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
FACILITY = "01001"


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


class Subscriber(threading.Thread):
    def __init__(self, nats_url: str, stream: str, prefix: str):
        super().__init__(daemon=True)
        self.nats_url, self.stream, self.prefix = nats_url, stream, prefix
        self.arrived: dict[str, float] = {}
        self.ready = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        import nats
        from nats.js.api import StreamConfig

        nc = await nats.connect(self.nats_url)
        js = nc.jetstream()
        await js.add_stream(StreamConfig(name=self.stream, subjects=[f"{self.prefix}.>"]))

        async def on_msg(msg):
            self.arrived.setdefault(json.loads(msg.data)["event_id"], time.time())

        await js.subscribe(f"{self.prefix}.>", stream=self.stream, cb=on_msg, ordered_consumer=True)
        self.ready.set()
        while not self.stop.is_set():
            await asyncio.sleep(0.05)
        await nc.close()


def delete_stream(nats_url: str, stream: str) -> None:
    async def go():
        import nats

        nc = await nats.connect(nats_url)
        try:
            await nc.jetstream().delete_stream(stream)
        except Exception:
            pass
        await nc.close()

    asyncio.run(go())


def poll_commits(url: str, stop: threading.Event, out: list[tuple[float, int]]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        last = -1
        while not stop.is_set():
            top = conn.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()[0]
            if top != last:
                out.append((time.time(), top))
                last = top
            time.sleep(0.02)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--visits", type=int, default=3000)
    ap.add_argument("--files", type=int, default=2)
    ap.add_argument("--code", type=Path, default=ROOT)
    ap.add_argument("--nats", default=os.environ.get("LIENTHONG_TEST_NATS", "nats://127.0.0.1:4222"))
    ap.add_argument("--pg", default=os.environ.get("LIENTHONG_TEST_PG", "postgresql://postgres@127.0.0.1:5432"))
    ap.add_argument("--envelopes", type=Path, default=Path("/tmp/lienthong_bench_envelopes"))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    code = args.code.resolve()
    suffix = uuid.uuid4().hex[:8]
    stream, prefix = f"LT_BENCH_EVENTS_{suffix}", f"lt_bench_{suffix}"
    base = args.pg.rstrip("/")
    name = f"lienthong_bench_events_{os.getpid()}"
    url = f"{base}/{name}"
    state = Path(f"/tmp/lt_bench_events_{os.getpid()}")
    state.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, LIENTHONG_DATABASE_URL=url, LIENTHONG_SECRET_KEY="bench-" + suffix,
               LIENTHONG_STATE_DIR=str(state), LIENTHONG_NATS_URL=args.nats, LIENTHONG_NATS_STREAM=stream,
               LIENTHONG_NATS_SUBJECT_PREFIX=prefix, PYTHONPATH=str(code))
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    relay = None
    sub = Subscriber(args.nats, stream, prefix)
    try:
        subprocess.run([sys.executable, "-m", "lienthong.cli", "db", "upgrade"], cwd=code, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        from lienthong.gateway.xml130.generate import write_envelope

        args.envelopes.mkdir(parents=True, exist_ok=True)
        files = []
        for i in range(args.files):
            path = args.envelopes / f"events-{args.visits}-{i}.xml"
            if not path.exists():
                write_envelope(path.with_suffix(".tmp"), args.visits, facility_code=FACILITY, seed=20_000 + i)
                path.with_suffix(".tmp").rename(path)
            files.append(path)
        sub.start()
        sub.ready.wait(30)
        log = open(state / "relay.log", "wb")
        relay = subprocess.Popen([sys.executable, "-m", "lienthong.cli", "outbox", "relay"], cwd=code, env=env,
                                 stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        time.sleep(3)  # relay connected and idle
        commits: list[tuple[float, int]] = []
        stop = threading.Event()
        poller = threading.Thread(target=poll_commits, args=(url, stop, commits), daemon=True)
        poller.start()
        t0 = time.time()
        for path in files:
            subprocess.run([sys.executable, "-m", "lienthong.cli", "ingest", str(path), "--facility", FACILITY],
                           cwd=code, env=env, check=True, stdout=subprocess.DEVNULL)
        t1 = time.time()
        with psycopg.connect(url) as conn:
            total = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        deadline = time.time() + 600
        while len(sub.arrived) < total and time.time() < deadline:
            time.sleep(0.1)
        t2 = time.time()
        stop.set()
        poller.join(5)
        with psycopg.connect(url) as conn:
            seqs = dict(conn.execute("SELECT event_id, seq FROM outbox").fetchall())
            topics = conn.execute("SELECT topic, count(*) FROM outbox GROUP BY topic ORDER BY 2 DESC").fetchall()
        times = [t for t, _ in commits]
        tops = [s for _, s in commits]
        lags, during = [], 0
        for eid, arrived in sub.arrived.items():
            seq = seqs.get(eid)
            if seq is None:
                continue
            i = bisect_left(tops, seq)
            if i < len(times):
                lags.append(arrived - times[i])
            during += arrived <= t1
        last_commit = times[-1] if times else t1
        print(f"code {code}; {args.files} x {args.visits} visits; {total:,} events "
              f"({', '.join(f'{t} {n:,}' for t, n in topics)})")
        print(f"ingest: {t1 - t0:.1f} s, {total / (t1 - t0):,.0f} events/s produced")
        print(f"relay: {during:,} events delivered while ingesting ({during / (t1 - t0):,.0f}/s); all {len(sub.arrived):,} "
              f"by {t2 - t0:.1f} s ({len(sub.arrived) / (t2 - t0):,.0f}/s overall); backlog drained "
              f"{max(0.0, max(sub.arrived.values(), default=last_commit) - last_commit):.1f} s after the last commit")
        print(f"lag commit -> JetStream: p50 {pct(lags, 50) * 1000:,.0f} ms, p90 {pct(lags, 90) * 1000:,.0f} ms, "
              f"p99 {pct(lags, 99) * 1000:,.0f} ms, max {max(lags, default=float('nan')) * 1000:,.0f} ms "
              f"({len(lags):,} events); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        if len(sub.arrived) < total:
            print(f"NOT DELIVERED within 10 minutes: {total - len(sub.arrived):,} events")
    finally:
        if relay is not None:
            try:
                os.killpg(relay.pid, signal.SIGTERM)
                relay.wait(15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(relay.pid, signal.SIGKILL)
        sub.stop.set()
        sub.join(10)
        delete_stream(args.nats, stream)
        if not args.keep:
            with psycopg.connect(base + "/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
