"""HTTP API of the XML 130/4750 gateway: authentication and authorization, receipts, partly bad
files, idempotent resubmission, and hostile input (always a clear 4xx, never a 500)."""

from __future__ import annotations

import base64
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lienthong.db import session_factory, utcnow
from lienthong.gateway.xml130.generate import write_envelope
from lienthong.health.models import IngestBatch, Visit
from lienthong.identity.principal import Principal

FAC = "01001"
URL = "/api/v1/gateway/xml130"
XML = {"Content-Type": "application/xml"}


def facility(code: str = FAC, scopes=("health.submit",)) -> Principal:
    return Principal(kind="facility", subject=f"client-{code}", name=f"Cơ sở {code}", facility_code=code,
                     scopes=frozenset(scopes))


CITIZEN = Principal(kind="citizen", subject="001090000123", personal_id="001090000123", assurance_level=2)
ADMIN = Principal(kind="admin", subject="001080000001", personal_id="001080000001", assurance_level=2)


@pytest.fixture
def api(client):
    """The application's test client (the shared ``client`` fixture)."""
    return client


def envelope(visits: int, *, code: str = FAC, seed: int = 1, error_rate: float = 0.0):
    buf = io.BytesIO()
    result = write_envelope(buf, visits, facility_code=code, seed=seed, error_rate=error_rate)
    return buf.getvalue(), result


def post(api, bearer, body: bytes, principal=None, headers=XML, **kw):
    h = dict(headers)
    if principal is not None:
        h.update(bearer(principal))
    return api.post(URL, content=body, headers=h, **kw)


def test_authentication_and_authorization(api, bearer):
    body, _ = envelope(1)
    assert post(api, bearer, body).status_code == 401
    assert post(api, bearer, body, CITIZEN).status_code == 403
    assert post(api, bearer, body, facility(scopes=("directory.read",))).status_code == 403
    r = post(api, bearer, body, facility("01002"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "facility_mismatch"
    assert "01001" in r.json()["error"]["message"]
    with session_factory()() as s:
        assert s.scalar(select(func.count()).select_from(IngestBatch)) == 0
    assert api.get("/api/v1/gateway/batches/x").status_code == 401


def test_receipt_idempotent_resubmission_and_batch_visibility(api, bearer):
    body, gen = envelope(6, seed=3)
    r = post(api, bearer, body, facility(), params={"filename": "thang3.xml"})
    assert r.status_code == 200, r.text
    rec = r.json()
    assert rec["status"] == "done" and rec["filename"] == "thang3.xml"
    assert (rec["dossiers"], rec["accepted"], rec["updated"], rec["unchanged"], rec["rejected"]) == (6, 6, 0, 0, 0)
    assert rec["resources"] >= 6 * 2 and rec["errors"] == [] and rec["error_count"] == 0
    again = post(api, bearer, body, facility(), headers={"Content-Type": "application/octet-stream"}).json()
    assert (again["accepted"], again["unchanged"], again["resources"]) == (0, 6, 0)
    with session_factory()() as s:
        assert s.scalar(select(func.count()).select_from(Visit)) == 6
        assert s.scalar(select(func.count(func.distinct(Visit.ma_lk)))) == 6

    got = api.get(f"/api/v1/gateway/batches/{rec['batch_id']}", headers=bearer(facility()))
    assert got.status_code == 200 and got.json()["accepted"] == 6
    assert api.get(f"/api/v1/gateway/batches/{rec['batch_id']}", headers=bearer(facility("01002"))).status_code == 404
    assert api.get(f"/api/v1/gateway/batches/{rec['batch_id']}", headers=bearer(ADMIN)).status_code == 200
    assert api.get(f"/api/v1/gateway/batches/{rec['batch_id']}", headers=bearer(CITIZEN)).status_code == 403
    assert api.get("/api/v1/gateway/batches/nope", headers=bearer(facility())).status_code == 404


def test_partly_bad_file_reports_every_injected_error(api, bearer):
    body, gen = envelope(30, seed=11, error_rate=0.3)
    assert gen.injected, "the generator should have injected defects"
    rec = post(api, bearer, body, facility()).json()
    bad = {e.ma_lk for e in gen.injected}
    assert rec["dossiers"] == 30 and rec["rejected"] == len(bad) and rec["accepted"] == 30 - len(bad)
    for inj in gen.injected:
        assert any(e["ma_lk"] == inj.ma_lk and e["table"] == inj.table and e["field"] == inj.field
                   and e["code"] == inj.code for e in rec["errors"]), inj
    for e in rec["errors"]:
        assert set(e) >= {"ma_lk", "table", "record", "field", "code", "message"}
    with session_factory()() as s:
        stored = set(s.scalars(select(Visit.ma_lk)))
    assert len(stored) == 30 - len(bad) and not stored & bad


XXE = (b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE GIAMDINHHS [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
       b"<GIAMDINHHS><THONGTINDONVI><MACSKCB>&xxe;</MACSKCB></THONGTINDONVI></GIAMDINHHS>")
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10))
          + b"]><GIAMDINHHS><THONGTINDONVI><MACSKCB>&lol9;</MACSKCB></THONGTINDONVI></GIAMDINHHS>")


@pytest.mark.parametrize("body, code", [
    (XXE, "hostile_input"),
    (LAUGHS, "hostile_input"),
    (b"<GIAMDINHHS><THONGTINDONVI><MACSKCB>01001</MACSKCB></THONG", "malformed_xml"),
    (b"\x89PNG\r\n\x1a\n not xml at all", "malformed_xml"),
    (b"<OTHER/>", "unexpected_structure"),
], ids=["xxe", "billion-laughs", "truncated", "binary", "wrong-root"])
def test_hostile_or_broken_envelopes_are_400(api, bearer, body, code):
    r = post(api, bearer, body, facility())
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code
    with session_factory()() as s:
        assert s.scalar(select(func.count()).select_from(Visit)) == 0


def _with_inner(body: bytes, replacement: str) -> bytes:
    """Replace the first NOIDUNGFILE content of the envelope."""
    start = body.index(b"<NOIDUNGFILE>") + len(b"<NOIDUNGFILE>")
    end = body.index(b"</NOIDUNGFILE>", start)
    return body[:start] + replacement.encode() + body[end:]


def test_hostile_inner_files_are_per_dossier_errors(api, bearer):
    body, _ = envelope(3, seed=5)
    inner_xxe = base64.b64encode(XXE).decode()
    for replacement, code in (("###not-base64###", "invalid_base64"), (inner_xxe, "hostile_input")):
        rec = post(api, bearer, _with_inner(body, replacement), facility()).json()
        assert rec["status"] == "done" and rec["rejected"] == 1 and rec["accepted"] + rec["unchanged"] == 2
        assert any(e["code"] == code for e in rec["errors"]), rec["errors"]


def test_huge_inner_file_is_a_clear_400(api, bearer):
    body, _ = envelope(1, seed=5)
    r = post(api, bearer, _with_inner(body, "A" * 11_000_000), facility())
    assert r.status_code == 400 and r.json()["error"]["code"] == "file_too_large"


def test_size_cap_content_type_and_empty_body(api, bearer, monkeypatch):
    body, _ = envelope(2)
    monkeypatch.setenv("LIENTHONG_GATEWAY_MAX_BYTES", "1000")
    r = post(api, bearer, body, facility())
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    # chunked (no Content-Length): counted while it arrives; the partial upload is removed
    r = post(api, bearer, (body[i:i + 300] for i in range(0, len(body), 300)), facility())
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert "1,000 byte" in r.json()["error"]["message"]
    from lienthong.config import get_settings
    assert list((Path(get_settings().state_dir) / "uploads").iterdir()) == []
    monkeypatch.delenv("LIENTHONG_GATEWAY_MAX_BYTES")
    assert post(api, bearer, body, facility(), headers={"Content-Type": "application/json"}).status_code == 415
    assert post(api, bearer, b"", facility()).status_code == 400


def test_stale_receiving_batch_is_reported_interrupted(api, bearer):
    from lienthong.health import ingest

    with session_factory()() as s:
        batch = ingest.new_batch(s, facility(), source="xml130", filename="x.xml")
        batch.updated_at = utcnow() - timedelta(hours=1)
        s.commit()
        batch_id = batch.id
    rec = api.get(f"/api/v1/gateway/batches/{batch_id}", headers=bearer(facility())).json()
    assert rec["status"] == "failed" and rec["errors"][-1]["code"] == "interrupted"


def test_upload_is_spooled_to_disk_and_removed(api, bearer, tmp_path):
    from lienthong.config import get_settings

    body, _ = envelope(2)
    assert post(api, bearer, body, facility()).status_code == 200
    uploads = get_settings().state_dir / "uploads"
    assert uploads.is_dir() and list(uploads.iterdir()) == []
