import base64
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lienthong.gateway.xml130.generate import sample_visit, table_xml
from lienthong.gateway.xml130.parser import EnvelopeReader
from lienthong.gateway.xml130.spec import QD4750, CardNumberFormat
from lienthong.gateway.xml130.validate import (
    PartialDateTime, ValidationOptions, check_value, validate_dossier,
)
from lienthong.geo.units import OLD_PROVINCES
from lienthong.population.ids import make_personal_id
from xml130_helpers import envelope

X1 = QD4750.tables["XML1"]
X2 = QD4750.tables["XML2"]
ALL_FIELDS = [f for t in QD4750.tables.values() for f in t.fields] + list(QD4750.documents["GIAYBAOTU"].fields)
PROVINCES = sorted(OLD_PROVINCES)


def issue_codes(field, raw):
    return [c for c, _, _ in check_value(field, raw, QD4750)[1]]


# --- property tests ----------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ALL_FIELDS), st.text(max_size=40))
def test_any_text_never_raises(field, raw):
    value, issues = check_value(field, raw, QD4750)
    for code, message, severity in issues:
        assert code and message and severity in ("error", "warning")
    if any(s == "error" for _, _, s in issues):
        assert value is None


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2099, 12, 31)))
def test_datetimes_round_trip(dt):
    dt = dt.replace(second=0, microsecond=0)
    for f in (X1.field("NGAY_VAO"), X1.field("NGAY_SINH")):
        value, issues = check_value(f, dt.strftime("%Y%m%d%H%M"), QD4750)
        assert issues == [] and value == dt


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_datetime_digits_are_valid_iff_calendar_valid(s):
    value, issues = check_value(X1.field("NGAY_VAO"), s, QD4750)
    try:
        expected = datetime.strptime(s, "%Y%m%d%H%M")
        ok = len(s) == 12
    except ValueError:
        ok = False
    if ok:
        assert value == expected
    else:
        assert [c for c, _, _ in issues] == ["invalid_datetime"]


@given(st.integers(1900, 2099), st.integers(1, 12))
def test_birth_unknown_parts(year, month):
    f = X1.field("NGAY_SINH")
    assert check_value(f, f"{year}00000000", QD4750)[0] == PartialDateTime(year, None, None)
    assert check_value(f, f"{year}{month:02d}000000", QD4750)[0] == PartialDateTime(year, month, None)
    assert issue_codes(f, f"{year}0015" + "0000") == ["invalid_datetime"]  # unknown month, known day
    assert issue_codes(f, f"{year}{month:02d}00" + "1230") == ["invalid_datetime"]  # unknown day, known time


@given(st.decimals(min_value=Decimal("-9999999999999"), max_value=Decimal("9999999999999"), places=2,
                   allow_nan=False, allow_infinity=False))
def test_money_accepts_two_places(d):
    value, issues = check_value(X1.field("T_TONGCHI_BV"), f"{d:f}", QD4750)
    assert issues == [] and value == d


@given(st.decimals(min_value=Decimal("0"), max_value=Decimal("1000"), places=4, allow_nan=False))
def test_money_rejects_more_than_two_places(d):
    text = f"{d:f}"
    value, issues = check_value(X1.field("T_TONGCHI_BV"), text, QD4750)
    if text.rstrip("0").split(".")[-1] and len(text.split(".")[1]) > 2:
        assert [c for c, _, _ in issues] == ["too_many_digits"]


@given(st.integers(0, 999), st.integers(-5, 1005))
def test_int_ranges(days, pct):
    assert check_value(X1.field("SO_NGAY_DTRI"), str(days), QD4750) == (days, [])
    value, issues = check_value(X2.field("TYLE_TT_BH"), str(pct), QD4750)
    if 0 <= pct <= 100:
        assert value == pct and issues == []
    else:
        assert [c for c, _, _ in issues][0] in ("out_of_range", "too_many_digits")


@given(st.sampled_from(PROVINCES), st.sampled_from("MF"), st.integers(1900, 2099), st.integers(0, 999_999))
def test_personal_ids_accepted(place, sex, year, serial):
    pid = make_personal_id(place, sex, year, serial)
    assert check_value(X1.field("SO_CCCD"), pid, QD4750) == (pid, [])


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_personal_id_province_checked(s):
    codes = issue_codes(X1.field("SO_CCCD"), s)
    assert codes == ([] if s[:3] in OLD_PROVINCES else ["invalid_personal_id"])


@pytest.mark.parametrize("value,ok", [
    ("123456789", True), ("B1234567", True), ("AB1234567", True), ("C12345678", False),
    ("12345678", False), ("ab1234567", False), ("0010901234567", False),
])
def test_cmnd_and_passports(value, ok):
    assert (issue_codes(X1.field("SO_CCCD"), value) == []) is ok


@given(st.sampled_from(["DN", "HC", "GD", "TE"]), st.integers(1, 5), st.sampled_from([p[1:] for p in PROVINCES]),
       st.integers(0, 10**10 - 1))
def test_card_numbers(group, benefit, prov, serial):
    card = f"{group}{benefit}{prov}{serial:010d}"
    f = X1.field("MA_THE_BHYT")
    assert check_value(f, card, QD4750) == ([card], [])
    assert check_value(f, f"{card};{card}", QD4750) == ([card, card], [])
    assert issue_codes(f, card[:-1]) == ["invalid_card_number"]
    assert issue_codes(f, f"{group}9{prov}{serial:010d}") == ["invalid_card_number"]
    assert issue_codes(f, f"{card};;{card}") == ["invalid_multi_value"]


def test_card_format_is_configurable():
    spec = QD4750.amend(key="x", title="x", effective_from=date(2030, 1, 1),
                        card_number=CardNumberFormat(allowed_groups=frozenset({"DN"}), check_province=False))
    f = X1.field("MA_THE_BHYT")
    assert check_value(f, "DN4990000000001", spec)[1] == []
    assert [c for c, _, _ in check_value(f, "HC4790000000001", spec)[1]] == ["invalid_card_number"]


@pytest.mark.parametrize("field,value,codes", [
    ("MA_BENH_CHINH", "J06.9", []), ("MA_BENH_CHINH", "I10", []), ("MA_BENH_CHINH", "j06.9", ["invalid_icd10"]),
    ("MA_BENH_KT", "E11.9;I10", []), ("MA_BENH_KT", "E11.9;XYZ", ["invalid_icd10"]),
    ("MA_CSKCB", "01001", []), ("MA_CSKCB", "99001", ["invalid_facility_code"]),
    ("MA_CSKCB", "0100", ["invalid_facility_code"]), ("GIOI_TINH", "3", []), ("GIOI_TINH", "0", ["unknown_code"]),
    ("MA_LOAI_KCB", "10", []), ("MA_LOAI_KCB", "11", ["unknown_code"]), ("MA_KHUVUC", "K4", ["unknown_code"]),
    ("MA_DOITUONG_KCB", "1.15", ["uncommon_code"]), ("HO_TEN", "", ["required"]), ("HO_TEN", "   ", ["required"]),
    ("DIEN_THOAI", "", []), ("HO_TEN", "A" * 256, ["too_long"]), ("THANG_QT", "13", ["out_of_range"]),
    ("SO_NGAY_DTRI", "1.5", ["not_integer"]), ("T_THUOC", "1,5", ["not_decimal"]),
    ("GT_THE_TU", "20250230", ["invalid_date"]), ("NGAY_VAO", "2025010112", ["invalid_datetime"]),
])
def test_field_cases(field, value, codes):
    assert issue_codes(X1.field(field), value) == codes


def test_messages_are_vietnamese():
    _, issues = check_value(X1.field("HO_TEN"), "", QD4750)
    assert issues[0][1] == "Thiếu trường bắt buộc HO_TEN"
    _, issues = check_value(X1.field("GT_THE_TU"), "2025", QD4750)
    assert "phải là ngày dạng yyyymmdd" in issues[0][1]


def test_drug_facility_reference():
    f = X2.field("MA_CSKCB_THUOC")
    assert issue_codes(f, "K.01001") == [] and issue_codes(f, "HC.79005") == []
    assert issue_codes(f, "X.01001") == ["invalid_facility_code"]


# --- cross-field rules on whole dossiers ---------------------------------------------------------------

def run(mutate, seed=0, **opts):
    tables = sample_visit(seed=seed)
    mutate(tables)
    files = [(n, base64.b64encode(table_xml(QD4750, n, rows)).decode()) for n, rows in tables.items()]
    (d,) = list(EnvelopeReader(io.BytesIO(envelope([files]))))
    return validate_dossier(d, options=ValidationOptions(**opts))


def keys(res, errors_only=True):
    return {(e.table, e.record_index, e.field, e.code) for e in res.errors if e.is_error or not errors_only}


def test_baseline_visit_is_clean():
    assert run(lambda t: None).errors == []


def test_inpatient_before_admission_and_reason():
    def m(t):
        x = t["XML1"][0]
        vao = datetime.strptime(x["NGAY_VAO"], "%Y%m%d%H%M")
        x["NGAY_VAO_NOI_TRU"] = (vao - timedelta(hours=1)).strftime("%Y%m%d%H%M")
        x["LY_DO_VNT"] = ""
    k = keys(run(m))
    assert ("XML1", 0, "NGAY_VAO_NOI_TRU", "inpatient_before_admission") in k
    assert ("XML1", 0, "LY_DO_VNT", "required") in k


def test_line_formulas():
    def m(t):
        t["XML2"][0]["THANH_TIEN_BH"] = "1.00"
        t["XML2"][0]["T_NGUONKHAC_NSNN"] = "5.00"
        t["XML3"][0]["THANH_TIEN_BV"] = "2.00"
        yl = datetime.strptime(t["XML2"][0]["NGAY_YL"], "%Y%m%d%H%M")
        t["XML2"][0]["NGAY_TH_YL"] = (yl - timedelta(minutes=1)).strftime("%Y%m%d%H%M")
    k = keys(run(m))
    assert {("XML2", 0, "THANH_TIEN_BH", "amount_mismatch"), ("XML2", 0, "T_NGUONKHAC", "other_sources_mismatch"),
            ("XML3", 0, "THANH_TIEN_BV", "amount_mismatch"), ("XML2", 0, "NGAY_TH_YL", "execution_before_order"),
            ("XML1", 0, "T_TONGCHI_BV", "total_mismatch")} <= k


def test_rounding_within_tolerance_is_accepted():
    def m(t):
        r = t["XML2"][0]
        r["SO_LUONG"], r["DON_GIA"] = "3", "333.333"
        r["TYLE_TT_BH"] = "100"
        r["THANH_TIEN_BV"] = r["THANH_TIEN_BH"] = "1000.00"  # exact 999.999
    res = run(m)
    assert not any(e.table == "XML2" and e.code == "amount_mismatch" for e in res.errors)

    def off_by_two_cents(t):
        m(t)
        t["XML2"][0]["THANH_TIEN_BV"] = "1000.01"
    assert ("XML2", 0, "THANH_TIEN_BV", "amount_mismatch") in keys(run(off_by_two_cents))


def test_performer_and_transport_conditionals():
    def m(t):
        lab = next(r for r in t["XML3"] if r["MA_NHOM"] == "1")
        lab["NGUOI_THUC_HIEN"] = ""
        t["XML3"][0]["MA_NHOM"] = "12"
    res = run(m)
    fields = {(e.field, e.code) for e in res.errors if e.is_error and e.table == "XML3"}
    assert ("NGUOI_THUC_HIEN", "required") in fields and ("MA_XANG_DAU", "required") in fields


def test_card_values_must_align_and_personal_id_must_match_person():
    def m(t):
        x = t["XML1"][0]
        x["MA_THE_BHYT"] = x["MA_THE_BHYT"] + ";" + x["MA_THE_BHYT"]
        pid = x["SO_CCCD"]
        x["SO_CCCD"] = pid[:3] + str((int(pid[3]) + 1) % 10 if int(pid[3]) % 2 == 0 else int(pid[3]) - 1) + pid[4:]
    k = keys(run(m))
    assert ("XML1", 0, "MA_THE_BHYT", "card_values_mismatch") in k
    assert ("XML1", 0, "SO_CCCD", "personal_id_mismatch") in k
    res = run(m, check_id_matches_person=False)
    assert ("XML1", 0, "SO_CCCD", "personal_id_mismatch") not in keys(res)


def test_unknown_fields_are_warnings():
    def m(t):
        t["XML1"][0]["NHOM_MAU"] = "O+"  # QĐ 3176 field, not in 4750
    res = run(m)
    assert res.accepted
    assert [(w.field, w.code) for w in res.warnings] == [("NHOM_MAU", "unknown_field")]


def test_treatment_days_rule_is_a_warning():
    def m(t):
        t["XML1"][0]["SO_NGAY_DTRI"] = "7" if t["XML1"][0]["MA_LOAI_KCB"] == "01" else "0"
    res = run(m)
    assert res.accepted and [w.code for w in res.warnings] == ["treatment_days_mismatch"]
