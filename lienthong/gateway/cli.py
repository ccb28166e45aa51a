"""Command-line entry points of the health gateway.

* ``lienthong ingest FILE... [--facility 01001]``: ingest QĐ 130/4750 envelopes into the database
  (same pipeline as ``POST /api/v1/gateway/xml130``; the operator is trusted, so the facility
  defaults to each envelope's MACSKCB), with a Rich progress bar per file and a receipt table;
* ``lienthong gen xml130 FILE --visits N``: write a realistic synthetic envelope.

Plain functions (:func:`ingest_files`, :func:`gen_xml130`) do the work; :func:`register` adds the
Typer commands to the main app.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from lienthong.identity.principal import Principal


def cli_principal(facility_code: str | None) -> Principal:
    """The trusted operator running the CLI (audited as ``system``/``cli``)."""
    return Principal(kind="system", subject="cli", name="lienthong ingest", facility_code=facility_code)


def ingest_files(paths: list[str | os.PathLike], facility_code: str | None = None, database_url: str | None = None,
                 *, progress: bool = False, chunk_size: int | None = None) -> list[dict]:
    """Ingest each file as one batch; return the receipts (errors capped at 20 each for display)."""
    from rich.progress import (
        BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn,
    )

    from lienthong.health import ingest
    from lienthong.health.xml_mapping import ingest_xml130

    principal = cli_principal(facility_code)
    receipts = []
    kwargs = {"chunk_size": chunk_size} if chunk_size else {}
    bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                   TextColumn("{task.fields[visits]} hồ sơ"), TimeElapsedColumn(), disable=not progress)
    with bar:
        for path in paths:
            size = Path(path).stat().st_size
            task = bar.add_task(Path(path).name, total=size, visits=0)

            def report(batch, bytes_read, task=task):
                bar.update(task, completed=bytes_read, visits=batch.dossiers)

            batch = ingest_xml130(str(path), principal, database_url=database_url, filename=Path(path).name,
                                  facility_code=facility_code, progress=report, **kwargs)
            bar.update(task, completed=size, visits=batch.dossiers)
            receipts.append(ingest.receipt(batch, max_errors=20))
    return receipts


def gen_xml130(path: str | os.PathLike, visits: int, facility_code: str = "01001", seed: int = 2026,
               citizens=None, error_rate: float = 0.0):
    """Write a synthetic GIAMDINHHS envelope of ``visits`` dossiers (deterministic for ``seed``).

    ``citizens``: optional ``(personal_id, full_name, birth_date, sex)`` tuples to draw patients from
    (e.g. seeded citizens, so visits land in real health books). Returns the generator's
    ``GenerationResult`` (visits, bytes, records per table, injected errors).
    """
    from lienthong.gateway.xml130.generate import write_envelope

    return write_envelope(path, visits, facility_code=facility_code, seed=seed, citizens=citizens,
                          error_rate=error_rate)


def registry_patients(database_url: str | None, seed: int, limit: int = 5000) -> list[tuple]:
    """Up to ``limit`` living citizens (personal ID, full name, birth date, sex), a deterministic sample."""
    import random

    from sqlalchemy import select

    from lienthong.db import session_factory
    from lienthong.population.models import Citizen

    with session_factory(database_url)() as session:
        rows = session.execute(select(Citizen.personal_id, Citizen.full_name, Citizen.birth_date, Citizen.sex)
                               .where(Citizen.status == "alive").order_by(Citizen.personal_id)).all()
    rows = [tuple(r) for r in rows]
    random.Random(seed).shuffle(rows)
    return rows[:limit]


def register(app: typer.Typer) -> None:
    """Add ``ingest`` and ``gen xml130`` to the main CLI."""
    from lienthong.cli import DbOption, _use_database, console

    @app.command("ingest")
    def ingest_cmd(files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="GIAMDINHHS files"),
                   facility: Optional[str] = typer.Option(None, "--facility",
                                                          help="expected MACSKCB (default: each file's own)"),
                   database_url: Optional[str] = DbOption) -> None:
        """Ingest QĐ 130/4750 claim envelopes (streamed, validated, stored idempotently by facility + MA_LK)."""
        from rich.table import Table

        from lienthong import migrate
        from lienthong.errors import DomainError

        url = _use_database(database_url)
        migrate.upgrade(url)
        try:
            receipts = ingest_files(files, facility, url, progress=True)
        except DomainError as exc:
            console.print(f"[red]Lỗi:[/] {exc.message}")
            raise typer.Exit(2)
        table = Table("file", "status", "dossiers", "accepted", "updated", "unchanged", "rejected", "resources",
                      "errors")
        failed = False
        for r in receipts:
            failed |= r["status"] != "done"
            table.add_row(r["filename"] or "", r["status"], *(f"{r[k]:,}" for k in (
                "dossiers", "accepted", "updated", "unchanged", "rejected", "resources", "error_count")))
        console.print(table)
        for r in receipts:
            for e in r["errors"]:
                console.print(f"  {r['filename']}: MA_LK={e.get('ma_lk')} {e.get('table')}"
                              f"[{e.get('record')}].{e.get('field')}: {e.get('message')}")
        if failed:
            raise typer.Exit(1)

    gen_app = typer.Typer(help="Synthetic data files.", no_args_is_help=True)

    @gen_app.command("xml130")
    def gen_cmd(path: Path = typer.Argument(..., help="output file"),
                visits: int = typer.Option(1000, "--visits", "-n", min=1, help="number of visits (dossiers)"),
                facility: str = typer.Option("01001", "--facility", help="MACSKCB of the envelope"),
                seed: int = typer.Option(2026, "--seed", help="random seed (same seed, same file)"),
                from_registry: bool = typer.Option(False, "--from-registry",
                                                   help="draw patients from the database's living citizens"),
                database_url: Optional[str] = DbOption) -> None:
        """Write a realistic synthetic QĐ 130/4750 envelope."""
        citizens = registry_patients(_use_database(database_url), seed) if from_registry else None
        if from_registry and not citizens:
            console.print("[red]Không có công dân nào trong cơ sở dữ liệu (chạy `lienthong seed` trước).[/]")
            raise typer.Exit(2)
        with console.status(f"writing {visits:,} visits…"):
            result = gen_xml130(path, visits, facility, seed, citizens=citizens)
        tables = ", ".join(f"{k} {v:,}" for k, v in sorted(result.tables.items(), key=lambda kv: int(kv[0][3:])))
        console.print(f"[green]{path}[/]: {result.visits:,} hồ sơ, {result.records:,} bản ghi, "
                      f"{result.bytes_written / 1e6:,.1f} MB ({tables})")

    app.add_typer(gen_app, name="gen")
