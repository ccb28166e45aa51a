"""``lienthong link DATASET``: link an external register to the population registry.

Register it on the main Typer app with ``app.command("link")(link_command)`` (done at the end of
:mod:`lienthong.cli`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()


def _pairs(values: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise typer.BadParameter(f"{what}: expected FIELD=COLUMN, got {item!r}")
        out[field.strip()] = column.strip()
    return out


def link_command(
    dataset: Path = typer.Argument(..., help="external register: CSV or Parquet file"),
    mapping: Optional[Path] = typer.Option(None, "--mapping", "-m",
                                           help="JSON/TOML mapping: {field: column}, or dataset and registry sections"),
    map_: list[str] = typer.Option([], "--map", help="dataset FIELD=COLUMN (repeatable; overrides --mapping)"),
    registry: Optional[Path] = typer.Option(None, "--registry",
                                            help="generic mode: link to this CSV/Parquet file instead of the database"),
    registry_map: list[str] = typer.Option([], "--registry-map", help="registry FIELD=COLUMN (generic mode)"),
    name: Optional[str] = typer.Option(None, "--name", help="dataset name carried in events (default: file stem)"),
    accept: Optional[float] = typer.Option(None, "--accept", help="auto-accept threshold (match probability)"),
    review: Optional[float] = typer.Option(None, "--review", help="clerical-review threshold (match probability)"),
    min_margin: float = typer.Option(2.0, "--min-margin", help="least match-weight lead over the runner-up"),
    backend: str = typer.Option("duckdb", "--backend", help="duckdb (default) or spark (needs pyspark + Java 17; master: $LIENTHONG_SPARK_MASTER, default local[*])"),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="write the dataset with linked personal IDs (CSV/Parquet)"),
    truth: Optional[str] = typer.Option(None, "--truth-column",
                                        help="column with the true personal ID: print precision/recall/F1"),
    no_db: bool = typer.Option(False, "--no-db", help="do not store the job (generic mode, files only)"),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="LIENTHONG_DATABASE_URL"),
) -> None:
    """Link DATASET to the population registry (or, with --registry, to any file) with Splink."""
    from lienthong.linkage import link as L

    spec: dict = {"dataset": {}, "registry": None, "thresholds": None}
    if mapping:
        try:
            spec.update({k: v for k, v in L.load_mapping(mapping).items() if v is not None})
        except (OSError, ValueError) as exc:
            raise typer.BadParameter(f"mapping file: {exc}") from None
    ds_map = {**spec["dataset"], **_pairs(map_, "--map")}
    reg_map = {**(spec.get("registry") or {}), **_pairs(registry_map, "--registry-map")} or None
    th = spec.get("thresholds") or [0.95, 0.5]
    thresholds = (accept if accept is not None else float(th[0]), review if review is not None else float(th[1]))
    if registry is None and no_db:
        raise typer.BadParameter("--no-db needs --registry (there is no other registry to link to)")
    if reg_map and registry is None:
        raise typer.BadParameter("--registry-map is only for generic mode (--registry FILE)")

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("Đọc dữ liệu", total=None)

        def say(stage: str) -> None:
            progress.update(task, description=stage)

        try:
            table = L.read_table(dataset)
            if no_db:
                result = L.link_dataset(str(registry), table, mapping=ds_map, registry_mapping=reg_map,
                                        backend=backend, thresholds=thresholds, min_margin=min_margin, progress=say)
                job_id = None
            else:
                if database_url:
                    os.environ["LIENTHONG_DATABASE_URL"] = database_url
                    from lienthong.config import reset_settings_cache

                    reset_settings_cache()
                from lienthong.db import unit_of_work
                from lienthong.identity.principal import SYSTEM
                from lienthong.linkage import service

                with unit_of_work() as session:
                    outcome = service.run_job(
                        session, SYSTEM, table, mapping=ds_map, dataset_name=name or dataset.stem,
                        registry=str(registry) if registry else None, registry_mapping=reg_map, backend=backend,
                        thresholds=thresholds, min_margin=min_margin, progress=say)
                    result, job_id = outcome.result, outcome.job.id
                    outcome.job.source = str(dataset)
            if output:
                from lienthong.linkage.service import write_output

                say("Ghi tệp kết quả")
                write_output(output, table, ds_map, result)
        except L.LinkageError as exc:
            console.print(f"[red]Lỗi:[/] {exc}")
            raise typer.Exit(2) from None

    counts = result.counts()
    t = Table(title=f"Liên kết {dataset.name}" + (f" · phiên {job_id}" if job_id else ""))
    t.add_column("Kết quả")
    t.add_column("Số bản ghi", justify="right")
    t.add_row("Tự động chấp nhận", f"{counts['accepted']:,}")
    t.add_row("Chờ cán bộ đối chiếu", f"{counts['review']:,}")
    t.add_row("Không khớp", f"{counts['no_match']:,}")
    console.print(t)
    console.print("Thời gian: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items())
                  + f"; {result.pairs_scored:,} cặp được chấm điểm")
    if truth:
        if truth not in table.column_names:
            console.print(f"[red]Không có cột {truth!r} trong tệp.[/]")
            raise typer.Exit(2)
        key = ds_map["record_id"]
        labels = {str(k).strip(): (str(v).strip() if v else None)
                  for k, v in zip(table.column(key).to_pylist(), table.column(truth).to_pylist())}
        console.print("Không tính hàng chờ đối chiếu: " + L.evaluate(result.decisions, labels).line())
        console.print("Đối chiếu hoàn hảo:           " + L.evaluate(result.decisions, labels, review_as="best").line())
    if output:
        console.print(f"Đã ghi {output}")
    if job_id:
        console.print(json.dumps({"job_id": job_id}))


def register(app: typer.Typer) -> None:
    app.command("link", help="Link an external register (CSV/Parquet) to the population registry (Splink).")(
        link_command)
