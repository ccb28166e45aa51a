from __future__ import annotations

import pytest

from lienthong.db import unit_of_work
from lienthong.ops import metrics
from lienthong.ops.metrics import StatsFilter, compute
from lienthong.ops.tests.seed import END, START, seed


@pytest.fixture
def seeded(db_url):
    with unit_of_work() as s:
        seed(s)
    return db_url


def _compute(province=None, **kw):
    from lienthong.db import session_factory

    with session_factory()() as s:
        return compute(s, StatsFilter(START, END, province), **kw)


def by_prov(result):
    return {p.province_code: (p.numerator, p.denominator) for p in result.by_province}


def test_health_metrics(seeded):
    r = _compute()
    # books created in March (VN time): pid2 (tz edge), pid3 (23:59), pid7, pid10 -> 4 (pid1 earlier, pid4 in April)
    assert r["health.books_created"].value == 4
    assert by_prov(r["health.books_created"])[1][0] == 3
    assert by_prov(r["health.books_created"])[79][0] == 1
    # with a book by end of period, alive: pid1, 2, 3 (HN), 7 (HCM) = 4 of 9 alive
    assert r["health.citizens_with_book"].numerator == 4
    assert r["health.citizens_with_book"].denominator == 9
    assert r["health.citizens_with_book"].value == pytest.approx(400 / 9)
    assert by_prov(r["health.citizens_with_book"]) == {1: (3, 6), 79: (1, 3)}
    # coverage: active 4 facilities; only 01001 has accepted records in March
    assert (r["health.facility_coverage"].numerator, r["health.facility_coverage"].denominator) == (1, 4)
    assert r["health.facility_coverage"].value == 25.0
    assert by_prov(r["health.facility_coverage"]) == {1: (1, 3), 79: (0, 1)}
    assert r["health.referrals"].value == 2
    assert by_prov(r["health.referrals"]) == {1: (2, 2)}
    assert r["health.referral_acceptance"].value == 50.0
    assert by_prov(r["health.referral_acceptance"]) == {79: (1, 1), 1: (0, 1)}
    assert r["health.appointments"].value == 2


def test_judicial_and_civil_metrics(seeded):
    r = _compute()
    assert r["judicial.applications"].value == 4
    assert by_prov(r["judicial.applications"]) == {1: (3, 3), 79: (1, 1)}
    assert r["judicial.online_share"].value == pytest.approx(75.0)
    assert r["judicial.processing_days"].value == pytest.approx((2 + 12 + 1) / 3)
    assert r["judicial.sla_compliance"].numerator == 2
    assert r["judicial.sla_compliance"].denominator == 3
    assert r["judicial.overdue_open"].value == 1
    assert r["civil.cases"].value == 3
    assert r["civil.processing_days"].value == pytest.approx((4 + 10) / 2)
    assert (r["civil.sla_compliance"].numerator, r["civil.sla_compliance"].denominator) == (1, 2)
    assert (r["civil.step_sla"].numerator, r["civil.step_sla"].denominator) == (1, 2)


def test_savings_formula_uses_configured_costs(seeded, monkeypatch):
    monkeypatch.setenv("LIENTHONG_OPS_PAPER_VISIT_VND", "200000")
    monkeypatch.setenv("LIENTHONG_OPS_ONLINE_VND", "20000")
    r = _compute()
    # online-only judicial applications (3) + civil cases (3) = 6 x 180.000
    assert r["ops.estimated_savings"].value == 6 * 180_000
    assert by_prov(r["ops.estimated_savings"])[79][0] == (1 + 1) * 180_000


def test_province_filter(seeded):
    r = _compute(79)
    assert r["health.books_created"].value == 1
    assert r["judicial.applications"].value == 1
    assert r["health.facility_coverage"].denominator == 1
    assert [p.province_code for p in r["judicial.applications"].by_province] == [79]


def test_daily_series_is_in_vietnam_time(seeded):
    r = _compute()
    series = dict(r["health.books_created"].series)
    assert len(series) == 31
    assert series[START] == 1  # pid2, 28/02 17:30 UTC
    assert series[END] == 1  # pid3
    assert sum(series.values()) == 4


def test_series_buckets_weekly_and_monthly():
    from datetime import date

    f = StatsFilter(date(2026, 1, 1), date(2026, 6, 30))
    weekly = metrics.series_buckets(f, {date(2026, 1, 1): 2, date(2026, 1, 4): 3, date(2026, 1, 5): 1})
    assert weekly[0] == (date(2025, 12, 29), 5)
    assert weekly[1] == (date(2026, 1, 5), 1)
    f2 = StatsFilter(date(2024, 1, 1), date(2026, 6, 30))
    monthly = metrics.series_buckets(f2, {date(2024, 1, 31): 2, date(2024, 2, 1): 1})
    assert monthly[:2] == [(date(2024, 1, 1), 2), (date(2024, 2, 1), 1)]
    assert len(monthly) == 30


def test_empty_database_gives_zero_counts_and_no_ratio(db_url):
    r = _compute()
    assert r["judicial.applications"].value == 0
    assert r["judicial.sla_compliance"].value is None
    assert r["health.facility_coverage"].value is None
