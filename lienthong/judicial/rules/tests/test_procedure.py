"""Procedure rules: regimes by date, deadlines, eligibility, fees, record numbers."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lienthong.judicial.rules.procedure import (
    AGENCY_CODES,
    Application,
    CertificateKind,
    Channel,
    FeeCategory,
    FeeSchedule,
    Representation,
    Requester,
    UnknownFeeError,
    UnknownRuleError,
    eligibility,
    fee_for,
    format_record_number,
    load_fee_schedules,
    may_demand_certificate,
    parse_record_number,
    processing_deadline,
    rules_for,
)
from lienthong.workdays import VN_TZ, WorkCalendar

CAL = WorkCalendar(extra_overrides={"years": {}})


def at(y, m, d, h=9, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=VN_TZ)


# --- regimes -------------------------------------------------------------------------------------
def test_regimes_by_date():
    assert rules_for(date(2024, 6, 1)).regime == "law_28_2009_moj"
    assert "Sở Tư pháp" in rules_for(date(2025, 2, 28)).issuers
    assert rules_for(date(2025, 3, 1)).regime == "law_28_2009_mps"
    assert "Công an cấp tỉnh" in rules_for(date(2025, 3, 1)).issuers
    assert rules_for(date(2026, 6, 30)).standard_working_days == 10
    r = rules_for(date(2026, 7, 1))
    assert (r.regime, r.standard_working_days, r.min_applicant_age, r.no2_may_be_demanded, r.electronic_equal_value) == (
        "law_107_2025", 5, 16, False, True)
    with pytest.raises(UnknownRuleError):
        rules_for(date(2009, 1, 1))


# --- deadlines -----------------------------------------------------------------------------------
def test_standard_deadline_old_law_across_tet():
    d = processing_deadline(Application(CertificateKind.NO1), at(2026, 2, 13, 10), CAL)
    assert d.due_at == at(2026, 3, 6, 17) and d.working_days == 10


def test_standard_deadline_new_law_five_days():
    # Wed 01/07/2026 -> 02, 03, 06, 07, 08/07
    d = processing_deadline(Application(CertificateKind.NO1), at(2026, 7, 1, 10), CAL)
    assert d.due_at == at(2026, 7, 8, 17) and d.regime == "law_107_2025"


def test_receipt_date_selects_regime():
    # Received Tue 30/06/2026: old law, 10 working days.
    d = processing_deadline(Application(CertificateKind.NO1), at(2026, 6, 30, 10), CAL)
    assert d.working_days == 10 and d.due_at == at(2026, 7, 14, 17)


def test_extended_deadline_old_law_and_refusal_new_law():
    app = Application(CertificateKind.NO1, foreigner=True)
    d = processing_deadline(app, at(2025, 4, 21), CAL)
    # Mon 21/04/2025 +15 working days: 22-25/04 (4), Sat 26/04 worked (5), 28-29/04 (7), 30/04-02/05 off,
    # 05-09/05 (12), 12-14/05 (15).
    assert d.working_days == 15 and d.due_at == at(2025, 5, 14, 17)
    with pytest.raises(UnknownRuleError):
        processing_deadline(app, at(2026, 7, 6), CAL)


def test_urgent_24h_only_for_procedure_agencies():
    app = Application(CertificateKind.NO2, requester=Requester.PROCEDURE_AGENCY, urgent=True)
    assert processing_deadline(app, at(2025, 9, 1, 15), CAL).due_at == at(2025, 9, 2, 15)
    with pytest.raises(ValueError):
        processing_deadline(Application(CertificateKind.NO1, urgent=True), at(2025, 9, 3), CAL)


def test_vneid_fast_track_is_flagged_unverified():
    app = Application(CertificateKind.NO1, channel=Channel.VNEID, no_record_fast_track=True)
    d = processing_deadline(app, at(2024, 10, 7), CAL)
    assert d.working_days == 3 and not d.verified
    # Not available under the new law (None) -> standard 5 days
    assert processing_deadline(app, at(2026, 7, 6), CAL).working_days == 5
    # Before the pilot started -> standard
    assert processing_deadline(app, at(2024, 3, 4), CAL).working_days == 10


# --- eligibility ---------------------------------------------------------------------------------
def test_age_16_from_july_2026():
    born = date(2010, 9, 1)
    assert not eligibility(born, date(2026, 7, 1), 1).allowed  # 15
    assert eligibility(born, date(2026, 9, 1), 1).allowed  # 16 today
    assert eligibility(born, date(2026, 6, 30), 1).allowed  # old law: no minimum


def test_guardian_under_14_old_law():
    e = eligibility(date(2015, 1, 1), date(2025, 5, 1), 1)
    assert not e.allowed and e.needs_guardian
    assert eligibility(date(2015, 1, 1), date(2025, 5, 1), 1, representation=Representation.GUARDIAN).allowed


def test_no2_not_delegable():
    assert eligibility(date(1990, 1, 1), date(2025, 5, 1), 1, representation=Representation.AUTHORISED).allowed
    e = eligibility(date(1990, 1, 1), date(2025, 5, 1), 2, representation=Representation.AUTHORISED)
    assert not e.allowed and "không được ủy quyền" in e.reasons[0]


def test_agencies():
    assert eligibility(None, date(2025, 5, 1), 2, requester=Requester.PROCEDURE_AGENCY).allowed
    assert not eligibility(None, date(2025, 5, 1), 1, requester=Requester.PROCEDURE_AGENCY).allowed
    assert eligibility(None, date(2025, 5, 1), 1, requester=Requester.STATE_AGENCY).allowed
    e = eligibility(None, date(2026, 7, 2), 1, requester=Requester.STATE_AGENCY)
    assert not e.allowed and "chia sẻ dữ liệu" in e.reasons[0]


def test_demanding_certificates():
    assert may_demand_certificate(2, date(2026, 6, 30)).allowed
    assert not may_demand_certificate(2, date(2026, 7, 1)).allowed
    assert not may_demand_certificate(1, date(2026, 7, 1)).allowed
    assert may_demand_certificate(1, date(2026, 7, 1), legal_basis="Luật Cán bộ, công chức").allowed


# --- fees ----------------------------------------------------------------------------------------
def test_tt244_fees():
    assert fee_for(date(2024, 5, 1)).amount_vnd == 200_000
    assert fee_for(date(2024, 5, 1), FeeCategory.STUDENT).amount_vnd == 100_000
    assert fee_for(date(2024, 5, 1), "martyr_relative", copies=2).amount_vnd == 100_000
    q = fee_for(date(2024, 5, 1), copies=4)
    assert (q.amount_vnd, q.extra_vnd) == (210_000, 10_000) and "5.000" in q.explanation
    assert fee_for(date(2024, 5, 1), FeeCategory.POOR_HOUSEHOLD, copies=3).amount_vnd == 0


def test_unknown_rates_refused(monkeypatch):
    monkeypatch.delenv("LIENTHONG_LLTP_FEES", raising=False)
    with pytest.raises(UnknownFeeError, match="chưa có mức thu"):
        fee_for(date(2025, 6, 1))
    with pytest.raises(UnknownFeeError):
        fee_for(date(2026, 8, 1), FeeCategory.STUDENT)
    with pytest.raises(UnknownFeeError):
        fee_for(date(2016, 1, 1))


def test_supplied_rates_from_file(tmp_path, monkeypatch):
    data = [{"name": "Biểu phí cấu hình thử", "valid_from": "2025-03-01", "standard_vnd": 111_000, "reduced_vnd": 55_000,
             "reduced_categories": ["student"], "exempt_categories": ["child"], "extra_per_copy_vnd": 1_000,
             "verified": {"rates": "test data"}}]
    p = tmp_path / "fees.json"
    p.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("LIENTHONG_LLTP_FEES", str(p))
    assert fee_for(date(2025, 6, 1), copies=3).amount_vnd == 112_000
    assert fee_for(date(2025, 6, 1), "student").amount_vnd == 55_000
    assert fee_for(date(2024, 6, 1)).amount_vnd == 200_000  # TT 244 still covers earlier dates
    sched = load_fee_schedules(data)[0]
    assert fee_for(date(2030, 1, 1), schedules=[sched]).schedule == "Biểu phí cấu hình thử"


def test_schedule_without_reduced_rate_refuses():
    s = FeeSchedule("x", date(2025, 1, 1), None, 150_000, reduced_categories=(FeeCategory.STUDENT,))
    with pytest.raises(UnknownFeeError):
        fee_for(date(2025, 2, 1), FeeCategory.STUDENT, schedules=[s])
    with pytest.raises(ValueError):
        fee_for(date(2025, 2, 1), copies=0, schedules=[s])


# --- record numbers ------------------------------------------------------------------------------
def test_record_number_example():
    assert format_record_number("25HN", 2013, 1) == "25HN2013/00001"
    r = parse_record_number("25HN2013/00001", agency_codes=AGENCY_CODES)
    assert (r.agency_code, r.year, r.sequence) == ("25HN", 2013, 1)
    assert str(r) == "25HN2013/00001"


@pytest.mark.parametrize("bad", ["25HN13/00001", "25HN2013-00001", "2013/00001", "25HN2013/0001", "25HN2013/00000", "25hn2013/00001"])
def test_record_number_rejects(bad):
    with pytest.raises(ValueError):
        parse_record_number(bad)


def test_record_number_unknown_agency():
    with pytest.raises(ValueError):
        format_record_number("99XX", 2025, 5)
    assert format_record_number("99XX", 2025, 5, agency_codes=None) == "99XX2025/00005"
    with pytest.raises(ValueError):
        parse_record_number("99XX2025/00005", agency_codes=AGENCY_CODES)


@given(
    st.from_regex(r"[0-9]{0,3}[A-Z]{1,4}", fullmatch=True),
    st.integers(1000, 9999),
    st.integers(1, 99_999),
)
def test_record_number_round_trip(agency, year, seq):
    text = format_record_number(agency, year, seq, agency_codes=None)
    assert parse_record_number(text) == parse_record_number(text)
    r = parse_record_number(text)
    assert (r.agency_code, r.year, r.sequence) == (agency, year, seq)
