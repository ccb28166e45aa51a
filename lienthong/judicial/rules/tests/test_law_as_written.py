"""Issue #23 items 1-3: the Penal Code as amended by Law 12/2017, arts. 60, 61, 70.3, 71, 72, 73.3.

Worked cases (each fails on the engine before #23) and one property test per rule.  Texts quoted
from the Ministry of Justice codification (Bộ pháp điển, Điều 16.1.LQ.60-73).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lienthong.judicial.rules.expungement import (
    BLHS_2015_2017,
    AdditionalPenalty,
    AdditionalPenaltyType,
    Basis,
    Conviction,
    Offence,
    PenaltyType,
    Person,
    Severity,
    add_months,
    enforcement_limitation_end,
    expungement_status,
    limitation_applies,
    with_rules,
)

ADULT = Person(date(1980, 5, 15))
SPY = Offence("Gián điệp", 110, 2, severity=Severity.VERY_SERIOUS, intentional=True, offence_date=date(2017, 3, 1))
WAR = Offence("Tội phạm chiến tranh", 423, 1, severity=Severity.ESPECIALLY_SERIOUS, intentional=True, offence_date=date(2017, 3, 1))
THEFT = Offence("Trộm cắp tài sản", 173, 1, severity=Severity.LESS_SERIOUS, intentional=True, offence_date=date(2018, 3, 1))


def conv(penalty: PenaltyType, offences=(SPY,), effect=date(2018, 10, 1), **kw) -> Conviction:
    return Conviction("A", tuple(offences), effect - timedelta(days=30), effect, penalty, **kw)


def status(c: Conviction, on: date, rules=None, others=()):
    return expungement_status(ADULT, c, on, [c, *others], rules)


# --- item 1: art. 71.2 as amended by Law 12/2017: 1 / 3 / 5 / 7 years ----------------------------------------


@pytest.mark.parametrize("penalty,kw,months,point", [
    (PenaltyType.WARNING, {}, 12, "a"),
    (PenaltyType.NON_CUSTODIAL_REFORM, {"term_months": 24, "principal_completed_on": date(2020, 10, 1)}, 12, "a"),
    (PenaltyType.IMPRISONMENT, {"term_months": 24, "suspended": True, "probation_months": 48}, 12, "a"),
    (PenaltyType.IMPRISONMENT, {"term_months": 60, "principal_completed_on": date(2023, 10, 1)}, 36, "b"),
    (PenaltyType.IMPRISONMENT, {"term_months": 61, "principal_completed_on": date(2023, 10, 1)}, 60, "c"),
    (PenaltyType.IMPRISONMENT, {"term_months": 180, "principal_completed_on": date(2033, 10, 1)}, 60, "c"),
    (PenaltyType.IMPRISONMENT, {"term_months": 181, "principal_completed_on": date(2033, 10, 1)}, 84, "d"),
    (PenaltyType.LIFE, {"death_commuted": True, "principal_completed_on": date(2040, 1, 1)}, 84, "d"),
])
def test_art71_periods_as_amended(penalty, kw, months, point):
    r = status(conv(penalty, **kw), date(2060, 1, 1))
    assert r.basis is Basis.COURT_DECISION and r.period_months == months
    assert f"điểm {point} khoản 2 Điều 71" in r.reason


def test_court_route_suspended_sentence_worked_case():
    """2 years' prison suspended, 4 years' probation from the pronouncement 01/09/2018 -> 01/09/2022;
    art. 71.2.a: the court may decide from 02/09/2023 (the pre-#23 engine said 3 years: 02/09/2025)."""
    c = conv(PenaltyType.IMPRISONMENT, term_months=24, suspended=True, probation_months=48)
    r = status(c, date(2024, 1, 1))
    assert (r.basis, r.waiting_until, r.period_months) == (Basis.COURT_DECISION, date(2023, 9, 2), 12)


def test_court_route_fine_has_no_period():
    """A fine is not in art. 71.2.a: no period in the law, a person decides (named parameter)."""
    c = conv(PenaltyType.FINE, fine_vnd=50_000_000, principal_completed_on=date(2019, 1, 1))
    r = status(c, date(2030, 1, 1))
    assert r.basis is Basis.NOT_APPLICABLE and "phạt tiền" in r.reason and r.counts_as_record
    light = with_rules(BLHS_2015_2017, court_fine_reading="light")
    assert status(c, date(2030, 1, 1), rules=light).waiting_until == date(2020, 1, 2)


def test_art72_one_third_of_the_amended_court_period():
    """Art. 72: "ít nhất một phần ba thời hạn quy định tại ... khoản 2 Điều 71": 12 years' prison for
    war crimes (art. 71.2.c, 5 years) released 01/01/2030 -> 1/3 = 20 months -> 02/09/2031."""
    c = conv(PenaltyType.IMPRISONMENT, offences=(WAR,), term_months=144, principal_completed_on=date(2030, 1, 1))
    r = status(c, date(2030, 6, 1))
    assert r.special_eligible_from == date(2031, 9, 2) and r.waiting_until == date(2035, 1, 2)


def test_art73_3_mixed_judgment_uses_amended_art71():
    """Theft + espionage in one judgment, 4 years' prison: art. 73.3 sends it to the court with art. 71
    periods: point b, 3 years (the pre-#23 engine used 5)."""
    c = conv(PenaltyType.IMPRISONMENT, offences=(THEFT, SPY), term_months=48, principal_completed_on=date(2022, 10, 1))
    r = status(c, date(2024, 1, 1))
    assert (r.basis, r.period_months, r.waiting_until) == (Basis.COURT_DECISION, 36, date(2025, 10, 2))


def test_art71_longer_bans_only_the_listed_ones_end_the_period_at_completion():
    """Under the strict reading (late items restart the period), art. 71.2 last paragraph still makes a
    longer residence ban (listed) end the period when served, but not a ban on posts (not listed in
    art. 71.2): prison 2 years served 01/01/2020 (point b, 3 years -> 02/01/2023)."""
    strict = with_rules(BLHS_2015_2017, late_obligations_policy="restart_period")
    residence = AdditionalPenalty(AdditionalPenaltyType.RESIDENCE_BAN, months=48)  # served 01/01/2024
    c = conv(PenaltyType.IMPRISONMENT, term_months=24, principal_completed_on=date(2020, 1, 1), additional_penalties=(residence,))
    assert status(c, date(2030, 1, 1), rules=strict).waiting_until == date(2024, 1, 2)
    posts = AdditionalPenalty(AdditionalPenaltyType.POST_OR_PROFESSION_BAN, months=48)
    c2 = replace(c, additional_penalties=(posts,))
    assert status(c2, date(2030, 1, 1), rules=strict).waiting_until == date(2027, 1, 2)  # 3 years from 01/01/2024
    # the same ban on posts on the automatic route is listed in art. 70.2 last paragraph
    c3 = replace(c2, offences=(THEFT,))
    assert status(c3, date(2030, 1, 1), rules=strict).since == date(2024, 1, 2)


court_penalties = st.sampled_from(["warning", "reform", "suspended", "prison", "life"])


@settings(max_examples=150, deadline=None)
@given(court_penalties, st.integers(1, 360), st.dates(min_value=date(2018, 1, 1), max_value=date(2040, 1, 1)))
def test_property_court_period_table(kind, months, served):
    """Every court-route judgment waits exactly the art. 71.2 period from service (no other obligation)."""
    kw: dict = {"principal_completed_on": served}
    penalty = {"warning": PenaltyType.WARNING, "reform": PenaltyType.NON_CUSTODIAL_REFORM,
               "suspended": PenaltyType.IMPRISONMENT, "prison": PenaltyType.IMPRISONMENT, "life": PenaltyType.LIFE}[kind]
    if kind == "warning":  # executed when the judgment takes effect
        expected, kw = 12, {}
        served = date(2018, 10, 1)
    elif kind == "reform":
        expected, kw["term_months"] = 12, min(months, 36)
    elif kind == "suspended":
        expected = 12
        kw = {"term_months": min(months, 36), "suspended": True, "probation_completed_on": served}
    elif kind == "prison":
        kw["term_months"] = months
        expected = 36 if months <= 60 else 60 if months <= 180 else 84
    else:
        expected = 84
    r = status(conv(penalty, **kw), date(2080, 1, 1))
    assert r.basis is Basis.COURT_DECISION and r.period_months == expected
    assert r.waiting_until == add_months(served, expected) + timedelta(days=1)
    assert r.special_eligible_from == add_months(served, expected // 3) + timedelta(days=1)


# --- item 2: art. 70.3: after the enforcement limitation only "no new offence" is required ----------------


def test_art70_3_unpaid_court_fee_after_limitation_worked_case():
    """1 year's prison served 01/06/2019, court fee never paid.  The judgment took effect 01/10/2018;
    the limitation (art. 60.2.a, 5 years) expired 01/10/2023.  Art. 70.3 needs only two years without a
    new offence -> expunged 02/10/2025.  The pre-#23 engine kept the record forever."""
    c = conv(PenaltyType.IMPRISONMENT, offences=(THEFT,), term_months=12, principal_completed_on=date(2019, 6, 1),
             has_other_obligations=True, other_obligations_completed_on=None)
    assert enforcement_limitation_end(c) == date(2023, 10, 1)
    blocked = status(c, date(2030, 1, 1))
    assert not blocked.expunged and blocked.blocked_by
    c = replace(c, limitation_expired_on=date(2023, 10, 1))
    assert not status(c, date(2025, 10, 1)).expunged
    r = status(c, date(2025, 10, 2))
    assert (r.expunged, r.since, r.basis) == (True, date(2025, 10, 2), Basis.AUTOMATIC)
    assert "khoản 3 Điều 70" in r.reason
    strict = with_rules(BLHS_2015_2017, limitation_route_requires_obligations=True)
    assert not status(c, date(2030, 1, 1), rules=strict).expunged  # the other reading, as a parameter


def test_art70_3_new_offence_in_the_period_still_restarts():
    c = conv(PenaltyType.FINE, offences=(THEFT,), fine_vnd=20_000_000, has_other_obligations=True,
             limitation_expired_on=date(2023, 10, 1))
    new = Conviction("B", (replace(THEFT, offence_date=date(2024, 2, 1)),), date(2024, 5, 1), date(2024, 6, 1),
                     PenaltyType.FINE, principal_completed_on=date(2024, 7, 1))
    r = status(c, date(2026, 1, 1), others=[new])
    assert r.since == date(2025, 7, 2) and "khoản 2 Điều 73" in r.reason  # 1 year from the new T0


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 360), st.dates(min_value=date(2019, 1, 1), max_value=date(2045, 1, 1)),
       st.booleans(), st.dates(min_value=date(2019, 1, 1), max_value=date(2070, 1, 1)))
def test_property_limitation_route_needs_only_the_period(months, expired, paid, on):
    """With the limitation expired, an automatic judgment is expunged exactly W after the expiry
    (W from art. 70.2 by the pronounced penalty) whether or not the other decisions were executed,
    unless the served route gives an earlier date."""
    c = conv(PenaltyType.IMPRISONMENT, offences=(THEFT,), term_months=months, has_other_obligations=True,
             other_obligations_completed_on=date(2019, 1, 1) if paid else None, limitation_expired_on=expired)
    wait = 24 if months <= 60 else 36 if months <= 180 else 60
    due = add_months(expired, wait) + timedelta(days=1)
    r = status(c, on)
    assert r.expunged == (on >= due)
    if r.expunged:
        assert r.since == due


# --- item 3: art. 61: no limitation for chapters XIII, XXVI, art. 353 and 354 clauses 3-4 -----------------


@pytest.mark.parametrize("article,clause,excluded", [
    (353, 3, True), (353, 4, True), (354, 3, True), (354, 4, True),
    (353, 2, False), (354, 1, False), (110, 1, True), (423, 1, True), (173, 1, False),
])
def test_art61_exclusions(article, clause, excluded):
    o = Offence("Tội thử nghiệm", article, clause, severity=Severity.ESPECIALLY_SERIOUS, intentional=True)
    c = conv(PenaltyType.IMPRISONMENT, offences=(o,), term_months=240)
    assert limitation_applies(c) is (not excluded)
    assert (enforcement_limitation_end(c) is None) is excluded
    if not excluded:
        assert enforcement_limitation_end(c) == date(2033, 10, 1)  # 20 years' prison: 15 years (art. 60.2.c)


def test_art61_reported_expiry_is_ignored_for_embezzlement_clause_4():
    """Embezzlement under art. 353.4, 20 years' prison, never served; an enforcement body reports the
    limitation expired: art. 61 says there is none, so no expungement date is computed from it."""
    o = Offence("Tham ô tài sản", 353, 4, severity=Severity.ESPECIALLY_SERIOUS, intentional=True, offence_date=date(2017, 1, 1))
    c = conv(PenaltyType.IMPRISONMENT, offences=(o,), term_months=240, limitation_expired_on=date(2033, 10, 1))
    r = status(c, date(2045, 1, 1))
    assert not r.expunged and r.waiting_until is None and "Điều 61" in r.reason


def test_a_warning_has_no_enforcement_limitation():
    assert enforcement_limitation_end(conv(PenaltyType.WARNING, offences=(THEFT,))) is None


@given(st.sampled_from([108, 115, 122, 421, 425, 173, 134, 353, 354]), st.integers(1, 4),
       st.sampled_from(list(PenaltyType)), st.integers(1, 360))
def test_property_limitation_end(article, clause, penalty, months):
    o = Offence("Tội thử nghiệm", article, clause, severity=Severity.SERIOUS, intentional=True)
    c = conv(penalty, offences=(o,), term_months=months if penalty in (PenaltyType.IMPRISONMENT,
                                                                        PenaltyType.NON_CUSTODIAL_REFORM) else None)
    end = enforcement_limitation_end(c)
    excluded = (108 <= article <= 122 or 421 <= article <= 425 or (article in (353, 354) and clause in (3, 4)))
    if excluded or penalty in (PenaltyType.WARNING, PenaltyType.EXEMPTED, PenaltyType.JUDICIAL_MEASURE, PenaltyType.EXPULSION):
        assert end is None
        return
    if penalty is PenaltyType.IMPRISONMENT:
        years = 5 if months <= 36 else 10 if months <= 180 else 15
    elif penalty in (PenaltyType.LIFE, PenaltyType.DEATH):
        years = 20
    else:
        years = 5
    assert end == add_months(c.legal_effect_date, 12 * years)
