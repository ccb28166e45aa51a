from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lienthong.geo import units


def test_34_current_provinces_and_every_old_one_maps_into_them():
    current = {int(p.code) for p in units.provinces()}
    assert len(current) == 34
    after = date(2025, 7, 1)
    assert {units.map_old_province(code, after) for code in units.OLD_PROVINCES} == current
    assert len(units.OLD_PROVINCES) == 63


@given(st.sampled_from(sorted(units.OLD_PROVINCES)), st.dates(max_value=date(2025, 6, 30)))
def test_before_the_reform_a_province_is_itself(code, day):
    assert units.map_old_province(code, day) == int(code)


@pytest.mark.parametrize("old,new", [
    ("002", 8),   # Hà Giang -> Tuyên Quang
    ("074", 79),  # Bình Dương -> TP Hồ Chí Minh
    ("077", 79),  # Bà Rịa - Vũng Tàu -> TP Hồ Chí Minh
    ("072", 80),  # Tây Ninh -> Tây Ninh (code of Long An)
    ("089", 91),  # An Giang -> An Giang (code of Kiên Giang)
    ("046", 46),  # Huế unchanged
    ("030", 31),  # Hải Dương -> TP Hải Phòng
])
def test_known_merges(old, new):
    assert units.map_old_province(old, date(2026, 1, 1)) == new
    assert units.unit_set_on(date(2026, 1, 1)) == "vn34"
    assert units.unit_set_on(date(2025, 6, 30)) == "vn63"


def test_unknown_codes_are_clear_errors():
    with pytest.raises(units.UnknownUnit, match="không tồn tại"):
        units.map_old_province("003")
    with pytest.raises(units.UnknownUnit):
        units.province(2)
    with pytest.raises(units.UnknownUnit):
        units.ward(999999999)


def test_ward_must_belong_to_province():
    ward = units.wards_of(1)[0]
    assert units.check_ward_in_province(int(ward.code), 1) == ward
    with pytest.raises(units.UnknownUnit, match="không thuộc"):
        units.check_ward_in_province(int(ward.code), 79)


def test_legacy_address_maps_province_and_ward_by_name():
    province, ward = units.map_legacy_address("001", "Phường Hoàn Kiếm", date(2026, 1, 1))
    assert province == 1 and units.ward(ward).name == "Phường Hoàn Kiếm"
    # OCR-free but diacritics-free input still matches
    assert units.map_legacy_address("1", "phuong hoan kiem", date(2026, 1, 1))[1] == ward
    # a commune that no longer exists by that name stays unresolved rather than guessed
    assert units.map_legacy_address("001", "Xã Không Có Thật", date(2026, 1, 1)) == (1, None)


def test_fold():
    assert units.fold("  Đặng  Thị Ánh ") == "dang thi anh"


def _cross_check_rows():
    import csv
    from pathlib import Path

    path = Path(__file__).parent / "data" / "mapping_63_to_34.csv"
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def test_reform_mapping_agrees_with_the_independent_cross_check():
    """``data/mapping_63_to_34.csv`` (copied from ../shared/domain/rollout/) was derived from the
    ``vietnam-provinces`` package's old and new commune lists, not from our table: every one of
    the 63 old provinces, looked up by the name documents use, must map to the same new unit."""
    rows = _cross_check_rows()
    assert len(rows) == 63
    reform = units.reform_between("vn63", "vn34")
    seen = set()
    for row in rows:
        old = units.old_province_by_name(row["province_old"])
        seen.add(old)
        assert reform.mapping[old] == int(row["new_province_code"]), row
        assert units.province_by_name(row["province_new"]) == int(row["new_province_code"]), row
        assert old in units.members_of(int(row["new_province_code"]))
    assert seen == {int(c) for c in units.OLD_PROVINCES}


@pytest.mark.parametrize("name,code", [("TP. Hồ Chí Minh", 79), ("tp ho chi minh", 79), ("Thừa Thiên Huế", 46),
                                       ("Bà Rịa - Vũng Tàu", 77), ("Tỉnh Đắk Nông", 67)])
def test_old_province_names_as_documents_write_them(name, code):
    assert units.old_province_by_name(name) == code


def test_unknown_old_province_name():
    with pytest.raises(units.UnknownUnit, match="Hà Tây"):
        units.old_province_by_name("Hà Tây")
