"""Worked examples and properties of the working-day calendar."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lienthong.workdays import (
    VN_TZ,
    WorkCalendar,
    add_working_days,
    deadline,
    is_working_day,
    working_days_between,
)

CAL = WorkCalendar(extra_overrides={"years": {}})  # packaged table only, independent of the env var


# --- single days ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "d",
    [
        date(2026, 2, 16), date(2026, 2, 17), date(2026, 2, 18), date(2026, 2, 19), date(2026, 2, 20),  # Tết 2026
        date(2026, 4, 27),  # Hùng Kings 26/04/2026 falls on Sunday -> observed Monday
        date(2026, 4, 30), date(2026, 5, 1),
        date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2),  # Quốc khánh 2026 (31/08 swapped with 22/08)
        date(2025, 5, 2),  # swapped against Saturday 26/04/2025
        date(2025, 9, 1), date(2025, 9, 2),
        date(2026, 1, 1),
        date(2026, 2, 21), date(2026, 2, 22),  # weekend after Tết
    ],
)
def test_days_off(d):
    assert not CAL.is_working_day(d)


@pytest.mark.parametrize(
    "d",
    [
        date(2025, 4, 26),  # Saturday worked to compensate 02/05/2025
        date(2026, 8, 22),  # Saturday worked to compensate 31/08/2026
        date(2026, 2, 13), date(2026, 2, 23), date(2026, 4, 28), date(2026, 4, 29), date(2026, 5, 4), date(2026, 9, 3),
    ],
)
def test_working(d):
    assert CAL.is_working_day(d)


def test_module_helpers_use_default_calendar():
    assert not is_working_day(date(2026, 2, 17))
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 23)) == 1
    assert deadline(datetime(2026, 2, 13, 9, 0), 1) == datetime(2026, 2, 23, 17, 0, tzinfo=VN_TZ)


# --- worked deadline examples --------------------------------------------------------------------
def test_tet_2026_ten_working_days():
    # Received Friday 13/02/2026 10:00; Tết 16-20/02 and the weekends are skipped:
    # day 1 = Mon 23/02 ... day 5 = Fri 27/02, day 6 = Mon 02/03 ... day 10 = Fri 06/03.
    assert CAL.deadline(datetime(2026, 2, 13, 10, 0, tzinfo=VN_TZ), 10) == datetime(2026, 3, 6, 17, 0, tzinfo=VN_TZ)


def test_tet_2026_after_cutoff_moves_receipt():
    # 17:30 on Friday 13/02 is after the 17:00 cutoff: deemed received Mon 23/02, so day 10 = Mon 09/03.
    assert CAL.deadline(datetime(2026, 2, 13, 17, 30), 10) == datetime(2026, 3, 9, 17, 0, tzinfo=VN_TZ)


def test_received_during_tet():
    # Filed online on Tết day 17/02: deemed received Mon 23/02; 5 working days -> Mon 02/03.
    assert CAL.deadline(datetime(2026, 2, 17, 9, 0), 5) == datetime(2026, 3, 2, 17, 0, tzinfo=VN_TZ)


def test_reunification_and_labour_day_2026():
    # Wed 29/04/2026 received: 30/04 (Thu) and 01/05 (Fri) off, weekend; day 1 = Mon 04/05.
    assert CAL.add_working_days(date(2026, 4, 29), 1) == date(2026, 5, 4)
    # Fri 24/04: Mon 27/04 is the observed Hùng Kings day; days 1..3 = 28/04, 29/04, 04/05.
    assert CAL.add_working_days(date(2026, 4, 24), 3) == date(2026, 5, 4)


def test_national_day_2026_and_swapped_saturday():
    # Thu 20/08/2026 + 1 working day = Fri 21/08; + 2 = Sat 22/08 (worked, compensating 31/08).
    assert CAL.add_working_days(date(2026, 8, 20), 2) == date(2026, 8, 22)
    # Fri 28/08: 31/08, 01/09, 02/09 off -> day 1 = Thu 03/09.
    assert CAL.add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)


def test_2025_swap():
    # Fri 25/04/2025 + 1 = Sat 26/04/2025 (worked); then 28/04, 29/04; 30/04-02/05 off; Mon 05/05.
    assert [CAL.add_working_days(date(2025, 4, 25), i) for i in range(1, 5)] == [
        date(2025, 4, 26), date(2025, 4, 28), date(2025, 4, 29), date(2025, 5, 5)
    ]


def test_count_receipt_day_convention():
    cal = WorkCalendar(extra_overrides={"years": {}}, count_receipt_day=True)
    # Receipt day counts as day 1 under this reading: Mon 02/03/2026 + 5 -> Fri 06/03.
    assert cal.add_working_days(date(2026, 3, 2), 5) == date(2026, 3, 6)
    assert CAL.add_working_days(date(2026, 3, 2), 5) == date(2026, 3, 9)
    assert CAL.add_working_days(date(2026, 3, 2), 5, count_start=True) == date(2026, 3, 6)


def test_configurable_cutoff():
    cal = WorkCalendar(extra_overrides={"years": {}}, cutoff=time(16, 30))
    assert cal.deemed_receipt_day(datetime(2026, 3, 2, 16, 45)) == date(2026, 3, 3)
    assert CAL.deemed_receipt_day(datetime(2026, 3, 2, 16, 45)) == date(2026, 3, 2)


def test_24h_urgent_calendar_and_working_hours():
    received = datetime(2026, 2, 13, 15, 0, tzinfo=VN_TZ)
    assert CAL.deadline(received, hours=24) == datetime(2026, 2, 14, 15, 0, tzinfo=VN_TZ)
    # 24 office hours (9 h/day, 08:00-17:00): 2 h left on 13/02, then 9 + 9 on 23-24/02, 4 h on 25/02.
    assert CAL.deadline(received, hours=24, hours_mode="working") == datetime(2026, 2, 25, 12, 0, tzinfo=VN_TZ)


def test_aware_input_in_other_timezone():
    utc = datetime(2026, 2, 13, 10, 30, tzinfo=__import__("zoneinfo").ZoneInfo("UTC"))  # 17:30 in Hà Nội
    assert CAL.deemed_receipt_day(utc) == date(2026, 2, 23)


def test_deadline_argument_validation():
    with pytest.raises(ValueError):
        CAL.deadline(datetime(2026, 1, 5, 9), 5, hours=24)
    with pytest.raises(ValueError):
        CAL.deadline(datetime(2026, 1, 5, 9))


def test_extra_override_file_wins(tmp_path, monkeypatch):
    p = tmp_path / "extra.json"
    p.write_text(json.dumps({"years": {"2026": {
        "days_off": [{"date": "2026-03-06", "name": "Nghỉ đột xuất", "verified": "src"}],
        "working_days": [{"date": "2026-11-24", "name": "Làm việc"}],
    }}}), encoding="utf-8")
    cal = WorkCalendar(extra_overrides=p)
    assert not cal.is_working_day(date(2026, 3, 6))
    assert cal.is_working_day(date(2026, 11, 24))
    assert cal.holiday_name(date(2026, 3, 6)) == "Nghỉ đột xuất"
    monkeypatch.setenv("LIENTHONG_WORKDAY_OVERRIDES", str(p))
    assert not WorkCalendar().is_working_day(date(2026, 3, 6))


def test_override_year_mismatch_rejected():
    with pytest.raises(ValueError):
        WorkCalendar(extra_overrides={"years": {"2025": {"days_off": [{"date": "2026-01-02"}]}}})


def test_packaged_table_entries_are_marked():
    assert CAL.overrides[date(2025, 5, 2)].verified == "secondary"  # cited by holidays.VN (issue #23)
    assert CAL.overrides[date(2026, 8, 31)].verified == "src"  # Thông báo 109/TB-UBND Cần Thơ
    assert CAL.overrides[date(2025, 4, 26)].working


# --- properties ----------------------------------------------------------------------------------
days = st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 31))
counts = st.integers(min_value=0, max_value=60)


@settings(max_examples=150, deadline=None)
@given(days, counts)
def test_add_then_count_round_trips(d, n):
    assert CAL.working_days_between(d, CAL.add_working_days(d, n)) == n


@settings(max_examples=150, deadline=None)
@given(days, st.integers(min_value=1, max_value=60))
def test_result_is_a_working_day(d, n):
    r = CAL.add_working_days(d, n)
    assert CAL.is_working_day(r)
    assert r > d
    # never a plain weekend unless listed as a compensating working day
    if r.weekday() >= 5:
        assert CAL.overrides[r].working


@settings(max_examples=150, deadline=None)
@given(days, counts, counts)
def test_monotone_and_additive(d, m, n):
    a, b = sorted((m, n))
    assert CAL.add_working_days(d, a) <= CAL.add_working_days(d, b)
    assert CAL.add_working_days(CAL.add_working_days(d, m), n) == CAL.add_working_days(d, m + n)


@settings(max_examples=150, deadline=None)
@given(days, days)
def test_between_is_antisymmetric_and_bounded(a, b):
    n = CAL.working_days_between(a, b)
    assert n == -CAL.working_days_between(b, a)
    assert abs(n) <= abs((b - a).days)


@settings(max_examples=150, deadline=None)
@given(days, st.integers(min_value=1, max_value=40))
def test_negative_counts_invert(d, n):
    back = CAL.add_working_days(d, -n)
    assert CAL.is_working_day(back) and back < d
    if CAL.is_working_day(d):
        assert CAL.working_days_between(back, d) == n
        assert CAL.add_working_days(back, n) == d
    else:
        assert CAL.working_days_between(back, d) == n - 1


@settings(max_examples=100, deadline=None)
@given(
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 6, 30)),
    st.integers(min_value=1, max_value=20),
)
def test_deadline_properties(received, n):
    due = CAL.deadline(received, n)
    assert due.tzinfo is not None and due.time() == time(17, 0)
    assert CAL.is_working_day(due.date())
    assert due.date() > received.date()
    assert CAL.working_days_between(CAL.deemed_receipt_day(received), due.date()) == n
    # later receipt never gives an earlier deadline
    assert CAL.deadline(received + timedelta(hours=5), n) >= due
