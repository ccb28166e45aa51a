"""Process hygiene: child processes (the XML ingest worker pool, uvicorn's worker processes) end when
the process that started them ends, however it ends (SIGTERM, SIGKILL, a crash).

Linux tells a child about its parent's death if asked (``prctl(PR_SET_PDEATHSIG)``), but the signal
comes when the *thread* that forked the child ends, and a server creates pools from short-lived
threads; so the signal used here (SIGUSR2) is only a prompt to look: the child ends when its parent
process id has changed (it was re-parented: the parent is gone), not otherwise. A watchdog thread
also checks every second, for the moment between fork and ``prctl`` and for systems without it.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
PARENT_SIGNAL = signal.SIGUSR2
WATCH_INTERVAL_S = 1.0
GRACE_S = 10.0  # a server process whose parent died gets this long to shut down cleanly

_parent: int | None = None


def _pdeathsig(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):  # pragma: no cover - no libc prctl
        return False


def _orphaned() -> bool:
    return _parent is not None and os.getppid() != _parent


def die_with_parent(parent_pid: int, on_death=None) -> None:
    """Call in a child process (main thread): end it when process ``parent_pid`` is gone.

    ``on_death()`` runs instead of an immediate ``os._exit(1)`` when given (e.g. a graceful shutdown;
    the process is then killed after :data:`GRACE_S` in any case)."""
    global _parent
    _parent = parent_pid

    def gone() -> None:
        if on_death is None:
            os._exit(1)
        threading.Timer(GRACE_S, os._exit, args=(1,)).start()
        on_death()

    def on_signal(_signum, _frame) -> None:
        if _orphaned():
            gone()

    signal.signal(PARENT_SIGNAL, on_signal)
    _pdeathsig(PARENT_SIGNAL)

    def watch() -> None:
        while not _orphaned():
            time.sleep(WATCH_INTERVAL_S)
        gone()

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()
    if _orphaned():  # the parent died before we asked
        gone()


def pool_worker_init(parent_pid: int) -> None:
    """``ProcessPoolExecutor(initializer=...)`` of the ingest workers: die with the server."""
    die_with_parent(parent_pid)


def die_with_parent_if_worker() -> None:
    """In a uvicorn worker process (``--workers N``; started by the supervisor with multiprocessing):
    shut down gracefully (SIGTERM to itself, as the supervisor would) when the supervisor is gone."""
    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None or threading.current_thread() is not threading.main_thread():
        return
    die_with_parent(parent.pid, on_death=lambda: os.kill(os.getpid(), signal.SIGTERM))
    log.debug("server worker %d ends with its supervisor %d", os.getpid(), parent.pid)
