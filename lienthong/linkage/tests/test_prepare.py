"""Property tests of the Vietnamese-aware normalisers."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lienthong.demo import names as N
from lienthong.geo import units
from lienthong.linkage import noise
from lienthong.linkage import prepare as P

FAMILY = [n for name, _ in N.FAMILY_NAMES_COMMON + N.FAMILY_NAMES_TAIL for n in name.split("|")]
MIDDLE = [n for n, _ in N.MALE_MIDDLE_TRADITIONAL + N.FEMALE_MIDDLE_MODERN]
GIVEN = [n for n, _ in N.MALE_GIVEN_OLD + N.MALE_GIVEN_YOUNG + N.FEMALE_GIVEN_OLD + N.FEMALE_GIVEN_YOUNG]
GIVEN_NOT_FAMILY = [g for g in GIVEN if not P.is_family_name(g)]
WORDS = FAMILY + MIDDLE + GIVEN + list(units.OLD_PROVINCES.values())

names = st.tuples(st.sampled_from(FAMILY), st.sampled_from(MIDDLE), st.sampled_from(GIVEN))
any_text = st.text(alphabet=st.sampled_from("aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíị"
                                           "òỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ AĐƠ019"), max_size=30)


@given(any_text)
def test_fold_and_skeleton_are_idempotent(text):
    assert P.fold(P.fold(text)) == P.fold(text)
    assert P.skeleton(P.skeleton(text)) == P.skeleton(text)
    assert P.fold(text).isascii() and P.skeleton(text).isascii()


@given(st.sampled_from(WORDS), st.integers(0, 2**32))
def test_ocr_damage_keeps_the_skeleton(word, seed):
    damaged = noise.ocr_damage(word, random.Random(seed), rate=1.0)
    assert P.skeleton(damaged) == P.skeleton(word)
    assert P.skeleton(noise.strip_diacritics(word)) == P.skeleton(word)
    assert P.skeleton(word.upper()) == P.skeleton(word)


def test_ocr_examples():
    assert P.skeleton("Hà Néi") == P.skeleton("Hà Nội") == "ha noi"
    assert P.skeleton("Ngưyẽn") == P.skeleton("Nguyễn")
    assert P.skeleton("Hoàng Thị rnai") == P.skeleton("Hoàng Thị Mai")
    assert P.skeleton("Lan") != P.skeleton("Nam")
    assert P.fold("Đặng Thị Ánh") == "dang thi anh"


@given(names)
def test_split_name_vietnamese_order(parts):
    family, middle, given = parts
    got = P.split_name(f"{family} {middle} {given}")
    assert (got.family, got.middle, got.given) == (family, middle, given)
    upper = P.split_name(f"{family} {middle} {given}".upper())
    assert P.fold(upper.family) == P.fold(family) and P.fold(upper.given) == P.fold(given)


@given(st.sampled_from(FAMILY), st.sampled_from(MIDDLE), st.sampled_from(GIVEN_NOT_FAMILY))
def test_split_name_detects_given_first_order(family, middle, given):
    got = P.split_name(f"{given} {middle} {family}")
    assert (got.family, got.given, got.order) == (family, given, "western")
    no_diacritics = P.split_name(noise.strip_diacritics(f"{given} {family}"))
    assert P.fold(no_diacritics.family) == P.fold(family)


def test_split_name_edge_cases():
    assert P.split_name("") == P.NameParts("", "", "", "single")
    assert P.split_name("Lan").given == "Lan"
    assert P.split_name("Lan Nguyễn Thị").family == "Nguyễn"
    assert P.split_name("Nguyễn Thu Hà").order == "vn"  # Hà is also a family name: keep Vietnamese order


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)))
def test_parse_date_formats_round_trip(d):
    for text in (f"{d.day:02d}/{d.month:02d}/{d.year}", f"{d.day}/{d.month}/{d.year}", d.isoformat(),
                 f"{d.day:02d}-{d.month:02d}-{d.year}", f"{d.day:02d}.{d.month:02d}.{d.year}",
                 f"ngày {d.day} tháng {d.month} năm {d.year}", f"{d.day:02d}{d.month:02d}{d.year}"):
        assert P.parse_date(text).as_date() == d, text
    assert P.parse_date(d) == P.PartialDate(d.year, d.month, d.day)
    assert P.parse_date(str(d.year)) == P.PartialDate(d.year)
    assert P.parse_date(f"{d.month:02d}/{d.year}") == P.PartialDate(d.year, d.month)
    swapped = P.swap_day_month(P.parse_date(d))
    if swapped is not None:
        assert P.swap_day_month(swapped) == P.parse_date(d)
        assert d.day <= 12 and d.day != d.month
    else:
        assert d.day > 12 or d.day == d.month


def test_parse_date_partial_and_invalid():
    assert P.parse_date("12/25/1990") == P.PartialDate(1990, 12, 25)  # month-first read when month > 12
    assert P.parse_date("31/02/1980") == P.PartialDate(1980, 2)  # impossible day: month and year kept
    assert P.parse_date("tháng 3 năm 1975").display() == "03/1975"
    assert P.parse_date("năm 1960").precision == "year"
    assert P.parse_date("không rõ").precision == "none"
    assert P.parse_date(None).precision == "none"
    assert P.parse_date("05/03/1980").display() == "05/03/1980"


@given(st.sampled_from(sorted(units.OLD_PROVINCES)), st.sampled_from("0123"),
       st.integers(0, 99), st.integers(0, 999_999))
def test_normalise_personal_id(place, g, yy, serial):
    pid = f"{place}{g}{yy:02d}{serial:06d}"
    assert P.normalise_id(pid) == P.IdNumber("personal_id", pid)
    spaced = f"{pid[:3]} {pid[3:6]} {pid[6:]}"
    assert P.normalise_id(spaced).number == pid
    assert P.normalise_id(pid.lstrip("0") if pid.startswith("0") and not pid.startswith("00") else pid).number == pid


@given(st.integers(0, 999_999_999))
def test_normalise_cmnd(n):
    cmnd = f"{n:09d}"
    assert P.normalise_id(cmnd) == P.IdNumber("cmnd9", cmnd)
    if cmnd.startswith("0") and not cmnd.startswith("00"):
        assert P.normalise_id(cmnd[1:]) == P.IdNumber("cmnd9", cmnd)  # leading zero lost in a spreadsheet


def test_normalise_id_ocr_and_junk():
    assert P.normalise_id("O12.345.678") == P.IdNumber("cmnd9", "012345678")
    assert P.normalise_id("999123456789").kind == "cmnd12"  # not a province code: old 12-digit CMND
    assert P.normalise_id("abc").kind is None
    assert P.normalise_id("").kind is None
    assert P.normalise_id(None).kind is None


@pytest.mark.parametrize("code", sorted(units.OLD_PROVINCES))
def test_every_old_province_spelling_maps_to_the_current_unit(code):
    expected = units.map_old_province(code)
    name = units.OLD_PROVINCES[code]
    for text in (name, noise.strip_diacritics(name), name.upper(), f"Tỉnh {name}", f"tinh {P.fold(name)}",
                 f"Xã Đông Hòa, Huyện X, {name}", code, str(int(code))):
        assert P.province_of(text) == expected, text


def test_province_aliases_and_ocr():
    assert P.province_of("TP HCM") == P.province_of("Sài Gòn") == P.province_of("tp.hcm") == 79
    assert P.province_of("Bình Dương") == 79 and P.province_of("Bà Rịa - Vũng Tàu") == 79
    assert P.province_of("Hà Néi") == 1
    assert P.province_of("Thừa Thiên Huế") == P.province_of("TT Huế") == 46
    assert P.province_of("Hà Giang") == 8  # merged into Tuyên Quang
    assert P.province_of("Hà Giang", on=date(2025, 6, 30)) == 2  # before the reform
    assert P.province_of("Atlantis") is None and P.province_of("") is None and P.province_of(None) is None
    for p in units.provinces():
        assert P.province_of(p.name) == int(p.code)


def test_place_keys_do_not_collide():
    keys = [P.place_key(n) for n in units.OLD_PROVINCES.values()]
    assert len(set(keys)) == len(keys)


def test_sex():
    assert P.normalise_sex("Nữ") == P.normalise_sex("F") == "F"
    assert P.normalise_sex("NAM") == P.normalise_sex("M") == "M"
    assert P.normalise_sex("?") is None and P.normalise_sex(None) is None
