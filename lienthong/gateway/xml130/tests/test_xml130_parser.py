import base64
import io

import pytest

from xml130_helpers import b64, envelope, visit_files
from lienthong.gateway.xml130.errors import EnvelopeError
from lienthong.gateway.xml130.parser import EnvelopeReader, iter_dossiers
from lienthong.gateway.xml130.validate import validate_envelope

XXE_PROLOG = ('<?xml version="1.0" encoding="utf-8"?>\n'
              '<!DOCTYPE GIAMDINHHS [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n')
LAUGHS = "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
BILLION_PROLOG = ('<?xml version="1.0"?>\n<!DOCTYPE GIAMDINHHS [<!ENTITY lol0 "lol">' + LAUGHS + ']>\n')


def parse_all(data: bytes, **kw):
    reader = EnvelopeReader(io.BytesIO(data), **kw)
    return reader, list(reader)


def codes(dossier):
    return {(e.table, e.field, e.code) for e in dossier.errors}


# --- envelope-level hostile input --------------------------------------------------------------------

def test_xxe_in_envelope_is_rejected():
    data = envelope([visit_files()], prolog=XXE_PROLOG).replace(b"<NGAYLAP>20250701", b"<NGAYLAP>&xxe;")
    with pytest.raises(EnvelopeError) as exc:
        parse_all(data)
    assert exc.value.code == "hostile_input" and "hostile input" in exc.value.message
    assert exc.value.line == 2 and exc.value.status_code == 400
    assert "root:" not in exc.value.message


def test_billion_laughs_in_envelope_is_rejected():
    data = envelope([visit_files()], prolog=BILLION_PROLOG).replace(b"<NGAYLAP>20250701", b"<NGAYLAP>&lol9;")
    with pytest.raises(EnvelopeError) as exc:
        parse_all(data)
    assert exc.value.code == "hostile_input"


@pytest.mark.parametrize("prolog", [
    '<!DOCTYPE GIAMDINHHS>\n',
    '<?xml version="1.0"?><!-- c --><!DOCTYPE GIAMDINHHS SYSTEM "http://127.0.0.1:9/x.dtd">\n',
    '<?xml version="1.0"?>\n<!ENTITY x "y">\n',
])
def test_any_doctype_is_rejected(prolog):
    with pytest.raises(EnvelopeError) as exc:
        parse_all(envelope([visit_files()], prolog=prolog))
    assert exc.value.code == "hostile_input"


def test_undeclared_entity_reference_is_malformed():
    data = envelope([visit_files()]).replace(b"<NGAYLAP>20250701", b"<NGAYLAP>&xxe;")
    with pytest.raises(EnvelopeError) as exc:
        parse_all(data)
    assert exc.value.code == "malformed_xml" and exc.value.line


def test_truncated_file_raises_with_line_after_good_dossiers():
    data = envelope([visit_files(seed=i, index=i + 1) for i in range(3)])
    cut = data[: data.rindex(b"<HOSO>") + 200]
    reader = EnvelopeReader(io.BytesIO(cut))
    seen = []
    with pytest.raises(EnvelopeError) as exc:
        for d in reader:
            seen.append(d.index)
    assert seen == [1, 2]
    assert exc.value.code == "malformed_xml" and exc.value.line > 1
    assert "dòng" in exc.value.message


@pytest.mark.parametrize("data,code", [
    (b"", "malformed_xml"),
    (b"   \n", "malformed_xml"),
    (b"not xml at all", "malformed_xml"),
    (b'<?xml version="1.0" encoding="ISO-8859-1"?><GIAMDINHHS/>', "unsupported_encoding"),
    ("<GIAMDINHHS/>".encode("utf-16"), "unsupported_encoding"),
    (b"<OTHER><THONGTINDONVI/></OTHER>", "unexpected_structure"),
    (b"<GIAMDINHHS><THONGTINHOSO><DANHSACHHOSO><HOSO/></DANHSACHHOSO></THONGTINHOSO></GIAMDINHHS>",
     "missing_facility"),
])
def test_broken_envelopes(data, code):
    with pytest.raises(EnvelopeError) as exc:
        parse_all(data)
    assert exc.value.code == code


def test_non_utf8_bytes_in_envelope():
    data = envelope([visit_files()]).replace(b"20250701", b"2025\xff701")
    with pytest.raises(EnvelopeError) as exc:
        parse_all(data)
    assert exc.value.code == "malformed_xml"


def test_element_flood_is_bounded():
    flood = "".join("<X/>" for _ in range(20_000))
    data = envelope([visit_files()]).replace(b"<HOSO>", f"<HOSO>{flood}".encode(), 1)
    with pytest.raises(EnvelopeError) as exc:
        parse_all(data)
    assert exc.value.code == "unexpected_structure"


def test_text_over_libxml_limit_is_a_clean_envelope_error(tmp_path):
    # 50 MB of base64 in one NOIDUNGFILE: streamed to disk, never built in memory as one string here.
    path = tmp_path / "big.xml"
    head, tail = envelope([[("XML1", "@@")]]).split(b"@@")
    with open(path, "wb") as fh:
        fh.write(head)
        chunk = base64.b64encode(b"<TONG_HOP>" + b"A" * (3 * 1024 * 1024 - 10))
        for _ in range(50 * 1024 * 1024 // len(chunk) + 1):
            fh.write(chunk)
        fh.write(tail)
    with pytest.raises(EnvelopeError) as exc:
        list(iter_dossiers(path))
    assert exc.value.code == "file_too_large" and "vượt quá" in exc.value.message


# --- per-dossier problems (parsing continues) ---------------------------------------------------------

def hostile_inner(xml: str) -> list[tuple[str, str]]:
    files = visit_files()
    return [("XML1", b64(xml.encode()))] + [f for f in files if f[0] != "XML1"]


@pytest.mark.parametrize("xml", [
    '<?xml version="1.0"?><!DOCTYPE TONG_HOP [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<TONG_HOP><MA_LK>&xxe;</MA_LK></TONG_HOP>',
    '<?xml version="1.0"?><!DOCTYPE TONG_HOP [<!ENTITY lol0 "lol">' + LAUGHS + ']><TONG_HOP><HO_TEN>&lol9;</HO_TEN></TONG_HOP>',
    '<!DOCTYPE TONG_HOP SYSTEM "http://127.0.0.1:9/x.dtd"><TONG_HOP/>',
])
def test_hostile_inner_files_are_dossier_errors(xml):
    data = envelope([hostile_inner(xml), visit_files(seed=1, index=2)])
    reader, dossiers = parse_all(data)
    assert [d.index for d in dossiers] == [1, 2]
    assert ("XML1", None, "hostile_input") in codes(dossiers[0])
    assert "root:" not in repr(dossiers[0])
    assert not dossiers[1].has_errors


def test_inner_undeclared_entity_is_malformed():
    data = envelope([hostile_inner("<TONG_HOP><MA_LK>&xxe;</MA_LK></TONG_HOP>")])
    _, (d,) = parse_all(data)
    assert ("XML1", None, "malformed_xml") in codes(d)


@pytest.mark.parametrize("content,code", [
    ("!!!not base64!!!", "invalid_base64"),
    ("QUJD=QUJD", "invalid_base64"),
    (b64("<TONG_HOP><HO_TEN>Nguy\xe1n</HO_TEN></TONG_HOP>".encode("latin-1")), "invalid_utf8"),
    (b64(b"<TONG_HOP><HO_TEN>unterminated</TONG_HOP>"), "malformed_xml"),
    (b64(b"<WRONG_ROOT/>"), "unexpected_structure"),
    (b64('<?xml version="1.0" encoding="windows-1258"?><TONG_HOP/>'.encode()), "unsupported_encoding"),
    ("", "empty_file"),
])
def test_bad_inner_files(content, code):
    files = [("XML1", content)] + [f for f in visit_files() if f[0] != "XML1"]
    reader, dossiers = parse_all(envelope([files, visit_files(seed=2, index=2)]))
    assert ("XML1", "NOIDUNGFILE" if code in ("invalid_base64", "invalid_utf8", "empty_file") else None,
            code) in codes(dossiers[0])
    assert not dossiers[1].has_errors


def test_base64_with_line_breaks_is_accepted():
    files = [(n, "\n".join(c[i:i + 76] for i in range(0, len(c), 76))) for n, c in visit_files()]
    _, (d,) = parse_all(envelope([files]))
    assert not d.has_errors


def test_per_file_cap_is_a_dossier_error():
    files = visit_files()
    big = ("XML5", b64(b"<CHITIEU_CHITIET_DIENBIENLAMSANG>" + b" " * 3_000_000 + b"</CHITIEU_CHITIET_DIENBIENLAMSANG>"))
    files = [f for f in files if f[0] != "XML5"] + [big]
    _, dossiers = parse_all(envelope([files, visit_files(seed=3, index=2)]), max_file_bytes=1024 * 1024)
    assert ("XML5", "NOIDUNGFILE", "file_too_large") in codes(dossiers[0])
    assert not dossiers[1].has_errors


def test_structure_errors_are_per_dossier():
    good = visit_files()
    no_xml1 = [f for f in good if f[0] != "XML1"]
    unknown = good + [("XML99", good[0][1])]
    xml12 = good + [("XML12", good[0][1])]
    dup = good + [good[1]]
    other = visit_files(seed=9, index=9)
    mixed = [f for f in good if f[0] != "XML2"] + [f for f in other if f[0] == "XML2"]
    _, ds = parse_all(envelope([no_xml1, unknown, xml12, dup, mixed, good]))
    assert ("HOSO", "LOAIHOSO", "missing_xml1") in codes(ds[0])
    assert ("HOSO", "LOAIHOSO", "unknown_file_type") in codes(ds[1])
    assert ("HOSO", "LOAIHOSO", "unknown_file_type") in codes(ds[2])
    assert ("XML2", "LOAIHOSO", "duplicate_file_type") in codes(ds[3])
    mism = [e for e in ds[4].errors if e.code == "ma_lk_mismatch"]
    assert mism and all(e.table == "XML2" and e.field == "MA_LK" for e in mism)
    assert [e.record_index for e in mism] == list(range(len(mism)))
    assert not ds[5].has_errors


def test_count_mismatch_more_and_fewer():
    _, ds = parse_all(envelope([visit_files(), visit_files(seed=1, index=2)], count=1))
    assert not ds[0].has_errors
    assert ("HOSO", "SOLUONGHOSO", "record_count_mismatch") in codes(ds[1])
    reader, ds = parse_all(envelope([visit_files()], count=3))
    assert not ds[0].has_errors
    assert [e.code for e in reader.envelope_errors] == ["record_count_mismatch"]
    assert "3" in reader.envelope_errors[0].message


def test_namespaced_and_cdata_inner_content():
    xml = ('<ns:TONG_HOP xmlns:ns="urn:x"><ns:MA_LK><![CDATA[ABC]]></ns:MA_LK><ns:HO_TEN>Lê &amp; Lý</ns:HO_TEN>'
           '</ns:TONG_HOP>')
    _, (d,) = parse_all(envelope([[("XML1", b64(xml.encode()))]]))
    assert d.tables["XML1"] == [{"MA_LK": "ABC", "HO_TEN": "Lê & Lý"}]
    assert d.ma_lk == "ABC"


def test_facility_must_match_authenticated_submitter():
    res = list(validate_envelope(io.BytesIO(envelope([visit_files()])), authenticated_facility="79005"))[0]
    assert not res.accepted
    assert [(e.table, e.field, e.code) for e in res.errors] == [("GIAMDINHHS", "MACSKCB", "facility_not_authenticated")]


def test_reader_is_single_use():
    reader = EnvelopeReader(io.BytesIO(envelope([visit_files()])))
    list(reader)
    with pytest.raises(RuntimeError):
        list(reader)
