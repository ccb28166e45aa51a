"""Issue #23, item 9: 24/11 (Ngày Văn hóa Việt Nam) is not a paid public holiday until the Labour Code says so.

Bộ luật Lao động 2019 Điều 112 khoản 1 lists the paid public holidays (Tết Dương lịch, Tết Âm lịch, 30/4, 1/5,
Quốc khánh 2/9 and one adjacent day, Giỗ Tổ Hùng Vương); 24/11 is not among them. Nghị quyết 30/NQ-CP (26/02/2026)
asks for Điều 112 khoản 1 to be amended; no amending law was found, so the day is a working day, by a dated rule
in ``vn_overrides.json`` (``holiday_rules``; ``paid_holiday_from`` is set once the amendment is in force). The
``holidays`` library lists 24/11 from 2026 (citing Resolution 80-NQ/TW only): before #23 the calendar took it as
a holiday.
"""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from lienthong.civil import rules as civil_rules
from lienthong.legal import figure
from lienthong.workdays import calendar as wcal
from lienthong.workdays.calendar import WorkCalendar

CAL = WorkCalendar()


def test_worked_case_24_november_2026_is_a_working_day():
    d = date(2026, 11, 24)  # a Tuesday
    assert CAL.is_working_day(d) and CAL.holiday_name(d) is None and not CAL.is_statutory_day_off(d)
    rule = CAL.holiday_rule_on(d)
    assert rule is not None and rule.paid_holiday_from is None and "Điều 112" in rule.basis
    # a death on 09/11/2026: the 15 days end on Tuesday 24/11 (before #23: Wednesday 25/11)
    assert civil_rules.calendar_day_end(date(2026, 11, 9), 15) == d
    # two working days from Monday 23/11 (before #23: 26/11)
    assert CAL.add_working_days(date(2026, 11, 23), 2) == date(2026, 11, 25)


def test_the_rule_is_dated():
    later = WorkCalendar(extra_overrides={"holiday_rules": [
        {"name": "Ngày Văn hóa Việt Nam (24/11)", "match": "Ngày Văn hóa Việt Nam", "paid_holiday_from": "2027-01-01",
         "basis": "Luật sửa đổi giả định", "verified": "src"}]})
    assert later.is_working_day(date(2026, 11, 24))
    assert not later.is_working_day(date(2027, 11, 24))  # a Wednesday, now a paid holiday
    assert later.holiday_name(date(2027, 11, 24)) == "Ngày Văn hóa Việt Nam"
    assert later.is_statutory_day_off(date(2027, 11, 24))


@given(st.integers(2026, 2040), st.one_of(st.none(), st.integers(2026, 2040)))
def test_property_24_november(year, paid_from):
    cal = CAL if paid_from is None else WorkCalendar(extra_overrides={"holiday_rules": [
        {"name": "24/11", "match": "Ngày Văn hóa Việt Nam", "paid_holiday_from": f"{paid_from}-01-01"}]})
    d = date(year, 11, 24)
    paid = paid_from is not None and year >= paid_from
    weekday = d.weekday() < 5
    assert cal.is_working_day(d) == (weekday and not paid)
    assert (cal.holiday_rule_on(d) is not None) == (not paid)


def test_the_other_holidays_of_article_112_are_untouched():
    # the rule removes only 24/11: 2026's holidays of Điều 112 stay days off
    for d in (date(2026, 1, 1), date(2026, 2, 17), date(2026, 4, 27), date(2026, 4, 30), date(2026, 5, 1),
              date(2026, 9, 1), date(2026, 9, 2)):
        assert not CAL.is_working_day(d) and CAL.holiday_rule_on(d) is None


def test_officers_are_warned_when_a_deadline_spans_24_november():
    notes = wcal.officer_notes(date(2026, 11, 20), date(2026, 11, 30))
    assert any("24/11/2026" in n and "Điều 112" in n for n in notes)
    assert not any("24/11" in n for n in wcal.officer_notes(date(2026, 11, 25), date(2026, 11, 30)))
    # the swapped day of 2026 is confirmed (Thông báo 109/TB-UBND): no warning; the counting method is configurable
    assert wcal.officer_notes(date(2026, 8, 28), date(2026, 9, 4)) == []
    assert wcal.officer_notes(date(2026, 8, 28), date(2026, 9, 4), working_days=True) == [
        figure("workdays.counting").warning_vi]
    assert figure("workdays.culture_day").configurable and not figure("workdays.weekend").configurable
