"""Streaming parser for GIAMDINHHS claim envelopes (QĐ 130/4750, §2.2 of health-standards.md).

Memory stays constant in the number of dossiers: the envelope is read with ``lxml.etree.iterparse``
and every ``HOSO`` is cleared and detached once yielded. Each ``NOIDUNGFILE`` (base64 of one inner
XML file) is decoded per file with a size cap and parsed with the same hardened settings.

Hardening: DTDs are never loaded, entities never resolved, no network, no huge-tree mode. Any
``<!DOCTYPE``/``<!ENTITY`` (or other markup declaration) in the prolog of the envelope or of an inner
file is rejected outright as hostile input, before lxml sees the bytes. Only UTF-8 is accepted.

Problems inside one dossier (bad base64, invalid UTF-8, malformed or hostile inner XML, unknown
LOAIHOSO, missing XML1, MA_LK mismatch, too many dossiers for SOLUONGHOSO...) become
:class:`FieldError` entries on that :class:`Dossier` and parsing continues. A broken outer envelope
raises :class:`EnvelopeError` (HTTP 400) with the line number; dossiers already yielded must then be
discarded by the caller (the file as a whole is rejected).

libxml2 refuses any single text node over 10,000,000 characters without huge-tree mode, so a
``NOIDUNGFILE`` above ~7.5 MB decoded aborts the envelope (``file_too_large``); below that, the
configurable per-file cap (:data:`DEFAULT_MAX_FILE_BYTES`) applies per dossier.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import os
import re
from dataclasses import dataclass, field
from typing import IO, BinaryIO, Iterator

from lxml import etree

from lienthong.gateway.xml130.errors import DOSSIER, ENVELOPE, EnvelopeError, FieldError
from lienthong.gateway.xml130.spec import SpecVersion, TableSpec, latest

DEFAULT_MAX_FILE_BYTES = 7 * 1024 * 1024  # decoded size of one inner file
MAX_PROLOG_BYTES = 64 * 1024
# Elements held in memory between two clears (a HOSO has ~3 per inner file); more means a hostile or
# broken envelope rather than a claim.
MAX_PENDING_ELEMENTS = 10_000
READ_CHUNK = 1024 * 1024
ROOT = "GIAMDINHHS"

_WS = b" \t\r\n"
_ENCODING_RE = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF8_NAMES = {b"utf-8", b"utf8"}


def hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           dtd_validation=False, remove_comments=True, remove_pis=True, recover=False,
                           encoding="utf-8")


class _Hostile(Exception):
    pass


class _BadProlog(Exception):
    def __init__(self, message: str, code: str = "malformed_xml"):
        super().__init__(message)
        self.code = code


def scan_prolog(buf: bytes) -> int | None:
    """Offset of the root element's ``<`` in ``buf``, or ``None`` if ``buf`` ends inside the prolog.

    Raises ``_Hostile`` for any markup declaration (DOCTYPE, ENTITY...) and ``_BadProlog`` for a
    non-UTF-8 encoding or text before the root.
    """
    n = len(buf)
    i = 0
    if buf.startswith(codecs.BOM_UTF8):
        i = 3
    elif buf[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or buf[:1] == b"\x00" or buf[1:2] == b"\x00":
        raise _BadProlog("tệp phải được mã hóa UTF-8", "unsupported_encoding")
    while True:
        while i < n and buf[i] in _WS:
            i += 1
        if i >= n:
            return None
        if buf[i] != 0x3C:  # '<'
            raise _BadProlog("có nội dung không hợp lệ trước phần tử gốc")
        if n - i < 4:
            return None
        nxt = buf[i + 1]
        if nxt == 0x3F:  # '<?'
            j = buf.find(b"?>", i + 2)
            if j < 0:
                return None
            decl = buf[i:j + 2]
            if decl.startswith(b"<?xml") and decl[5:6] in (b" ", b"\t", b"\r", b"\n", b"?"):
                m = _ENCODING_RE.search(decl)
                if m and m.group(1).lower() not in _UTF8_NAMES:
                    raise _BadProlog(f"mã hóa {m.group(1).decode('ascii', 'replace')} không được hỗ trợ, "
                                     f"chỉ chấp nhận UTF-8", "unsupported_encoding")
            i = j + 2
        elif nxt == 0x21:  # '<!'
            if buf.startswith(b"<!--", i):
                j = buf.find(b"-->", i + 4)
                if j < 0:
                    return None
                i = j + 3
            else:
                raise _Hostile()
        else:
            return i


class _Prefixed:
    """A binary stream that replays ``prefix`` then continues with ``stream`` (counts bytes read)."""

    def __init__(self, prefix: bytes, stream: IO[bytes]):
        self._prefix = prefix
        self._stream = stream
        self.bytes_read = 0

    def read(self, n: int = -1) -> bytes:
        if self._prefix:
            if n is None or n < 0 or n >= len(self._prefix):
                out, self._prefix = self._prefix, b""
            else:
                out, self._prefix = self._prefix[:n], self._prefix[n:]
        else:
            out = self._stream.read(n if n and n > 0 else READ_CHUNK)
        self.bytes_read += len(out)
        return out


@dataclass
class EnvelopeHeader:
    facility_code: str | None = None  # THONGTINDONVI/MACSKCB
    created: str | None = None  # THONGTINHOSO/NGAYLAP (raw)
    declared_count: int | None = None  # SOLUONGHOSO


@dataclass
class Dossier:
    """One HOSO (one MA_LK episode): raw string values of every record of every inner table."""

    index: int  # 1-based position in the envelope
    line: int | None  # line of <HOSO> in the envelope
    facility_code: str  # envelope MACSKCB
    ma_lk: str | None
    tables: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)
    file_types: list[str] = field(default_factory=list)  # LOAIHOSO values in submitted order
    source_digest: str | None = None  # set by the ingest: digest of the submitted files

    @property
    def has_errors(self) -> bool:
        return any(e.is_error for e in self.errors)

    @property
    def record_count(self) -> int:
        return sum(len(r) for r in self.tables.values())


@dataclass
class ParseStats:
    bytes_read: int = 0
    dossiers: int = 0
    records: int = 0
    inner_bytes: int = 0


def _local(tag) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


_KNOWN_NAMES: dict[int, tuple[TableSpec, frozenset[str]]] = {}
_count_elements = etree.XPath("count(//*)")


def _known_names(table: TableSpec) -> frozenset[str]:
    """Field names of ``table`` (cached; CHUKYDONVI and namespaced tags are never in it)."""
    entry = _KNOWN_NAMES.get(id(table))
    if entry is None or entry[0] is not table:
        if len(_KNOWN_NAMES) > 256:
            _KNOWN_NAMES.clear()
        names = frozenset(f.name for f in table.fields if f.name != "CHUKYDONVI" and not f.name.startswith("{"))
        entry = _KNOWN_NAMES[id(table)] = (table, names)
    return entry[1]


def _err(table: str, message: str, code: str, field_name: str | None = None,
         index: int | None = None, severity: str = "error") -> FieldError:
    return FieldError(table, index, field_name, code, message, severity)  # type: ignore[arg-type]


def decode_inner(loai: str, text: str, max_bytes: int) -> tuple[bytes | None, FieldError | None]:
    """Base64 text of NOIDUNGFILE -> UTF-8 bytes of the inner XML (or an error for this file)."""
    compact = "".join(text.split()) if any(c in text for c in " \t\r\n") else text
    if not compact:
        return None, _err(loai, f"Nội dung tệp {loai} (NOIDUNGFILE) trống", "empty_file", "NOIDUNGFILE")
    if len(compact) // 4 * 3 > max_bytes:
        return None, _err(loai, f"Tệp {loai} vượt quá kích thước tối đa {max_bytes // (1024 * 1024)} MB",
                          "file_too_large", "NOIDUNGFILE")
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None, _err(loai, f"Nội dung tệp {loai} không phải chuỗi base64 hợp lệ", "invalid_base64",
                          "NOIDUNGFILE")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, _err(loai, f"Tệp {loai} không được mã hóa UTF-8 (byte lỗi ở vị trí {exc.start})",
                          "invalid_utf8", "NOIDUNGFILE")
    return data, None


def parse_inner(loai: str, data: bytes, table: TableSpec,
                parser: etree.XMLParser | None = None) -> tuple[list[dict[str, str]], list[FieldError]]:
    """Parse one decoded inner file into records (dicts of raw strings)."""
    errors: list[FieldError] = []
    try:
        start = scan_prolog(data)
    except _Hostile:
        return [], [_err(loai, f"Tệp {loai} chứa khai báo DOCTYPE/ENTITY: từ chối nội dung nguy hiểm "
                               f"(hostile input)", "hostile_input")]
    except _BadProlog as exc:
        return [], [_err(loai, f"Tệp {loai}: {exc}", exc.code)]
    if start is None:
        return [], [_err(loai, f"Tệp {loai} không có phần tử gốc", "malformed_xml")]
    try:
        root = etree.fromstring(data, parser or hardened_parser())
    except etree.XMLSyntaxError as exc:
        return [], [_err(loai, f"Tệp {loai} không phải XML hợp lệ (dòng {exc.lineno}): {exc.msg}",
                         "malformed_xml")]
    if root.getroottree().docinfo.internalDTD is not None:  # defence in depth; scan_prolog rejects first
        return [], [_err(loai, f"Tệp {loai} chứa khai báo DTD (hostile input)", "hostile_input")]
    if _local(root.tag) != table.root:
        return [], [_err(loai, f"Phần tử gốc của tệp {loai} phải là <{table.root}>, nhận được "
                               f"<{_local(root.tag)}>", "unexpected_structure")]
    elements = 1  # element nodes outside the records' fields (root, containers, records, others)
    if not table.is_list:
        rec_elems = [root]
    else:
        rec_elems = []
        for child in root:
            name = _local(child.tag)
            if name:
                elements += 1
            if table.list_tag and name == table.list_tag:
                for rec in child:
                    if _local(rec.tag) == table.record_tag:
                        rec_elems.append(rec)
                        elements += 1
                    elif isinstance(rec.tag, str):
                        elements += 1
                        errors.append(_err(loai, f"Phần tử <{_local(rec.tag)}> không hợp lệ trong "
                                                 f"<{table.list_tag}>", "unexpected_structure",
                                           _local(rec.tag), severity="warning"))
            elif name == table.record_tag:  # tolerate records placed directly under the root
                rec_elems.append(child)
            elif name and name != "CHUKYDONVI":
                errors.append(_err(loai, f"Phần tử <{name}> không hợp lệ trong <{table.root}>",
                                   "unexpected_structure", name, severity="warning"))
    # Fast path (the common case): every record is a flat list of distinct fields named in the
    # spec, and the document has no other element (checked at C level: dict size, known-name set,
    # element count). Otherwise the per-field loop below runs and reports what is wrong.
    known = _known_names(table)
    fast: list[dict[str, str]] = []
    for rec in rec_elems:
        values = {f.tag: f.text or "" for f in rec}
        if len(values) != len(rec) or not known.issuperset(values):
            break
        elements += len(values)
        fast.append(values)
    else:
        if _count_elements(root) == elements:
            return fast, errors
    records: list[dict[str, str]] = []
    for idx, rec in enumerate(rec_elems):
        values = {}
        for f in rec:
            name = f.tag
            if name.__class__ is not str or name[0] == "{":
                name = _local(name)
            if not name or name == "CHUKYDONVI":
                continue
            if len(f):
                errors.append(_err(loai, f"Trường {name} không được chứa phần tử con", "unexpected_structure",
                                   name, idx))
                continue
            if name in values:
                errors.append(_err(loai, f"Trường {name} xuất hiện nhiều lần trong một bản ghi",
                                   "duplicate_field", name, idx))
                continue
            values[name] = f.text or ""
        records.append(values)
    return records, errors


class EnvelopeReader:
    """Iterate the dossiers of one GIAMDINHHS file.

    ``source`` is a path or a binary file-like object (read sequentially, never seeked). After (or
    during) iteration, :attr:`header`, :attr:`stats` and :attr:`envelope_errors` (non-fatal problems
    not tied to one dossier, e.g. fewer dossiers than SOLUONGHOSO) are available.
    """

    def __init__(self, source: str | os.PathLike | BinaryIO, *, spec: SpecVersion | None = None,
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES):
        self._source = source
        self.spec = spec or latest()
        self.max_file_bytes = max_file_bytes
        self.header = EnvelopeHeader()
        self.stats = ParseStats()
        self.envelope_errors: list[FieldError] = []
        self._used = False

    def __iter__(self) -> Iterator[Dossier]:
        if self._used:
            raise RuntimeError("EnvelopeReader can be iterated only once")
        self._used = True
        if isinstance(self._source, (str, os.PathLike)):
            with open(self._source, "rb") as fh:
                yield from self._run(fh)
        else:
            yield from self._run(self._source)

    # -- internals ----------------------------------------------------------------------------------

    def _open(self, stream: IO[bytes]) -> _Prefixed:
        buf = b""
        while True:
            chunk = stream.read(4096)
            if isinstance(chunk, str):
                raise TypeError("the envelope source must be opened in binary mode")
            buf += chunk or b""
            try:
                pos = scan_prolog(buf)
            except _Hostile:
                raise EnvelopeError("Tệp chứa khai báo DOCTYPE/ENTITY: từ chối nội dung nguy hiểm (hostile input)",
                                    code="hostile_input", line=_decl_line(buf)) from None
            except _BadProlog as exc:
                raise EnvelopeError(f"Tệp hồ sơ không hợp lệ: {exc}", code=exc.code, line=1) from None
            if pos is not None:
                return _Prefixed(buf, stream)
            if not chunk:
                raise EnvelopeError("Tệp hồ sơ trống hoặc không có phần tử gốc GIAMDINHHS", code="malformed_xml")
            if len(buf) > MAX_PROLOG_BYTES:
                raise EnvelopeError("Phần mở đầu của tệp quá dài", code="malformed_xml")

    def _run(self, raw: IO[bytes]) -> Iterator[Dossier]:
        stream = self._open(raw)
        context = etree.iterparse(
            stream, events=("start", "end"), resolve_entities=False, no_network=True, load_dtd=False,
            huge_tree=False, dtd_validation=False, remove_comments=True, remove_pis=True, recover=False,
        )
        inner_parser = hardened_parser()
        path: list[str] = []
        files: list[tuple[str, str]] = []  # (LOAIHOSO, base64 text) of the current HOSO
        hoso_line: int | None = None
        index = 0
        pending = 0
        try:
            for event, el in context:
                if event == "start":
                    name = _local(el.tag)
                    path.append(name)
                    pending += 1
                    if pending > MAX_PENDING_ELEMENTS:
                        raise EnvelopeError("Cấu trúc tệp hồ sơ không hợp lệ: quá nhiều phần tử trong một hồ sơ",
                                            code="unexpected_structure", line=el.sourceline)
                    depth = len(path)
                    if depth == 1:
                        if name != ROOT:
                            raise EnvelopeError(f"Phần tử gốc phải là <{ROOT}>, nhận được <{name}>",
                                                code="unexpected_structure", line=el.sourceline)
                        if el.getroottree().docinfo.internalDTD is not None:
                            raise EnvelopeError("Tệp chứa khai báo DTD (hostile input)", code="hostile_input",
                                                line=el.sourceline)
                    elif name == "HOSO" and depth == 4 and path[1:3] == ["THONGTINHOSO", "DANHSACHHOSO"]:
                        if not self.header.facility_code:
                            raise EnvelopeError("Thiếu mã cơ sở KCB (THONGTINDONVI/MACSKCB) trước danh sách hồ sơ",
                                                code="missing_facility", line=el.sourceline)
                        files = []
                        hoso_line = el.sourceline
                    continue

                name = path.pop() if path else ""
                depth = len(path) + 1
                if depth == 5 and name == "FILEHOSO" and path[-1] == "HOSO":
                    loai = text = ""
                    for child in el:
                        cname = _local(child.tag)
                        if cname == "LOAIHOSO":
                            loai = (child.text or "").strip()
                        elif cname == "NOIDUNGFILE":
                            text = child.text or ""
                    files.append((loai, text))
                    el.clear()
                elif depth == 4 and name == "HOSO" and path[1:3] == ["THONGTINHOSO", "DANHSACHHOSO"]:
                    index += 1
                    dossier = self.build_dossier(index, hoso_line, files, inner_parser)
                    files = []
                    pending = 0
                    parent = el.getparent()
                    el.clear()
                    if parent is not None:
                        parent.remove(el)
                    self.stats.dossiers += 1
                    self.stats.records += dossier.record_count
                    self.stats.bytes_read = stream.bytes_read
                    yield dossier
                elif depth == 3 and path == [ROOT, "THONGTINDONVI"] and name == "MACSKCB":
                    self.header.facility_code = (el.text or "").strip()
                    if not self.header.facility_code:
                        raise EnvelopeError("Mã cơ sở KCB (MACSKCB) trống", code="missing_facility",
                                            line=el.sourceline)
                elif depth == 3 and path == [ROOT, "THONGTINHOSO"] and name == "NGAYLAP":
                    self.header.created = (el.text or "").strip()
                elif depth == 3 and path == [ROOT, "THONGTINHOSO"] and name == "SOLUONGHOSO":
                    raw_count = (el.text or "").strip()
                    if raw_count.isdigit():
                        self.header.declared_count = int(raw_count)
                    else:
                        self.envelope_errors.append(_err(
                            ENVELOPE, f"SOLUONGHOSO phải là số nguyên, nhận được {raw_count!r}",
                            "record_count_mismatch", "SOLUONGHOSO"))
                elif depth == 2 and name in ("CHUKYDONVI", "THONGTINHOSO", "THONGTINDONVI"):
                    el.clear()
                    pending = 0
        except etree.XMLSyntaxError as exc:
            msg = exc.msg or str(exc)
            if "Text node too long" in msg or "huge" in msg.lower():
                raise EnvelopeError(
                    "Một tệp trong hồ sơ (NOIDUNGFILE) vượt quá kích thước tối đa cho phép",
                    code="file_too_large", line=exc.lineno) from None
            raise EnvelopeError(f"Tệp hồ sơ không phải XML hợp lệ: {msg}", code="malformed_xml",
                                line=exc.lineno) from None
        self.stats.bytes_read = stream.bytes_read
        if self.header.facility_code is None:
            raise EnvelopeError("Thiếu mã cơ sở KCB (THONGTINDONVI/MACSKCB)", code="missing_facility")
        declared = self.header.declared_count
        if declared is not None and index < declared:
            self.envelope_errors.append(_err(
                ENVELOPE, f"SOLUONGHOSO khai báo {declared} hồ sơ nhưng tệp chỉ có {index}",
                "record_count_mismatch", "SOLUONGHOSO"))

    def build_dossier(self, index: int, line: int | None, files: list[tuple[str, str]],
                      inner_parser: etree.XMLParser | None = None) -> Dossier:
        """One HOSO -> :class:`Dossier`: decode, parse and check its ``(LOAIHOSO, base64 text)`` files.

        The per-dossier step of the iteration (a subclass may override it, e.g. to defer the work to
        another process, which then calls the module-level :func:`build_dossier`).
        """
        return build_dossier(index, line, files, facility_code=self.header.facility_code or "",
                             declared_count=self.header.declared_count, spec=self.spec,
                             max_file_bytes=self.max_file_bytes, parser=inner_parser, stats=self.stats)



def build_dossier(index: int, line: int | None, files: list[tuple[str, str]], *, facility_code: str,
                  declared_count: int | None = None, spec: SpecVersion | None = None,
                  max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, parser: etree.XMLParser | None = None,
                  stats: ParseStats | None = None) -> Dossier:
    """Build the :class:`Dossier` of one HOSO from its ``(LOAIHOSO, base64 NOIDUNGFILE)`` pairs.

    ``index``/``line``: 1-based position and line of the HOSO in the envelope; ``facility_code`` and
    ``declared_count`` come from the envelope header (MACSKCB, SOLUONGHOSO). Every problem becomes a
    :class:`FieldError` on the dossier. Safe to call in another process (pure function of its
    arguments); ``stats.inner_bytes`` is updated when given.
    """
    spec = spec or latest()
    parser = parser or hardened_parser()
    dossier = Dossier(index=index, line=line, facility_code=facility_code or "", ma_lk=None)
    errors = dossier.errors
    declared = declared_count
    if declared is not None and index > declared:
        errors.append(_err(DOSSIER, f"Hồ sơ thứ {index} vượt quá số lượng khai báo SOLUONGHOSO={declared}",
                           "record_count_mismatch", "SOLUONGHOSO"))
    if not files:
        errors.append(_err(DOSSIER, "Hồ sơ không có tệp nào (FILEHOSO)", "missing_xml1", "LOAIHOSO"))
    seen: set[str] = set()
    for loai, text in files:
        dossier.file_types.append(loai)
        label = loai or DOSSIER
        if not loai:
            errors.append(_err(DOSSIER, "Thiếu LOAIHOSO trong FILEHOSO", "unknown_file_type", "LOAIHOSO"))
            continue
        table = spec.tables.get(loai)
        if table is None or loai in spec.not_in_envelope:
            errors.append(_err(DOSSIER, f"Loại hồ sơ {loai!r} không hợp lệ trong tệp giám định",
                               "unknown_file_type", "LOAIHOSO"))
            continue
        if loai in seen:
            errors.append(_err(loai, f"Loại hồ sơ {loai} xuất hiện nhiều lần trong một hồ sơ",
                               "duplicate_file_type", "LOAIHOSO"))
            continue
        seen.add(loai)
        data, problem = decode_inner(label, text, max_file_bytes)
        if problem is not None:
            errors.append(problem)
            continue
        if stats is not None:
            stats.inner_bytes += len(data)
        records, problems = parse_inner(loai, data, table, parser)
        errors.extend(problems)
        if any(p.is_error for p in problems) and not records:
            continue
        dossier.tables[loai] = records
    if "XML1" not in seen:
        errors.append(_err(DOSSIER, "Hồ sơ thiếu bảng XML1 (chỉ tiêu tổng hợp)", "missing_xml1", "LOAIHOSO"))
    xml1 = dossier.tables.get("XML1")
    if xml1 is not None:
        if len(xml1) != 1:
            errors.append(_err("XML1", f"Bảng XML1 phải có đúng 1 bản ghi, nhận được {len(xml1)}",
                               "unexpected_structure"))
        if xml1:
            dossier.ma_lk = (xml1[0].get("MA_LK") or "").strip() or None
    if dossier.ma_lk is not None:
        for loai, records in dossier.tables.items():
            if loai == "XML1":
                continue
            for i, rec in enumerate(records):
                value = (rec.get("MA_LK") or "").strip()
                if value and value != dossier.ma_lk:
                    errors.append(_err(loai, f"MA_LK {value!r} không khớp MA_LK {dossier.ma_lk!r} của XML1",
                                       "ma_lk_mismatch", "MA_LK", i))
    return dossier


def _decl_line(buf: bytes) -> int:
    """Line of the first markup declaration (not a comment) in the prolog."""
    pos = buf.find(b"<!")
    while pos >= 0 and buf.startswith(b"<!--", pos):
        end = buf.find(b"-->", pos)
        pos = buf.find(b"<!", end) if end >= 0 else -1
    return buf.count(b"\n", 0, max(pos, 0)) + 1


def iter_dossiers(source: str | os.PathLike | BinaryIO, **kwargs) -> Iterator[Dossier]:
    """Shortcut for ``iter(EnvelopeReader(source, **kwargs))``."""
    return iter(EnvelopeReader(source, **kwargs))
