"""Issue #23, items 4-6 and 8 (social-assistance funeral support): the social-protection rules as written.

Worked cases (each fails on the code before #23) and one property test per rule:

* item 4, funeral allowance under Luật BHXH 2024 (from 01/07/2025): Điều 85.1.a "có thời gian đóng bảo hiểm xã
  hội bắt buộc từ đủ 12 tháng trở lên" (being employed at death no longer suffices); Điều 109.1.a with Điều 3.6
  "Thời gian đóng bảo hiểm xã hội là tổng thời gian đã đóng bảo hiểm xã hội bắt buộc, bảo hiểm xã hội tự nguyện"
  (60 months of both schemes together); Điều 85.1.c, 109.1.b pensioners (not on the platform: an officer decides);
* item 5, NĐ 161/2026/NĐ-CP Điều 3.2: base salary (= reference level, Luật BHXH 2024 Điều 141.13) 2.530.000 đồng
  from 01/07/2026;
* item 6, Luật BHYT Điều 16.3.d and NĐ 146/2018 Điều 13.2: the under-6 card runs through the 72-month day and, for
  children born after 30/9, to the last day of that month;
* NĐ 20/2021 Điều 11: the social-assistance funeral support (at least 20 × the standard level, only the highest
  of several supports).
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lienthong.insurance import rules as ins

P = ins.Period


def months(first: date, n: int) -> date:
    """The first day of the n-th month counted from ``first`` (n = 1: ``first``'s month)."""
    return ins.add_months(first.replace(day=1), n - 1)


# --- item 4: funeral allowance by the law in force on the date of death ------------------------------------------------


def test_rules_switch_on_1_july_2025():
    assert ins.funeral_rules_on(date(2025, 6, 30)) is ins.SI_LAW_2014
    assert ins.funeral_rules_on(date(2025, 7, 1)) is ins.SI_LAW_2024
    with pytest.raises(ins.NoRuleInForce):
        ins.funeral_rules_on(date(2015, 12, 31))


def test_worked_case_employed_six_months_at_death():
    """Employed since March 2025, dies 10/08/2025: 6 months of compulsory contributions. The 2014 law's "đang đóng
    bảo hiểm xã hội" route is gone; under Điều 85.1.a the history does not suffice (a pension or a work accident
    still might: an officer decides). Before #23 the engine said eligible."""
    periods = [P("bhxh_compulsory", date(2025, 3, 1), None)]
    e = ins.funeral_eligibility(periods, date(2025, 8, 10))
    assert (e.status, e.compulsory_months, e.rules) == ("needs_review", 6, ins.SI_LAW_2024.name)
    # the same person dying on 30/06/2025 was eligible under Luật BHXH 2014 Điều 66.1.a
    assert ins.funeral_eligibility(periods, date(2025, 6, 30)).status == "eligible"


def test_worked_case_compulsory_and_voluntary_together():
    """8 months compulsory (2015) + 52 months voluntary (2016-2020) = 60 months of "thời gian đóng": eligible under
    Điều 109.1.a (Điều 3.6 adds both schemes). Before #23 only the 52 voluntary months were counted."""
    periods = [P("bhxh_compulsory", date(2015, 1, 1), date(2015, 8, 1)),
               P("bhxh_voluntary", date(2016, 1, 1), months(date(2016, 1, 1), 52))]
    e = ins.funeral_eligibility(periods, date(2025, 9, 1))
    assert (e.status, e.compulsory_months, e.voluntary_months, e.total_months) == ("eligible", 8, 52, 60)
    assert "Điều 109" in e.basis
    # one month fewer: not enough by the history
    short = [periods[0], P("bhxh_voluntary", date(2016, 1, 1), months(date(2016, 1, 1), 51))]
    assert ins.funeral_eligibility(short, date(2025, 9, 1)).status == "needs_review"


def test_worked_case_pensioner_without_history_goes_to_an_officer():
    """A pensioner whose working life predates the platform: Điều 85.1.c makes them eligible; the history cannot
    show it, so the decision is left to a social-insurance officer (before #23: "unknown", skipped silently)."""
    e = ins.funeral_eligibility([], date(2025, 10, 3))
    assert e.status == "needs_review" and "lương hưu" in e.reason and "Điều 85" in e.reason


def test_months_are_counted_once_across_schemes():
    # overlapping compulsory and voluntary months in the same month count once in the 60-month total
    periods = [P("bhxh_compulsory", date(2020, 1, 1), date(2020, 6, 1)),
               P("bhxh_voluntary", date(2020, 1, 1), date(2024, 12, 1))]
    assert ins.funeral_eligibility(periods, date(2025, 8, 1)).total_months == 60


periods_st = st.lists(st.tuples(st.sampled_from(["bhxh_compulsory", "bhxh_voluntary", "bhtn"]),
                                st.dates(min_value=date(2000, 1, 1), max_value=date(2027, 12, 1)),
                                st.integers(0, 90), st.booleans()), max_size=4)


def _periods(raw) -> list[ins.Period]:
    out = []
    for scheme, start, length, open_ended in raw:
        first = start.replace(day=1)
        out.append(P(scheme, first, None if open_ended else months(first, length + 1)))
    return out


@settings(max_examples=300, deadline=None)
@given(periods_st, st.dates(min_value=date(2025, 7, 1), max_value=date(2032, 12, 31)))
def test_property_funeral_2024(raw, death):
    """Under the 2024 law the history decides exactly "≥ 12 compulsory months, or ≥ 60 months of both schemes";
    otherwise an officer decides; never "not eligible" by default."""
    periods = _periods(raw)
    e = ins.funeral_eligibility(periods, death)
    comp = ins.contribution_months(periods, "bhxh_compulsory", death)
    total = ins.contribution_months(periods, ("bhxh_compulsory", "bhxh_voluntary"), death)
    assert (e.compulsory_months, e.total_months) == (comp, total)
    assert e.status == ("eligible" if comp >= 12 or total >= 60 else "needs_review")
    # adding a month of contributions never takes eligibility away
    more = [*periods, P("bhxh_voluntary", death.replace(day=1), death.replace(day=1))]
    if e.status == "eligible":
        assert ins.funeral_eligibility(more, death).status == "eligible"


@settings(max_examples=200, deadline=None)
@given(periods_st, st.dates(min_value=date(2016, 1, 1), max_value=date(2025, 6, 30)))
def test_property_funeral_2014(raw, death):
    """Under the 2014 law a worker paying compulsory contributions in the month of death is eligible; 12 months
    reserved suffice; 60 voluntary months suffice (counted on the voluntary scheme)."""
    periods = _periods(raw)
    e = ins.funeral_eligibility(periods, death)
    dm = death.replace(day=1)
    paying = any(p.scheme == "bhxh_compulsory" and p.from_month <= dm and (p.to_month is None or p.to_month >= dm)
                 for p in periods)
    comp = ins.contribution_months(periods, "bhxh_compulsory", death)
    vol = ins.contribution_months(periods, "bhxh_voluntary", death)
    assert e.status == ("eligible" if paying or comp >= 12 or vol >= 60 else "needs_review")


# --- item 5: reference level 2.530.000 đồng from 01/07/2026 ---------------------------------------------------------------


def test_worked_case_allowance_from_july_2026():
    amount, row = ins.funeral_allowance(date(2026, 7, 1))
    assert (amount, row.amount_vnd, row.basis) == (25_300_000, 2_530_000, "NĐ 161/2026/NĐ-CP")
    assert ins.funeral_allowance(date(2026, 6, 30))[0] == 23_400_000


def test_reference_levels_can_be_supplied_as_data(tmp_path, monkeypatch):
    f = tmp_path / "levels.json"
    f.write_text('[{"effective_from": "2027-07-01", "amount_vnd": 2700000, "basis": "NĐ giả định"}]', "utf-8")
    monkeypatch.setenv(ins.REFERENCE_LEVELS_ENV, str(f))
    assert ins.funeral_allowance(date(2027, 7, 1))[0] == 27_000_000
    assert ins.funeral_allowance(date(2027, 6, 30))[0] == 25_300_000
    with pytest.raises(ValueError):
        ins.reference_levels([{"effective_from": "2027-07-01", "amount_vnd": 0}])


@given(st.dates(min_value=date(2019, 7, 1), max_value=date(2035, 12, 31)))
def test_property_reference_level_is_the_last_row_in_force(day):
    row = ins.reference_salary_on(day)
    assert row.effective_from <= day
    assert not [r for r in ins.REFERENCE_SALARY if row.effective_from < r.effective_from <= day]
    assert ins.funeral_allowance(day)[0] == 10 * row.amount_vnd


# --- item 6: the under-6 card -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("birth,valid_to,last_day", [
    (date(2024, 10, 15), date(2030, 10, 15), date(2030, 10, 31)),  # before #23: 14/10/2030
    (date(2024, 11, 20), date(2030, 11, 20), date(2030, 11, 30)),  # before #23: 19/11/2030
    (date(2024, 12, 31), date(2030, 12, 31), date(2030, 12, 31)),  # before #23: 30/12/2030
    (date(2024, 9, 29), date(2030, 9, 29), date(2030, 9, 30)),
    (date(2024, 9, 30), date(2030, 9, 30), date(2030, 9, 30)),  # either point of Điều 13.2
    (date(2024, 2, 29), date(2030, 2, 28), date(2030, 9, 30)),
])
def test_worked_cases_card_end(birth, valid_to, last_day):
    v = ins.under6_card_validity(birth, on=birth)
    assert (v.valid_to, v.last_day) == (valid_to, last_day)


def test_card_rule_by_issue_date():
    assert ins.card_rules_on(date(2018, 11, 30)).method == "law"
    assert ins.card_rules_on(date(2018, 12, 1)).basis.startswith("khoản 2 Điều 13")
    assert not ins.card_rules_on(date(2025, 8, 15)).verified  # NĐ 188/2025: configurable, officers warned
    # under the law alone (before NĐ 146/2018): to 30/9 when the 72-month day comes before the school year
    v = ins.under6_card_validity(date(2012, 3, 10), on=date(2018, 6, 1))
    assert (v.valid_to, v.last_day) == (date(2018, 3, 10), date(2018, 9, 30))
    v = ins.under6_card_validity(date(2012, 11, 10), on=date(2018, 6, 1))
    assert (v.valid_to, v.last_day) == (date(2018, 11, 10), date(2018, 11, 10))


@given(st.dates(min_value=date(2012, 12, 1), max_value=date(2060, 12, 31)))
def test_property_card_nd146(birth):
    """NĐ 146/2018 Điều 13.2 for every birth date: through the 72-month day, then to 30/9 of that year (born
    before 30/9) or the last day of that month (born after)."""
    on = max(birth, date(2018, 12, 1))
    v = ins.under6_card_validity(birth, on=on)
    turns = ins.add_months(birth, 72)
    assert v.valid_from == birth and v.valid_to == turns and v.last_day >= turns
    if (birth.month, birth.day) <= (9, 30):
        assert v.last_day == date(turns.year, 9, 30)
    else:
        assert v.last_day == date(turns.year, turns.month, monthrange(turns.year, turns.month)[1])
    assert ins.card_valid_on(v, v.last_day) and not ins.card_valid_on(v, v.last_day + timedelta(days=1))


# --- item 8: social-assistance funeral support (NĐ 20/2021 Điều 11) ------------------------------------------------------


def test_worked_cases_social_assistance_funeral():
    d = ins.social_assistance_funeral(date(2023, 5, 2), ins.SaCategory.MONTHLY_SOCIAL_ALLOWANCE)
    assert (d.status, d.amount_vnd, d.standard_vnd) == ("eligible", 7_200_000, 360_000)  # 20 × 360.000
    d = ins.social_assistance_funeral(date(2026, 9, 1), "monthly_social_allowance")
    assert (d.status, d.amount_vnd) == ("eligible", 10_000_000)  # 20 × 500.000 (NĐ 76/2024, configurable)
    # a province's higher standard level (Điều 4 khoản 3)
    assert ins.social_assistance_funeral(date(2026, 9, 1), "monthly_social_allowance",
                                         province_standard_vnd=600_000).amount_vnd == 12_000_000
    # point c needs 80 years of age
    assert ins.social_assistance_funeral(date(2026, 9, 1), "aged_80_monthly_allowance", age_at_death=79).status == "not_eligible"
    assert ins.social_assistance_funeral(date(2026, 9, 1), "aged_80_monthly_allowance", age_at_death=80).status == "eligible"
    # Điều 11.2: only the highest; the social-insurance allowance (25.300.000 đồng) is higher
    d = ins.social_assistance_funeral(date(2026, 9, 1), "monthly_social_allowance", higher_support_vnd=25_300_000)
    assert d.status == "higher_support_paid" and d.amount_vnd is None
    assert ins.social_assistance_funeral(date(2026, 9, 1), "monthly_social_allowance", higher_support_vnd=25_300_000,
                                         exclusive_with_other_support=False).status == "eligible"
    assert ins.social_assistance_funeral(date(2026, 9, 1), None).status == "not_eligible"
    with pytest.raises(ins.NoRuleInForce):
        ins.social_assistance_funeral(date(2021, 6, 30), "monthly_social_allowance")


@given(st.dates(min_value=date(2021, 7, 1), max_value=date(2035, 12, 31)), st.sampled_from(list(ins.SaCategory)),
       st.integers(0, 110), st.one_of(st.none(), st.integers(0, 60_000_000)), st.one_of(st.none(), st.integers(0, 2_000_000)))
def test_property_social_assistance_funeral(death, category, age, other, province):
    d = ins.social_assistance_funeral(death, category, age_at_death=age, higher_support_vnd=other,
                                      province_standard_vnd=province)
    standard = max(ins.sa_standard_on(death).amount_vnd, province or 0)
    assert d.standard_vnd == standard
    if category is ins.SaCategory.AGED_80_MONTHLY_ALLOWANCE and age < 80:
        assert d.status == "not_eligible"
    elif other is not None and other >= 20 * standard:
        assert d.status == "higher_support_paid"
    else:
        assert d.status == "eligible" and d.amount_vnd == 20 * standard


# --- officer warnings ---------------------------------------------------------------------------------------------------


def test_officer_notes_name_the_configurable_figures():
    notes = ins.officer_notes(death_date=date(2026, 8, 1), social_assistance=True)
    assert any("2.530.000" in n for n in notes) and any("khoản 2 Điều 11" in n for n in notes)
    assert any("500.000" in n for n in notes)
    assert any("Luật BHXH 2014" in n for n in ins.officer_notes(death_date=date(2025, 3, 1)))
    assert any("NĐ 188/2025" in n for n in ins.officer_notes(card_issued_on=date(2026, 1, 5)))
    assert ins.officer_notes(card_issued_on=date(2020, 1, 5)) == []
