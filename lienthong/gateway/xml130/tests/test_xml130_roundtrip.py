import io
from collections import Counter
from datetime import date, datetime
from decimal import Decimal

from lienthong.gateway.xml130.generate import write_envelope
from lienthong.gateway.xml130.parser import EnvelopeReader
from lienthong.gateway.xml130.validate import PartialDateTime, validate_envelope
from lienthong.population.ids import make_personal_id

FACILITY = "01001"


def test_round_trip_has_no_errors(tmp_path):
    path = tmp_path / "claims.xml"
    gen = write_envelope(path, 150, facility_code=FACILITY, seed=42)
    assert gen.visits == 150 and gen.bytes_written == path.stat().st_size
    for name in ("XML1", "XML2", "XML3", "XML4", "XML5", "XML7", "XML8", "XML14"):
        assert gen.tables.get(name), name
    results = list(validate_envelope(path, authenticated_facility=FACILITY))
    assert len(results) == 150
    problems = [(r.dossier.index, e.as_dict()) for r in results for e in r.errors]
    assert problems == []
    assert sum(r.dossier.record_count for r in results) == gen.records
    first = results[0]
    assert first.accepted and first.values is not None
    x1 = first.values["XML1"][0]
    assert isinstance(x1["NGAY_VAO"], datetime) and isinstance(x1["T_TONGCHI_BV"], Decimal)
    assert isinstance(x1["GT_THE_TU"], list) and isinstance(x1["GT_THE_TU"][0], date)
    assert isinstance(x1["GIOI_TINH"], int)
    assert first.values["XML2"][0]["SO_LUONG"] > 0
    assert first.dossier.ma_lk == x1["MA_LK"]


def test_rare_tables_round_trip(tmp_path):
    path = tmp_path / "rare.xml"
    gen = write_envelope(path, 600, facility_code="79005", seed=3)
    assert gen.tables.get("XML9") and gen.tables.get("XML13")
    results = list(validate_envelope(path, authenticated_facility="79005"))
    assert all(r.accepted for r in results), [e for r in results for e in r.errors][:5]
    births = [r for r in results if "XML9" in r.values]
    assert births[0].values["XML9"][0]["CAN_NANG_CON"] > 2000


def test_deterministic_for_a_seed():
    a, b, c = io.BytesIO(), io.BytesIO(), io.BytesIO()
    write_envelope(a, 20, facility_code=FACILITY, seed=5, error_rate=0.3)
    write_envelope(b, 20, facility_code=FACILITY, seed=5, error_rate=0.3)
    write_envelope(c, 20, facility_code=FACILITY, seed=6, error_rate=0.3)
    assert a.getvalue() == b.getvalue() != c.getvalue()


def test_citizens_are_used(tmp_path):
    citizens = [(make_personal_id("001", "F", 1990, 123456), "Trần Thị Lan", date(1990, 5, 17), "F"),
                (make_personal_id("079", "M", 1955, 42), "Lê Văn Nam", date(1955, 1, 2), "M")]
    buf = io.BytesIO()
    write_envelope(buf, 30, facility_code=FACILITY, seed=1, citizens=citizens)
    buf.seek(0)
    results = list(validate_envelope(buf))
    assert all(r.accepted for r in results)
    ids = Counter(r.values["XML1"][0]["SO_CCCD"] for r in results)
    assert set(ids) == {c[0] for c in citizens}
    names = {r.values["XML1"][0]["HO_TEN"] for r in results}
    assert names == {"Trần Thị Lan", "Lê Văn Nam"}


def test_every_injected_error_is_found(tmp_path):
    path = tmp_path / "errors.xml"
    gen = write_envelope(path, 400, facility_code=FACILITY, seed=11, error_rate=0.5)
    injected = {i.dossier_index: i for i in gen.injected}
    assert len({i.code for i in gen.injected}) >= 12  # most injectors exercised
    for res in validate_envelope(path):
        errors = [e for e in res.errors if e.is_error]
        inj = injected.get(res.dossier.index)
        if inj is None:
            assert errors == [], res.dossier.index
            continue
        assert not res.accepted and res.values is None
        keys = {(e.table, e.record_index, e.field, e.code) for e in errors}
        assert (inj.table, inj.record_index, inj.field, inj.code) in keys, (inj, keys)
        assert res.dossier.ma_lk is None or res.dossier.ma_lk == inj.ma_lk
        for e in errors:
            assert e.message and e.message[0].isupper()


def test_file_like_input_and_stats():
    buf = io.BytesIO()
    gen = write_envelope(buf, 12, facility_code=FACILITY, seed=2)
    buf.seek(0)
    reader = EnvelopeReader(buf)
    dossiers = list(reader)
    assert [d.index for d in dossiers] == list(range(1, 13))
    assert reader.header.facility_code == FACILITY and reader.header.declared_count == 12
    assert reader.stats.dossiers == 12 and reader.stats.records == gen.records
    assert reader.stats.bytes_read == gen.bytes_written
    assert reader.envelope_errors == []


def test_partial_birth_dates_are_typed(valid_files, make_envelope):
    import base64

    from lienthong.gateway.xml130.generate import sample_visit, table_xml
    from lienthong.gateway.xml130.spec import QD4750

    tables = sample_visit(seed=4)
    year = tables["XML1"][0]["NGAY_SINH"][:4]
    tables["XML1"][0]["NGAY_SINH"] = year + "00000000"
    files = [(n, base64.b64encode(table_xml(QD4750, n, rows)).decode()) for n, rows in tables.items()]
    res = list(validate_envelope(io.BytesIO(make_envelope([files]))))[0]
    assert res.accepted, res.errors
    assert res.values["XML1"][0]["NGAY_SINH"] == PartialDateTime(int(year), None, None)
