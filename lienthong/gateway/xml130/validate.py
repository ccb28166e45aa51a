"""Field-by-field and cross-field validation of parsed dossiers against a :class:`SpecVersion`.

``validate_dossier`` returns a :class:`DossierResult`: every problem as a :class:`FieldError`
(parse problems included) and, when the dossier is accepted (no error; warnings allowed), the
records with typed values: ``int``, ``Decimal``, ``datetime`` (naive, Vietnam local time), ``date``,
:class:`PartialDateTime` for a birth date with unknown parts, lists for ``;``-separated fields and
``None`` for empty optional fields.

Rules come from health-standards.md §3; rules that rest on inference or vendor practice only
(marked [U] there) are warnings unless noted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, BinaryIO, Iterator

from lienthong.facilities.rules import InvalidFacilityCode, validate_facility_code
from lienthong.gateway.xml130.errors import ENVELOPE, FieldError
from lienthong.gateway.xml130.parser import Dossier, EnvelopeReader
from lienthong.gateway.xml130.spec import (
    PERFORMER_GROUPS, TRANSPORT_GROUP, VTYT_GROUPS, FieldSpec, SpecVersion, TableSpec, spec_for,
)
from lienthong.geo.units import OLD_PROVINCES
from lienthong.population.ids import (
    InvalidPersonalId, check_matches_person, validate_cmnd, validate_personal_id,
)

_INT_RE = re.compile(r"^-?\d+$")
_DEC_RE = re.compile(r"^-?(\d+)(?:\.(\d+))?$")
_DT_RE = re.compile(r"^\d{12}$")
_D_RE = re.compile(r"^\d{8}$")
_PASSPORT_RE = re.compile(r"^(?:[A-Z]\d{7}|[A-Z]{2}\d{7})$")
_ICD10_RE = re.compile(r"^[A-Z]\d{2}(?:\.[0-9A-Z]{1,2})?$")
_FACILITY_REF_RE = re.compile(r"^(?:(?:C|K|M|HC)\.)?(\d{5})$")
_CARD_RE_CACHE: dict[str, re.Pattern] = {}

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
NEWBORN_DAYS = 28


@dataclass(frozen=True)
class PartialDateTime:
    """A birth date-time with unknown parts (``None``), from e.g. ``199000000000`` (year only)."""

    year: int
    month: int | None
    day: int | None


@dataclass
class ValidationOptions:
    authenticated_facility: str | None = None  # facility code of the authenticated submitter
    abroad_prefixes: frozenset[str] = frozenset()  # accepted non-province personal-ID prefixes
    amount_tolerance: Decimal = CENT  # per-line |declared - computed| allowed
    check_id_matches_person: bool = True  # SO_CCCD digits 4-6 vs GIOI_TINH/NGAY_SINH
    unknown_field_severity: str = "warning"


@dataclass
class DossierResult:
    dossier: Dossier
    errors: list[FieldError]
    values: dict[str, list[dict[str, Any]]] | None  # typed records, only when accepted
    spec_key: str

    @property
    def accepted(self) -> bool:
        return not any(e.is_error for e in self.errors)

    @property
    def warnings(self) -> list[FieldError]:
        return [e for e in self.errors if not e.is_error]


class _Issue(Exception):
    def __init__(self, code: str, message: str, severity: str = "error"):
        super().__init__(message)
        self.code = code
        self.message = message
        self.severity = severity


# --- single values ---------------------------------------------------------------------------------

def _parse_datetime(s: str) -> datetime:
    if not _DT_RE.match(s):
        raise ValueError
    return datetime(int(s[0:4]), int(s[4:6]), int(s[6:8]), int(s[8:10]), int(s[10:12]))


def _parse_date(s: str) -> date:
    if not _D_RE.match(s):
        raise ValueError
    return date(int(s[0:4]), int(s[4:6]), int(s[6:8]))


def _parse_birth(s: str) -> datetime | PartialDateTime:
    if not _DT_RE.match(s):
        raise ValueError
    y, m, d, hhmm = int(s[0:4]), int(s[4:6]), int(s[6:8]), s[8:12]
    if y < 1 or m > 12:
        raise ValueError
    if m == 0 or d == 0:
        if (m == 0 and d != 0) or hhmm != "0000":
            raise ValueError
        if m == 0:
            return PartialDateTime(y, None, None)
        return PartialDateTime(y, m, None)
    return _parse_datetime(s)


def _check_identity(value: str, opts: ValidationOptions) -> None:
    if len(value) == 12 and value.isdigit():
        try:
            validate_personal_id(value, abroad_prefixes=opts.abroad_prefixes)
        except InvalidPersonalId as exc:
            raise _Issue("invalid_personal_id", str(exc)) from None
    elif len(value) == 9 and value.isdigit():
        validate_cmnd(value)
    elif not _PASSPORT_RE.match(value):
        raise _Issue("invalid_personal_id",
                     "phải là số định danh cá nhân 12 chữ số, số CMND 9 chữ số hoặc số hộ chiếu "
                     "(1 chữ cái + 7 chữ số hoặc 2 chữ cái + 7 chữ số)")


def _check_card(value: str, spec: SpecVersion) -> None:
    fmt = spec.card_number
    rx = _CARD_RE_CACHE.get(fmt.pattern)
    if rx is None:
        rx = _CARD_RE_CACHE[fmt.pattern] = re.compile(fmt.pattern)
    if not rx.match(value):
        raise _Issue("invalid_card_number",
                     f"số thẻ BHYT {value!r} không đúng định dạng (15 ký tự: 2 chữ cái mã đối tượng, 1 chữ số "
                     f"mã quyền lợi, 2 chữ số mã tỉnh, 10 chữ số mã số BHXH)")
    if fmt.check_province and f"0{value[3:5]}" not in OLD_PROVINCES:
        raise _Issue("invalid_card_number", f"ký tự thứ 4-5 ({value[3:5]}) của số thẻ BHYT không phải mã tỉnh")
    if fmt.allowed_groups is not None and value[:2] not in fmt.allowed_groups:
        raise _Issue("invalid_card_number", f"mã đối tượng {value[:2]} của số thẻ BHYT không hợp lệ")


def _check_facility(value: str) -> None:
    try:
        validate_facility_code(value)
    except InvalidFacilityCode as exc:
        raise _Issue("invalid_facility_code", str(exc)) from None


def _convert_one(f: FieldSpec, s: str, spec: SpecVersion, opts: ValidationOptions) -> Any:
    """One (non-empty, stripped) value -> typed value; raises _Issue."""
    kind = f.kind
    if kind == "int":
        if not _INT_RE.match(s):
            raise _Issue("not_integer", f"phải là số nguyên, nhận được {s!r}")
        if f.precision is not None and len(s.lstrip("-")) > f.precision:
            raise _Issue("too_many_digits", f"tối đa {f.precision} chữ số, nhận được {s!r}")
        value: Any = int(s)
        if (f.min_value is not None and value < f.min_value) or (f.max_value is not None and value > f.max_value):
            raise _Issue("out_of_range", f"giá trị {value} ngoài khoảng {f.min_value}-{f.max_value}")
    elif kind == "decimal":
        m = _DEC_RE.match(s)
        if not m:
            raise _Issue("not_decimal", f"phải là số thập phân dùng dấu chấm, nhận được {s!r}")
        int_digits = len(m.group(1).lstrip("0")) or 1
        frac = m.group(2) or ""
        if f.precision is not None and (int_digits > f.precision - f.scale or len(frac) > f.scale):
            raise _Issue("too_many_digits", f"tối đa {f.precision - f.scale} chữ số phần nguyên và {f.scale} "
                                            f"chữ số thập phân, nhận được {s!r}")
        try:
            value = Decimal(s)
        except InvalidOperation:  # pragma: no cover - the regex already excludes this
            raise _Issue("not_decimal", f"phải là số thập phân, nhận được {s!r}") from None
    elif kind == "datetime":
        try:
            value = _parse_birth(s) if f.fmt == "birth" else _parse_datetime(s)
        except ValueError:
            extra = " (phần chưa biết ghi 0000)" if f.fmt == "birth" else ""
            raise _Issue("invalid_datetime", f"phải là ngày giờ dạng yyyymmddHHMM{extra}, nhận được {s!r}") from None
    elif kind == "date":
        try:
            value = _parse_date(s)
        except ValueError:
            raise _Issue("invalid_date", f"phải là ngày dạng yyyymmdd, nhận được {s!r}") from None
    else:
        value = s
    if f.codes is not None:
        cl = spec.code_lists[f.codes]
        key = s if kind != "int" else str(value)
        if key not in cl.codes and s not in cl.codes:
            if cl.closed:
                raise _Issue("unknown_code", f"giá trị {s!r} không có trong danh mục {cl.name}")
            raise _Issue("uncommon_code", f"giá trị {s!r} không có trong danh mục {cl.name} đã biết", "warning")
    fmt = f.fmt
    if fmt is not None and fmt != "birth":
        try:
            if fmt == "identity_document":
                _check_identity(s, opts)
            elif fmt == "card_number":
                _check_card(s, spec)
            elif fmt == "facility":
                _check_facility(s)
            elif fmt == "facility_ref":
                m = _FACILITY_REF_RE.match(s)
                if not m:
                    raise _Issue("invalid_facility_code", f"mã cơ sở {s!r} không đúng dạng [C.|K.|M.|HC.]XXXXX")
                _check_facility(m.group(1))
            elif fmt == "icd10":
                if not _ICD10_RE.match(s):
                    raise _Issue("invalid_icd10", f"mã ICD-10 {s!r} không đúng định dạng (ví dụ J06.9, I10)")
            elif fmt == "no_spaces":
                if any(c.isspace() for c in s):
                    raise _Issue("value_has_spaces", "không được chứa khoảng trắng", "warning")
        except InvalidPersonalId as exc:
            raise _Issue("invalid_personal_id", str(exc)) from None
    return value


def check_value(f: FieldSpec, raw: str | None, spec: SpecVersion,
                opts: ValidationOptions | None = None) -> tuple[Any, list[tuple[str, str, str]]]:
    """Validate one raw field value -> (typed value or None, [(code, message, severity)])."""
    opts = opts or ValidationOptions()
    s = (raw or "").strip()
    issues: list[tuple[str, str, str]] = []
    if not s:
        if f.required:
            issues.append(("required", f"Thiếu trường bắt buộc {f.name}", "error"))
        return None, issues
    if f.max_length is not None and len(s) > f.max_length:
        issues.append(("too_long", f"Trường {f.name} dài {len(s)} ký tự, vượt quá tối đa {f.max_length}", "error"))
        return None, issues
    if f.multi:
        parts = [p.strip() for p in s.split(";")]
        if parts and parts[-1] == "" and len(parts) > 1:  # tolerate one trailing ';'
            parts.pop()
        values = []
        for p in parts:
            if not p:
                issues.append(("invalid_multi_value", f"Trường {f.name} có giá trị rỗng giữa các dấu ';'", "error"))
                return None, issues
            try:
                values.append(_convert_one(f, p, spec, opts))
            except _Issue as exc:
                issues.append((exc.code, f"Trường {f.name}: {exc.message}", exc.severity))
                if exc.severity == "error":
                    return None, issues
                values.append(p)
        return values, issues
    try:
        return _convert_one(f, s, spec, opts), issues
    except _Issue as exc:
        issues.append((exc.code, f"Trường {f.name}: {exc.message}", exc.severity))
        return (s if exc.severity != "error" else None), issues


# --- compiled field plans (fast path) --------------------------------------------------------------
#
# ``check_value`` is the reference: for every field, a plan holds a converter specialised for its
# kind that handles the common, valid case (plain ASCII digits, in-range, known code...) and raises
# on anything else; the record loop then calls ``check_value`` itself, so every value, issue, code
# and message is exactly the reference's. Empty optional fields cost one dict lookup.

_K_STR, _K_CONV = 0, 1


def _fast_int(f: FieldSpec, spec: SpecVersion):
    precision, lo, hi = f.precision, f.min_value, f.max_value
    codes = spec.code_lists[f.codes].codes if f.codes is not None else None

    def conv(s: str) -> int:
        if not (s.isascii() and s.isdigit()) or (precision is not None and len(s) > precision):
            raise ValueError
        value = int(s)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError
        if codes is not None and str(value) not in codes and s not in codes:
            raise ValueError
        return value
    return conv


def _fast_decimal(f: FieldSpec):
    precision, scale = f.precision, f.scale
    # len(ip) <= max_int implies the reference's digit count (leading zeros stripped) fits too;
    # a longer integer part (e.g. leading zeros) goes to the reference path.
    max_int = (1 << 62) if precision is None else precision - scale
    max_frac = (1 << 62) if precision is None else scale
    _Dec = Decimal

    def conv(s: str) -> Decimal:
        ip, dot, fp = s.partition(".")
        if s.isascii() and ip.isdigit() and len(ip) <= max_int and (
                not dot or (fp.isdigit() and len(fp) <= max_frac)):
            return _Dec(s)
        raise ValueError
    return conv


def _fast_datetime(s: str) -> datetime:
    if len(s) != 12 or not (s.isascii() and s.isdigit()):
        raise ValueError
    return datetime(int(s[0:4]), int(s[4:6]), int(s[6:8]), int(s[8:10]), int(s[10:12]))


def _fast_date(s: str) -> date:
    if len(s) != 8 or not (s.isascii() and s.isdigit()):
        raise ValueError
    return date(int(s[0:4]), int(s[4:6]), int(s[6:8]))


def _fast_code(codes):
    def conv(s: str) -> str:
        if s not in codes:
            raise ValueError
        return s
    return conv


_K_OPTS = 2  # converter needs the validation options (identity documents)
# A converter whose results are remembered per field (plan-wide, so across records and dossiers of
# a process): codes, amounts and timestamps repeat a lot (a drug's price, the order time of a visit's
# lines). Only immutable results are kept, never an error (a raise is not remembered), and the memo
# is emptied when it reaches MEMO_SIZE entries.
_K_MEMO = 3
MEMO_SIZE = 256
_IMMUTABLE = frozenset({str, int, bool, Decimal, datetime, date})
_NO_OPTS = ValidationOptions()


def _fast_icd10(s: str) -> str:
    if not _ICD10_RE.match(s):
        raise ValueError
    return s


def _fast_multi(one):
    def conv(s: str) -> list:
        parts = [p.strip() for p in s.split(";")]
        if parts[-1] == "" and len(parts) > 1:  # one trailing ';' is tolerated
            parts.pop()
        if not all(parts):
            raise ValueError
        return parts if one is None else [one(p) for p in parts]
    return conv


class _Plan:
    __slots__ = ("table", "spec", "items", "known", "names", "required", "fast")

    def __init__(self, table: TableSpec, spec: SpecVersion):
        self.table, self.spec = table, spec
        self.known = frozenset(f.name for f in table.fields)
        items = []
        self.names = tuple(f.name for f in table.fields)
        self.required = tuple(f.name for f in table.fields if f.required)
        self.fast: dict[str, tuple] | None = {}
        for f in table.fields:
            conv = None
            kind = _K_CONV
            if not f.multi and f.fmt is None:
                if f.kind == "str":
                    if f.codes is None:
                        kind = _K_STR
                    else:
                        conv = _fast_code(spec.code_lists[f.codes].codes)
                elif f.kind == "int":
                    conv = _fast_int(f, spec)
                elif f.kind == "decimal" and f.codes is None:
                    conv = _fast_decimal(f)
                elif f.kind == "datetime" and f.codes is None:
                    conv = _fast_datetime
                elif f.kind == "date" and f.codes is None:
                    conv = _fast_date
            items.append((f, f.name, f.required, f.max_length, kind, conv))
            # whole-record fast path: a converter for every field (the single-field one above, or
            # the reference converter for semantic checks, wrapped for ';'-lists)
            fkind, fconv = kind, conv
            if f.fmt == "identity_document":
                if f.multi:
                    fkind = None
                else:
                    fkind, fconv = _K_OPTS, (lambda s, opts, f=f: _convert_one(f, s, spec, opts))
            elif kind == _K_STR or conv is not None:
                pass
            else:
                if f.fmt is None and f.kind == "str" and f.codes is None:
                    one = None
                elif f.fmt == "icd10" and f.kind == "str" and f.codes is None:
                    one = _fast_icd10
                elif f.fmt is None and f.kind == "date" and f.codes is None:
                    one = _fast_date
                else:
                    one = (lambda s, f=f: _convert_one(f, s, spec, _NO_OPTS))
                fkind, fconv = _K_CONV, (_fast_multi(one) if f.multi else one)
            memo = None
            if fkind == _K_CONV and not f.multi:  # ';'-lists give lists: not shared between records
                fkind, memo = _K_MEMO, {}
            if fkind is not None:
                self.fast.setdefault(f.name, (fkind, f.max_length if f.max_length is not None else 1 << 62, fconv,
                                              memo))
        self.items = tuple(items)
        if len(self.names) != len(set(self.names)):  # a spec listing a field twice: reference path only
            self.fast = None


_PLANS: dict[tuple[int, int], _Plan] = {}


def _plan(table: TableSpec, spec: SpecVersion) -> _Plan:
    key = (id(table), id(spec))
    plan = _PLANS.get(key)
    if plan is None or plan.table is not table or plan.spec is not spec:
        if len(_PLANS) > 256:
            _PLANS.clear()
        plan = _PLANS[key] = _Plan(table, spec)
    return plan


def validate_record(table: TableSpec, record: dict[str, str], index: int, spec: SpecVersion,
                    opts: ValidationOptions, errors: list[FieldError],
                    unknown_seen: set[str] | None = None) -> dict[str, Any]:
    plan = _plan(table, spec)
    fast = plan.fast
    if fast is not None:
        # Whole-record fast path: every non-empty value converts without issue (fields with a
        # semantic check, ';'-lists or anything unusual make it give up), no required field is
        # empty, no unknown field. Any doubt -> the field-by-field path below, which is the reference.
        typed = dict.fromkeys(plan.names)
        try:
            for key, raw in record.items():
                if raw:
                    kind, max_length, conv, memo = fast[key]
                    s = raw.strip()
                    if not s or len(s) > max_length:
                        break
                    if kind == _K_STR:
                        typed[key] = s
                    elif kind == _K_MEMO:
                        value = memo.get(s)
                        if value is None:
                            value = conv(s)
                            if value.__class__ in _IMMUTABLE:
                                if len(memo) >= MEMO_SIZE:
                                    memo.clear()
                                memo[s] = value
                        typed[key] = value
                    elif kind == _K_CONV:
                        typed[key] = conv(s)
                    else:
                        typed[key] = conv(s, opts)
            else:
                for key in plan.required:
                    if typed[key] is None:
                        break
                else:
                    return typed
        except Exception:
            pass
    typed = {}
    name = table.name
    get = record.get
    for f, fname, required, max_length, kind, conv in plan.items:
        raw = get(fname)
        if not raw and not required:
            typed[fname] = None
            continue
        try:
            s = raw.strip()
            if s and (max_length is None or len(s) <= max_length):
                if kind == _K_STR:
                    typed[fname] = s
                    continue
                if conv is not None:
                    typed[fname] = conv(s)
                    continue
                if not f.multi:
                    typed[fname] = _convert_one(f, s, spec, opts)
                    continue
        except Exception:  # anything unusual: the reference path decides (value and issues)
            pass
        value, issues = check_value(f, raw, spec, opts)
        typed[fname] = value
        for code, message, severity in issues:
            errors.append(FieldError(name, index, fname, code, message, severity))  # type: ignore[arg-type]
    known = plan.known
    if known.issuperset(record):
        return typed
    for key in record:
        if key not in known and (unknown_seen is None or key not in unknown_seen):
            if unknown_seen is not None:
                unknown_seen.add(key)
            errors.append(FieldError(name, index, key, "unknown_field",
                                     f"Trường {key} không có trong chuẩn {spec.key} của bảng {name}",
                                     opts.unknown_field_severity))  # type: ignore[arg-type]
    return typed


# --- cross-field rules -----------------------------------------------------------------------------

class _Ctx:
    def __init__(self, table: str, errors: list[FieldError], opts: ValidationOptions):
        self.table = table
        self.errors = errors
        self.opts = opts

    def add(self, index: int | None, field_name: str, code: str, message: str, severity: str = "error",
            table: str | None = None) -> None:
        self.errors.append(FieldError(table or self.table, index, field_name, code, message, severity))  # type: ignore[arg-type]


def _fmt_money(d: Decimal) -> str:
    return f"{d:,.2f}".replace(",", " ")


def _not_before(ctx: _Ctx, i: int, r: dict, later: str, earlier: str, code: str, what: str) -> None:
    a, b = r.get(later), r.get(earlier)
    if isinstance(a, (datetime, date)) and isinstance(b, type(a)) and a < b:
        ctx.add(i, later, code, f"{later} ({a:%d/%m/%Y %H:%M}) không được trước {earlier} "
                                f"({b:%d/%m/%Y %H:%M}): {what}" if isinstance(a, datetime) else
                f"{later} ({a:%d/%m/%Y}) không được trước {earlier} ({b:%d/%m/%Y}): {what}")


def _required_if(ctx: _Ctx, i: int, r: dict, name: str, reason: str) -> None:
    if r.get(name) in (None, [], ""):
        ctx.add(i, name, "required", f"Thiếu trường {name} (bắt buộc khi {reason})")


def _amount(ctx: _Ctx, i: int, r: dict, name: str, candidates: list[Decimal], formula: str) -> None:
    declared = r.get(name)
    if declared is None or not candidates:
        return
    tol = ctx.opts.amount_tolerance
    if all(abs(declared - c) > tol for c in candidates):
        expected = candidates[0].quantize(CENT, ROUND_HALF_UP)
        ctx.add(i, name, "amount_mismatch",
                f"{name} = {_fmt_money(declared)} không khớp công thức {formula} = {_fmt_money(expected)}")


def _other_sources(ctx: _Ctx, i: int, r: dict) -> None:
    parts = [r.get(k) for k in ("T_NGUONKHAC_NSNN", "T_NGUONKHAC_VTNN", "T_NGUONKHAC_VTTN", "T_NGUONKHAC_CL")]
    total = r.get("T_NGUONKHAC")
    if total is None:
        return
    s = sum((p for p in parts if p is not None), Decimal(0))
    if abs(total - s) > ctx.opts.amount_tolerance:
        ctx.add(i, "T_NGUONKHAC", "other_sources_mismatch",
                f"T_NGUONKHAC = {_fmt_money(total)} phải bằng NSNN + VTNN + VTTN + CL = {_fmt_money(s)}")


def _rules_xml2(ctx: _Ctx, rows: list[dict]) -> None:
    for i, r in enumerate(rows):
        q, p, pct = r.get("SO_LUONG"), r.get("DON_GIA"), r.get("TYLE_TT_BH")
        if q is not None and p is not None:
            _amount(ctx, i, r, "THANH_TIEN_BV", [q * p], "SO_LUONG × DON_GIA")
            if pct is not None:
                _amount(ctx, i, r, "THANH_TIEN_BH", [q * p * pct / HUNDRED], "SO_LUONG × DON_GIA × TYLE_TT_BH / 100")
        _other_sources(ctx, i, r)
        _not_before(ctx, i, r, "NGAY_TH_YL", "NGAY_YL", "execution_before_order", "thực hiện trước y lệnh")


def _rules_xml3(ctx: _Ctx, rows: list[dict]) -> None:
    for i, r in enumerate(rows):
        q, bv, bh = r.get("SO_LUONG"), r.get("DON_GIA_BV"), r.get("DON_GIA_BH")
        dv, pct = r.get("TYLE_TT_DV"), r.get("TYLE_TT_BH")
        if q is not None and bv is not None:
            # [U] whether TYLE_TT_DV enters the formula: accept both readings.
            cands = [q * bv] + ([q * bv * dv / HUNDRED] if dv is not None else [])
            _amount(ctx, i, r, "THANH_TIEN_BV", cands, "SO_LUONG × DON_GIA_BV")
        if q is not None and bh is not None and pct is not None and r.get("T_TRANTT") is None:
            base = q * bh * pct / HUNDRED
            cands = [base] + ([base * dv / HUNDRED] if dv is not None else [])
            _amount(ctx, i, r, "THANH_TIEN_BH", cands, "SO_LUONG × DON_GIA_BH × TYLE_TT_BH / 100")
        _other_sources(ctx, i, r)
        group = None if r.get("MA_NHOM") is None else str(r["MA_NHOM"])
        if group == TRANSPORT_GROUP:
            _required_if(ctx, i, r, "MA_XANG_DAU", f"MA_NHOM = {TRANSPORT_GROUP}")
        if group in PERFORMER_GROUPS:
            _required_if(ctx, i, r, "NGUOI_THUC_HIEN", f"MA_NHOM = {group}")
            _required_if(ctx, i, r, "NGAY_TH_YL", f"MA_NHOM = {group}")
        _not_before(ctx, i, r, "NGAY_TH_YL", "NGAY_YL", "execution_before_order", "thực hiện trước y lệnh")


def _sum(rows: list[dict], name: str, pred=None) -> Decimal:
    return sum((r[name] for r in rows if r.get(name) is not None and (pred is None or pred(r))), Decimal(0))


def _rules_xml1(ctx: _Ctx, r: dict, typed: dict[str, list[dict]], dossier: Dossier) -> None:
    i = 0
    _not_before(ctx, i, r, "NGAY_RA", "NGAY_VAO", "discharge_before_admission", "ngày ra trước ngày vào")
    _not_before(ctx, i, r, "NGAY_VAO_NOI_TRU", "NGAY_VAO", "inpatient_before_admission",
                "vào nội trú trước ngày vào")
    if r.get("NGAY_VAO_NOI_TRU") is not None:
        _required_if(ctx, i, r, "LY_DO_VNT", "có NGAY_VAO_NOI_TRU")
    birth, vao = r.get("NGAY_SINH"), r.get("NGAY_VAO")
    if birth is not None and isinstance(vao, datetime):
        if isinstance(birth, datetime):
            if birth > vao:
                ctx.add(i, "NGAY_SINH", "birth_after_admission", "NGAY_SINH không được sau NGAY_VAO")
            elif (vao - birth).days <= NEWBORN_DAYS and birth.hour == 0 and birth.minute == 0:
                ctx.add(i, "NGAY_SINH", "newborn_birth_time",
                        "Trẻ sơ sinh ≤ 28 ngày tuổi phải ghi đủ giờ phút sinh (đang là 0000)", "warning")
        else:
            if birth.year > vao.year:
                ctx.add(i, "NGAY_SINH", "birth_after_admission", "NGAY_SINH không được sau NGAY_VAO")
            elif vao.year - birth.year <= 1:
                ctx.add(i, "NGAY_SINH", "newborn_birth_time",
                        "Người bệnh dưới 1 tuổi phải ghi đủ ngày, tháng, giờ sinh")
    # personal ID vs sex and birth year
    cccd, sex = r.get("SO_CCCD"), r.get("GIOI_TINH")
    if (ctx.opts.check_id_matches_person and isinstance(cccd, str) and len(cccd) == 12 and cccd.isdigit()
            and sex in (1, 2) and birth is not None):
        try:
            info = validate_personal_id(cccd, abroad_prefixes=ctx.opts.abroad_prefixes)
            check_matches_person(info, date(birth.year, 1, 1), "M" if sex == 1 else "F")
        except InvalidPersonalId as exc:
            ctx.add(i, "SO_CCCD", "personal_id_mismatch",
                    f"Số định danh cá nhân không khớp giới tính/năm sinh: {exc}")
    # card values (one per card within the episode)
    lists = {k: r.get(k) for k in ("MA_THE_BHYT", "MA_DKBD", "GT_THE_TU", "GT_THE_DEN")}
    present = {k: v for k, v in lists.items() if isinstance(v, list)}
    if len(present) > 1 and len({len(v) for v in present.values()}) > 1:
        counts = ", ".join(f"{k}={len(v)}" for k, v in present.items())
        ctx.add(i, "MA_THE_BHYT", "card_values_mismatch",
                f"Số giá trị của các trường thẻ BHYT phải bằng nhau ({counts})")
    tu, den = lists.get("GT_THE_TU"), lists.get("GT_THE_DEN")
    if isinstance(tu, list) and isinstance(den, list):
        for a, b in zip(tu, den):
            if isinstance(a, date) and isinstance(b, date) and b < a:
                ctx.add(i, "GT_THE_DEN", "card_period_invalid",
                        f"GT_THE_DEN ({b:%d/%m/%Y}) trước GT_THE_TU ({a:%d/%m/%Y})")
    # facility
    code = r.get("MA_CSKCB")
    if code and dossier.facility_code and code != dossier.facility_code:
        ctx.add(i, "MA_CSKCB", "facility_mismatch",
                f"MA_CSKCB {code} không khớp mã cơ sở {dossier.facility_code} của tệp (THONGTINDONVI/MACSKCB)")
    # treatment days [U]
    kind, days, ra = r.get("MA_LOAI_KCB"), r.get("SO_NGAY_DTRI"), r.get("NGAY_RA")
    if days is not None and isinstance(vao, datetime) and isinstance(ra, datetime) and ra >= vao:
        expected = None
        if kind in ("01", "07", "09"):
            expected = 0
        elif kind in ("02", "03", "04", "06"):
            expected = (ra.date() - vao.date()).days + 1
        if expected is not None and days != expected:
            ctx.add(i, "SO_NGAY_DTRI", "treatment_days_mismatch",
                    f"SO_NGAY_DTRI = {days}, theo MA_LOAI_KCB {kind} phải là {expected}", "warning")
    # totals
    x2, x3 = typed.get("XML2", []), typed.get("XML3", [])
    n = len(x2) + len(x3) + 1
    tol = ctx.opts.amount_tolerance * n

    def total(name: str, computed: Decimal, formula: str, severity: str = "error") -> None:
        declared = r.get(name)
        if declared is not None and abs(declared - computed) > tol:
            ctx.add(i, name, "total_mismatch",
                    f"{name} = {_fmt_money(declared)} không khớp {formula} = {_fmt_money(computed)}", severity)

    total("T_THUOC", _sum(x2, "THANH_TIEN_BV"), "tổng THANH_TIEN_BV của XML2")
    total("T_VTYT", _sum(x3, "THANH_TIEN_BV", lambda row: str(row.get("MA_NHOM")) in VTYT_GROUPS),
          "tổng THANH_TIEN_BV vật tư y tế của XML3", "warning")
    total("T_TONGCHI_BV", _sum(x2, "THANH_TIEN_BV") + _sum(x3, "THANH_TIEN_BV"),
          "tổng THANH_TIEN_BV của XML2 và XML3")
    total("T_TONGCHI_BH", _sum(x2, "THANH_TIEN_BH") + _sum(x3, "THANH_TIEN_BH"),
          "tổng THANH_TIEN_BH của XML2 và XML3", "warning")
    for name in ("T_BNTT", "T_BNCCT", "T_NGUONKHAC"):
        total(name, _sum(x2, name) + _sum(x3, name), f"tổng {name} của XML2 và XML3", "warning")
    tbh, bncct, bhtt = r.get("T_TONGCHI_BH"), r.get("T_BNCCT"), r.get("T_BHTT")
    if tbh is not None and bncct is not None and bhtt is not None and abs(bhtt - (tbh - bncct)) > tol:
        ctx.add(i, "T_BHTT", "total_mismatch",
                f"T_BHTT = {_fmt_money(bhtt)} phải bằng T_TONGCHI_BH − T_BNCCT = {_fmt_money(tbh - bncct)}")


def _rules_xml7(ctx: _Ctx, r: dict) -> None:
    _not_before(ctx, 0, r, "NGAY_RA", "NGAY_VAO", "discharge_before_admission", "ngày ra trước ngày vào")
    trio = ("SO_NGAY_NGHI", "NGOAITRU_TUNGAY", "NGOAITRU_DENNGAY")
    filled = [k for k in trio if r.get(k) is not None]
    if filled and len(filled) != 3:
        missing = [k for k in trio if k not in filled][0]
        ctx.add(0, missing, "required", "SO_NGAY_NGHI, NGOAITRU_TUNGAY, NGOAITRU_DENNGAY phải ghi đủ cả ba hoặc "
                                        "để trống cả ba")
    _not_before(ctx, 0, r, "NGOAITRU_DENNGAY", "NGOAITRU_TUNGAY", "date_range_invalid", "khoảng ngày nghỉ sai")
    if r.get("MA_DINH_CHI_THAI") == 1:
        for k in ("NGUYENNHAN_DINHCHI", "THOIGIAN_DINHCHI", "TUOI_THAI"):
            _required_if(ctx, 0, r, k, "MA_DINH_CHI_THAI = 1")


def _rules_xml11(ctx: _Ctx, r: dict) -> None:
    _not_before(ctx, 0, r, "DEN_NGAY", "TU_NGAY", "date_range_invalid", "khoảng ngày nghỉ sai")
    if r.get("MA_DINH_CHI_THAI") == 1:
        for k in ("NGUYENNHAN_DINHCHI", "TUOI_THAI"):
            _required_if(ctx, 0, r, k, "MA_DINH_CHI_THAI = 1")


def _rules_dates(ctx: _Ctx, r: dict) -> None:
    _not_before(ctx, 0, r, "NGAY_RA", "NGAY_VAO", "discharge_before_admission", "ngày ra trước ngày vào")


def _rules_xml9(ctx: _Ctx, rows: list[dict]) -> None:
    for i, r in enumerate(rows):
        alive, born = r.get("SO_CON_SONG"), r.get("SO_CON")
        if alive is not None and born is not None and alive > born:
            ctx.add(i, "SO_CON_SONG", "out_of_range", f"SO_CON_SONG ({alive}) không được lớn hơn SO_CON ({born})")


def _rules_xml14(ctx: _Ctx, r: dict) -> None:
    _rules_dates(ctx, r)
    _not_before(ctx, 0, r, "NGAY_HEN_KL", "NGAY_RA", "appointment_before_discharge", "hẹn khám trước ngày ra")


# --- dossier ---------------------------------------------------------------------------------------

def _spec_date(dossier: Dossier) -> date:
    xml1 = dossier.tables.get("XML1") or [{}]
    for key in ("NGAY_RA", "NGAY_VAO"):
        s = (xml1[0].get(key) or "").strip()
        if len(s) >= 8 and s[:8].isdigit():
            try:
                return _parse_date(s[:8])
            except ValueError:
                pass
    return date.today()


def validate_dossier(dossier: Dossier, *, spec: SpecVersion | None = None,
                     authenticated_facility: str | None = None,
                     options: ValidationOptions | None = None) -> DossierResult:
    """Validate one parsed dossier. ``spec`` defaults to the version in force on the visit's NGAY_RA."""
    opts = options or ValidationOptions()
    if authenticated_facility is not None:
        opts = ValidationOptions(**{**opts.__dict__, "authenticated_facility": authenticated_facility})
    spec = spec or spec_for(_spec_date(dossier))
    errors: list[FieldError] = list(dossier.errors)
    if opts.authenticated_facility is not None and dossier.facility_code != opts.authenticated_facility:
        errors.append(FieldError(ENVELOPE, None, "MACSKCB", "facility_not_authenticated",
                                 f"Mã cơ sở {dossier.facility_code} của tệp không khớp cơ sở đã xác thực "
                                 f"{opts.authenticated_facility}"))
    typed: dict[str, list[dict[str, Any]]] = {}
    for name, records in dossier.tables.items():
        table = spec.tables.get(name)
        if table is None:
            continue
        if not table.specified:
            errors.append(FieldError(name, None, None, "table_not_validated",
                                     f"Bảng {name} chưa có đặc tả trường trong chuẩn {spec.key}: chưa được kiểm tra",
                                     "warning"))
            typed[name] = [dict(r) for r in records]
            continue
        seen: set[str] = set()
        typed[name] = [validate_record(table, rec, i, spec, opts, errors, seen) for i, rec in enumerate(records)]
    for name, rows in typed.items():
        ctx = _Ctx(name, errors, opts)
        if name == "XML2":
            _rules_xml2(ctx, rows)
        elif name == "XML3":
            _rules_xml3(ctx, rows)
        elif name == "XML7" and rows:
            _rules_xml7(ctx, rows[0])
        elif name == "XML11" and rows:
            _rules_xml11(ctx, rows[0])
        elif name in ("XML8", "XML13") and rows:
            _rules_dates(ctx, rows[0])
        elif name == "XML14" and rows:
            _rules_xml14(ctx, rows[0])
        elif name == "XML9":
            _rules_xml9(ctx, rows)
    if typed.get("XML1"):
        _rules_xml1(_Ctx("XML1", errors, opts), typed["XML1"][0], typed, dossier)
    accepted = not any(e.is_error for e in errors)
    return DossierResult(dossier=dossier, errors=errors, values=typed if accepted else None, spec_key=spec.key)


def validate_envelope(source: str | BinaryIO, *, authenticated_facility: str | None = None,
                      options: ValidationOptions | None = None, spec: SpecVersion | None = None,
                      **reader_kwargs) -> Iterator[DossierResult]:
    """Parse and validate every dossier of an envelope (streaming). Raises EnvelopeError on a broken file."""
    reader = EnvelopeReader(source, **({"spec": spec} if spec else {}), **reader_kwargs)
    for dossier in reader:
        yield validate_dossier(dossier, spec=spec, authenticated_facility=authenticated_facility, options=options)
