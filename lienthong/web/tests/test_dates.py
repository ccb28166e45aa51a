"""The shared dd/mm/yyyy date helper (lienthong.web.dates) and the templates factory."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
from hypothesis import given, strategies as st

from lienthong.errors import DomainError
from lienthong.web.dates import (DATE_FORMAT, DATE_PATTERN, InvalidDate, parse_optional_vn_date, parse_vn_date, vndate,
                                 vndatetime, vntime, vntimedate)

DATES = st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31))


@given(DATES)
def test_format_then_parse_round_trips(d):
    assert parse_vn_date(d.strftime(DATE_FORMAT)) == d
    assert re.fullmatch(DATE_PATTERN, d.strftime(DATE_FORMAT))  # the browser accepts what we show
    assert parse_vn_date(vndate(d)) == d
    assert parse_vn_date(d.isoformat()) == d  # API compatibility


@given(DATES, st.text(alphabet=" \t", max_size=3), st.text(alphabet=" \t", max_size=3))
def test_unpadded_and_surrounding_blanks(d, left, right):
    assert parse_vn_date(f"{left}{d.day}/{d.month}/{d.year:04d}{right}") == d


@given(st.text(max_size=30))
def test_anything_else_is_a_vietnamese_error_or_a_date(text):
    try:
        d = parse_vn_date(text)
    except InvalidDate as exc:
        assert isinstance(exc, DomainError)
        assert "ngày" in exc.message
    else:
        assert vndate(d) == d.strftime(DATE_FORMAT)


@pytest.mark.parametrize("text, message", [
    ("", "chưa nhập ngày"),
    ("03/15/2026", "không tồn tại"),  # mm/dd/yyyy is refused, not silently swapped
    ("31/02/2026", "không tồn tại"),
    ("2026/03/05", "không đúng dạng dd/mm/yyyy"),
    ("5-3-2026", "không đúng dạng dd/mm/yyyy"),
    ("hôm qua", "không đúng dạng dd/mm/yyyy"),
])
def test_errors(text, message):
    with pytest.raises(InvalidDate) as info:
        parse_vn_date(text, field="birth_date")
    assert message in info.value.message


def test_optional_and_filters():
    assert parse_optional_vn_date("") is None and parse_optional_vn_date("  ") is None
    assert parse_optional_vn_date(None) is None
    assert parse_optional_vn_date("05/03/2026") == date(2026, 3, 5)
    assert vndate(None) == "" and vndate("2026-03-05") == "05/03/2026" and vndate("abc") == "abc"
    # naive datetimes are UTC, shown in Vietnam time
    assert vndate(datetime(2026, 3, 4, 18, 0)) == "05/03/2026"
    assert vndatetime(datetime(2026, 3, 4, 18, 0, tzinfo=timezone.utc)) == "05/03/2026 01:00:00"
    assert vndatetime(datetime(2026, 3, 4, 18, 0), seconds=False) == "05/03/2026 01:00"


def test_timestamps_in_messages():
    # ISO timestamps from event payloads are shown in Vietnam time, like datetimes
    assert vndate("2026-11-24T17:30:00+00:00") == "25/11/2026"
    assert vndate(date(2026, 1, 2)) == "02/01/2026"
    assert vntimedate(datetime(2026, 11, 24, 17, 30)) == "00:30 25/11/2026"  # naive = UTC
    assert vntimedate("2026-11-24T08:05:00+07:00") == "08:05 24/11/2026"
    assert vntime(datetime(2026, 11, 24, 17, 30, tzinfo=timezone.utc)) == "00:30"
    assert vntimedate(None) == vntime(None) == vntimedate("không phải ngày") == ""


def test_every_context_shares_filters_and_the_date_macro():
    from lienthong.civil import routes as civil
    from lienthong.health import routes as health
    from lienthong.identity import routes as identity
    from lienthong.insurance import routes as insurance
    from lienthong.judicial import web as judicial
    from lienthong.linkage import routes as linkage
    from lienthong.ops import routes as ops
    from lienthong.web import routes as web

    from lienthong.notifications import routes as notifications

    for module in (web, civil, health, insurance, judicial, linkage, ops, identity, notifications):
        env = module.templates.env
        assert {"vndate", "vndatetime", "vntime", "vntimedate"} <= set(env.filters), module.__name__
        assert "DATE_PATTERN" in env.globals and "version" in env.globals, module.__name__
    html = web.templates.env.from_string('{% from "_macros.html" import date_input %}'
                                         '{{ date_input("d", value) }}').render(value=date(2026, 3, 5))
    assert 'type="text"' in html and 'value="05/03/2026"' in html and 'placeholder="dd/mm/yyyy"' in html
    assert 'inputmode="numeric"' in html and "pattern=" in html


def test_no_browser_date_inputs_in_templates():
    from pathlib import Path

    import lienthong

    root = Path(lienthong.__file__).parent
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.html") if 'type="date"' in p.read_text()]
    assert offenders == []
