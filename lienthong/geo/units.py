"""Administrative units, versioned by effective date.

Two unit sets exist:

* ``vn63``: the 63 provinces with 3-level addresses (province, district, commune), in force until
  30/06/2025. Their codes are the ones embedded in 12-digit personal ID numbers (``PPP``) and in the
  2-digit prefix of health-facility codes. The table is fixed history (TT 07/2016, Phụ lục 1).
* ``vn34``: the 34 provinces with 2-level addresses (province, ward/commune/special zone) from
  01/07/2025 (NQ 202/2025/QH15). Their wards come from the ``vietnam-provinces`` package.

The mapping between sets is data with an effective date, so a later reform is one more entry in
:data:`REFORMS`, not a code change.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from vietnam_provinces import Province, Ward

# Old 63-province codes (3-digit form, as used in personal IDs) and names.
OLD_PROVINCES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
    "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
    "017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
    "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
    "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
    "046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
    "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng", "070": "Bình Phước",
    "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa - Vũng Tàu",
    "079": "TP Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh",
    "086": "Vĩnh Long", "087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ",
    "093": "Hậu Giang", "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}


@dataclass(frozen=True)
class Reform:
    """A change of the provincial unit set, in force from ``effective``."""

    effective: date
    from_set: str
    to_set: str
    legal_basis: str
    # old code (int) -> new code (int)
    mapping: dict[int, int]


# 63 -> 34 (NQ 202/2025/QH15, in force 01/07/2025). New units keep the code of the unit whose
# name they keep (vietnam-provinces uses those codes).
_MAP_2025 = {
    1: 1, 2: 8, 4: 4, 6: 19, 8: 8, 10: 15, 11: 11, 12: 12, 14: 14, 15: 15, 17: 25, 19: 19, 20: 20,
    22: 22, 24: 24, 25: 25, 26: 25, 27: 24, 30: 31, 31: 31, 33: 33, 34: 33, 35: 37, 36: 37, 37: 37,
    38: 38, 40: 40, 42: 42, 44: 44, 45: 44, 46: 46, 48: 48, 49: 48, 51: 51, 52: 52, 54: 66, 56: 56,
    58: 56, 60: 68, 62: 51, 64: 52, 66: 66, 67: 68, 68: 68, 70: 75, 72: 80, 74: 79, 75: 75, 77: 79,
    79: 79, 80: 80, 82: 82, 83: 86, 84: 86, 86: 86, 87: 82, 89: 91, 91: 91, 92: 92, 93: 92, 94: 92,
    95: 96, 96: 96,
}

REFORMS: list[Reform] = [
    Reform(date(2025, 7, 1), "vn63", "vn34", "NQ 202/2025/QH15", _MAP_2025),
]


class UnknownUnit(ValueError):
    """An administrative-unit code that does not exist in the set asked for."""


def unit_set_on(day: date) -> str:
    current = "vn63"
    for reform in sorted(REFORMS, key=lambda r: r.effective):
        if day >= reform.effective:
            current = reform.to_set
    return current


def map_old_province(old_code: int | str, on: date | None = None) -> int:
    """Province code in force on ``on`` (default: today) for a 63-set province code.

    Before the reform the old code itself is returned; after it, the code of the merged unit.
    """
    code = int(old_code)
    if f"{code:03d}" not in OLD_PROVINCES:
        raise UnknownUnit(f"mã tỉnh cũ không tồn tại: {old_code!r}")
    on = on or date.today()
    for reform in sorted(REFORMS, key=lambda r: r.effective):
        if on >= reform.effective:
            code = reform.mapping[code]
    return code


def reform_between(from_set: str, to_set: str) -> Reform:
    """The reform that turned ``from_set`` into ``to_set`` (e.g. ``"vn63"`` -> ``"vn34"``)."""
    for reform in REFORMS:
        if reform.from_set == from_set and reform.to_set == to_set:
            return reform
    raise UnknownUnit(f"không có cải cách đơn vị hành chính {from_set} -> {to_set}")


def members_of(new_code: int, reform: Reform | None = None) -> list[int]:
    """The old province codes a unit of the reform's new set was formed from (sorted).

    ``members_of(37)`` -> ``[35, 36, 37]`` (Hà Nam, Nam Định, Ninh Bình -> Ninh Bình, 01/07/2025)."""
    reform = reform or REFORMS[0]
    return sorted(old for old, new in reform.mapping.items() if new == int(new_code))


_NAME_PREFIXES = ("thanh pho ", "tp. ", "tp.", "tp ", "tinh ")


def _bare_province(name: str) -> str:
    folded = fold(name).replace(" - ", "-").replace("–", "-")
    for prefix in _NAME_PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix):].strip()
    return folded


def old_province_by_name(name: str) -> int:
    """Code of a 63-set province from its name as documents write it: diacritics, case and the
    "Tỉnh"/"Thành phố"/"TP." prefix are ignored (``"TP. Hồ Chí Minh"`` -> 79)."""
    wanted = _bare_province(name)
    for code, old_name in OLD_PROVINCES.items():
        if _bare_province(old_name) == wanted:
            return int(code)
    raise UnknownUnit(f"không có tỉnh/thành phố cũ (63 tỉnh) tên {name!r}")


def province_by_name(name: str) -> int:
    """Code of a current (34-set) province from its name, matched like :func:`old_province_by_name`."""
    wanted = _bare_province(name)
    for p in provinces():
        if _bare_province(p.name) == wanted:
            return int(p.code)
    raise UnknownUnit(f"không có tỉnh/thành phố tên {name!r}")


def old_province_name(code: int) -> str:
    try:
        return OLD_PROVINCES[f"{int(code):03d}"]
    except (KeyError, ValueError):
        raise UnknownUnit(f"mã tỉnh cũ không tồn tại: {code!r}") from None


@lru_cache(maxsize=1)
def _provinces() -> dict[int, Province]:
    return {int(p.code): p for p in Province.iter_all()}


@lru_cache(maxsize=1)
def _wards() -> dict[int, Ward]:
    return {int(w.code): w for w in Ward.iter_all()}


@lru_cache(maxsize=64)
def wards_of(province_code: int) -> tuple[Ward, ...]:
    return tuple(w for w in _wards().values() if int(w.province_code) == province_code)


def provinces() -> list[Province]:
    return sorted(_provinces().values(), key=lambda p: int(p.code))


def province(code: int) -> Province:
    try:
        return _provinces()[int(code)]
    except (KeyError, ValueError, TypeError):
        raise UnknownUnit(f"mã tỉnh/thành phố không tồn tại: {code!r}") from None


def ward(code: int) -> Ward:
    try:
        return _wards()[int(code)]
    except (KeyError, ValueError, TypeError):
        raise UnknownUnit(f"mã phường/xã không tồn tại: {code!r}") from None


def check_ward_in_province(ward_code: int, province_code: int) -> Ward:
    w = ward(ward_code)
    province(province_code)
    if int(w.province_code) != int(province_code):
        raise UnknownUnit(
            f"phường/xã {ward_code} ({w.name}) không thuộc tỉnh/thành phố {province_code}"
        )
    return w


def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ -> d) and collapse white space: for name matching."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(stripped.lower().split())


_WARD_PREFIXES = ("phuong ", "xa ", "thi tran ", "dac khu ")


def _bare(name: str) -> str:
    folded = fold(name)
    for prefix in _WARD_PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix):]
    return folded


def map_legacy_address(old_province_code: int | str, commune_name: str, on: date | None = None) -> tuple[int, int | None]:
    """Map a 3-level (pre-reform) address to (current province code, ward code or None).

    The province follows the versioned reform mapping. The ward is found when a current ward of
    that province carries the same name (diacritics and unit prefix ignored) and is unique; the
    full commune -> ward merge table is not in ``vietnam-provinces``, so other communes stay
    unresolved (None) for a clerk to settle rather than being guessed.
    """
    province_code = map_old_province(old_province_code, on)
    wanted = _bare(commune_name)
    matches = [w for w in wards_of(province_code) if _bare(w.name) == wanted]
    return province_code, (int(matches[0].code) if len(matches) == 1 else None)
