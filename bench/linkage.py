"""Benchmark: link a noisy register of M records to a registry of N people (Splink + DuckDB or Spark).

    .venv/bin/python bench/linkage.py [--n 1000000] [--m 1000000] [--noise moderate] [--match-share 0.85]
        [--accept 0.95] [--review 0.5] [--seed 1] [--backend duckdb|spark] [--spark-master local[*]]
        [--spark-driver-memory 4g]

1. Generates the registry (household generator of the demo, 8 provinces) and the labelled noisy
   dataset (:mod:`lienthong.linkage.noise`: diacritics dropped, OCR damage, swapped name order,
   missing middle names, day/month swaps, year-only dates, old CMND instead of the personal ID,
   old province names, typos; ``match_share`` of the records are about registry people).
2. Runs :func:`lienthong.linkage.link.link_dataset` and prints the time of every stage
   (prepare, train, predict, resolve), the number of scored pairs, the peak RSS of the process
   and precision / recall / F1 (review items counted as not linked, then as perfectly reviewed).
   With ``--backend spark`` a SparkSession is started first (its start-up is timed separately;
   master ``--spark-master`` / ``$LIENTHONG_SPARK_MASTER`` / ``local[*]``). The peak RSS is then the
   Python driver's only: the JVM is a child process, its heap is bounded by the driver memory.
Nothing is written to a database: this measures the linkage itself.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lienthong.linkage import link, noise  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="registry size")
    ap.add_argument("--m", type=int, default=1_000_000, help="dataset size")
    ap.add_argument("--noise", default="moderate", choices=sorted(noise.NOISE_LEVELS))
    ap.add_argument("--match-share", type=float, default=0.85)
    ap.add_argument("--accept", type=float, default=0.95)
    ap.add_argument("--review", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--backend", default="duckdb", choices=("duckdb", "spark"))
    ap.add_argument("--spark-master", default=None, help="default: $LIENTHONG_SPARK_MASTER or local[*]")
    ap.add_argument("--spark-driver-memory", default="4g", help="local master only")
    args = ap.parse_args()

    print(f"registry {args.n:,} people, dataset {args.m:,} records, noise {args.noise}, "
          f"{os.cpu_count()} cores, backend {args.backend}")
    t0 = time.perf_counter()
    registry = noise.make_registry(args.n, seed=args.seed)
    t1 = time.perf_counter()
    print(f"  generate registry        {t1 - t0:8.1f} s")
    dataset = noise.make_dataset(registry, args.m, seed=args.seed + 1, level=args.noise,
                                 match_share=args.match_share)
    t2 = time.perf_counter()
    print(f"  generate noisy dataset   {t2 - t1:8.1f} s   (peak RSS so far {peak_rss_mb():,.0f} MB)")
    truth = noise.truth(dataset)

    def say(stage: str) -> None:
        print(f"  ... {stage} ({time.perf_counter() - t2:.1f} s)", flush=True)

    session = None
    if args.backend == "spark":
        session = link.spark_session(args.spark_master, driver_memory=args.spark_driver_memory)
        print(f"  start SparkSession       {time.perf_counter() - t2:8.1f} s   (master {session.sparkContext.master})")
        t2 = time.perf_counter()
    try:
        result = link.link_dataset(registry, dataset, mapping=noise.DATASET_MAPPING, backend=args.backend,
                                   thresholds=(args.accept, args.review), spark_session=session, progress=say)
    finally:
        if session is not None:
            session.stop()
    total = time.perf_counter() - t2
    for stage, seconds in result.timings.items():
        print(f"  {stage:<24} {seconds:8.1f} s")
    print(f"  linkage total            {total:8.1f} s   ({args.m / total:,.0f} records/s)")
    print(f"  pairs scored (p >= 0.001) {result.pairs_scored:,}")
    print(f"  peak RSS                 {peak_rss_mb():,.0f} MB")
    counts = result.counts()
    print(f"  outcomes: accepted {counts['accepted']:,}, review {counts['review']:,}, no match {counts['no_match']:,}")
    print("  without clerks:       " + link.evaluate(result.decisions, truth).line())
    print("  with perfect clerks:  " + link.evaluate(result.decisions, truth, review_as="best").line())


if __name__ == "__main__":
    main()
