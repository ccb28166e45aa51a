"""Personal identification numbers (số định danh cá nhân) and legacy CMND numbers.

Layout ``PPP G YY NNNNNN`` (NĐ 137/2015 art. 13, TT 07/2016/TT-BCA, TT 59/2021/TT-BCA art. 4):

* ``PPP``: the province where the birth was registered (63-province code table, fixed history) or,
  for births registered abroad, a country code (configurable: the table is not published);
* ``G``: century and sex: 1900s male 0 / female 1, 2000s 2/3, 2100s 4/5, 2200s 6/7, 2300s 8/9;
* ``YY``: the last two digits of the birth year;
* ``NNNNNN``: a random serial.

There is no check digit. These are pure functions; they raise :class:`InvalidPersonalId` with a
Vietnamese message that says exactly what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from lienthong.geo.units import OLD_PROVINCES

_ID_RE = re.compile(r"^\d{12}$")
_CMND9_RE = re.compile(r"^\d{9}$")


class InvalidPersonalId(ValueError):
    """The text is not a valid personal ID number (or does not match the person)."""


@dataclass(frozen=True)
class PersonalIdInfo:
    number: str
    place_code: str  # PPP
    place_name: str | None  # None for an accepted abroad code
    sex: str  # "M" or "F"
    century_start: int  # 1900, 2000, ...
    birth_year_2: int  # YY

    def birth_year_candidates(self) -> int:
        return self.century_start + self.birth_year_2


def parse_personal_id(text: str, abroad_prefixes: frozenset[str] | set[str] = frozenset()) -> PersonalIdInfo:
    if not isinstance(text, str):
        raise InvalidPersonalId("số định danh cá nhân phải là chuỗi 12 chữ số")
    number = text.strip()
    if not _ID_RE.match(number):
        raise InvalidPersonalId(
            f"số định danh cá nhân phải gồm đúng 12 chữ số (nhận được {len(number)} ký tự)"
            if number.isdigit() or not number else "số định danh cá nhân chỉ được chứa chữ số"
        )
    place = number[:3]
    if place in OLD_PROVINCES:
        place_name: str | None = OLD_PROVINCES[place]
    elif place in abroad_prefixes:
        place_name = None
    else:
        raise InvalidPersonalId(f"mã nơi đăng ký khai sinh {place} không tồn tại")
    g = int(number[3])
    return PersonalIdInfo(
        number=number,
        place_code=place,
        place_name=place_name,
        sex="M" if g % 2 == 0 else "F",
        century_start=1900 + 100 * (g // 2),
        birth_year_2=int(number[4:6]),
    )


def century_sex_digit(sex: str, birth_year: int) -> int:
    if sex not in ("M", "F"):
        raise InvalidPersonalId(f"giới tính không hợp lệ: {sex!r}")
    century = (birth_year - 1900) // 100
    if not 0 <= century <= 4:
        raise InvalidPersonalId(f"năm sinh ngoài phạm vi mã hóa: {birth_year}")
    return 2 * century + (1 if sex == "F" else 0)


def check_matches_person(info: PersonalIdInfo, birth_date: date, sex: str) -> None:
    """Raise when the ID's sex/century digit or birth-year digits disagree with the person."""
    expected_g = century_sex_digit(sex, birth_date.year)
    actual_g = int(info.number[3])
    if actual_g != expected_g:
        raise InvalidPersonalId(
            f"chữ số thứ 4 ({actual_g}) không khớp giới tính và thế kỷ sinh (phải là {expected_g})"
        )
    if info.birth_year_2 != birth_date.year % 100:
        raise InvalidPersonalId(
            f"chữ số 5-6 ({info.number[4:6]}) không khớp năm sinh {birth_date.year}"
        )


def validate_personal_id(text: str, birth_date: date | None = None, sex: str | None = None,
                         abroad_prefixes: frozenset[str] | set[str] = frozenset()) -> PersonalIdInfo:
    info = parse_personal_id(text, abroad_prefixes)
    if birth_date is not None and sex is not None:
        check_matches_person(info, birth_date, sex)
    return info


def make_personal_id(place_code: str, sex: str, birth_year: int, serial: int) -> str:
    if place_code not in OLD_PROVINCES:
        raise InvalidPersonalId(f"mã nơi đăng ký khai sinh {place_code} không tồn tại")
    if not 0 <= serial <= 999_999:
        raise InvalidPersonalId("số thứ tự phải trong khoảng 000000-999999")
    return f"{place_code}{century_sex_digit(sex, birth_year)}{birth_year % 100:02d}{serial:06d}"


def validate_cmnd(text: str) -> str:
    """Legacy identity-card number: 9 digits (or the 12-digit CMND of 2012-2016)."""
    number = (text or "").strip()
    if not (_CMND9_RE.match(number) or _ID_RE.match(number)):
        raise InvalidPersonalId("số CMND cũ phải gồm 9 hoặc 12 chữ số")
    return number
