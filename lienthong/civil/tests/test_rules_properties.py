"""Pure rules: deadlines in working days (versioned), allowance versioning, card validity, driver health."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lienthong.civil import rules
from lienthong.insurance import rules as ins
from lienthong.workdays import VN_TZ

cal = rules.calendar()
moments = st.datetimes(min_value=datetime(2024, 6, 10), max_value=datetime(2027, 12, 31)).map(
    lambda d: d.replace(tzinfo=VN_TZ))


def test_known_deadlines():
    # Friday 14:00 -> 2 working days: Tuesday 17:00; Friday 16:00 (after the 15:00 cutoff) -> Wednesday
    r = rules.rule_for("birth", "residence", date(2025, 3, 7))
    assert r.days == 2 and r.unit == "working_days"
    assert rules.due_at(r, datetime(2025, 3, 7, 14, 0, tzinfo=VN_TZ)) == datetime(2025, 3, 11, 17, 0, tzinfo=VN_TZ)
    assert rules.due_at(r, datetime(2025, 3, 7, 16, 0, tzinfo=VN_TZ)) == datetime(2025, 3, 12, 17, 0, tzinfo=VN_TZ)
    # same working day: received 14:00 -> 17:00 that day; Saturday -> Monday
    reg = rules.rule_for("birth", "register", date(2025, 3, 7))
    assert rules.due_at(reg, datetime(2025, 3, 7, 14, 0, tzinfo=VN_TZ)) == datetime(2025, 3, 7, 17, 0, tzinfo=VN_TZ)
    assert rules.due_at(reg, datetime(2025, 3, 8, 9, 0, tzinfo=VN_TZ)) == datetime(2025, 3, 10, 17, 0, tzinfo=VN_TZ)
    # Tết 2025 (25/01-02/02 off): received Friday 24/01 10:00 -> 2 working days skip the break -> 04/02
    assert rules.due_at(r, datetime(2025, 1, 24, 10, 0, tzinfo=VN_TZ)).date() == date(2025, 2, 4)
    # received during the break (27/01): deemed received 03/02 -> 05/02
    assert rules.due_at(r, datetime(2025, 1, 27, 10, 0, tzinfo=VN_TZ)).date() == date(2025, 2, 5)


def test_versioned_whole_procedure_deadline():
    assert rules.rule_for("birth", None, date(2024, 6, 9)).days == 20  # TTLT 05/2015 paper linkage
    assert rules.rule_for("birth", None, date(2024, 6, 10)).days == 3  # NĐ 63/2024
    assert rules.rule_for("birth", "residence", date(2024, 6, 9)) is None
    assert rules.rule_for("death", "funeral_allowance", date(2025, 1, 1)) is None  # not invented


def test_overlapping_rules_are_rejected():
    data = {"rules": [
        {"procedure": "birth", "step": "x", "unit": "working_days", "days": 1, "effective_from": "2020-01-01",
         "effective_to": None},
        {"procedure": "birth", "step": "x", "unit": "working_days", "days": 2, "effective_from": "2021-01-01"}]}
    with pytest.raises(ValueError):
        rules.parse_rules(data)


@settings(max_examples=200, deadline=None)
@given(moments, st.integers(min_value=1, max_value=10))
def test_working_day_deadline_properties(received, n):
    rule = rules.DeadlineRule("birth", "x", "working_days", n, date(2000, 1, 1), None, "")
    due = rules.due_at(rule, received)
    receipt = cal.deemed_receipt_day(received)
    assert due > received
    assert due.time() == time(17, 0) and cal.is_working_day(due.date())
    assert cal.working_days_between(receipt, due.date()) == n
    if received.time() >= time(15, 0) and cal.is_working_day(received.date()):
        assert receipt > received.date()


@settings(max_examples=100, deadline=None)
@given(moments)
def test_same_day_deadline_is_the_receipt_day_or_next_working_day(received):
    rule = rules.rule_for("birth", "register", received.date())
    due = rules.due_at(rule, received)
    assert due.date() >= received.date() and cal.is_working_day(due.date())
    assert cal.working_days_between(received.date(), due.date()) <= 1


@given(st.dates(min_value=date(2015, 7, 1), max_value=date(2030, 12, 31)))
def test_one_rule_in_force_per_day(day):
    for key in {(r.procedure, r.step, r.variant) for r in rules.deadline_rules()}:
        assert sum(1 for r in rules.deadline_rules() if (r.procedure, r.step, r.variant) == key and r.in_force(day)) <= 1


# --- funeral allowance ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("death,amount", [
    (date(2023, 6, 30), 14_900_000), (date(2023, 7, 1), 18_000_000), (date(2024, 6, 30), 18_000_000),
    (date(2024, 7, 1), 23_400_000), (date(2026, 1, 1), 23_400_000), (date(2026, 6, 30), 23_400_000),
    (date(2026, 7, 1), 25_300_000),  # NĐ 161/2026/NĐ-CP: 2.530.000 đồng from 01/07/2026
])
def test_funeral_allowance_by_date_of_death(death, amount):
    assert ins.funeral_allowance(death)[0] == amount


@given(st.dates(min_value=date(2019, 7, 1), max_value=date(2035, 1, 1)))
def test_allowance_is_ten_times_the_salary_in_force(death):
    amount, row = ins.funeral_allowance(death)
    assert amount == 10 * row.amount_vnd
    assert row.effective_from <= death
    later = [r for r in ins.REFERENCE_SALARY if r.effective_from > row.effective_from]
    assert all(r.effective_from > death for r in later)


@given(st.dates(min_value=date(2019, 7, 1), max_value=date(2035, 1, 1)), st.integers(1, 3000))
def test_allowance_never_decreases_over_time(a, days):
    assert ins.funeral_allowance(a + timedelta(days=days))[0] >= ins.funeral_allowance(a)[0]


def test_no_salary_before_the_table():
    with pytest.raises(ins.NoRuleInForce):
        ins.funeral_allowance(date(2010, 1, 1))


def test_eligibility_under_the_2014_law():
    P = ins.Period
    assert ins.funeral_eligibility([P("bhxh_compulsory", date(2024, 1, 1), None)], date(2024, 3, 5)).status == "eligible"
    assert ins.funeral_eligibility([P("bhxh_compulsory", date(2010, 1, 1), date(2010, 12, 1))],
                                   date(2024, 3, 5)).status == "eligible"  # 12 months reserved
    # 11 months, long ago: the history does not make the person eligible; a pension may (officer decides)
    assert ins.funeral_eligibility([P("bhxh_compulsory", date(2010, 1, 1), date(2010, 11, 1))],
                                   date(2024, 3, 5)).status == "needs_review"
    no_officer = ins.with_funeral_rules(ins.SI_LAW_2014, undecided_goes_to_officer=False)
    assert ins.funeral_eligibility([P("bhxh_compulsory", date(2010, 1, 1), date(2010, 11, 1))], date(2024, 3, 5),
                                   no_officer).status == "not_eligible"
    assert ins.funeral_eligibility([P("bhxh_voluntary", date(2010, 1, 1), date(2014, 12, 1))],
                                   date(2024, 3, 5)).status == "eligible"  # 60 months voluntary
    assert ins.funeral_eligibility([], date(2024, 3, 5)).status == "needs_review"


# --- under-6 card (more in lienthong/insurance/tests/test_law_as_written.py) ------------------------------------------


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)))
def test_card_valid_through_the_72_month_day(birth):
    v = ins.under6_card_validity(birth, on=max(birth, date(2019, 1, 1)))
    turns = ins.add_months(birth, 72)
    assert v.valid_from == birth and v.valid_to == turns  # Luật BHYT 16.3.d: "đến ngày trẻ đủ 72 tháng tuổi"
    assert ins.card_valid_on(v, birth) and ins.card_valid_on(v, v.valid_to)
    assert not ins.card_valid_on(v, birth - timedelta(days=1))
    assert not ins.card_valid_on(v, v.last_day + timedelta(days=1))
    assert v.last_day >= date(turns.year, 9, 30) or v.last_day.month == turns.month


def test_card_examples():
    # NĐ 146/2018 Điều 13.2.b: born after 30/9 -> the last day of the month the child turns 72 months
    v = ins.under6_card_validity(date(2024, 11, 20))
    assert (v.valid_to, v.extended_to) == (date(2030, 11, 20), date(2030, 11, 30))
    v = ins.under6_card_validity(date(2024, 2, 29))
    assert v.valid_to == date(2030, 2, 28) and v.extended_to == date(2030, 9, 30)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2050, 1, 1)), st.integers(0, 800))
def test_driver_health_validity_by_the_rule_in_force(signed, offset):
    until = rules.driver_health_valid_until(signed)
    day = signed + timedelta(days=offset)
    status = rules.driver_health_status(signed, until, True, day)
    assert status == ("valid" if day <= until else "expired")
    months = rules.driver_health_rule(signed).valid_months
    assert months == (12 if signed >= date(2025, 1, 1) else 6)
    assert until == ins.add_months(signed, months) - timedelta(days=1)
    assert rules.driver_health_status(signed, until, False, signed) == "unfit"


@given(st.integers(0, 30))
def test_retry_backoff_grows_and_is_capped(n):
    assert rules.retry_delay_s(n + 1) >= rules.retry_delay_s(n)
    assert rules.retry_delay_s(n) <= rules.RETRY_MAX_S
