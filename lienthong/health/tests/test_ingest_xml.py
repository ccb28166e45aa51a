"""The XML 130/4750 ingest pipeline (parse + validate + map + store) on both databases, with envelopes
built here (independent of the synthetic generator), and the dossier -> VisitRecord mapping."""

from __future__ import annotations

import base64
import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from xml.sax.saxutils import escape

import pytest
from sqlalchemy import func, select

from lienthong.db import session_factory
from lienthong.events.models import OutboxEvent
from lienthong.gateway.xml130.errors import EnvelopeError
from lienthong.health.models import Certificate, HealthProfile, IngestBatch, Medication, Referral, Visit
from lienthong.health.xml_mapping import FacilityMismatch, ingest_xml130
from lienthong.identity.principal import Principal

FAC = "01001"
CLINIC = Principal(kind="facility", subject="client-01001", facility_code=FAC, scopes=frozenset({"health.submit"}))
VN = timezone(timedelta(hours=7))

# --- envelope builder ---------------------------------------------------------------------------------

TABLE_TAGS = {
    "XML1": ("TONG_HOP", None, None),
    "XML2": ("CHITIEU_CHITIET_THUOC", "DSACH_CHI_TIET_THUOC", "CHI_TIET_THUOC"),
    "XML4": ("CHITIEU_CHITIET_DICHVUCANLAMSANG", "DSACH_CHI_TIET_CLS", "CHI_TIET_CLS"),
    "XML13": ("CHI_TIEU_GIAYCHUYENTUYEN", None, None),
    "XML14": ("CHI_TIEU_GIAYHEN_KHAMLAI", None, None),
    "XML9": ("CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH", "DSACH_GIAYCHUNGSINH", "DU_LIEU_GIAY_CHUNG_SINH"),
    "XML11": ("CHI_TIEU_DU_LIEU_GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BAO_HIEM_XA_HOI", None, None),
}


def inner(table, records):
    root, lst, rec = TABLE_TAGS[table]
    def fields(r):
        return "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in r.items())
    if lst is None:
        body = fields(records[0])
    else:
        body = f"<{lst}>" + "".join(f"<{rec}>{fields(r)}</{rec}>" for r in records) + f"</{lst}>"
    return f'<?xml version="1.0" encoding="utf-8"?><{root}>{body}</{root}>'.encode()


def envelope(facility, dossiers):
    parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<GIAMDINHHS><THONGTINDONVI><MACSKCB>{facility}</MACSKCB>'
             f'</THONGTINDONVI><THONGTINHOSO><NGAYLAP>20260304</NGAYLAP><SOLUONGHOSO>{len(dossiers)}</SOLUONGHOSO>'
             '<DANHSACHHOSO>']
    for d in dossiers:
        parts.append("<HOSO>")
        for table, records in d.items():
            data = records if isinstance(records, bytes) else inner(table, records)
            b64 = data.decode() if isinstance(records, bytes) else base64.b64encode(data).decode()
            parts.append(f"<FILEHOSO><LOAIHOSO>{table}</LOAIHOSO><NOIDUNGFILE>{b64}</NOIDUNGFILE></FILEHOSO>")
        parts.append("</HOSO>")
    parts.append("</DANHSACHHOSO></THONGTINHOSO><CHUKYDONVI/></GIAMDINHHS>")
    return "".join(parts).encode()


def xml1(ma_lk, facility="01001", pid="001090000123", **over):
    r = dict(MA_LK=ma_lk, STT=1, MA_BN="BN" + ma_lk, HO_TEN="Nguyễn Văn An", SO_CCCD=pid, NGAY_SINH="199005040000",
             GIOI_TINH=1, MA_QUOCTICH="000", MA_DANTOC="01", MA_NGHE_NGHIEP="00000", DIA_CHI="Số 1 phố Huế, Hà Nội",
             MATINH_CU_TRU="01", MAHUYEN_CU_TRU="001", MAXA_CU_TRU="00001", MA_THE_BHYT="DN4010012345678",
             MA_DKBD=facility, GT_THE_TU="20260101", GT_THE_DEN="20261231", LY_DO_VV="Sốt, ho",
             CHAN_DOAN_VAO="Viêm họng", CHAN_DOAN_RV="Viêm họng cấp", MA_BENH_CHINH="J02.9", MA_BENH_KT="I10;E11.9",
             MA_DOITUONG_KCB="1.1", NGAY_VAO="202603010830", NGAY_RA="202603011030", SO_NGAY_DTRI=0,
             KET_QUA_DTRI=1, MA_LOAI_RV=1, NGAY_TTOAN="202603011035", T_THUOC="20000.00", T_VTYT="0.00",
             T_TONGCHI_BV="20000.00", T_TONGCHI_BH="16000.00", T_BNTT="0.00", T_BNCCT="4000.00", T_BHTT="12000.00",
             T_NGUONKHAC="0.00", T_BHTT_GDV="0.00", NAM_QT=2026, THANG_QT=3, MA_LOAI_KCB="01", MA_KHOA="K01",
             MA_CSKCB=facility, CAN_NANG="60.50", MA_HSBA="HS" + ma_lk, MA_TTDV="0101234567")
    r.update(over)
    return r


def xml2(ma_lk, stt=1, **over):
    r = dict(MA_LK=ma_lk, STT=stt, MA_THUOC="40.17", MA_NHOM=4, TEN_THUOC="Paracetamol", DON_VI_TINH="viên",
             HAM_LUONG="500mg", DUONG_DUNG="1.01", LIEU_DUNG="2 viên/lần * 2 lần/ngày * 5 ngày", PHAM_VI=1,
             TYLE_TT_BH=100, SO_LUONG="20.000", DON_GIA="1000.000", THANH_TIEN_BV="20000.00",
             THANH_TIEN_BH="20000.00", T_NGUONKHAC_NSNN="0.00", T_NGUONKHAC_VTNN="0.00", T_NGUONKHAC_VTTN="0.00",
             T_NGUONKHAC_CL="0.00", T_NGUONKHAC="0.00", MUC_HUONG=80, T_BNTT="0.00", T_BNCCT="4000.00",
             T_BHTT="16000.00", MA_KHOA="K01", MA_BAC_SI="000123/HNO-CCHN", NGAY_YL="202603010900",
             NGAY_TH_YL="202603010910", NGUON_CTRA=1, VET_THUONG_TP=0)
    r.update(over)
    return r


def xml4(ma_lk, stt=1, **over):
    r = dict(MA_LK=ma_lk, STT=stt, MA_DICH_VU="23.0075.1494", MA_CHI_SO="GLU", TEN_CHI_SO="Glucose",
             GIA_TRI="5.6", DON_VI_DO="mmol/L", KET_LUAN="Bình thường", NGAY_KQ="202603010945",
             MA_BS_DOC_KQ="0101234568")
    r.update(over)
    return r


def xml13(ma_lk, **over):
    r = dict(MA_LK=ma_lk, SO_HOSO="HS" + ma_lk, SO_CHUYENTUYEN="CT-" + ma_lk, GIAY_CHUYEN_TUYEN="GCT-" + ma_lk,
             MA_CSKCB=FAC, MA_NOI_DI=FAC, MA_NOI_DEN="01002", HO_TEN="Nguyễn Văn An", NGAY_RA="202603011030",
             DAU_HIEU_LS="Sốt cao, khó thở", CHAN_DOAN_RV="Viêm phổi", QT_BENHLY="Sốt 3 ngày", TEN_DICH_VU="Chụp X-quang",
             MA_LYDO_CT=1, HUONG_DIEU_TRI="Điều trị kháng sinh", PHUONGTIEN_VC="Xe cứu thương",
             MA_BAC_SI="000123/HNO-CCHN", MA_TTDV="0101234567")
    r.update(over)
    return r


def xml14(ma_lk, **over):
    r = dict(MA_LK=ma_lk, SO_GIAYHEN_KL="HEN-" + ma_lk, MA_CSKCB=FAC, HO_TEN="Nguyễn Văn An",
             NGAY_RA="202603011030", NGAY_HEN_KL="202603150800", CHAN_DOAN_RV="Viêm họng cấp",
             MA_BAC_SI="000123/HNO-CCHN", MA_TTDV="0101234567", NGAY_CT="20260301")
    r.update(over)
    return r


def xml9(ma_lk, **over):
    r = dict(MA_LK=ma_lk, HO_TEN_NND="Trần Thị Bình", NGAYSINH_NND="19950210", MA_DANTOC_NND="01",
             SO_CCCD_NND="001195000456", NGAYCAP_CCCD_NND="20210510", NOICAP_CCCD_NND="Cục Cảnh sát QLHC về TTXH",
             NOI_CU_TRU_NND="Số 1 phố Huế, Hà Nội", MA_QUOCTICH="000", MATINH_CU_TRU="01", MAHUYEN_CU_TRU="001",
             MAXA_CU_TRU="00001", HO_TEN_CON="Nguyễn Văn Bình", GIOI_TINH_CON=1, SO_CON=1, LAN_SINH=1, SO_CON_SONG=1,
             CAN_NANG_CON=3200, NGAY_SINH_CON="202603010945", NOI_SINH_CON="Bệnh viện Đa khoa Hà Nội",
             TINH_TRANG_CON="Khỏe mạnh", SINHCON_PHAUTHUAT=0, SINHCON_DUOI32TUAN=0, GHI_CHU="Không",
             NGUOI_DO_DE="Lê Thị Cúc", NGUOI_GHI_PHIEU="Phạm Văn Dũng", NGAY_CT="20260301", SO="00001",
             QUYEN_SO="01/2026", MA_TTDV="0101234567")
    r.update(over)
    return r


def xml11(ma_lk, **over):
    r = dict(MA_LK=ma_lk, SO_CT="CT07-" + ma_lk, SO_SERI="S1", SO_KCB="K1", DON_VI="Công ty TNHH An Bình",
             MA_BHXH="0101234569", CHAN_DOAN_RV="Viêm họng cấp", PP_DIEUTRI="Nội khoa", SO_NGAY_NGHI=3,
             TU_NGAY="20260301", DEN_NGAY="20260303", MA_TTDV="0101234567", MA_BS="0101234570", NGAY_CT="20260301")
    r.update(over)
    return r


def good(ma_lk, *, meds=1, **x1):
    return {"XML1": [xml1(ma_lk, **x1)], "XML2": [xml2(ma_lk, i + 1) for i in range(meds)],
            "XML4": [xml4(ma_lk)]}


def totals(meds):
    t = f"{20000 * meds}.00"
    return dict(T_THUOC=t, T_TONGCHI_BV=t, T_TONGCHI_BH=t, T_BNCCT=f"{4000 * meds}.00",
                T_BHTT=f"{16000 * meds}.00")


def run(url, data: bytes, principal=CLINIC, **kw) -> IngestBatch:
    return ingest_xml130(io.BytesIO(data), principal, database_url=url, filename="test.xml", **kw)


# --- tests ----------------------------------------------------------------------------------------------------


def test_partly_bad_file_keeps_the_good_dossiers(db_url):
    docs = good("LK3", **totals(1))
    docs.update(XML13=[xml13("LK3")], XML14=[xml14("LK3")], XML9=[xml9("LK3")], XML11=[xml11("LK3")])
    env = envelope(FAC, [
        good("LK1", **totals(1)),
        good("LK2", NGAY_VAO="2026-03-01"),
        docs,
        {"XML1": b"%%%not base64%%%"},
    ])
    batch = run(db_url, env, chunk_size=2)
    assert batch.status == "done"
    assert (batch.dossiers, batch.accepted, batch.rejected, batch.updated, batch.unchanged) == (4, 2, 2, 0, 0)
    errs = batch.errors
    assert {"ma_lk": "LK2", "table": "XML1", "record": 0, "field": "NGAY_VAO", "code": "invalid_datetime"} \
        .items() <= next(e for e in errs if e["ma_lk"] == "LK2").items()
    assert any(e["code"] == "invalid_base64" and e["field"] == "NOIDUNGFILE" for e in errs)
    assert all(e.get("severity", "error") == "error" for e in errs)  # warnings are not reported as errors
    assert batch.error_count == len(errs)
    with session_factory(db_url)() as s:
        assert sorted(s.scalars(select(Visit.ma_lk))) == ["LK1", "LK3"]
        v3 = s.scalars(select(Visit).where(Visit.ma_lk == "LK3")).one()
        assert v3.personal_id == "001090000123" and v3.weight_kg == Decimal("60.50") and v3.main_icd == "J02.9"
        assert v3.admitted_at.replace(tzinfo=v3.admitted_at.tzinfo or timezone.utc) == \
            datetime(2026, 3, 1, 8, 30, tzinfo=VN)
        kinds = sorted(s.scalars(select(Certificate.kind).where(Certificate.visit_id == v3.id)))
        assert kinds == ["birth", "sick_leave"]
        birth = s.scalars(select(Certificate).where(Certificate.kind == "birth")).one()
        assert birth.number == "00001" and birth.data["HO_TEN_CON"] == "Nguyễn Văn Bình"
        assert birth.data["NGAY_SINH_CON"] == "2026-03-01T09:45:00+07:00"
        leave = s.scalars(select(Certificate).where(Certificate.kind == "sick_leave")).one()
        assert leave.valid_until == date(2026, 3, 3)
        ref = s.scalars(select(Referral)).one()
        assert (ref.number, ref.to_facility, ref.reason_code, ref.from_facility) == ("CT-LK3", "01002", "1", FAC)
        topics = sorted(s.scalars(select(OutboxEvent.topic)))
        assert topics == ["health.appointment.created", "health.certificate.issued", "health.certificate.issued",
                          "health.referral.issued", "health.visit.accepted", "health.visit.accepted"]
        prof = s.get(HealthProfile, "001090000123")
        assert sorted(c["icd10"] for c in prof.chronic_conditions) == ["E11.9", "I10"]
        assert prof.weight_kg == Decimal("60.50")


def test_resubmission_is_idempotent_and_versioned(db_url):
    env = envelope(FAC, [good(f"LK{i}", **totals(1)) for i in range(5)])
    first = run(db_url, env, chunk_size=2)
    again = run(db_url, env, chunk_size=2)
    assert (first.accepted, first.resources) == (5, 5 * 6)  # visit + 3 diagnoses + 1 medication + 1 lab
    assert (again.accepted, again.updated, again.unchanged, again.resources) == (0, 0, 5, 0)
    changed = envelope(FAC, [good(f"LK{i}", **totals(1)) for i in range(4)] + [good("LK4", meds=2, **totals(2))])
    third = run(db_url, changed)
    assert (third.accepted, third.updated, third.unchanged) == (0, 1, 4)
    with session_factory(db_url)() as s:
        assert s.scalar(select(func.count()).select_from(Visit)) == 5
        v = s.scalars(select(Visit).where(Visit.ma_lk == "LK4")).one()
        assert v.version == 2
        assert s.scalar(select(func.count()).select_from(Medication).where(Medication.visit_id == v.id)) == 2
        assert s.scalar(select(func.count()).select_from(IngestBatch).where(IngestBatch.status == "done")) == 3


def test_facility_mismatch_stores_nothing(db_url):
    env = envelope("01002", [good("LK1", facility="01002", **totals(1))])
    with pytest.raises(FacilityMismatch) as err:
        run(db_url, env)
    assert err.value.status_code == 403 and "01002" in err.value.message
    with session_factory(db_url)() as s:
        assert s.scalar(select(func.count()).select_from(IngestBatch)) == 0
        assert s.scalar(select(func.count()).select_from(Visit)) == 0


def test_dossier_of_another_facility_inside_the_envelope_is_rejected(db_url):
    env = envelope(FAC, [good("LK1", **totals(1)), good("LK2", MA_CSKCB="01002", **totals(1))])
    batch = run(db_url, env)
    assert (batch.accepted, batch.rejected) == (1, 1)
    assert any(e["ma_lk"] == "LK2" and e["field"] == "MA_CSKCB" and e["code"] == "facility_mismatch"
               for e in batch.errors)


def test_hostile_envelope_is_refused_before_storing(db_url):
    env = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
           b"<GIAMDINHHS><THONGTINDONVI><MACSKCB>&lol2;</MACSKCB></THONGTINDONVI></GIAMDINHHS>")
    with pytest.raises(EnvelopeError) as err:
        run(db_url, env)
    assert err.value.code == "hostile_input"
    with session_factory(db_url)() as s:
        assert s.scalar(select(func.count()).select_from(IngestBatch)) == 0


def test_envelope_broken_midway_keeps_committed_chunks_and_fails_the_batch(db_url):
    env = envelope(FAC, [good(f"LK{i}", **totals(1)) for i in range(3)])
    cut = env.index(b"<HOSO>", env.index(b"</HOSO>")) + 10  # inside the second dossier
    batch = run(db_url, env[:cut] + b"<<<broken", chunk_size=1)
    assert batch.status == "failed" and batch.accepted == 1
    assert batch.errors[-1]["table"] == "GIAMDINHHS" and batch.errors[-1]["code"] == "malformed_xml"
    with session_factory(db_url)() as s:
        assert list(s.scalars(select(Visit.ma_lk))) == ["LK0"]
    # The complete file then completes the batch without duplicates.
    done = run(db_url, env)
    assert (done.status, done.accepted, done.unchanged) == ("done", 2, 1)


def test_death_outcome_yields_a_death_certificate(db_url):
    env = envelope(FAC, [good("LKD", KET_QUA_DTRI=5, MA_LOAI_RV=1, **totals(1))])
    batch = run(db_url, env)
    assert batch.accepted == 1, batch.errors
    with session_factory(db_url)() as s:
        cert = s.scalars(select(Certificate)).one()
        assert cert.kind == "death" and cert.personal_id == "001090000123"
        assert cert.data["derived_from"] == "XML1.KET_QUA_DTRI" and cert.data["MA_BENH_CHINH"] == "J02.9"
        event = s.scalars(select(OutboxEvent.payload).where(OutboxEvent.topic == "health.certificate.issued")).one()
        assert event["kind"] == "death" and event["certificate_id"] == cert.id


def test_mapping_of_identity_sex_blood_group_and_cards():
    from lienthong.gateway.xml130.validate import validate_envelope
    from lienthong.health.xml_mapping import dossier_to_visit

    env = envelope(FAC, [
        good("A", NHOM_MAU="AB+", GIOI_TINH=2, SO_CCCD="001190000123", **totals(1)),
        good("B", NHOM_MAU="XYZ", SO_CCCD="123456789", NGAY_SINH="199000000000", **totals(1)),
    ])
    results = list(validate_envelope(io.BytesIO(env), authenticated_facility=FAC))
    assert all(r.accepted for r in results), [e for r in results for e in r.errors if e.is_error]
    a, b = (dossier_to_visit(r.dossier, r.values) for r in results)
    assert (a.sex, a.blood_group, a.personal_id, a.birth_date) == ("F", "AB+", "001190000123", date(1990, 5, 4))
    assert (b.blood_group, b.personal_id, b.birth_date) == (None, None, None)  # CMND is not a personal ID
    assert a.insurance_card == "DN4010012345678" and a.visit_type == "01" and a.outcome == "1"
    assert [d.icd10 for d in a.diagnoses] == ["J02.9", "I10", "E11.9"] and a.diagnoses[0].is_primary
    assert a.medications[0].quantity == Decimal("20.000") and a.medications[0].route == "1.01"
    assert a.lab_results[0].conclusion == "Bình thường" and a.lab_results[0].value == "5.6"
    assert a.raw["XML1"][0]["NHOM_MAU"] == "AB+" and "DIEN_THOAI" not in a.raw["XML1"][0]
    assert a.resource_count() == 1 + 3 + 1 + 1


def test_worker_processes_give_the_same_results(db_url, tmp_path):
    """Decoding, inner parsing, validation and mapping in worker processes (as for large files)."""
    env = envelope(FAC, [good("W1", **totals(1)), good("W2", NGAY_VAO="bad"), {"XML1": b"@@@"},
                         good("W4", meds=2, **totals(2))])
    path = tmp_path / "env.xml"
    path.write_bytes(env)
    batch = ingest_xml130(str(path), CLINIC, database_url=db_url, workers=1, chunk_size=2)
    assert (batch.status, batch.dossiers, batch.accepted, batch.rejected) == ("done", 4, 2, 2)
    assert {(e["ma_lk"], e["code"]) for e in batch.errors} >= {("W2", "invalid_datetime")}
    assert any(e["code"] == "invalid_base64" for e in batch.errors)
    again = ingest_xml130(str(path), CLINIC, database_url=db_url, workers=0)
    assert (again.accepted, again.unchanged) == (0, 2)  # same canonical records from both paths
    with session_factory(db_url)() as s:
        v = s.scalars(select(Visit).where(Visit.ma_lk == "W4")).one()
        assert v.record["raw"]["XML2"][1]["STT"] == "2"  # raw kept in the stored record
        assert s.scalar(select(func.count()).select_from(Medication).where(Medication.visit_id == v.id)) == 2


def test_cli_gen_and_ingest(db_url, tmp_path):
    from typer.testing import CliRunner

    from lienthong.cli import app

    runner = CliRunner()
    path = tmp_path / "gen.xml"
    r = runner.invoke(app, ["gen", "xml130", str(path), "--visits", "12", "--seed", "4"])
    assert r.exit_code == 0, r.output
    assert path.stat().st_size > 0
    r = runner.invoke(app, ["ingest", str(path), "--database-url", db_url])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["ingest", str(path), "--facility", "01002", "--database-url", db_url])
    assert r.exit_code == 2 and "không khớp" in r.output
    with session_factory(db_url)() as s:
        assert s.scalar(select(func.count()).select_from(Visit)) == 12
        batch = s.scalars(select(IngestBatch)).one()
        assert (batch.status, batch.accepted, batch.client_id, batch.filename) == ("done", 12, "cli", "gen.xml")


def test_a_dead_worker_fails_the_batch_and_the_next_ingest_gets_a_fresh_pool(pg_url, tmp_path):
    import os
    import signal
    from concurrent.futures.process import BrokenProcessPool

    from lienthong.health import xml_mapping

    path = tmp_path / "env.xml"
    path.write_bytes(envelope(FAC, [good(f"K{i}", **totals(1)) for i in range(3)]))
    pool = xml_mapping._get_pool(1)
    pool.submit(abs, 1).result()  # start the worker
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(BrokenProcessPool):
        ingest_xml130(str(path), CLINIC, database_url=pg_url, workers=1)
    with session_factory(pg_url)() as s:
        assert s.scalars(select(IngestBatch.status)).all() == ["failed"]
    batch = ingest_xml130(str(path), CLINIC, database_url=pg_url, workers=1)
    assert (batch.status, batch.accepted) == ("done", 3)


@pytest.mark.parametrize("workers", [0, 1])
def test_personal_ids_of_births_abroad_follow_the_configured_prefixes(db_url, monkeypatch, workers):
    # 999 is no province: the ID is refused until 999 is configured as an abroad code (as the FHIR
    # path, the registry and the judicial look-up do); workers get the options from the ingesting process.
    from lienthong.config import reset_settings_cache

    env = envelope(FAC, [good("LKA", pid="999090000123", **totals(1))])
    batch = run(db_url, env, workers=workers)
    assert (batch.accepted, batch.rejected) == (0, 1)
    assert any(e["field"] == "SO_CCCD" and e["code"] == "invalid_personal_id" and "999" in e["message"]
               for e in batch.errors)
    monkeypatch.setenv("LIENTHONG_ABROAD_ID_PREFIXES", '["999"]')
    reset_settings_cache()
    batch = run(db_url, env, workers=workers)
    assert (batch.accepted, batch.rejected) == (1, 0), batch.errors
    with session_factory(db_url)() as s:
        assert s.scalars(select(Visit.personal_id).where(Visit.ma_lk == "LKA")).one() == "999090000123"


class _InlinePool:
    """Stands in for the worker pool: runs each group here and records the HOSO sent to it."""

    def __init__(self):
        self.sent: list = []

    def submit(self, fn, group, *args):
        from concurrent.futures import Future

        self.sent.extend(d.index for d in group)
        future = Future()
        future.set_result(fn(group, *args))
        return future


@pytest.fixture
def inline_pool(monkeypatch):
    from lienthong.health import xml_mapping

    pool = _InlinePool()
    monkeypatch.setattr(xml_mapping, "_get_pool", lambda workers: pool)
    return pool


def _medications(url, ma_lk) -> int:
    with session_factory(url)() as s:
        v = s.scalars(select(Visit).where(Visit.ma_lk == ma_lk)).one()
        return v.version, s.scalar(select(func.count()).select_from(Medication).where(Medication.visit_id == v.id))


def test_identical_hoso_are_not_validated_again(db_url, inline_pool, monkeypatch):
    from lienthong.health import xml_mapping

    env = envelope(FAC, [good(f"LK{i}", **totals(1)) for i in range(3)])
    first = run(db_url, env, workers=0)  # digests are the same in both modes
    assert (first.accepted, first.unchanged) == (3, 0)
    assert (run(db_url, env, workers=0).unchanged, inline_pool.sent) == (3, [])  # in process too
    again = run(db_url, env, workers=1)
    assert inline_pool.sent == []  # nothing parsed or validated again
    assert (again.dossiers, again.accepted, again.updated, again.unchanged, again.rejected) == (3, 0, 0, 3, 0)
    changed = envelope(FAC, [good("LK0", **totals(1)), good("LK1", meds=2, **totals(2)), good("LK2", **totals(1))])
    third = run(db_url, changed, workers=1)
    assert inline_pool.sent == [2]  # only the changed HOSO
    assert (third.accepted, third.updated, third.unchanged) == (0, 1, 2)
    assert _medications(db_url, "LK1") == (2, 2)
    # Another digest version (validation or mapping changed): everything is processed again; the
    # content is the same, so nothing is written
    inline_pool.sent.clear()
    monkeypatch.setattr(xml_mapping, "SOURCE_DIGEST_VERSION", "xml130/test")
    fourth = run(db_url, changed, workers=1)
    assert inline_pool.sent == [1, 2, 3] and (fourth.updated, fourth.unchanged) == (0, 3)


@pytest.mark.parametrize("workers", [0, 1])
def test_a_visit_twice_in_one_file_ends_as_its_last_hoso(db_url, inline_pool, workers):
    # Stored: LK1 with 1 medication. The file changes it (2 medications), then repeats the stored
    # HOSO: the last one wins, as without the identical-HOSO shortcut.
    old = good("LK1", **totals(1))
    run(db_url, envelope(FAC, [old]), workers=0)
    batch = run(db_url, envelope(FAC, [good("LK1", meds=2, **totals(2)), old]), workers=workers)
    assert (batch.updated, batch.unchanged, batch.rejected) == (2, 0, 0)
    assert _medications(db_url, "LK1") == (3, 1)


def test_with_workers_the_dossiers_read_before_a_break_are_kept(db_url, inline_pool):
    env = envelope(FAC, [good(f"LK{i}", **totals(1)) for i in range(3)])
    cut = env.index(b"<HOSO>", env.index(b"</HOSO>", env.index(b"</HOSO>") + 1)) + 10  # inside the third
    batch = run(db_url, env[:cut] + b"<<<broken", chunk_size=1, workers=1)
    assert (batch.status, batch.accepted) == ("failed", 2)  # the group in progress was processed first
    assert batch.errors[-1]["code"] == "malformed_xml"
    with session_factory(db_url)() as s:
        assert sorted(s.scalars(select(Visit.ma_lk))) == ["LK0", "LK1"]
