"""The ``lienthong civil advance`` runner: retries due automatic steps of linked procedures."""

from __future__ import annotations

from datetime import datetime

from lienthong.civil import birth as _birth  # noqa: F401  (registers the procedure)
from lienthong.civil import death as _death  # noqa: F401
from lienthong.civil import workflow
from lienthong.db import unit_of_work, utcnow


def run_advance(database_url: str | None = None, *, now: datetime | None = None, batch: int = 100,
                max_batches: int = 1000) -> workflow.AdvanceReport:
    """Run every due automatic step, ``batch`` steps per transaction, until none is due at ``now``.

    Safe to run from several processes at once (steps are claimed with an optimistic version check).
    """
    total = workflow.AdvanceReport()
    for _ in range(max_batches):
        at = now or utcnow()
        with unit_of_work(database_url) as session:
            rep = workflow.advance_due(session, at, limit=batch)
        total.attempted += rep.attempted
        total.done += rep.done
        total.failed += rep.failed
        total.retrying += rep.retrying
        total.skipped_busy += rep.skipped_busy
        total.cases += rep.cases
        if rep.attempted == 0 and rep.skipped_busy == 0:
            break
        if now is not None and rep.attempted == 0:
            break
    return total


def advance_command(database_url: str | None = None) -> None:
    """Typer body for ``lienthong civil advance``: one run, then a one-line summary (Vietnamese)."""
    rep = run_advance(database_url)
    print(f"Đã chạy {rep.attempted} lượt: {rep.done} bước hoàn thành, {rep.retrying} bước chờ thử lại, "
          f"{rep.failed} bước lỗi, {len(set(rep.cases))} hồ sơ.")
