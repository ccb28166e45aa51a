"""Helpers for the XML 130 adapter tests (envelopes built by hand around synthetic inner files)."""

from __future__ import annotations

import base64

from lienthong.gateway.xml130.generate import sample_visit, table_xml
from lienthong.gateway.xml130.spec import QD4750

FACILITY = "01001"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def visit_files(seed: int = 0, index: int = 1, facility: str = FACILITY) -> list[tuple[str, str]]:
    """[(LOAIHOSO, base64 content)] of one valid synthetic visit."""
    tables = sample_visit(facility_code=facility, seed=seed, index=index)
    return [(name, b64(table_xml(QD4750, name, rows))) for name, rows in tables.items()]


def envelope(hosos: list[list[tuple[str, str]]], *, facility: str = FACILITY, count: int | None = None,
             prolog: str = '<?xml version="1.0" encoding="utf-8"?>\n') -> bytes:
    out = [prolog, "<GIAMDINHHS>\n", f"<THONGTINDONVI><MACSKCB>{facility}</MACSKCB></THONGTINDONVI>\n",
           f"<THONGTINHOSO><NGAYLAP>20250701</NGAYLAP><SOLUONGHOSO>{len(hosos) if count is None else count}"
           "</SOLUONGHOSO>\n<DANHSACHHOSO>\n"]
    for files in hosos:
        out.append("<HOSO>\n")
        for loai, content in files:
            out.append(f"<FILEHOSO><LOAIHOSO>{loai}</LOAIHOSO><NOIDUNGFILE>{content}</NOIDUNGFILE></FILEHOSO>\n")
        out.append("</HOSO>\n")
    out.append("</DANHSACHHOSO>\n</THONGTINHOSO>\n<CHUKYDONVI/>\n</GIAMDINHHS>\n")
    return "".join(out).encode("utf-8")
