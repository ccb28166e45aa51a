"""Starts linked procedures from hospital documents (``health.certificate.issued`` events).

The handler runs in the relay's unit of work (exactly once per event): it takes the certificate's
data from the event, pre-fills the declaration from the population registry and creates the case.
The data must come with the event: a corrected resubmission of the visit replaces the certificate
rows (new ids) and may be stored before the event is handled, so the row the event named can be
gone. Events written before payloads carried the data fall back to reading the row. The case keeps
its own copy of the data.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.civil import birth, death
from lienthong.civil.models import ProcedureCase
from lienthong.db import utcnow
from lienthong.events.bus import bus
from lienthong.health.models import Certificate

HANDLER_NAME = "lienthong.civil.intake.on_certificate_issued"


def on_certificate_issued(session: Session, event: dict) -> None:
    p = event.get("payload") or {}
    kind = p.get("kind")
    if kind not in ("birth", "death"):
        return
    cert = None
    if isinstance(p.get("data"), dict):
        data = dict(p["data"])
    else:  # an event from before the data travelled with it
        cert = session.get(Certificate, p["certificate_id"]) if p.get("certificate_id") is not None else None
        data = dict(cert.data or {}) if cert is not None else {}
    facility = p.get("facility_code") or (cert.facility_code if cert else "")
    number = p.get("number") or (cert.number if cert else None)
    now = utcnow()
    if kind == "birth":
        birth.start(session, certificate_id=p.get("certificate_id"), facility_code=facility, number=number,
                    ma_lk=p.get("ma_lk"), data=data, mother_hint=p.get("personal_id"), now=now)
        return
    hint = p.get("personal_id")
    if hint:
        dup = session.scalars(select(ProcedureCase).where(ProcedureCase.procedure == "death",
                                                          ProcedureCase.subject_personal_id == hint)).first()
        if dup is not None:  # one death procedure per person, whichever facility reports first
            return
    death.start(session, certificate_id=p.get("certificate_id"), facility_code=facility, number=number,
                ma_lk=p.get("ma_lk"), data=data, hint=hint, now=now)


def install() -> None:
    """Subscribe the handler on the application bus (idempotent)."""
    bus.register("health.certificate.issued", on_certificate_issued, name=HANDLER_NAME, exist_ok=True)


install()
