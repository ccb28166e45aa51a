"""Periodic sweep for criminal-record certificate applications.

``python -m lienthong.judicial.worker`` runs :func:`lienthong.judicial.service.process_pending` every
``--interval`` seconds (default 20): submitted applications not yet checked (e.g. the server
stopped before its background task ran) are checked, and overdue reviews are escalated. With the
background task after submission and the bus handler this keeps the automatic issue of clean cases
well within a minute. ``--once`` runs one sweep and exits (cron).
"""

from __future__ import annotations

import argparse
import logging
import threading

from lienthong.db import unit_of_work, utcnow
from lienthong.judicial import service

log = logging.getLogger("lienthong.judicial.worker")


def sweep(url: str | None = None) -> dict:
    with unit_of_work(url) as session:
        return service.process_pending(session, utcnow())


def run(interval_s: float = 20.0, stop: threading.Event | None = None, url: str | None = None) -> None:
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            outcome = sweep(url)
            if any(outcome.values()):
                log.info("judicial sweep: %s", outcome)
        except Exception:  # keep sweeping; the next pass retries
            log.exception("judicial sweep failed")
        stop.wait(interval_s)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true")
    parser.add_argument("--interval", type=float, default=20.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    if args.once:
        print(sweep())
    else:
        try:
            run(args.interval)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
