from datetime import date

import pytest

from lienthong.gateway.xml130 import spec as S
from lienthong.gateway.xml130.spec import QD4750, FieldSpec, NoSpecForDate, spec_for

# Field counts stated in health-standards.md §5.
DOC_COUNTS = {"XML1": 65, "XML2": 39, "XML3": 47, "XML4": 12, "XML5": 9, "XML7": 26, "XML8": 22, "XML9": 35,
              "XML11": 23, "XML13": 39, "XML14": 22}


@pytest.mark.parametrize("name,count", sorted(DOC_COUNTS.items()))
def test_field_counts_match_the_standard(name, count):
    fields = QD4750.tables[name].fields
    assert len(fields) == count
    assert len({f.name for f in fields}) == count
    assert fields[0].name == "MA_LK"


def test_tags_from_the_standard():
    t = QD4750.tables
    assert (t["XML1"].root, t["XML1"].is_list) == ("TONG_HOP", False)
    assert (t["XML2"].root, t["XML2"].list_tag, t["XML2"].record_tag) == (
        "CHITIEU_CHITIET_THUOC", "DSACH_CHI_TIET_THUOC", "CHI_TIET_THUOC")
    assert t["XML9"].record_tag == "DU_LIEU_GIAY_CHUNG_SINH"
    assert t["XML13"].root == "CHI_TIEU_GIAYCHUYENTUYEN"
    assert "XML12" not in t and "XML0" not in t


def test_types_and_code_lists():
    x1 = QD4750.tables["XML1"]
    assert x1.field("NGAY_SINH").kind == "datetime" and x1.field("NGAY_SINH").fmt == "birth"
    assert x1.field("GT_THE_TU").kind == "date" and x1.field("GT_THE_TU").multi
    assert x1.field("T_TONGCHI_BV").precision == 15 and x1.field("T_TONGCHI_BV").scale == 2
    assert QD4750.tables["XML2"].field("SO_LUONG").scale == 3
    assert set(QD4750.code_lists["KET_QUA_DTRI"].codes) == {str(i) for i in range(1, 9)}
    assert set(QD4750.code_lists["MA_LOAI_KCB"].codes) == {f"{i:02d}" for i in range(1, 11)}
    assert QD4750.code_lists["GIOI_TINH"].codes["2"] == "Nữ"
    for t in list(QD4750.tables.values()) + list(QD4750.documents.values()):
        for f in t.fields:
            assert f.codes is None or f.codes in QD4750.code_lists, (t.name, f.name)


def test_death_notice_spec():
    gbt = QD4750.documents["GIAYBAOTU"]
    assert gbt.record_tag == "GIAYBAOTU" and gbt.uncertain
    assert gbt.field("NGAY_TV").kind == "datetime"


def test_spec_for_dates():
    assert spec_for(date(2025, 3, 1)) is QD4750
    with pytest.raises(NoSpecForDate) as exc:
        spec_for(date(2020, 1, 1))
    assert "không có chuẩn" in str(exc.value)


def test_amendment_is_a_new_version():
    v3176 = QD4750.amend(
        key="3176-test", title="QĐ 3176 (thử)", effective_from=date(2025, 1, 1),
        add_fields={"XML1": [("GIOI_TINH", FieldSpec("NHOM_MAU", "str", 5, codes="NHOM_MAU"))]},
        replace_fields={"XML1": [FieldSpec("MA_DOITUONG_KCB", "str", 6, True)]},
    )
    names = [f.name for f in v3176.tables["XML1"].fields]
    assert names[names.index("GIOI_TINH") + 1] == "NHOM_MAU"
    assert v3176.tables["XML1"].field("MA_DOITUONG_KCB").max_length == 6
    assert QD4750.tables["XML1"].field("NHOM_MAU") is None  # base untouched
    S.register(v3176)
    try:
        assert spec_for(date(2024, 12, 31)) is QD4750
        assert spec_for(date(2025, 6, 1)) is v3176
        with pytest.raises(ValueError):
            S.register(v3176)
    finally:
        S.unregister("3176-test")
    assert spec_for(date(2025, 6, 1)) is QD4750
