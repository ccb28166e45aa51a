"""Calendar month arithmetic shared by the judicial, insurance and civil rules."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from lienthong.workdays import add_months


def test_month_end_is_clamped():
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
    assert add_months(date(2019, 12, 15), 72) == date(2025, 12, 15)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)), st.integers(-1200, 1200))
def test_lands_in_the_right_month_on_the_same_or_last_day(d, months):
    r = add_months(d, months)
    assert (r.year * 12 + r.month) - (d.year * 12 + d.month) == months
    if r.day != d.day:  # the day does not exist in the target month: its last day instead
        assert r.day < d.day and (r + timedelta(days=1)).month != r.month
