"""population.service.parse_id: the personal-ID check every context uses, with the configured
abroad prefixes (LIENTHONG_ABROAD_ID_PREFIXES)."""

import pytest
from pydantic import ValidationError

from lienthong.config import reset_settings_cache
from lienthong.population.ids import InvalidPersonalId
from lienthong.population.service import parse_id


@pytest.fixture
def abroad_999(monkeypatch):
    monkeypatch.setenv("LIENTHONG_ABROAD_ID_PREFIXES", '["999"]')
    reset_settings_cache()
    yield
    monkeypatch.delenv("LIENTHONG_ABROAD_ID_PREFIXES")
    reset_settings_cache()


def _schemas():
    from datetime import date

    from lienthong.civil.driver_health import DriverCertificateIn
    from lienthong.insurance.service import PeriodIn

    return [
        lambda pid: DriverCertificateIn(personal_id=pid, number="1", concluded_on=date(2026, 1, 5), fit=True,
                                        licence_classes=["B"]).personal_id,
        lambda pid: PeriodIn(personal_id=pid, scheme="bhyt", employer_code="E1", employer_name="Công ty A",
                             from_month=date(2026, 1, 1)).personal_id,
    ]


def test_abroad_prefix_refused_by_default():
    with pytest.raises(InvalidPersonalId, match="999"):
        parse_id("999085012345")
    for make in _schemas():
        with pytest.raises(ValidationError, match="999"):
            make("999085012345")


def test_abroad_prefix_accepted_when_configured(abroad_999):
    info = parse_id(" 999085012345 ")
    assert (info.number, info.place_name, info.sex, info.birth_year_candidates()) == ("999085012345", None, "M", 1985)
    assert parse_id("001085012345").place_name == "Hà Nội"
    for make in _schemas():
        assert make("999085012345") == "999085012345"
    with pytest.raises(InvalidPersonalId, match="998"):
        parse_id("998085012345")
