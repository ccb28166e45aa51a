"""Vietnamese-aware normalisers for record linkage.

Everything here is pure (no I/O, no database) and property-tested. The functions turn the messy
values found in legacy registers into comparable keys:

* :func:`fold`: lower case, no diacritics, ``đ`` -> ``d`` (reuses :func:`lienthong.geo.units.fold`);
* :func:`skeleton`: a key that is the same for a word and its usual OCR damage ("Hà Néi" and
  "Hà Nội" -> ``ha noi``), built from :data:`GLYPH_CONFUSIONS` and :data:`CHAR_CLASSES`;
* :func:`split_name`: family / middle / given name, detecting the given-first (western) order with
  a family-name dictionary;
* :func:`parse_date`: full dates, month/year, year only, Vietnamese wording, and the day/month swap
  candidate (:func:`swap_day_month`);
* :func:`normalise_id`: 12-digit personal IDs, 9-digit (and 12-digit) CMND numbers, OCR'd digits and
  leading zeros lost by spreadsheets;
* :func:`province_of`: any old (63-set) or current (34-set) province spelling, abbreviation or OCR
  damage -> the code of the province in force today (via :func:`lienthong.geo.units.map_old_province`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from lienthong.demo import names as N
from lienthong.geo import units
from lienthong.population.ids import InvalidPersonalId, parse_personal_id

# --- folding and the OCR skeleton -----------------------------------------------------------------


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(str(text).split()))


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lower case, diacritics removed (``đ`` -> ``d``), white space collapsed."""
    return units.fold(nfc(text))


# Multi-character glyph confusions of OCR on Latin/Vietnamese print, applied to folded text (the
# left side is what the scanner reads, the right side what was printed). Order matters: digits are
# mapped to letters first, so "c1" -> "cl" -> "d".
DIGIT_LETTERS: dict[str, str] = {"0": "o", "1": "l", "5": "s", "8": "b", "6": "b", "4": "a", "3": "e"}
GLYPH_CONFUSIONS: tuple[tuple[str, str], ...] = (("rn", "m"), ("cl", "d"))

# Letters that OCR (and hurried typists) swap, mapped to one representative per class. Diacritic
# confusions (ộ/é/ó/ô, ư/u, ơ/o, ă/â/a, đ/d) are already removed by folding; these classes add the
# base-letter confusions that remain after folding: ``é`` read for ``ộ`` leaves e/o, ``l``/``1``/``i``,
# and the Vietnamese i/y spelling variation ("Thúy"/"Thúi", "Mỹ"/"Mĩ").
CHAR_CLASSES: dict[str, str] = {"e": "o", "l": "i", "j": "i", "y": "i"}

_NON_WORD = re.compile(r"[^a-z ]+")


@lru_cache(maxsize=200_000)
def skeleton(text: str) -> str:
    """OCR-robust key of a name or place: equal for a word and its common OCR damage."""
    s = fold(text)
    s = "".join(DIGIT_LETTERS.get(c, c) for c in s)
    for bad, good in GLYPH_CONFUSIONS:
        s = s.replace(bad, good)
    s = _NON_WORD.sub(" ", s)
    s = "".join(CHAR_CLASSES.get(c, c) for c in s)
    return " ".join(s.split())


# OCR damage as it appears in scanned Vietnamese registers: printed letter -> what the scanner may
# read. Used by the noise generator; every substitution keeps :func:`skeleton` unchanged.
OCR_DAMAGE: dict[str, tuple[str, ...]] = {
    "ộ": ("é", "ô", "ó", "ệ"), "ố": ("ó", "é", "ô"), "ồ": ("ò", "ô"), "ổ": ("ỏ", "ô"), "ỗ": ("õ", "ô"),
    "ô": ("o", "ó"), "ơ": ("o",), "ờ": ("ò", "ơ"), "ớ": ("ó",), "ợ": ("ọ",), "ở": ("ỏ",),
    "ư": ("u",), "ừ": ("ù", "u"), "ứ": ("ú",), "ự": ("ụ",), "ử": ("ủ",), "ữ": ("ũ",),
    "đ": ("d",), "Đ": ("D",), "ă": ("a",), "ắ": ("á",), "ằ": ("à",), "ặ": ("ạ",), "â": ("a",),
    "ấ": ("á",), "ầ": ("à",), "ậ": ("ạ",), "ể": ("ẻ",), "ễ": ("ẽ",), "ệ": ("ẹ", "ộ"), "ế": ("é",),
    "ề": ("è",), "ê": ("e",), "o": ("0",), "O": ("0",), "l": ("1",), "m": ("rn",), "d": ("cl",),
    "i": ("l", "1"), "ọ": ("ẹ",), "y": ("i",),
}


# --- names ----------------------------------------------------------------------------------------

_EXTRA_FAMILY = ("Nghiêm", "Quan", "Đàm", "Phí", "Ông", "Tôn", "Thạch", "Danh", "Lò", "Vi", "Lường",
                 "Đồng", "Khương", "Hầu", "Lữ", "Mã", "Nhữ", "Bế", "Hoàng", "Huỳnh", "Vũ", "Võ", "Sầm")


def _family_table() -> list[str]:
    out: list[str] = []
    for name, _ in N.FAMILY_NAMES_COMMON + N.FAMILY_NAMES_TAIL:
        out += name.split("|")
    return out + list(_EXTRA_FAMILY)


FAMILY_NAMES: frozenset[str] = frozenset(fold(n) for n in _family_table())
_FAMILY_SKELETONS: frozenset[str] = frozenset(skeleton(n) for n in _family_table())
# Very common middle names: a token in second place that is one of these supports the usual order.
MIDDLE_MARKERS: frozenset[str] = frozenset({"thi", "van", "huu", "duc", "dinh", "cong", "ngoc"})


def is_family_name(token: str) -> bool:
    return fold(token) in FAMILY_NAMES or skeleton(token) in _FAMILY_SKELETONS


@dataclass(frozen=True)
class NameParts:
    family: str
    middle: str
    given: str
    order: str  # "vn" (family first), "western" (given first), "single"

    @property
    def full(self) -> str:
        return " ".join(p for p in (self.family, self.middle, self.given) if p)


def _title(token: str) -> str:
    return token[:1].upper() + token[1:].lower()


def split_name(full_name: str) -> NameParts:
    """Family, middle and given name of a full name.

    Vietnamese order is family, middle..., given ("Nguyễn Thị Lan"). Registers filled in from
    foreign documents or by western-trained clerks use given-first order ("Lan Thị Nguyễn",
    "LAN NGUYEN THI"): when the last token is a known family name and the first is not, or when
    the first is neither a family name nor followed by a middle name while the last two are
    family + middle, the name is read in that order. Upper-case input is title-cased.
    """
    tokens = [_title(t) if t.isupper() else t for t in nfc(full_name).replace(",", " ").split()]
    if not tokens:
        return NameParts("", "", "", "single")
    if len(tokens) == 1:
        return NameParts("", "", tokens[0], "single")
    first, last = is_family_name(tokens[0]), is_family_name(tokens[-1])
    if last and not first:
        # "Lan Thị Nguyễn" (given middle family) or "Lan Nguyễn Thị"? Only the first is common.
        return NameParts(tokens[-1], " ".join(tokens[1:-1]), tokens[0], "western")
    if not first and not last and len(tokens) >= 3 and is_family_name(tokens[1]) \
            and fold(tokens[2]) in MIDDLE_MARKERS:
        # "Lan Nguyễn Thị": given, then family + middle (name written surname-last-but-one).
        return NameParts(tokens[1], " ".join(tokens[2:]), tokens[0], "western")
    return NameParts(tokens[0], " ".join(tokens[1:-1]), tokens[-1], "vn")


# --- dates ----------------------------------------------------------------------------------------

MIN_YEAR, MAX_YEAR = 1880, 2100


@dataclass(frozen=True)
class PartialDate:
    """A possibly incomplete date: year only, month and year, or a full date."""

    year: int | None
    month: int | None = None
    day: int | None = None

    @property
    def precision(self) -> str:
        if self.year is None:
            return "none"
        if self.month is None:
            return "year"
        if self.day is None:
            return "month"
        return "day"

    def as_date(self) -> date | None:
        if self.precision != "day":
            return None
        return date(self.year, self.month, self.day)  # type: ignore[arg-type]

    def display(self) -> str:
        """dd/mm/yyyy, mm/yyyy or yyyy."""
        if self.precision == "day":
            return f"{self.day:02d}/{self.month:02d}/{self.year}"
        if self.precision == "month":
            return f"{self.month:02d}/{self.year}"
        return str(self.year) if self.year is not None else ""


EMPTY_DATE = PartialDate(None)

_DMY = re.compile(r"^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})$")
_YMD = re.compile(r"^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})(?:[T ].*)?$")
_MY = re.compile(r"^(\d{1,2})[/.\-](\d{4})$")
_Y = re.compile(r"^(\d{4})$")
_COMPACT = re.compile(r"^(\d{2})(\d{2})(\d{4})$")  # ddmmyyyy
_VN = re.compile(r"^(?:ngay\s*(\d{1,2})\s*)?(?:thang\s*(\d{1,2})\s*)?(?:nam\s*)?(\d{4})$")


def _valid(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
    except ValueError:
        return False
    return MIN_YEAR <= y <= MAX_YEAR


def _full(y: int, m: int, d: int) -> PartialDate:
    if _valid(y, m, d):
        return PartialDate(y, m, d)
    if _valid(y, d, m):  # month > 12: written month-first (US style) or swapped by a clerk
        return PartialDate(y, d, m)
    if MIN_YEAR <= y <= MAX_YEAR and 1 <= m <= 12:
        return PartialDate(y, m)  # impossible day (31/02): keep what is reliable
    return PartialDate(y) if MIN_YEAR <= y <= MAX_YEAR else EMPTY_DATE


def parse_date(value: object) -> PartialDate:
    """Parse a birth date as found in registers; unparseable -> ``PartialDate(None)``.

    Accepts ``date``/``datetime``, ``dd/mm/yyyy`` (also ``-``, ``.``, space), ISO ``yyyy-mm-dd``,
    ``ddmmyyyy``, ``mm/yyyy``, ``yyyy``, and "ngày 5 tháng 3 năm 1980" / "tháng 3 năm 1980" /
    "năm 1980". A day-first date whose month is over 12 is read as month-first.
    """
    if value is None:
        return EMPTY_DATE
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return PartialDate(value.year, value.month, value.day)
    if isinstance(value, int):
        value = str(value)
    text = fold(str(value)).replace(",", " ").strip()
    if not text:
        return EMPTY_DATE
    text = " ".join(text.split())
    if m := _DMY.match(text):
        return _full(int(m[3]), int(m[2]), int(m[1]))
    if m := _YMD.match(text):
        return _full(int(m[1]), int(m[2]), int(m[3]))
    if m := _COMPACT.match(text):
        return _full(int(m[3]), int(m[2]), int(m[1]))
    if m := _MY.match(text):
        y, mo = int(m[2]), int(m[1])
        if MIN_YEAR <= y <= MAX_YEAR:
            return PartialDate(y, mo) if 1 <= mo <= 12 else PartialDate(y)
        return EMPTY_DATE
    if m := _Y.match(text):
        y = int(m[1])
        return PartialDate(y) if MIN_YEAR <= y <= MAX_YEAR else EMPTY_DATE
    if m := _VN.match(text):
        d, mo, y = (int(x) if x else None for x in (m[1], m[2], m[3]))
        if d is not None and mo is not None:
            return _full(y, mo, d)  # type: ignore[arg-type]
        if y is not None and MIN_YEAR <= y <= MAX_YEAR:
            return PartialDate(y, mo) if mo and 1 <= mo <= 12 else PartialDate(y)
    return EMPTY_DATE


def swap_day_month(d: PartialDate) -> PartialDate | None:
    """The day/month-swapped reading of a full date, when it is a different valid date."""
    if d.precision != "day" or d.day == d.month or not _valid(d.year, d.day, d.month):  # type: ignore[arg-type]
        return None
    return PartialDate(d.year, d.day, d.month)


# --- identity numbers -----------------------------------------------------------------------------

_ID_OCR = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "i": "1",
                         "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2", "G": "6", "b": "6"})
_ID_STRIP = re.compile(r"[\s.\-_/]")


@dataclass(frozen=True)
class IdNumber:
    kind: str | None  # "personal_id", "cmnd9", "cmnd12" or None (unusable)
    number: str | None


def normalise_id(value: object) -> IdNumber:
    """Classify and clean an identity number.

    OCR'd letters become digits (O -> 0, l -> 1, S -> 5, B -> 8), separators are dropped, and
    leading zeros that spreadsheets strip are restored (8 digits -> 9-digit CMND; 11 digits whose
    zero-padded form is a valid personal ID -> that ID). A valid 12-digit number (known province
    code) is a personal ID; other 12-digit numbers are the 2012-2016 12-digit CMND.
    """
    if value is None:
        return IdNumber(None, None)
    if isinstance(value, float) and value == value:
        value = str(int(value))
    text = _ID_STRIP.sub("", str(value)).translate(_ID_OCR)
    if not text.isdigit():
        return IdNumber(None, None)
    if len(text) == 11 and _is_pid("0" + text):
        text = "0" + text
    if len(text) == 8:
        text = "0" + text
    if len(text) == 12:
        return IdNumber("personal_id", text) if _is_pid(text) else IdNumber("cmnd12", text)
    if len(text) == 9:
        return IdNumber("cmnd9", text)
    return IdNumber(None, None)


def _is_pid(text: str) -> bool:
    try:
        parse_personal_id(text)
    except InvalidPersonalId:
        return False
    return True


# --- places ---------------------------------------------------------------------------------------

_PLACE_PREFIXES = ("thanh pho ", "tinh ", "tp. ", "tp.", "tp ", "t.p. ", "t.p ", "tt. ", "tt ")


def place_key(text: str) -> str:
    """Key of a place name: folded, administrative prefix dropped, OCR skeleton, no spaces."""
    s = fold(text).replace("-", " ")
    changed = True
    while changed:
        changed = False
        for prefix in _PLACE_PREFIXES:
            if s.startswith(prefix):
                s, changed = s[len(prefix):].strip(), True
    return skeleton(s).replace(" ", "")


# Usual abbreviations and historical names -> old (63-set) code.
PLACE_ALIASES: dict[str, str] = {
    "HCM": "079", "TPHCM": "079", "TP.HCM": "079", "Sài Gòn": "079", "Sài Gòn - Gia Định": "079", "SG": "079",
    "Hồ Chí Minh": "079", "HN": "001", "Hà Nội": "001", "Huế": "046", "TT Huế": "046", "TT-Huế": "046",
    "BR-VT": "077", "BRVT": "077", "Vũng Tàu": "077", "Bà Rịa Vũng Tàu": "077", "Đắc Lắc": "066",
    "Dak Lak": "066", "Đắk Lăk": "066", "Đăk Lăk": "066", "Đắc Nông": "067", "Đăk Nông": "067",
    "Bắc Cạn": "006", "Hoà Bình": "017", "Khánh Hoà": "056", "Thanh Hoá": "038", "Kontum": "062",
    "Hải Phòng": "031", "Đà Nẵng": "048", "Cần Thơ": "092", "Quảng Nam - Đà Nẵng": "048",
    "Hà Sơn Bình": "017", "Hà Nam Ninh": "036", "Nghệ Tĩnh": "040", "Bình Trị Thiên": "046",
    "Nghĩa Bình": "052", "Phú Khánh": "056", "Thuận Hải": "060", "Sông Bé": "074", "Cửu Long": "086",
    "Hậu Giang cũ": "092", "Hà Tây": "001", "Vĩnh Phú": "025", "Hà Bắc": "027", "Hải Hưng": "030",
    "Minh Hải": "096", "Gia Lai - Kon Tum": "064", "Hoàng Liên Sơn": "010", "Cao Lạng": "004",
    "Bắc Thái": "019", "Hà Tuyên": "008",
}


@lru_cache(maxsize=1)
def _place_table() -> dict[str, tuple[str, int | None]]:
    """place key -> ("old", 63-set code) or ("new", 34-set code)."""
    table: dict[str, tuple[str, int | None]] = {}
    for code, name in units.OLD_PROVINCES.items():
        table[place_key(name)] = ("old", int(code))
    for alias, code in PLACE_ALIASES.items():
        table.setdefault(place_key(alias), ("old", int(code)))
    for p in units.provinces():
        table.setdefault(place_key(p.name), ("new", int(p.code)))
    return table


@lru_cache(maxsize=50_000)
def province_of(text: object, on: date | None = None) -> int | None:
    """Current province code for a province written in any form; None when unknown.

    Old 63-set names (with or without diacritics, "TP HCM", "Sài Gòn", "Thừa Thiên Huế", pre-1990
    names such as "Hà Tây" or "Nghĩa Bình" approximated by their main successor), current 34-set
    names, OCR damage ("Hà Néi") and old 3-digit codes ("079") are accepted. The result follows the
    versioned reform table of :mod:`lienthong.geo.units` (on ``on``, default today).
    """
    if text is None:
        return None
    raw = str(text).strip()
    if not raw:
        return None
    if raw.isdigit() and len(raw) <= 3 and f"{int(raw):03d}" in units.OLD_PROVINCES:
        return units.map_old_province(raw, on)
    # "Xã A, Huyện B, Tỉnh C": the province is the last part.
    part = raw.split(",")[-1]
    hit = _place_table().get(place_key(part))
    if hit is None:
        return None
    kind, code = hit
    return units.map_old_province(code, on) if kind == "old" else code


def normalise_sex(value: object) -> str | None:
    if value is None:
        return None
    s = fold(str(value))
    if s in ("m", "nam", "male", "1", "trai"):
        return "M"
    if s in ("f", "nu", "female", "2", "0", "gai"):
        return "F"
    return None
