"""Pure rules for facility codes."""

from __future__ import annotations

import re
from datetime import date

from lienthong.geo.units import OLD_PROVINCES, map_old_province

_CODE_RE = re.compile(r"^\d{5}$")


class InvalidFacilityCode(ValueError):
    pass


def validate_facility_code(code: str) -> str:
    """A CSKCB code: 5 digits whose first two are a (63-set) province prefix, e.g. ``01`` Hà Nội."""
    if not isinstance(code, str) or not _CODE_RE.match(code.strip()):
        raise InvalidFacilityCode("mã cơ sở khám chữa bệnh phải gồm đúng 5 chữ số")
    code = code.strip()
    if f"0{code[:2]}" not in OLD_PROVINCES:
        raise InvalidFacilityCode(f"hai chữ số đầu {code[:2]} của mã cơ sở không phải mã tỉnh")
    return code


def facility_province(code: str, on: date | None = None) -> int:
    """Current province of a facility from its code prefix."""
    return map_old_province(validate_facility_code(code)[:2], on)
