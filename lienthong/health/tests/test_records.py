"""canonical_json: the fast (orjson) path writes exactly the reference json.dumps bytes."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from lienthong.health import records
from lienthong.health.records import CertificateRec, DiagnosisRec, MedicationRec, VisitRecord

# Every type the XML 130 validator and mapping put in a record, with hostile corners: any Unicode
# (surrogates included), control characters, huge integers, Decimal exponents and specials,
# datetimes with microseconds, odd UTC offsets (seconds too) and years below 1000.
texts = st.text(st.characters(codec=None, categories=None), max_size=20) | st.sampled_from(
    ["", "Nguyễn Văn An", "a\"b\\c\n\t\r\x00\x1f\x7f\u2028\u2029", "\U0001F600", "\ud800"])
offsets = st.timedeltas(min_value=timedelta(hours=-23, minutes=59), max_value=timedelta(hours=23, minutes=59))
tzs = st.none() | st.just(timezone(timedelta(hours=7))) | offsets.map(timezone)
datetimes = st.datetimes(timezones=tzs)
decimals = st.decimals(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [Decimal("1E+2"), Decimal("0.000001"), Decimal("-0"), Decimal("123.4500")])
scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**70), max_value=2**70) | texts
           | decimals | st.dates() | datetimes)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(texts, inner, max_size=4), max_leaves=30)


def _reference(rec: VisitRecord) -> str:
    return json.dumps(dataclasses.asdict(rec), default=records.json_default, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)


@settings(max_examples=400, deadline=None)
@given(raw=st.dictionaries(texts, values, max_size=6), name=texts, qty=st.none() | decimals,
       admitted=datetimes, data=st.dictionaries(texts, values, max_size=3))
def test_fast_path_writes_the_reference_bytes(raw, name, qty, admitted, data):
    rec = VisitRecord(facility_code="01001", ma_lk="LK1", patient_name=name, admitted_at=admitted,
                      source="xml130", diagnoses=[DiagnosisRec("I10", name, True)],
                      medications=[MedicationRec("40.17", name, admitted, quantity=qty)],
                      certificates=[CertificateRec("birth", admitted, valid_until=date(2027, 1, 1), data=data)],
                      raw=raw)
    assert records.canonical_json(rec) == _reference(rec)


def test_fast_path_is_taken_for_xml130_records():
    rec = VisitRecord(facility_code="01001", ma_lk="LK1", patient_name="Nguyễn Văn An",
                      admitted_at=datetime(2026, 11, 24, 8, 30, tzinfo=timezone(timedelta(hours=7))),
                      source="xml130", raw={"XML2": [{"SO_LUONG": Decimal("1.5"), "NGAY": date(2026, 11, 24), "N": 2**80}]})
    assert records.canonical_json(rec) == _reference(rec)
    calls = []
    real = records.reference_json
    records.reference_json = lambda data: calls.append(1) or real(data)
    try:
        rec.raw["XML2"][0]["N"] = 2
        records.canonical_json(rec)
        assert calls == []  # orjson wrote it
        rec.raw["XML2"][0]["N"] = 2**80
        records.canonical_json(rec)
        assert calls == [1]  # beyond 64 bits: the reference wrote it
    finally:
        records.reference_json = real


def test_fhir_records_keep_the_reference_for_floats():
    rec = VisitRecord(facility_code="01001", ma_lk="LK1", patient_name="A", source="fhir",
                      admitted_at=datetime(2026, 11, 24, 8, 30, tzinfo=timezone.utc),
                      raw={"valueQuantity": {"value": 1e-05}, "big": 1e16})
    out = records.canonical_json(rec)
    assert out == _reference(rec)
    assert '"value":1e-05' in out and '"big":1e+16' in out
