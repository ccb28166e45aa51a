"""Known data for the ops tests: inserted directly, with hand-computed expected statistics.

Period under test: 01/03/2026 - 31/03/2026 (Vietnam time). Provinces: 1 (Hà Nội), 79 (TP Hồ Chí Minh).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from lienthong.civil.models import ProcedureCase, ProcedureStep
from lienthong.facilities.models import Facility
from lienthong.health.models import Appointment, IngestBatch, Referral, Visit
from lienthong.judicial.models import Application
from lienthong.population.models import Citizen, Residence

START, END = date(2026, 3, 1), date(2026, 3, 31)


def utc(y, m, d, h=0, mi=0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=UTC)


def pid(n: int) -> str:
    return f"0012030{n:05d}"


def seed(s) -> None:
    facilities = [
        Facility(code="01001", name="Bệnh viện Bạch Mai", province_code=1, tier="central", ownership="public"),
        Facility(code="01002", name="Bệnh viện Đa khoa Hà Đông", province_code=1, tier="provincial", ownership="public"),
        Facility(code="01003", name="Trạm y tế phường Láng", province_code=1, tier="commune", ownership="public"),
        Facility(code="79001", name="Bệnh viện Chợ Rẫy", province_code=79, tier="central", ownership="public"),
        Facility(code="79002", name="Bệnh viện cũ (ngừng hoạt động)", province_code=79, tier="regional",
                 ownership="public", active=False),
    ]
    s.add_all(facilities)
    # 10 citizens: 1..6 live in Hà Nội, 7..9 in TP HCM, 10 has died (Hà Nội)
    for n in range(1, 11):
        s.add(Citizen(personal_id=pid(n), family_name="Nguyễn", middle_name="Văn", given_name=f"A{n}",
                      full_name=f"Nguyễn Văn A{n}", birth_date=date(1990, 1, n), sex="M", birth_place_code="001",
                      status="dead" if n == 10 else "alive"))
        s.add(Residence(personal_id=pid(n), kind="permanent", province_code=79 if n in (7, 8, 9) else 1,
                        valid_from=date(2020, 1, 1)))
    # A former residence that must not count
    s.add(Residence(personal_id=pid(7), kind="permanent", province_code=1, valid_from=date(2010, 1, 1),
                    valid_to=date(2019, 12, 31)))
    s.flush()

    def visit(n_pid, fac, received, ma):
        v = Visit(facility_code=fac, ma_lk=ma, personal_id=pid(n_pid) if n_pid else None, content_hash="x" * 64,
                  source="xml130", patient_name="Nguyễn Văn A", admitted_at=received,
                  received_at=received)
        s.add(v)
        s.flush()
        return v

    # Books: first visits. pid1 first in Feb (before period), again in March -> not created in period.
    v1 = visit(1, "01001", utc(2026, 2, 10), "MA1")
    visit(1, "01001", utc(2026, 3, 5), "MA2")
    # pid2: 28/02 17:30 UTC = 01/03 00:30 Vietnam time -> created in period (timezone edge)
    v2 = visit(2, "01002", utc(2026, 2, 28, 17, 30), "MA3")
    # pid3: 31/03 16:59 UTC = 31/03 23:59 VN -> in period; pid4: 31/03 17:00 UTC = 01/04 VN -> after
    visit(3, "01001", utc(2026, 3, 31, 16, 59), "MA4")
    visit(4, "01001", utc(2026, 3, 31, 17, 0), "MA5")
    # pid7 (HCM): in period
    v7 = visit(7, "79001", utc(2026, 3, 10), "MA6")
    # pid10 (dead) in period: counted as created, not in citizens-with-book (alive only)
    visit(10, "01001", utc(2026, 3, 12), "MA7")
    visit(None, "01001", utc(2026, 3, 12), "MA8")  # no personal ID: no book

    # Submissions: 01001 accepted in period; 01002 only rejected in period; 79001 accepted in Feb only;
    # 79002 inactive with accepted in period (not counted, not in total)
    for fac, when, acc in [("01001", utc(2026, 3, 3), 5), ("01001", utc(2026, 3, 4), 2), ("01002", utc(2026, 3, 4), 0),
                           ("79001", utc(2026, 2, 4), 3), ("79002", utc(2026, 3, 4), 1)]:
        s.add(IngestBatch(id=str(uuid.uuid4()), facility_code=fac, client_id="c", source="xml130", received_at=when,
                          status="done", accepted=acc))

    # Referrals: 2 from Hà Nội in period (one accepted at 79001, one rejected at 01001), 1 in April
    s.add_all([
        Referral(visit_id=v1.id, number="R1", from_facility="01002", to_facility="79001", issued_at=utc(2026, 3, 2),
                 status="accepted", decided_at=utc(2026, 3, 3)),
        Referral(visit_id=v2.id, number="R2", from_facility="01003", to_facility="01001", issued_at=utc(2026, 3, 20),
                 status="rejected", decided_at=utc(2026, 3, 21)),
        Referral(visit_id=v7.id, number="R3", from_facility="79001", to_facility="01001", issued_at=utc(2026, 4, 2)),
    ])
    # Appointments: 2 in period (1 HN, 1 HCM), 1 before
    s.add_all([
        Appointment(visit_id=v1.id, number="H1", facility_code="01001", appointment_at=utc(2026, 3, 15)),
        Appointment(visit_id=v7.id, number="H2", facility_code="79001", appointment_at=utc(2026, 3, 16)),
        Appointment(visit_id=v7.id, number="H3", facility_code="79001", appointment_at=utc(2026, 2, 16)),
    ])

    # Judicial applications
    def app(prov, submitted, *, status="submitted", decided=None, due_days=10, postal=False):
        s.add(Application(id=str(uuid.uuid4()), personal_id=pid(1), kind=1, purpose="xin việc", identity={},
                          province_code=prov, regime="law_107_2025", status=status, submitted_at=submitted,
                          due_at=submitted + timedelta(days=due_days), decided_at=decided,
                          delivery_electronic=True, delivery_postal=postal))

    app(1, utc(2026, 3, 1, 2), status="issued", decided=utc(2026, 3, 3, 2))  # 2 days, on time
    app(1, utc(2026, 3, 2), status="rejected", decided=utc(2026, 3, 14), postal=True)  # 12 days, late (due 12/03)
    app(1, utc(2026, 3, 20), status="review")  # open, due 30/03 < end: overdue
    app(79, utc(2026, 3, 5), status="approved", decided=utc(2026, 3, 6))  # 1 day, on time, still open (approved)
    app(79, utc(2026, 2, 1), status="issued", decided=utc(2026, 2, 3))  # outside period entirely

    # Civil cases
    def case(prov, created, *, closed=None, due=None, received=None, steps=()):
        c = ProcedureCase(id=str(uuid.uuid4()), procedure="birth", status="done" if closed else "open",
                          source_key=str(uuid.uuid4()), province_code=prov, created_at=created, updated_at=created,
                          received_at=received, closed_at=closed, due_at=due)
        s.add(c)
        s.flush()
        for i, (finished, step_due) in enumerate(steps):
            s.add(ProcedureStep(case_id=c.id, seq=i, name=f"s{i}", actor="agency", state="done",
                                finished_at=finished, due_at=step_due))

    case(1, utc(2026, 3, 1), received=utc(2026, 3, 2), closed=utc(2026, 3, 6), due=utc(2026, 3, 10),
         steps=[(utc(2026, 3, 3), utc(2026, 3, 4)), (utc(2026, 3, 6), utc(2026, 3, 5))])  # 4 days, on time
    case(1, utc(2026, 3, 10), closed=utc(2026, 3, 20), due=utc(2026, 3, 15))  # 10 days, late
    case(79, utc(2026, 3, 25))  # open
    s.flush()
