"""Shared builders for the judicial tests."""

from __future__ import annotations

import re
import zlib
from datetime import date

from lienthong.db import unit_of_work
from lienthong.geo import units
from lienthong.identity.principal import Principal
from lienthong.population import schemas as pop_schemas
from lienthong.population import service as pop_service

ADMIN = Principal(kind="admin", subject="001080000011", name="Quản trị", personal_id="001080000011", assurance_level=2)
COURT = Principal(kind="agency", subject="tand-hanoi", name="Tòa án nhân dân Thành phố Hà Nội", agency_code="TAND01",
                  scopes=frozenset({"judicial.feed"}))
ENFORCER = Principal(kind="agency", subject="thads-hanoi", name="Cục Thi hành án dân sự Hà Nội", agency_code="THADS01",
                     scopes=frozenset({"judicial.feed"}))

HN = 1
HCM = 79


def citizen(pid: str, level: int = 2, name: str = "Nguyễn Văn An") -> Principal:
    return Principal(kind="citizen", subject=pid, name=name, personal_id=pid, assurance_level=level)


def officer(province: int = HN, pid: str = "001082000022") -> Principal:
    return Principal(kind="officer", subject=pid, name="Cán bộ", personal_id=pid, assurance_level=2,
                     province_code=province)


def register(pid: str, birth: str, *, sex: str = "M", family: str = "Nguyễn", middle: str = "Văn", given: str = "An",
             province: int = HN, father_id: str | None = None) -> None:
    ward = int(units.wards_of(province)[0].code)
    with unit_of_work() as s:
        pop_service.register_citizen(s, ADMIN, pop_schemas.CitizenIn(
            personal_id=pid, family_name=family, middle_name=middle, given_name=given, birth_date=date.fromisoformat(birth),
            sex=sex, residence=pop_schemas.ResidenceIn(province_code=province, ward_code=ward, street="Số 12 phố Lê Duẩn",
                                                        valid_from=date(2025, 7, 1)),
            father_id=father_id,
        ))


def conviction_body(pid: str, **over) -> dict:
    body = {
        "personal_id": pid, "full_name": "Nguyễn Văn An", "birth_date": "1990-05-17",
        "court_code": "TAND01", "court_name": "Tòa án nhân dân Thành phố Hà Nội",
        "judgment_number": "125/2024/HS-ST", "judgment_date": "2024-03-12", "legal_effect_date": "2024-03-27",
        "offences": [{"name": "Trộm cắp tài sản", "article": 173, "clause": 1, "severity": "less_serious",
                      "intentional": True, "offence_date": "2023-10-02"}],
        "penalty_type": "imprisonment", "term_months": 24,
        "civil_obligations": "Bồi thường cho bị hại 15.000.000 đồng", "court_fee": "200.000 đồng án phí hình sự sơ thẩm",
        "has_other_obligations": True, "enforcement_status": "Đang chấp hành án phạt tù",
    }
    body.update(over)
    return body


# ---------------------------------------------------------------------------------------------
# Minimal PDF text extraction (reportlab output: Flate streams, TrueType subsets with ToUnicode)
# ---------------------------------------------------------------------------------------------
def _objects(pdf: bytes) -> dict[int, bytes]:
    out = {}
    for m in re.finditer(rb"(?m)^(\d+) 0 obj", pdf):
        end = pdf.index(b"endobj", m.end())
        out[int(m.group(1))] = pdf[m.end():end]
    return out


def _streams(pdf: bytes) -> dict[int, bytes]:
    out = {}
    for num, body in _objects(pdf).items():
        if b"stream" not in body:
            continue
        head, _, rest = body.partition(b"stream")
        raw = rest.lstrip(b"\r\n")
        raw = raw[: raw.rindex(b"endstream")].rstrip(b"\r\n")
        if b"ASCII85Decode" in head:
            import base64

            raw = base64.a85decode(raw.strip().removesuffix(b"~>"))
        out[num] = zlib.decompress(raw) if b"FlateDecode" in head else raw
    return out


def _cmap(data: bytes) -> dict[int, str]:
    mapping = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for a, b, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            base = int(dst, 16)
            for i, code in enumerate(range(int(a, 16), int(b, 16) + 1)):
                mapping[code] = chr(base + i)
    return mapping


def _literal(s: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == 0x5C:  # backslash
            i += 1
            n = s[i:i + 1]
            if n in b"01234567":
                j = i
                while j < len(s) and j < i + 3 and s[j:j + 1] in b"01234567":
                    j += 1
                out.append(int(s[i:j], 8) & 0xFF)
                i = j
                continue
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(n, n)
        else:
            out.append(c)
        i += 1
    return bytes(out)


def pdf_text(pdf: bytes) -> str:
    """Text of a reportlab PDF, decoded through each font's ToUnicode CMap."""
    streams = _streams(pdf)
    # font resource name -> ToUnicode object number
    font_obj = {}
    for body in _objects(pdf).values():
        tu = re.search(rb"/ToUnicode (\d+) 0 R", body)
        name = re.search(rb"/Name /(\S+)", body)
        if tu and name:
            font_obj[name.group(1)] = int(tu.group(1))
    cmaps = {name: _cmap(streams[num]) for name, num in font_obj.items() if num in streams}
    texts = []
    for data in streams.values():
        if b"BT" not in data or b"Tf" not in data:
            continue
        current = None
        for tok in re.finditer(rb"/(\S+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj|(T\*|Td|TD|Tm|ET)", data, re.S):
            if tok.group(1):
                current = cmaps.get(tok.group(1), {})
            elif tok.group(2) is not None and current is not None:
                texts.append("".join(current.get(b, "?") for b in _literal(tok.group(2))))
            elif tok.group(3):
                texts.append("\n")
    return "".join(texts)
