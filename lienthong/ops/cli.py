"""Command line of the ops context: ``lienthong ops ...``.

* ``import-rollout FILE --as-of 2024-10-07 [--service judicial_vneid]``: an official per-province
  status table (CSV in the columns of letter 3546/TCTTKĐA) as the dated snapshot (idempotent);
* ``import-figures FILE.json``: national figures of a dated document (printed totals, programme
  figures), see ``lienthong/ops/data/README.md``;
* ``import-history``: the history shipped with lienthong (``lienthong/ops/data/``);
* ``summary --service S --as-of D``: a table snapshot's summary figures computed from its rows
  beside the printed ones, with the explanation of every difference;
* ``timeline --service S``: provinces per status every 7 days;
* ``signals``: look for live signals once (the worker does it every minute).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from lienthong.ops.models import DEFAULT_SERVICE

ops_app = typer.Typer(help="Operations: rollout tracker history and signals.", no_args_is_help=True)
console = Console()

DbOption = typer.Option(None, "--database-url", envvar="LIENTHONG_DATABASE_URL",
                        help="Database URL (default: embedded SQLite)")
ServiceOption = typer.Option(DEFAULT_SERVICE, "--service", help="tracked service key (lienthong ops services)")


def _url(database_url: Optional[str]) -> str:
    from lienthong import migrate
    from lienthong.cli import _use_database

    url = _use_database(database_url)
    migrate.upgrade(url)
    return url


def _fail(message: str) -> None:
    console.print(f"[red]Lỗi:[/] {message}")
    raise typer.Exit(1)


def _as_of(text: str) -> date:
    from lienthong.web.dates import parse_vn_date

    try:
        return parse_vn_date(text, field="as_of")
    except Exception:
        _fail(f"--as-of phải là ngày yyyy-mm-dd hoặc dd/mm/yyyy: {text!r}")


@ops_app.command("import-rollout")
def import_rollout(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
                   as_of: str = typer.Option(..., "--as-of", help="date of the table, e.g. 2024-10-07"),
                   service: str = ServiceOption,
                   title: str = typer.Option("", help="document title (default: known for the letter of that date)"),
                   source: str = typer.Option("", help="where the table comes from"),
                   source_url: Optional[str] = typer.Option(None, "--source-url"),
                   database_url: Optional[str] = DbOption) -> None:
    """Import an official per-province status table as a dated snapshot (running it twice changes nothing)."""
    from lienthong.db import unit_of_work
    from lienthong.errors import DomainError
    from lienthong.ops import history

    day = _as_of(as_of)
    url = _url(database_url)
    try:
        with unit_of_work(url) as session:
            r = history.import_table(session, file.read_bytes(), as_of=day, service_key=service, filename=file.name,
                                     title=title, source=source, source_url=source_url)
            snap_id, outcome = r.snapshot.id, r.outcome
    except DomainError as exc:
        _fail(exc.message)
    label = {"created": "đã nhập", "replaced": "đã thay bằng bản mới", "unchanged": "không đổi (đã nhập trước đó)"}
    console.print(f"Bảng ngày {day.strftime('%d/%m/%Y')} ({service}): {label[outcome]} — bảng số {snap_id}, "
                  f"{r.rows} hàng, {r.uncertain_cells} ô không chắc chắn, {r.changes} thay đổi ghi nhận, "
                  f"{r.derived_changes} thay đổi suy ra cho tỉnh hợp nhất.")


@ops_app.command("import-figures")
def import_figures(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
                   database_url: Optional[str] = DbOption) -> None:
    """Import national figures of a dated document (JSON; same service and date: replaced)."""
    from lienthong.db import unit_of_work
    from lienthong.errors import DomainError
    from lienthong.ops import history

    url = _url(database_url)
    try:
        with unit_of_work(url) as session:
            r = history.import_figures(session, file.read_bytes(), filename=file.name)
            snap_id, outcome, n = r.snapshot.id, r.outcome, r.figures
    except DomainError as exc:
        _fail(exc.message)
    console.print(f"{file.name}: {outcome} — bảng số {snap_id}, {n} số liệu.")


@ops_app.command("import-history")
def import_history(database_url: Optional[str] = DbOption) -> None:
    """Import the rollout history shipped with lienthong (07/10/2024 table, its totals, kiosk figures)."""
    from lienthong.db import unit_of_work
    from lienthong.ops import history

    url = _url(database_url)
    with unit_of_work(url) as session:
        out = history.import_bundled(session)
    for name, outcome in out.items():
        console.print(f"{name}: {outcome}")


@ops_app.command("summary")
def summary(service: str = ServiceOption, as_of: str = typer.Option("2024-10-07", "--as-of"),
            database_url: Optional[str] = DbOption) -> None:
    """A table snapshot's own summary figures beside the printed totals, with the differences explained."""
    from sqlalchemy import select

    from lienthong.db import session_factory
    from lienthong.ops import history
    from lienthong.ops.models import RolloutSnapshot
    from lienthong.ops.rules import VERDICT_LABELS

    day = _as_of(as_of)
    url = _url(database_url)
    with session_factory(url)() as session:
        snap = session.scalars(select(RolloutSnapshot).where(RolloutSnapshot.service_key == service,
                                                             RolloutSnapshot.as_of == day,
                                                             RolloutSnapshot.kind == "table")).first()
        if snap is None:
            _fail(f"chưa nhập bảng ngày {day.strftime('%d/%m/%Y')} của dịch vụ {service}")
        figures, printed = history.summary(session, snap)
        title = snap.title
    table = Table(title=f"{title} ({day.strftime('%d/%m/%Y')})")
    for col in ("số liệu", "tính từ bảng", "chỉ ô đọc rõ", "khoảng có thể", "số in", "đánh giá"):
        table.add_column(col)
    for f in figures:
        table.add_row(f.label, str(f.computed), str(f.certain), f"{f.possible[0]}–{f.possible[1]}",
                      "—" if f.printed is None else ("≥ " if f.qualifier == "at_least" else "") + str(f.printed),
                      VERDICT_LABELS[f.verdict])
    console.print(table)
    for f in figures:
        if f.verdict not in ("match", "not_printed"):
            console.print(f"[bold]{f.label}[/]: {f.explanation}")


@ops_app.command("timeline")
def timeline(service: str = ServiceOption, database_url: Optional[str] = DbOption) -> None:
    """Provinces per status every 7 days (63 old provinces before 01/07/2025, 34 after)."""
    from lienthong.db import unit_of_work
    from lienthong.ops import history
    from lienthong.ops.models import ROLLOUT_STATUSES
    from lienthong.ops.service import STATUS_LABELS

    url = _url(database_url)
    with unit_of_work(url) as session:
        points = history.timeline(session, service)
    table = Table(title=f"Số tỉnh theo trạng thái: {service}")
    table.add_column("ngày")
    table.add_column("tỉnh")
    for s in ROLLOUT_STATUSES:
        table.add_column(STATUS_LABELS[s], justify="right")
    for p in points:
        table.add_row(p.day.strftime("%d/%m/%Y"), p.unit_set, *[str(p.counts[s]) for s in ROLLOUT_STATUSES])
    console.print(table)


@ops_app.command("signals")
def scan_signals(database_url: Optional[str] = DbOption) -> None:
    """Look for live signals once (first accepted health data per province) and print the proposals."""
    from lienthong.db import unit_of_work
    from lienthong.ops import signals

    url = _url(database_url)
    with unit_of_work(url) as session:
        made = signals.scan_health(session)
        pending = [(p.id, u.service_key, u.province_code, p.signal) for p, u in signals.list_proposals(session)]
    console.print(f"{made} đề xuất mới; {len(pending)} đề xuất chờ xác nhận")
    for pid, svc, prov, sig in pending:
        console.print(f"  #{pid} {svc} tỉnh {prov}: {sig}")


def register(app: typer.Typer) -> None:
    app.add_typer(ops_app, name="ops")
