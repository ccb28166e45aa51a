"""Property tests for the expungement engine.

Documented time property (see the module doc of ``expungement``): for a fixed list of convictions,
a result that is expunged on ``d1`` is still expunged, with the same ``since``, on any ``d2 > d1``
unless some judgment took legal effect in ``(d1, d2]`` (it may reveal an act committed before
``since``, art. 73.2, which means the conditions were never met).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lienthong.judicial.rules.expungement import (
    AdditionalPenalty,
    AdditionalPenaltyType,
    Basis,
    Conviction,
    Offence,
    PenaltyType,
    Person,
    Severity,
    add_months,
    explain,
    principal_start,
)

PERSON = Person(date(1980, 1, 1))
TIMED = (Basis.AUTOMATIC, Basis.MINOR_AUTOMATIC)


@st.composite
def convictions(draw, cid: str, earliest: date = date(2018, 1, 1)):
    act = draw(st.dates(min_value=earliest, max_value=date(2032, 12, 31)))
    judgment = act + timedelta(days=draw(st.integers(30, 400)))
    effect = judgment + timedelta(days=draw(st.integers(0, 60)))
    security = draw(st.booleans()) and draw(st.booleans())
    offence = Offence(
        "Tội thử nghiệm",
        117 if security else 173,
        1,
        severity=draw(st.sampled_from(list(Severity))),
        intentional=draw(st.sampled_from([True, True, False])),
        offence_date=act,
    )
    kind = draw(st.sampled_from(["fine", "warning", "reform", "prison", "suspended", "life"]))
    kw: dict = {}
    if kind == "fine":
        kw = dict(penalty=PenaltyType.FINE, fine_vnd=10_000_000,
                  principal_completed_on=draw(st.one_of(st.none(), st.just(effect + timedelta(days=draw(st.integers(0, 700)))))))
    elif kind == "warning":
        kw = dict(penalty=PenaltyType.WARNING)
    elif kind == "reform":
        m = draw(st.integers(6, 36))
        kw = dict(penalty=PenaltyType.NON_CUSTODIAL_REFORM, term_months=m, principal_completed_on=add_months(effect, m))
    elif kind == "prison":
        m = draw(st.integers(3, 300))
        done = add_months(effect, m) if draw(st.booleans()) else add_months(effect, max(1, m * 2 // 3))
        kw = dict(penalty=PenaltyType.IMPRISONMENT, term_months=m, principal_completed_on=done)
    elif kind == "suspended":
        kw = dict(penalty=PenaltyType.IMPRISONMENT, term_months=draw(st.integers(6, 36)), suspended=True,
                  probation_months=draw(st.integers(12, 60)))
    else:
        kw = dict(penalty=PenaltyType.LIFE, death_commuted=True, principal_completed_on=add_months(effect, draw(st.integers(200, 300))))
    if draw(st.booleans()):
        kw["additional_penalties"] = (AdditionalPenalty(AdditionalPenaltyType.POST_OR_PROFESSION_BAN, months=draw(st.integers(12, 72))),)
    if draw(st.booleans()):
        kw["has_other_obligations"] = True
        kw["other_obligations_completed_on"] = draw(st.one_of(st.none(), st.just(effect + timedelta(days=draw(st.integers(0, 3000))))))
    return Conviction(cid, (offence,), judgment, effect, **kw)


@st.composite
def histories(draw):
    n = draw(st.integers(1, 4))
    return [draw(convictions(f"C{i}")) for i in range(n)]


eval_dates = st.dates(min_value=date(2018, 1, 1), max_value=date(2065, 12, 31))


@settings(max_examples=200, deadline=None)
@given(histories(), eval_dates, st.integers(1, 8000))
def test_monotone_in_time_unless_a_new_judgment_appears(convs, d1, gap):
    d2 = d1 + timedelta(days=gap)
    e1, e2 = explain(PERSON, convs, d1), explain(PERSON, convs, d2)
    new_judgment = any(d1 < c.legal_effect_date <= d2 for c in convs)
    for r1, r2 in zip(e1.results, e2.results):
        if r1.expunged and not new_judgment:
            assert r2.expunged and r2.since == r1.since
    if not new_judgment and not e1.has_record and any(r.in_force for r in e1.results):
        assert not e2.has_record


@settings(max_examples=200, deadline=None)
@given(histories(), eval_dates)
def test_since_never_before_completion(convs, on):
    for c, r in zip(convs, explain(PERSON, convs, on).results):
        if r.expunged and r.basis in TIMED:
            t0, _ = principal_start(c)
            assert t0 is not None and r.since > t0 and r.since <= on
            assert r.start_date is not None and r.since > r.start_date >= t0
        if r.expunged:
            assert r.since is not None and r.since <= on


@settings(max_examples=200, deadline=None)
@given(histories(), st.data(), eval_dates)
def test_adding_a_conviction_never_expunges_others_sooner(convs, data, on):
    extra = data.draw(convictions("NEW", earliest=min(c.offences[0].offence_date for c in convs)))
    before = explain(PERSON, convs, on)
    after = explain(PERSON, [*convs, extra], on)
    for rb, ra in zip(before.results, after.results):
        assert rb.conviction_id == ra.conviction_id
        if ra.expunged:
            assert rb.expunged
            assert ra.since >= rb.since
    assert after.has_record or not before.has_record


@settings(max_examples=200, deadline=None)
@given(histories(), eval_dates)
def test_waiting_until_is_honoured(convs, on):
    for r in explain(PERSON, convs, on).results:
        if r.expunged or r.basis not in TIMED or r.waiting_until is None:
            continue
        assert r.waiting_until > on
        assume(not any(on < c.legal_effect_date <= r.waiting_until for c in convs))
        later = explain(PERSON, convs, r.waiting_until).result_for(r.conviction_id)
        assert later.expunged and later.since == r.waiting_until
        day_before = explain(PERSON, convs, r.waiting_until - timedelta(days=1)).result_for(r.conviction_id)
        assert not day_before.expunged


@settings(max_examples=150, deadline=None)
@given(histories(), eval_dates)
def test_has_record_matches_results(convs, on):
    e = explain(PERSON, convs, on)
    assert e.has_record == any(r.in_force and not r.expunged for r in e.results)
    for c, r in zip(convs, e.results):
        assert r.in_force == (c.legal_effect_date <= on)
        assert r.reason  # always explained


@settings(max_examples=100, deadline=None)
@given(histories(), eval_dates)
def test_court_track_never_expunges_without_decision(convs, on):
    for c, r in zip(convs, explain(PERSON, convs, on).results):
        if r.basis is Basis.COURT_DECISION:
            assert not r.expunged  # no decisions are generated here
        if r.expunged and c.offences[0].article == 117:
            assert r.basis in (Basis.NO_RECORD,)


@settings(max_examples=100, deadline=None)
@given(histories(), eval_dates)
def test_relabelling_ids_does_not_change_results(convs, on):
    renamed = [replace(c, id=f"X{i}") for i, c in enumerate(convs)]
    a = explain(PERSON, convs, on).results
    b = explain(PERSON, renamed, on).results
    assert [(r.expunged, r.since, r.basis) for r in a] == [(r.expunged, r.since, r.basis) for r in b]
