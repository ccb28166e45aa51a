"""A birth case from a hospital's birth certificate is the same whether the intake handler runs before
or after a corrected resubmission of the visit replaced the certificate rows (the event carries the
certificate's data; before, it carried only the row id and lost the data when the row was replaced).

Both orders run the real pipeline: XML 130 ingest of an envelope built here, the outbox relay, the
intake handler on the application bus."""

from __future__ import annotations

import io

from sqlalchemy import select

from lienthong.civil import intake
from lienthong.civil.models import ProcedureCase
from lienthong.civil.tests.conftest import MOTHER, register_family
from lienthong.db import unit_of_work
from lienthong.events.models import OutboxEvent
from lienthong.events.relay import relay_once
from lienthong.health.models import Certificate
from lienthong.health.tests.test_ingest_xml import CLINIC, FAC, envelope, totals, xml1, xml2, xml4, xml9
from lienthong.health.xml_mapping import ingest_xml130
from lienthong.testing import clean


def _submit(url, weight_g: int, diagnosis: str) -> None:
    dossier = {"XML1": [xml1("LKSINH", pid=MOTHER, HO_TEN="Trần Thị Lan", NGAY_SINH="199007080000", GIOI_TINH=2,
                                CHAN_DOAN_RV=diagnosis, **totals(1))],
               "XML2": [xml2("LKSINH")], "XML4": [xml4("LKSINH")],
               "XML9": [xml9("LKSINH", SO_CCCD_NND=MOTHER, HO_TEN_NND="Trần Thị Lan", HO_TEN_CON="Nguyễn Minh An",
                             CAN_NANG_CON=weight_g, NGAY_SINH_CON="202611280945", SO="GCS-77")]}
    batch = ingest_xml130(io.BytesIO(envelope(FAC, [dossier])), CLINIC, database_url=url, filename="sinh.xml")
    assert batch.status == "done" and batch.rejected == 0, batch.errors


def _case(url) -> dict:
    intake.install()
    relay_once(url, nats_url="")
    with unit_of_work(url) as s:
        [case] = s.scalars(select(ProcedureCase).where(ProcedureCase.procedure == "birth")).all()
        data = dict(case.data)
        certificate = data.pop("certificate")
        return {"data": data, "event_date": case.event_date, "applicant": case.applicant_personal_id,
                "number": certificate["number"], "ma_lk": certificate["ma_lk"]}


def test_birth_case_is_the_same_before_and_after_a_corrected_resubmission(db_url, family):
    # Order 1: the relay runs between the first submission and the correction.
    _submit(db_url, 3200, "Sinh thường")
    before = _case(db_url)
    _submit(db_url, 3250, "Sinh thường, mẹ khỏe")  # corrected: version 2, certificate rows replaced
    relay_once(db_url, nats_url="")
    with unit_of_work(db_url) as s:
        assert s.scalar(select(ProcedureCase.id).where(ProcedureCase.procedure == "birth")) is not None
        assert len(s.scalars(select(ProcedureCase)).all()) == 1  # the correction started nothing new

    # Order 2: a fresh database; the correction is stored before the relay gets to the first event.
    clean(db_url)
    register_family(db_url)
    relay_once(db_url, nats_url="")
    _submit(db_url, 3200, "Sinh thường")
    _submit(db_url, 3250, "Sinh thường, mẹ khỏe")
    with unit_of_work(db_url) as s:
        [event] = s.scalars(select(OutboxEvent).where(OutboxEvent.topic == "health.certificate.issued")).all()
        # the row the event was written for is gone: the correction replaced it (on SQLite the new row
        # may even reuse its id, so reading "the" row would give the corrected data)
        row = s.get(Certificate, event.payload["certificate_id"])
        assert row is None or row.data["CAN_NANG_CON"] == 3250
        assert s.scalars(select(Certificate)).one().data["CAN_NANG_CON"] == 3250
    after = _case(db_url)

    assert after == before
    child = after["data"]["child"]
    assert (child["family_name"], child["middle_name"], child["given_name"]) == ("Nguyễn", "Minh", "An")
    assert child["birth_date"] == "2026-11-28" and child["weight_g"] == 3200
    assert after["applicant"] == MOTHER and after["number"] == "GCS-77"
    assert not after["data"]["issues"]
