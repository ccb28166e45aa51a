"""Bridges between the record tables and the pure rules (:mod:`lienthong.judicial.rules`), and the
issuing-agency table used for record numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lienthong.geo import units
from lienthong.judicial import models as m
from lienthong.judicial.rules import certificate as rc
from lienthong.judicial.rules import expungement as rx


# ---------------------------------------------------------------------------------------------
# Issuing agencies (Công an cấp tỉnh since 01/03/2025)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IssuingAgency:
    code: str
    name: str
    province_code: int


def issuing_agency(province_code: int) -> IssuingAgency:
    """The provincial police that issues certificates for residents of ``province_code``.

    [?] The official agency codes of the provincial police (used since 01/03/2025 in the record
    number ``<agency code><year>/<sequence>``) were not retrieved; the only sourced code is the old
    ``25HN`` of Sở Tư pháp Hà Nội. Until the official list is supplied the code is
    ``<2-digit province code>CA`` (CA = Công an), which fits the pattern and is unique per province.
    """
    province = units.province(province_code)
    return IssuingAgency(f"{int(province_code):02d}CA", f"Công an {province.name}", int(province_code))


def agency_codes() -> dict[str, str]:
    """All issuing-agency codes (for :func:`lienthong.judicial.rules.procedure.format_record_number`)."""
    out = {}
    for p in units.provinces():
        a = issuing_agency(int(p.code))
        out[a.code] = a.name
    return out


# ---------------------------------------------------------------------------------------------
# ORM -> rules
# ---------------------------------------------------------------------------------------------
def load_convictions(session: Session, personal_id: str) -> list[m.Conviction]:
    return list(session.scalars(
        select(m.Conviction)
        .where(m.Conviction.personal_id == personal_id)
        .options(selectinload(m.Conviction.offences), selectinload(m.Conviction.additional_penalties),
                 selectinload(m.Conviction.expungement_decisions))
        .order_by(m.Conviction.judgment_date, m.Conviction.id)
    ))


def load_bans(session: Session, personal_id: str) -> list[m.Ban]:
    return list(session.scalars(select(m.Ban).where(m.Ban.personal_id == personal_id).order_by(m.Ban.decision_date)))


def to_rule_conviction(c: m.Conviction, on: date | None = None) -> rx.Conviction:
    """The rules' view of a stored conviction (decisions after ``on`` are not yet known)."""
    decisions = [d for d in c.expungement_decisions if on is None or d.decision_date <= on]
    granted = [d for d in decisions if d.granted]
    refused = tuple(sorted(d.decision_date for d in decisions if not d.granted))
    first_grant = min(granted, key=lambda d: d.decision_date) if granted else None
    return rx.Conviction(
        id=c.id,
        offences=tuple(
            rx.Offence(
                name=o.name, article=o.article, clause=o.clause, point=o.point,
                severity=rx.Severity(o.severity) if o.severity else None, intentional=o.intentional,
                offence_date=o.offence_date, age_at_offence=o.age_at_offence,
            ) for o in c.offences
        ),
        judgment_date=c.judgment_date,
        legal_effect_date=c.legal_effect_date,
        penalty=rx.PenaltyType(c.penalty_type),
        term_months=c.term_months,
        fine_vnd=c.fine_vnd,
        suspended=c.suspended,
        probation_months=c.probation_months,
        probation_completed_on=c.probation_completed_on,
        death_commuted=c.death_commuted,
        principal_completed_on=c.principal_completed_on,
        remainder_exempted_on=c.remainder_exempted_on,
        special_pardon_on=c.special_pardon_on,
        limitation_expired_on=c.limitation_expired_on,
        additional_penalties=tuple(
            rx.AdditionalPenalty(kind=rx.AdditionalPenaltyType(a.kind), months=a.months, amount_vnd=a.amount_vnd,
                                 completed_on=a.completed_on, description=a.description)
            for a in c.additional_penalties
        ),
        has_other_obligations=c.has_other_obligations,
        other_obligations_completed_on=c.other_obligations_completed_on,
        amnesty_on=c.amnesty_on,
        court_expungement_on=first_grant.decision_date if first_grant else None,
        court_expungement_article=first_grant.article if first_grant else 71,
        court_refusals=refused,
        committed_under_18=c.committed_under_18,
        age_at_offence=c.age_at_offence,
        court=c.court_name,
        judgment_number=c.judgment_number,
        civil_obligations=c.civil_obligations,
        court_fee=c.court_fee,
        enforcement_status=c.enforcement_status,
    )


def to_rule_ban(b: m.Ban) -> rc.Ban:
    return rc.Ban(content=b.content, court=b.court_name, decision_number=b.decision_number,
                  decision_date=b.decision_date, start_date=b.start_date, duration_months=b.duration_months,
                  end_date=b.end_date)


def to_rule_person(identity: dict) -> rx.Person:
    return rx.Person(
        birth_date=date.fromisoformat(identity["birth_date"]),
        full_name=identity.get("full_name", ""),
        sex=identity.get("sex_text", ""),
        place_of_birth=identity.get("birth_place", ""),
        nationality=identity.get("nationality", "Việt Nam"),
        residence=identity.get("residence", ""),
        id_number=identity.get("personal_id", ""),
        father_name=identity.get("father_name", ""),
        mother_name=identity.get("mother_name", ""),
        spouse_name=identity.get("spouse_name", ""),
    )


def content_to_json(content: rc.CertificateContent) -> dict:
    """The stored/signed form of a certificate's content (dates ISO, labels Vietnamese)."""

    def d(x: date | None) -> str | None:
        return x.isoformat() if x else None

    return {
        "kind": int(content.kind),
        "on": d(content.on),
        "regime": content.regime,
        "identity": [[k, v] for k, v in content.identity],
        "criminal_status": content.criminal_status,
        "convictions": [
            {
                "offences": list(e.offences), "principal_penalty": e.principal_penalty,
                "additional_penalties": list(e.additional_penalties),
                "judgment_date": d(e.judgment_date), "judgment_number": e.judgment_number, "court": e.court,
                "civil_obligations": e.civil_obligations, "court_fee": e.court_fee,
                "enforcement_status": e.enforcement_status, "expungement_status": e.expungement_status,
                "expunged_on": d(e.expunged_on),
            }
            for e in content.convictions
        ],
        "ban_status": content.ban_status,
        "bans": [
            {"content": b.content, "court": b.court, "decision_number": b.decision_number,
             "decision_date": d(b.decision_date), "term": b.term, "active": b.active}
            for b in content.bans
        ],
        "electronic_equal_value": content.electronic_equal_value,
    }
