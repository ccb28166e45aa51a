"""The fast paths of the parser and validator give exactly the reference results.

``parse_inner`` reads flat records of known fields at C level and ``validate_record`` converts a
whole record with per-kind converters; on anything unusual both fall back to the field-by-field
reference code. These tests compare them with that reference on valid and broken input.
"""

from __future__ import annotations

import base64
import io
import random

import pytest

from lienthong.gateway.xml130 import build_dossier
from lienthong.gateway.xml130.generate import sample_visit, table_xml
from lienthong.gateway.xml130.parser import EnvelopeReader, hardened_parser, parse_inner
from lienthong.gateway.xml130.spec import QD4750
from lienthong.gateway.xml130.tests.xml130_helpers import envelope, visit_files
from lienthong.gateway.xml130.validate import FieldError, ValidationOptions, check_value, validate_record

OPTS = ValidationOptions()


def reference_record(table, record, index, errors, unknown_seen):
    """``validate_record`` as it was: ``check_value`` for every spec field, then unknown fields."""
    typed = {}
    for f in table.fields:
        value, issues = check_value(f, record.get(f.name), QD4750, OPTS)
        typed[f.name] = value
        for code, message, severity in issues:
            errors.append(FieldError(table.name, index, f.name, code, message, severity))
    for key in record:
        if key not in table.by_name and key not in unknown_seen:
            unknown_seen.add(key)
            errors.append(FieldError(table.name, index, key, "unknown_field",
                                     f"Trường {key} không có trong chuẩn {QD4750.key} của bảng {table.name}",
                                     OPTS.unknown_field_severity))
    return typed


def same(a: dict, b: dict) -> bool:
    return list(a) == list(b) and all(type(a[k]) is type(b[k]) and str(a[k]) == str(b[k]) for k in a)


VALUES = ["", " ", "0", "1", "2", "3", "01", "10", "-1", "12.5", "12.", ".5", "000123.45", "1.234",
          "99999999999999.99", "1e5", "١٢", "²", " 12 ", "202401011230", "202413011230", "20240101", "20241301",
          "199000000000", "abc", "J06.9", "I10;", "I10;;J06.9", " I10 ; J06.9 ", "01001", "C.01001",
          "HC4790000000001", "001099012345", "123456789", "x" * 300, "a;b", "K01;K02", "NaN", "+1", "5\u00a0"]


def test_validate_record_matches_reference_on_valid_visits():
    for seed in range(20):
        for name, rows in sample_visit(facility_code="01001", seed=seed, index=seed + 1).items():
            table = QD4750.tables[name]
            records, _ = parse_inner(name, table_xml(QD4750, name, rows), table)
            for i, rec in enumerate(records):
                e1, e2 = [], []
                assert same(reference_record(table, rec, i, e1, set()),
                            validate_record(table, rec, i, QD4750, OPTS, e2, set()))
                assert e1 == e2


def test_validate_record_matches_reference_on_random_values():
    rng = random.Random(5)
    for table in QD4750.tables.values():
        for _ in range(150):
            rec = {f.name: rng.choice(VALUES) for f in table.fields if rng.random() < 0.7}
            if rng.random() < 0.1:
                rec["KHONG_CO"] = "1"
            e1, e2 = [], []
            assert same(reference_record(table, rec, 2, e1, set()),
                        validate_record(table, rec, 2, QD4750, OPTS, e2, set())), rec
            assert e1 == e2, rec


X2 = QD4750.tables["XML2"]


def x2_doc(records: str, extra: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<{X2.root} xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
            f"<{X2.list_tag}>{records}</{X2.list_tag}>{extra}</{X2.root}>").encode()


@pytest.mark.parametrize("records, extra, code", [
    ("<CHI_TIET_THUOC><MA_LK>A</MA_LK><STT>1</STT></CHI_TIET_THUOC>", "", None),
    ("<CHI_TIET_THUOC><MA_LK>A</MA_LK><STT><X>1</X></STT></CHI_TIET_THUOC>", "", "unexpected_structure"),
    ("<CHI_TIET_THUOC><MA_LK>A</MA_LK><MA_LK>B</MA_LK></CHI_TIET_THUOC>", "", "duplicate_field"),
    ("<CHI_TIET_THUOC><MA_LK>A</MA_LK><CHUKYDONVI><S/></CHUKYDONVI></CHI_TIET_THUOC>", "", None),
    ("<CHI_TIET_THUOC><MA_LK>A</MA_LK><p:STT xmlns:p='urn:p'>1</p:STT></CHI_TIET_THUOC>", "", None),
    ("<CHI_TIET_THUOC><MA_LK>A</MA_LK></CHI_TIET_THUOC><JUNK><A/></JUNK>", "", "unexpected_structure"),
    ("<CHI_TIET_THUOC><MA_LK>A</MA_LK></CHI_TIET_THUOC>", "<CHUKYDONVI><S/></CHUKYDONVI>", None),
    ("<CHI_TIET_THUOC><MA_LK>A<!-- c -->B</MA_LK><TEN_THUOC><![CDATA[a<b]]></TEN_THUOC></CHI_TIET_THUOC>", "", None),
])
def test_parse_inner_fast_path_matches_reference(records, extra, code):
    data = x2_doc(records, extra)
    got, errors = parse_inner("XML2", data, X2, hardened_parser())
    assert [e.code for e in errors if e.code == code] == ([code] if code else [])
    # reference: the same document with the fast path defeated (one unknown field in a last record)
    ref, ref_errors = parse_inner("XML2", x2_doc(records + "<CHI_TIET_THUOC><ZZ/></CHI_TIET_THUOC>", extra), X2)
    assert ref[:-1] == got
    assert [e for e in ref_errors] == errors


def test_build_dossier_is_the_readers_step():
    files = visit_files(seed=4, index=2)
    [via_reader] = list(EnvelopeReader(io.BytesIO(envelope([files]))))
    direct = build_dossier(1, via_reader.line, files, facility_code="01001", declared_count=1)
    assert direct == via_reader
    assert direct.tables["XML1"][0]["MA_LK"] == direct.ma_lk
    bad = build_dossier(2, None, files + [("XML2", base64.b64encode(b"<x").decode())],
                        facility_code="01001", declared_count=1)
    assert {e.code for e in bad.errors} >= {"record_count_mismatch", "duplicate_file_type"}


X1 = QD4750.tables["XML1"]


def _x1_record(**values) -> dict:
    [rec] = sample_visit(facility_code="01001", seed=3, index=1)["XML1"]
    rec = {k: ("" if v is None else str(v)) for k, v in rec.items()}
    rec.update(values)
    return rec


def test_remembered_conversions_give_the_reference_every_time():
    """The per-field memo (validate.MEMO_SIZE) is hit from the second record on: values, types,
    warnings and errors stay those of the reference, in any order of valid and invalid values."""
    from lienthong.gateway.xml130 import validate

    records = [_x1_record(NGAY_VAO=v, T_THUOC=t, MA_DOITUONG_KCB=c)
               for v, t, c in [("202401011230", "12.5", "1.1"), ("202413011230", "12.5", "9.9"),
                               ("202401011230", "12.50", "9.9"), ("202401011230", "1e5", "1.1"),
                               ("202401011230", "12.5", "1.1")]] * 3
    for i, rec in enumerate(records):
        e1, e2 = [], []
        assert same(reference_record(X1, rec, i, e1, set()), validate_record(X1, rec, i, QD4750, OPTS, e2, set()))
        assert e1 == e2, rec
    codes = [e.code for e in e2]
    # the warning for the open code list is reported again, not remembered away
    e = []
    validate_record(X1, records[1], 1, QD4750, OPTS, e, set())
    assert {"invalid_datetime", "uncommon_code"} <= {x.code for x in e}
    assert codes == [x.code for x in e2]
    plan = validate._plan(X1, QD4750)
    memo = plan.fast["NGAY_VAO"][3]
    assert memo.get("202401011230") is not None and "202413011230" not in memo  # errors are not kept
    assert plan.fast["MA_BENH_KT"][3] is None  # ';'-lists: a fresh list per record


def test_memo_is_bounded_and_lists_are_not_shared():
    from lienthong.gateway.xml130 import validate

    plan = validate._plan(X1, QD4750)
    memo = plan.fast["T_THUOC"][3]
    for n in range(validate.MEMO_SIZE * 3):
        rec = _x1_record(T_THUOC=f"{n}.25")
        typed = validate_record(X1, rec, 0, QD4750, OPTS, [], set())
        assert str(typed["T_THUOC"]) == f"{n}.25"
        assert len(memo) <= validate.MEMO_SIZE
    a = validate_record(X1, _x1_record(MA_BENH_KT="I10;J06.9"), 0, QD4750, OPTS, [], set())
    b = validate_record(X1, _x1_record(MA_BENH_KT="I10;J06.9"), 1, QD4750, OPTS, [], set())
    assert a["MA_BENH_KT"] == b["MA_BENH_KT"] == ["I10", "J06.9"] and a["MA_BENH_KT"] is not b["MA_BENH_KT"]
