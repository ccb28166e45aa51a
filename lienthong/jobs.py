"""Background work: the outbox relay (which runs the in-process event handlers) and periodic jobs
that contexts register (procedure steps, reminders, automatic certificate checks).

``lienthong worker`` runs it as its own process (production: one or more, they coordinate through
the database); ``lienthong serve``/``demo`` also run it in a thread of the server process unless
``LIENTHONG_BACKGROUND_JOBS=false``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("lienthong.jobs")


@dataclass
class PeriodicJob:
    name: str
    interval_s: float
    run: Callable[[str | None], object]  # run(database_url)
    next_at: float = field(default=0.0)


_JOBS: dict[str, PeriodicJob] = {}


def register_periodic(name: str, interval_s: float, run: Callable[[str | None], object]) -> None:
    _JOBS[name] = PeriodicJob(name, interval_s, run)


def registered() -> list[PeriodicJob]:
    load_contexts()
    return list(_JOBS.values())


def load_contexts() -> None:
    """Import the modules that register periodic jobs and in-process event handlers."""
    from lienthong.audit import jobs as _audit  # noqa: F401
    from lienthong.civil import jobs as _civil  # noqa: F401
    from lienthong.health import jobs as _health  # noqa: F401
    from lienthong.judicial import jobs as _judicial  # noqa: F401
    from lienthong.notifications import handlers as _notifications  # noqa: F401
    from lienthong.ops import jobs as _ops  # noqa: F401


def run_forever(database_url: str | None = None, *, stop: threading.Event | None = None,
                relay_interval_s: float = 0.5, nats_url: str | None = None, tick_s: float = 0.25) -> None:
    """The outbox relay in a thread of its own (passes back to back under load, woken by new events
    when idle, see :func:`lienthong.events.relay.run_relay`) and the periodic jobs (the audit
    sequencer among them) in this one, until ``stop`` is set."""
    from lienthong.events import relay

    stop = stop or threading.Event()
    jobs = registered()
    # One relay for the worker's lifetime: its NATS connection (made on first use, remade if it
    # drops) is kept across passes.
    relay_thread = threading.Thread(target=relay.run_relay, name="lienthong-relay", daemon=True,
                                    kwargs=dict(url=database_url, nats_url=nats_url, interval_s=relay_interval_s,
                                                stop=stop))
    relay_thread.start()
    try:
        while not stop.is_set():
            now = time.monotonic()
            for job in jobs:
                if now >= job.next_at:
                    job.next_at = now + job.interval_s
                    try:
                        job.run(database_url)
                    except Exception:
                        log.exception("periodic job %s failed", job.name)
            stop.wait(tick_s)
    finally:
        stop.set()
        relay_thread.join(timeout=max(10.0, relay_interval_s + 5))


def start_in_thread(database_url: str | None = None) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(database_url,), kwargs={"stop": stop},
                              name="lienthong-jobs", daemon=True)
    thread.start()
    return thread, stop
