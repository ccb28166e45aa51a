from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lienthong.geo.units import OLD_PROVINCES
from lienthong.population.ids import (
    InvalidPersonalId, check_matches_person, make_personal_id, parse_personal_id, validate_cmnd,
    validate_personal_id,
)

places = st.sampled_from(sorted(OLD_PROVINCES))
sexes = st.sampled_from(["M", "F"])
years = st.integers(min_value=1900, max_value=2399)
serials = st.integers(min_value=0, max_value=999_999)


@given(places, sexes, years, serials)
def test_make_then_parse_round_trips(place, sex, year, serial):
    pid = make_personal_id(place, sex, year, serial)
    info = parse_personal_id(pid)
    assert len(pid) == 12 and pid.isdigit()
    assert info.place_code == place
    assert info.place_name == OLD_PROVINCES[place]
    assert info.sex == sex
    assert info.birth_year_candidates() == year


@given(places, sexes, st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)), serials)
def test_matches_the_person_it_was_made_for(place, sex, birth, serial):
    pid = make_personal_id(place, sex, birth.year, serial)
    validate_personal_id(pid, birth, sex)


@given(places, st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)), serials)
def test_wrong_sex_is_detected(place, birth, serial):
    pid = make_personal_id(place, "M", birth.year, serial)
    with pytest.raises(InvalidPersonalId, match="giới tính"):
        check_matches_person(parse_personal_id(pid), birth, "F")


@given(places, sexes, st.integers(1900, 2098), serials)
def test_wrong_birth_year_is_detected(place, sex, year, serial):
    pid = make_personal_id(place, sex, year, serial)
    other = date(year + 1, 6, 1)
    with pytest.raises(InvalidPersonalId):
        check_matches_person(parse_personal_id(pid), other, sex)


@given(st.text(max_size=20).filter(lambda s: not (len(s.strip()) == 12 and s.strip().isdigit())))
def test_anything_not_12_digits_is_rejected(text):
    with pytest.raises(InvalidPersonalId):
        parse_personal_id(text)


@pytest.mark.parametrize("text,message", [
    ("00108501234", "12 chữ số"),
    ("0010850123456", "12 chữ số"),
    ("00108501234a", "chỉ được chứa chữ số"),
    ("003085012345", "003 không tồn tại"),
    ("", "12 chữ số"),
])
def test_clear_messages(text, message):
    with pytest.raises(InvalidPersonalId, match=message):
        parse_personal_id(text)


def test_known_examples():
    info = parse_personal_id("079303001234")
    assert (info.place_name, info.sex, info.birth_year_candidates()) == ("TP Hồ Chí Minh", "F", 2003)
    assert parse_personal_id("001085012345").sex == "M"


def test_abroad_prefixes_are_configurable():
    with pytest.raises(InvalidPersonalId):
        parse_personal_id("999085012345")
    assert parse_personal_id("999085012345", {"999"}).place_name is None


def test_legacy_cmnd():
    assert validate_cmnd(" 012345678 ") == "012345678"
    assert validate_cmnd("001085012345") == "001085012345"
    for bad in ("12345678", "1234567890", "01234567a"):
        with pytest.raises(InvalidPersonalId):
            validate_cmnd(bad)
