"""Loading a synthetic province into the database.

PostgreSQL: every bulk table goes through ``COPY ... FROM STDIN`` (psycopg 3) inside one
transaction. SQLite: ``executemany`` inside one transaction. Households are generated and written
in chunks (10,000 citizens by default) so memory stays bounded and progress can be reported.
Afterwards a short second transaction writes the audit entry and the ``demo.seeded`` event.

Demo accounts (created when ``demo_accounts`` is true, reused when they already exist):

* an administrator and a provincial officer (``StaffAccount``), both real seeded citizens;
* ``demo-facility-<code>``: facility client of the province's first hospital, scopes
  ``directory.read health.emergency health.read health.submit``;
* ``demo-agency-CA-<pp>``: client of the provincial police, scopes ``directory.read population.read``.

Both clients use the secret ``client_secret`` if given, else ``LIENTHONG_DEMO_CLIENT_SECRET``, else
the documented demo secret ``demo-secret``. Never use these accounts outside a demo.
"""

from __future__ import annotations

import os
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, insert, select, text

from lienthong.config import get_settings
from lienthong.db import get_engine, normalize_url, unit_of_work, utcnow
from lienthong.demo import synthetic as S
from lienthong.facilities.models import Agency, Facility
from lienthong.identity.models import ServiceClient, StaffAccount
from lienthong.identity.secrets import hash_secret
from lienthong.population.models import Citizen, FamilyLink, LegacyId, Residence

DEMO_SECRET = "demo-secret"
FACILITY_SCOPES = "directory.read health.emergency health.read health.submit"
AGENCY_SCOPES = "directory.read population.read"

Progress = Callable[[str, int, int], None]

CITIZEN_COLS = ("personal_id", "family_name", "middle_name", "given_name", "full_name", "birth_date", "sex",
                "birth_place_code", "ethnicity", "nationality", "status", "death_date", "created_at", "updated_at")
LINK_COLS = ("personal_id", "relation", "relative_id", "valid_from", "valid_to")
RESIDENCE_COLS = ("personal_id", "kind", "province_code", "ward_code", "street", "legacy_province_code",
                  "legacy_district", "legacy_commune", "valid_from", "valid_to")
LEGACY_COLS = ("personal_id", "id_type", "number", "issued_on", "issued_by", "replaced_on")
BULK_TABLES = {
    "citizens": CITIZEN_COLS, "family_links": LINK_COLS, "residences": RESIDENCE_COLS, "legacy_ids": LEGACY_COLS,
}
_MODEL_TABLES = {"citizens": Citizen.__table__, "family_links": FamilyLink.__table__,
                 "residences": Residence.__table__, "legacy_ids": LegacyId.__table__}


@dataclass
class SeedReport:
    counts: dict[str, int]
    elapsed_s: float
    demo_accounts: dict[str, str] = field(default_factory=dict)
    province_code: int = 1
    seed: int = 0
    database: str = ""  # "postgresql" or "sqlite"
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase

    @property
    def citizens_per_s(self) -> float:
        return self.counts.get("citizens", 0) / self.elapsed_s if self.elapsed_s else 0.0


# --- rows -------------------------------------------------------------------------------------------


def household_rows(households: Iterable[S.Household], now) -> dict[str, list[tuple]]:
    """Row tuples (in the column order of :data:`BULK_TABLES`) for a batch of households."""
    rows: dict[str, list[tuple]] = {name: [] for name in BULK_TABLES}
    cit, lnk, res, leg = rows["citizens"], rows["family_links"], rows["residences"], rows["legacy_ids"]
    for hh in households:
        for p in hh.members:
            cit.append((p.personal_id, p.family_name, p.middle_name, p.given_name, p.full_name, p.birth_date,
                        p.sex, p.birth_place_code, p.ethnicity, "VN", p.status, p.death_date, now, now))
        for l in hh.links:
            lnk.append((l.personal_id, l.relation, l.relative_id, l.valid_from, l.valid_to))
        for r in hh.residences:
            res.append((r.personal_id, r.kind, r.province_code, r.ward_code, r.street, r.legacy_province_code,
                        r.legacy_district, r.legacy_commune, r.valid_from, r.valid_to))
        for c in hh.legacy_ids:
            leg.append((c.personal_id, c.id_type, c.number, c.issued_on, c.issued_by, c.replaced_on))
    return rows


def copy_rows(dbapi_conn, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """COPY rows into ``table`` (psycopg 3 connection, caller's transaction)."""
    with dbapi_conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            write = copy.write_row
            for row in rows:
                write(row)


def _insert_rows(conn: Connection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if rows:
        conn.execute(insert(_MODEL_TABLES[table]), [dict(zip(columns, r)) for r in rows])


# --- helpers ----------------------------------------------------------------------------------------


def _demo_secret(explicit: str | None) -> str:
    if explicit:
        return explicit
    return os.environ.get("LIENTHONG_DEMO_CLIENT_SECRET") or getattr(get_settings(), "demo_client_secret", "") or DEMO_SECRET


def _is_demo_staff_candidate(p: S.Person, ref: date) -> bool:
    return p.death_date is None and 28 <= ref.year - p.birth_date.year <= 55


def _write_directory(conn: Connection, rng: random.Random, profile: S.ProvinceProfile, citizens: int,
                     counts: dict[str, int]) -> tuple[list[S.FacilityRec], list[S.AgencyRec]]:
    facs = S.facilities(rng, profile, citizens)
    ags = S.agencies(profile)
    have_f = set(conn.scalars(select(Facility.code).where(Facility.code.in_([f.code for f in facs]))))
    have_a = set(conn.scalars(select(Agency.code).where(Agency.code.in_([a.code for a in ags]))))
    now = utcnow()
    new_f = [dict(code=f.code, name=f.name, province_code=f.province_code, ward_code=f.ward_code, tier=f.tier,
                  ownership=f.ownership, insurance_contracted=f.insurance_contracted, active=True, created_at=now)
             for f in facs if f.code not in have_f]
    new_a = [dict(code=a.code, name=a.name, kind=a.kind, province_code=a.province_code, ward_code=a.ward_code,
                  active=True) for a in ags if a.code not in have_a]
    if new_f:
        conn.execute(insert(Facility.__table__), new_f)
    if new_a:
        conn.execute(insert(Agency.__table__), new_a)
    counts["facilities"] = len(new_f)
    counts["agencies"] = len(new_a)
    return facs, ags


def _write_demo_accounts(conn: Connection, profile: S.ProvinceProfile, facs: list[S.FacilityRec],
                         ags: list[S.AgencyRec], staff_candidates: list[S.Person], secret: str,
                         counts: dict[str, int]) -> dict[str, str]:
    out: dict[str, str] = {}
    now = utcnow()
    police = next(a for a in ags if a.kind == "police")
    names = {p.personal_id: p.full_name for p in staff_candidates}

    def staff(role: str, province_code: int | None, agency_code: str | None) -> str | None:
        stmt = select(StaffAccount.personal_id).where(StaffAccount.role == role, StaffAccount.active.is_(True))
        if province_code is not None:
            stmt = stmt.where(StaffAccount.province_code == province_code)
        existing = conn.scalars(stmt.order_by(StaffAccount.created_at).limit(1)).first()
        if existing:
            name = conn.scalars(select(Citizen.full_name).where(Citizen.personal_id == existing)).first()
            names[existing] = name or ""
            return existing
        taken = set(conn.scalars(select(StaffAccount.personal_id)))
        person = next((p for p in staff_candidates if p.personal_id not in taken), None)
        if person is None:
            return None
        conn.execute(insert(StaffAccount.__table__), [dict(
            personal_id=person.personal_id, role=role, province_code=province_code, agency_code=agency_code,
            active=True, created_at=now)])
        counts["staff_accounts"] += 1
        return person.personal_id

    counts.setdefault("staff_accounts", 0)
    counts.setdefault("service_clients", 0)
    admin = staff("admin", None, None)
    if admin:
        out["admin_personal_id"] = admin
        out["admin_name"] = names.get(admin, "")
    officer = staff("officer", profile.code, police.code)
    if officer:
        out["officer_personal_id"] = officer
        out["officer_name"] = names.get(officer, "")
        out["officer_province_code"] = str(profile.code)

    hospital = next(f for f in facs if f.tier != "commune")
    clients = [
        (f"demo-facility-{hospital.code}", hospital.name, "facility", hospital.code, None, FACILITY_SCOPES),
        (f"demo-agency-{police.code}", police.name, "agency", None, police.code, AGENCY_SCOPES),
    ]
    secret_hash = hash_secret(secret)
    for client_id, name, kind, fcode, acode, scopes in clients:
        if conn.scalars(select(ServiceClient.client_id).where(ServiceClient.client_id == client_id)).first():
            # Keep the documented secret and scopes true for a re-seeded demo.
            conn.execute(ServiceClient.__table__.update().where(ServiceClient.client_id == client_id)
                         .values(secret_hash=secret_hash, scopes=scopes, active=True))
        else:
            conn.execute(insert(ServiceClient.__table__), [dict(
                client_id=client_id, secret_hash=secret_hash, name=name, kind=kind, facility_code=fcode,
                agency_code=acode, province_code=profile.code, scopes=scopes, active=True, created_at=now)])
            counts["service_clients"] += 1
        out[f"{kind}_client_id"] = client_id
        out[f"{kind}_client_scopes"] = scopes
    out["client_secret"] = secret
    return out


def _prefetch(source: Iterator[dict[str, list[tuple]]], timings: dict[str, float],
              depth: int = 2) -> Iterator[dict[str, list[tuple]]]:
    """Iterate ``source`` in a helper thread, ``depth`` items ahead (exceptions are re-raised)."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            while True:
                t = time.perf_counter()
                try:
                    item = next(source)
                except StopIteration:
                    break
                timings["generate"] += time.perf_counter() - t
                if not put(item):
                    return
            put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put(exc)

    worker = threading.Thread(target=work, name="demo-seed-generator", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


# --- entry point ------------------------------------------------------------------------------------


def seed_database(url: str | None = None, *, citizens: int, province_code: int = 1, seed: int = 2026,
                  demo_accounts: bool = True, progress: Progress | None = None, chunk_size: int = 10_000,
                  ref_date: date | None = None, client_secret: str | None = None,
                  analyze: bool = True) -> SeedReport:
    """Generate and load a synthetic province of ``citizens`` people; see the module docstring.

    ``ref_date`` (default today) is "now" for ages, deaths and residence dates; the same seed,
    province, size and reference date give the same data on an empty registry. Existing personal
    IDs and CMND numbers are never reused, so seeding a non-empty registry adds new people.
    """
    if citizens < 0:
        raise ValueError("citizens must be >= 0")
    started = time.perf_counter()
    url = normalize_url(url or get_settings().database_url)
    engine = get_engine(url)
    is_pg = engine.dialect.name == "postgresql"
    ref = ref_date or date.today()
    profile = S.province_profile(province_code)
    rng = random.Random(seed)
    directory_rng = random.Random(f"{seed}:{province_code}:directory")
    counts = {"citizens": 0, "family_links": 0, "residences": 0, "legacy_ids": 0}
    timings: dict[str, float] = {"generate": 0.0, "write": 0.0}
    report = progress or (lambda stage, done, total: None)
    staff_candidates: list[S.Person] = []

    with engine.begin() as conn:
        t = time.perf_counter()
        taken_ids = set(conn.scalars(select(Citizen.personal_id)))
        taken_cmnd = set(conn.scalars(select(LegacyId.number)))
        timings["load_existing"] = time.perf_counter() - t
        if is_pg:
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        raw = conn.connection.driver_connection if is_pg else None

        gen = S.PopulationGenerator(rng, profile, ref, taken_ids, taken_cmnd)
        report("citizens", 0, citizens)

        def chunks() -> Iterator[dict[str, list[tuple]]]:
            batch: list[S.Household] = []
            people = 0
            for hh in gen.households(citizens):
                batch.append(hh)
                people += len(hh.members)
                if len(staff_candidates) < 4:
                    staff_candidates.extend([m for m in hh.members if _is_demo_staff_candidate(m, ref)][:1])
                if people >= chunk_size:
                    yield household_rows(batch, utcnow())
                    batch, people = [], 0
            if batch:
                yield household_rows(batch, utcnow())

        t = time.perf_counter()
        # Generation (Python) runs in a helper thread while the database ingests the previous
        # chunk: on two cores the server's COPY work overlaps with generating the next chunk.
        for rows in _prefetch(chunks(), timings):
            t1 = time.perf_counter()
            for table, columns in BULK_TABLES.items():  # parents before children (foreign keys)
                t2 = time.perf_counter()
                if is_pg:
                    copy_rows(raw, table, columns, rows[table])
                else:
                    _insert_rows(conn, table, columns, rows[table])
                counts[table] += len(rows[table])
                key = f"write.{table}"
                timings[key] = timings.get(key, 0.0) + time.perf_counter() - t2
            timings["write"] += time.perf_counter() - t1
            report("citizens", counts["citizens"], citizens)
        timings["load"] = time.perf_counter() - t

        t = time.perf_counter()
        facs, ags = _write_directory(conn, directory_rng, profile, citizens, counts)
        report("directory", 1, 1)
        demo: dict[str, str] = {}
        if demo_accounts:
            demo = _write_demo_accounts(conn, profile, facs, ags, staff_candidates, _demo_secret(client_secret), counts)
        timings["directory_accounts"] = time.perf_counter() - t
        t = time.perf_counter()
    timings["commit"] = time.perf_counter() - t

    if is_pg and analyze:
        t = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("ANALYZE citizens, family_links, residences, legacy_ids"))
        timings["analyze"] = time.perf_counter() - t

    t = time.perf_counter()
    from lienthong.audit.service import record as audit_record
    from lienthong.events.outbox import record_event
    from lienthong.identity.principal import SYSTEM

    with unit_of_work(url) as session:
        audit_record(session, SYSTEM, "create", "demo.seed", purpose="synthetic demo data",
                     detail={"province_code": province_code, "seed": seed, "counts": counts})
        record_event(session, "demo.seeded", {"province_code": province_code, "seed": seed, "counts": dict(counts)})
    timings["audit_event"] = time.perf_counter() - t

    # Rollout tracker history (issue #24): the official 07/10/2024 table as a dated snapshot of the 63
    # old provinces, its printed totals and the kiosk programme figures, then the merged provinces'
    # derived status, so /trien-khai shows the path from 2024 to today. Idempotent; one call.
    t = time.perf_counter()
    from lienthong.ops.history import import_bundled

    with unit_of_work(url) as session:
        import_bundled(session)
    timings["rollout_history"] = time.perf_counter() - t
    elapsed = time.perf_counter() - started
    report("done", 1, 1)
    return SeedReport(counts=counts, elapsed_s=elapsed, demo_accounts=demo, province_code=province_code,
                      seed=seed, database=engine.dialect.name, timings=timings)
