"""lienthong.retry.backoff_delay: exponential, capped, defined for any number of attempts."""

from hypothesis import given
from hypothesis import strategies as st

from lienthong.retry import backoff_delay


def test_known_values():
    assert [backoff_delay(n, 1.0, 600.0) for n in range(0, 5)] == [0.0, 1.0, 2.0, 4.0, 8.0]
    assert backoff_delay(11, 1.0, 600.0) == 600.0
    assert backoff_delay(-3, 60.0, 3600.0) == 0.0


@given(st.integers(min_value=-10, max_value=10**9), st.floats(min_value=0.001, max_value=1e6),
       st.floats(min_value=0.001, max_value=1e7))
def test_monotone_bounded_and_total(n, base, cap):
    d = backoff_delay(n, base, cap)
    assert 0.0 <= d <= cap
    assert backoff_delay(n + 1, base, cap) >= d
    if n >= 1 and base <= cap:
        assert d >= base
