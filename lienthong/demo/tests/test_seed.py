"""Loading the synthetic province into SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import func, select, text

from lienthong.audit.models import AuditEntry
from lienthong.db import get_engine, session_factory
from lienthong.demo import synthetic as S
from lienthong.demo.seed import AGENCY_SCOPES, DEMO_SECRET, FACILITY_SCOPES, seed_database
from lienthong.events.models import OutboxEvent
from lienthong.facilities.models import Agency, Facility
from lienthong.geo import units
from lienthong.identity.models import ServiceClient, StaffAccount
from lienthong.identity.secrets import check_secret
from lienthong.population.ids import validate_personal_id
from lienthong.population.models import Citizen, FamilyLink, LegacyId, Residence

REF = date(2026, 5, 1)


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_seed_loads_a_consistent_province(db_url):
    stages = []
    report = seed_database(db_url, citizens=600, seed=11, ref_date=REF, chunk_size=250,
                           progress=lambda stage, done, total: stages.append((stage, done, total)))
    assert ("citizens", 600, 600) in stages
    with session_factory(db_url)() as s:
        for model, key in ((Citizen, "citizens"), (FamilyLink, "family_links"), (Residence, "residences"),
                           (LegacyId, "legacy_ids"), (Facility, "facilities"), (Agency, "agencies")):
            assert _count(s, model) == report.counts[key] > 0
        for c in s.scalars(select(Citizen)):
            validate_personal_id(c.personal_id, c.birth_date, c.sex)
            assert c.full_name == " ".join(x for x in (c.family_name, c.middle_name, c.given_name) if x)
            assert (c.status == "dead") == (c.death_date is not None)
        wards = {int(w.code) for w in units.wards_of(1)}
        assert set(s.scalars(select(Residence.ward_code).where(Residence.legacy_province_code.is_(None)))) <= wards
        # Links: parents at least 15 years older, spouse links symmetric.
        rows = s.execute(text(
            "SELECT c.birth_date, p.birth_date FROM family_links l JOIN citizens c ON c.personal_id = l.personal_id "
            "JOIN citizens p ON p.personal_id = l.relative_id WHERE l.relation IN ('father', 'mother')")).all()
        assert rows and all((date.fromisoformat(str(c)) - date.fromisoformat(str(p))).days >= 15 * 365 for c, p in rows)
        asymmetric = s.scalar(text(
            "SELECT count(*) FROM family_links a WHERE a.relation = 'spouse' AND NOT EXISTS (SELECT 1 FROM "
            "family_links b WHERE b.relation = 'spouse' AND b.personal_id = a.relative_id "
            "AND b.relative_id = a.personal_id)"))
        assert asymmetric == 0
        assert all(f.code.startswith("01") for f in s.scalars(select(Facility)))

        # Demo accounts: real citizens, documented secret and scopes.
        demo = report.demo_accounts
        admin = s.get(StaffAccount, demo["admin_personal_id"])
        officer = s.get(StaffAccount, demo["officer_personal_id"])
        assert admin.role == "admin" and officer.role == "officer" and officer.province_code == 1
        assert s.get(Citizen, admin.personal_id).full_name == demo["admin_name"]
        assert s.get(Citizen, officer.personal_id) is not None
        facility_client = s.get(ServiceClient, demo["facility_client_id"])
        agency_client = s.get(ServiceClient, demo["agency_client_id"])
        assert facility_client.kind == "facility" and facility_client.scopes == FACILITY_SCOPES
        assert s.get(Facility, facility_client.facility_code) is not None
        assert agency_client.kind == "agency" and agency_client.scopes == AGENCY_SCOPES
        assert s.get(Agency, agency_client.agency_code).kind == "police"
        assert check_secret(DEMO_SECRET, facility_client.secret_hash) and demo["client_secret"] == DEMO_SECRET

        entry = s.scalars(select(AuditEntry).where(AuditEntry.resource == "demo.seed")).one()
        assert entry.detail["counts"]["citizens"] == 600 and entry.purpose == "synthetic demo data"
        event = s.scalars(select(OutboxEvent).where(OutboxEvent.topic == "demo.seeded")).one()
        assert event.payload["counts"]["citizens"] == 600


def test_seeding_twice_does_not_collide(db_url):
    first = seed_database(db_url, citizens=300, seed=3, ref_date=REF)
    second = seed_database(db_url, citizens=300, seed=3, ref_date=REF)
    assert second.counts["citizens"] == 300
    assert second.counts["facilities"] == 0 and second.counts["agencies"] == 0  # directory reused
    assert second.demo_accounts["admin_personal_id"] == first.demo_accounts["admin_personal_id"]
    with session_factory(db_url)() as s:
        assert _count(s, Citizen) == 600
        assert _count(s, StaffAccount) == 2 and _count(s, ServiceClient) == 2
        numbers = list(s.scalars(select(LegacyId.number)))
        assert len(numbers) == len(set(numbers))
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.resource == "demo.seed")) == 2


def test_database_content_matches_the_pure_generator(db_url):
    seed_database(db_url, citizens=200, seed=42, ref_date=REF, demo_accounts=False)
    gen = S.PopulationGenerator(random.Random(42), S.province_profile(1), REF)
    expected = sorted((p.personal_id, p.full_name, p.birth_date) for h in gen.households(200) for p in h.members)
    with session_factory(db_url)() as s:
        got = sorted((c.personal_id, c.full_name, c.birth_date) for c in s.scalars(select(Citizen)))
        assert _count(s, StaffAccount) == 0
    assert got == expected


def test_postgres_copy_path_at_scale(pg_url):
    report = seed_database(pg_url, citizens=20_000, province_code=79, seed=2026, ref_date=REF)
    assert report.database == "postgresql" and report.counts["citizens"] == 20_000
    with get_engine(pg_url).connect() as conn:
        assert conn.scalar(text("SELECT count(DISTINCT personal_id) FROM citizens")) == 20_000
        prefixes = set(conn.scalars(text("SELECT DISTINCT left(code, 2) FROM facilities")))
        assert prefixes <= {"79", "74", "77"}
        nguyen = conn.scalar(text("SELECT avg((family_name = 'Nguyễn')::int) FROM citizens"))
        assert 0.30 <= nguyen <= 0.46
        legacy = conn.execute(text("SELECT legacy_province_code, legacy_commune, province_code, ward_code "
                                   "FROM residences WHERE legacy_province_code IS NOT NULL LIMIT 200")).all()
        assert legacy and all(units.map_legacy_address(lp, lc) == (p, w) for lp, lc, p, w in legacy)
