"""Command line: ``lienthong --help``."""

from __future__ import annotations

import os
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(help="lienthong: citizen data exchange platform (Project 06).", no_args_is_help=True)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
audit_app = typer.Typer(help="Audit log.", no_args_is_help=True)
outbox_app = typer.Typer(help="Domain event outbox.", no_args_is_help=True)
client_app = typer.Typer(help="Service clients (facilities, agencies).", no_args_is_help=True)
staff_app = typer.Typer(help="Officer and administrator accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(outbox_app, name="outbox")
app.add_typer(client_app, name="client")
app.add_typer(staff_app, name="staff")
civil_app = typer.Typer(help="Linked civil procedures.", no_args_is_help=True)
app.add_typer(civil_app, name="civil")
health_app = typer.Typer(help="Electronic health book.", no_args_is_help=True)
app.add_typer(health_app, name="health")

console = Console()


def _use_database(database_url: Optional[str]) -> str:
    from lienthong.config import get_settings, reset_settings_cache

    if database_url:
        os.environ["LIENTHONG_DATABASE_URL"] = database_url
        reset_settings_cache()
    return get_settings().database_url


DbOption = typer.Option(None, "--database-url", envvar="LIENTHONG_DATABASE_URL", help="Database URL (default: embedded SQLite)")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head", database_url: Optional[str] = DbOption) -> None:
    """Apply migrations up to REVISION (default head)."""
    from lienthong import migrate

    url = _use_database(database_url)
    migrate.upgrade(url, revision)
    console.print(f"[green]Schema at {migrate.current_revision(url)}[/] ({url.split('@')[-1]})")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="target revision, e.g. base"),
                 database_url: Optional[str] = DbOption) -> None:
    from lienthong import migrate

    url = _use_database(database_url)
    migrate.downgrade(url, revision)
    console.print(f"Schema at {migrate.current_revision(url)}")


@db_app.command("current")
def db_current(database_url: Optional[str] = DbOption) -> None:
    from lienthong import migrate

    console.print(migrate.current_revision(_use_database(database_url)) or "(empty)")


def _run_seed(url: str, citizens: int, province: int, seed: int):
    from lienthong.demo.seed import seed_database

    with _progress() as progress:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        result = seed_database(url, citizens=citizens, province_code=province, seed=seed, progress=report)
    return result


def _print_seed_report(result) -> None:
    table = Table(title="Seeded")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in result.counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    console.print(f"{result.elapsed_s:.1f} s")
    demo = getattr(result, "demo_accounts", None)
    if demo:
        console.print("[bold]Demo accounts[/]")
        for key, value in (demo.items() if isinstance(demo, dict) else vars(demo).items()):
            console.print(f"  {key}: {value}")


@app.command()
def seed(citizens: int = typer.Option(10_000, "--citizens", "-n", min=1, help="how many citizens"),
         province: int = typer.Option(1, help="current (34-unit) province code of the synthetic province"),
         random_seed: int = typer.Option(2026, "--seed", help="random seed (same seed, same data)"),
         database_url: Optional[str] = DbOption) -> None:
    """Build a synthetic province: citizens, families, addresses, facilities, agencies, demo accounts."""
    from lienthong import migrate
    from lienthong.geo import units

    units.province(province)
    url = _use_database(database_url)
    migrate.upgrade(url)
    _print_seed_report(_run_seed(url, citizens, province, random_seed))


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          graceful_timeout: int = typer.Option(30, help="seconds a SIGTERM waits for requests in flight"),
          database_url: Optional[str] = DbOption) -> None:
    """Run the API and web server (applies pending migrations first).

    On SIGTERM the server stops accepting requests, waits up to --graceful-timeout for those in
    flight, and ends with its worker processes; they also end if the server is killed."""
    import uvicorn

    from lienthong import migrate

    url = _use_database(database_url)
    os.environ.setdefault("LIENTHONG_BASE_URL", f"http://{host}:{port}")
    from lienthong.config import reset_settings_cache

    reset_settings_cache()
    migrate.upgrade(url)
    uvicorn.run("lienthong.app:create_app", factory=True, host=host, port=port, workers=workers,
                timeout_graceful_shutdown=graceful_timeout)


@app.command()
def demo(host: str = "127.0.0.1", port: int = 8000,
         citizens: int = typer.Option(None, "--citizens", help="size of the demo province (default LIENTHONG_DEMO_CITIZENS)"),
         database_url: Optional[str] = DbOption) -> None:
    """Run the server on the embedded database with a synthetic demo province (seeded on first start)."""
    from sqlalchemy import func, select

    from lienthong import migrate
    from lienthong.config import get_settings
    from lienthong.db import session_factory
    from lienthong.population.models import Citizen

    url = _use_database(database_url)
    migrate.upgrade(url)
    with session_factory(url)() as session:
        existing = session.scalar(select(func.count()).select_from(Citizen)) or 0
    settings = get_settings()
    if existing == 0:
        console.print("[bold]Seeding the demo province…[/]")
        _print_seed_report(_run_seed(url, citizens or settings.demo_citizens, settings.demo_province_code, 2026))
    else:
        console.print(f"Demo database already has {existing:,} citizens ({url}).")
    console.print(f"[bold green]Open http://{host}:{port}/[/] — log in with any seeded personal ID "
                  "(see `lienthong staff list` for officer/admin IDs); API docs at /docs")
    serve(host=host, port=port, workers=1, database_url=url)


@app.command("check-id")
def check_id(personal_id: str) -> None:
    """Validate a personal ID number and show what it encodes."""
    from lienthong.population.ids import InvalidPersonalId
    from lienthong.population.service import parse_id

    try:
        info = parse_id(personal_id)
    except InvalidPersonalId as exc:
        console.print(f"[red]Không hợp lệ:[/] {exc}")
        raise typer.Exit(2)
    console.print(f"Nơi đăng ký khai sinh: {info.place_code} {info.place_name or '(mã nước ngoài)'}; "
                  f"giới tính: {'nam' if info.sex == 'M' else 'nữ'}; năm sinh: {info.birth_year_candidates()}")


@audit_app.command("verify")
def audit_verify(checkpoint: Optional[str] = typer.Option(
                     None, help="a checkpoint kept outside the database: a file holding the signed note an earlier "
                                "run printed, or SIZE:ROOT"),
                 entry: Optional[int] = typer.Option(None, help="also prove that the entry with this seq is in the log"),
                 database_url: Optional[str] = DbOption) -> None:
    """Recompute the audit log (every entry's hash, the Merkle tree, every signed checkpoint); exit 1 if
    it was tampered with. Prints the latest signed checkpoint to keep outside the database."""
    from pathlib import Path

    from sqlalchemy import func, select

    from lienthong.audit import merkle, service
    from lienthong.audit.checkpoint import CheckpointError, signer
    from lienthong.audit.models import AuditEntry
    from lienthong.db import session_factory
    from lienthong.errors import DomainError

    url = _use_database(database_url)
    external = None
    if checkpoint:
        external = Path(checkpoint).read_text(encoding="utf-8") if Path(checkpoint).is_file() else checkpoint
        try:
            service.parse_external(external)
        except CheckpointError as exc:
            console.print(f"[red]--checkpoint:[/] {exc}")
            raise typer.Exit(2)
    with session_factory(url)() as session:
        total = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
        with _progress() as progress:
            task = progress.add_task("verifying", total=total)
            result = service.verify(session, progress=lambda n: progress.update(task, completed=n), checkpoint=external)
            progress.update(task, completed=result.entries)
        if not result.ok:
            where = f"entry {result.first_bad_seq}" if result.first_bad_seq else f"position {result.first_bad_index}"
            console.print(f"[red]TAMPERED[/] at {where}: {result.problem} "
                          f"({result.entries:,} entries verified before it)")
            raise typer.Exit(1)
        console.print(f"[green]OK[/]: {result.entries:,} entries in the tree ({result.legacy:,} of the older hash "
                      f"chain), {result.checkpoints:,} signed checkpoints, {result.pending:,} waiting for the sequencer")
        if external:
            console.print("the checkpoint kept outside the database is consistent with the log")
        console.print(f"root: {result.head_hash}")
        if result.checkpoint:
            typer.echo("latest signed checkpoint (keep it outside the database; verifier key "
                       f"{signer().verifier.encode()}):")
            typer.echo(result.checkpoint, nl=False)  # verbatim: a signed note must not be re-wrapped
        if entry is not None:
            try:
                proof = service.prove(session, entry)
            except DomainError as exc:
                console.print(f"[red]entry {entry}:[/] {exc.message}")
                raise typer.Exit(1)
            ok = merkle.verify_inclusion(bytes.fromhex(proof.leaf_hash), proof.leaf_index, proof.tree_size,
                                         [bytes.fromhex(p) for p in proof.path], bytes.fromhex(proof.root))
            console.print(f"entry {entry}: position {proof.leaf_index} of {proof.tree_size}, leaf {proof.leaf_hash}")
            for i, h in enumerate(proof.path):
                console.print(f"  path[{i}] {h}")
            console.print(("[green]included[/]" if ok else "[red]NOT included[/]") + f" under root {proof.root}")
            if external:
                size, root, _ = service.parse_external(external)
                if 0 < size < proof.tree_size:
                    path = service.consistency(session, size, proof.tree_size)
                    good = merkle.verify_consistency(size, proof.tree_size, root, bytes.fromhex(proof.root),
                                                     [bytes.fromhex(p) for p in path])
                    console.print(f"consistency proof {size} -> {proof.tree_size} ({len(path)} hashes): "
                                  + ("[green]valid[/]" if good else "[red]INVALID[/]"))
                    ok = ok and good
            if not ok:
                raise typer.Exit(1)


@audit_app.command("sequence")
def audit_sequence(database_url: Optional[str] = DbOption) -> None:
    """Run the sequencer once: seal the committed entries into the tree and sign a checkpoint."""
    from lienthong.audit import sequencer

    r = sequencer.run_once(_use_database(database_url))
    if r.skipped:
        console.print("another sequencer holds the log; nothing done")
        return
    console.print(f"sequenced {r.sequenced:,} entries; tree size {r.tree_size:,}, root {r.root}")
    if r.rejected:
        console.print(f"[red]{len(r.rejected)} entries refused (hash or MAC wrong): {r.rejected[:20]}[/]")
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(database_url: Optional[str] = DbOption) -> None:
    """Print the latest signed checkpoint (C2SP signed note) and the key that verifies it."""
    from lienthong.audit import service
    from lienthong.audit.checkpoint import signer
    from lienthong.db import session_factory

    with session_factory(_use_database(database_url))() as session:
        row = service.latest_checkpoint(session)
    typer.echo(f"verifier key: {signer().verifier.encode()}")
    if row is None:
        console.print("no checkpoint yet (empty log, or the sequencer has not run)")
        return
    typer.echo(row.note, nl=False)


@outbox_app.command("relay")
def outbox_relay(once: bool = typer.Option(False, help="one pass then exit"),
                 nats_url: Optional[str] = typer.Option(None, envvar="LIENTHONG_NATS_URL"),
                 database_url: Optional[str] = DbOption) -> None:
    """Deliver outbox events to in-process handlers and NATS JetStream (when configured)."""
    from lienthong import jobs
    from lienthong.events import relay

    url = _use_database(database_url)
    jobs.load_contexts()  # the in-process handlers the relay delivers to
    if once:
        console.print(f"delivered {relay.relay_once(url, nats_url=nats_url or None)} events")
    else:
        console.print("relaying (Ctrl-C to stop)")
        try:
            relay.run_relay(url, nats_url=nats_url or None)
        except KeyboardInterrupt:
            pass


@client_app.command("create")
def client_create(client_id: str, name: str, kind: str = typer.Option(..., help="facility or agency"),
                  facility: Optional[str] = None, agency: Optional[str] = None,
                  scopes: str = typer.Option(..., help="space-separated scopes"),
                  database_url: Optional[str] = DbOption) -> None:
    """Register a service client and print its secret (shown once)."""
    from lienthong.db import unit_of_work
    from lienthong.identity.service import create_service_client

    url = _use_database(database_url)
    with unit_of_work(url) as session:
        client, secret = create_service_client(session, client_id=client_id, name=name, kind=kind,
                                               facility_code=facility, agency_code=agency, scopes=scopes.split())
    console.print(f"client_id: {client.client_id}\nclient_secret: {secret}")


@staff_app.command("create")
def staff_create(personal_id: str, role: str = typer.Option(..., help="officer or admin"),
                 province: Optional[int] = None, agency: Optional[str] = None,
                 database_url: Optional[str] = DbOption) -> None:
    """Give a citizen an officer or administrator role."""
    from lienthong.db import unit_of_work
    from lienthong.identity.service import create_staff_account

    url = _use_database(database_url)
    with unit_of_work(url) as session:
        create_staff_account(session, personal_id=personal_id, role=role, province_code=province, agency_code=agency)
    console.print("created")


@staff_app.command("list")
def staff_list(database_url: Optional[str] = DbOption) -> None:
    from sqlalchemy import select

    from lienthong.db import session_factory
    from lienthong.identity.models import StaffAccount
    from lienthong.population.models import Citizen

    url = _use_database(database_url)
    table = Table("personal ID", "name", "role", "province", "agency")
    with session_factory(url)() as session:
        for staff, name in session.execute(select(StaffAccount, Citizen.full_name).outerjoin(
                Citizen, Citizen.personal_id == StaffAccount.personal_id)):
            table.add_row(staff.personal_id, name or "", staff.role, str(staff.province_code or ""), staff.agency_code or "")
    console.print(table)


@civil_app.command("advance")
def civil_advance(database_url: Optional[str] = DbOption) -> None:
    """Run the due automatic steps of linked procedures (retries included)."""
    from lienthong.civil.cli import advance_command

    advance_command(_use_database(database_url))


@health_app.command("remind")
def health_remind(database_url: Optional[str] = DbOption) -> None:
    """Emit reminder events for tomorrow's re-examination appointments (idempotent)."""
    from lienthong.db import unit_of_work
    from lienthong.health.reminders import send_appointment_reminders

    with unit_of_work(_use_database(database_url)) as session:
        sent = send_appointment_reminders(session)
    console.print(f"{sent} reminders")


@app.command()
def worker(nats_url: Optional[str] = typer.Option(None, envvar="LIENTHONG_NATS_URL"),
           database_url: Optional[str] = DbOption) -> None:
    """Run the outbox relay and the periodic jobs (procedure steps, reminders, automatic checks)."""
    import logging

    from lienthong import jobs

    logging.basicConfig(level=logging.INFO)
    url = _use_database(database_url)
    console.print("worker: " + ", ".join(j.name for j in jobs.registered()) + " (Ctrl-C to stop)")
    try:
        jobs.run_forever(url, nats_url=nats_url or None)
    except KeyboardInterrupt:
        pass




# Record linkage (lienthong.linkage): `lienthong link DATASET`.
from lienthong.linkage.cli import register as _register_linkage  # noqa: E402

_register_linkage(app)

# Health gateway: `lienthong ingest FILE...` and `lienthong gen xml130 FILE --visits N` (lienthong/gateway/cli.py).
from lienthong.gateway.cli import register as _register_gateway  # noqa: E402

_register_gateway(app)

# Operations (lienthong.ops): `lienthong ops import-rollout FILE --as-of DATE`, `ops summary`, ...
from lienthong.ops.cli import register as _register_ops  # noqa: E402

_register_ops(app)


if __name__ == "__main__":  # pragma: no cover
    app()
