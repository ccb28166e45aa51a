"""Deterministic generators for a synthetic province.

Everything here is pure: given a :class:`random.Random`, a :class:`ProvinceProfile`, a reference
date and the sets of numbers already taken, the output is fully determined. Nothing touches a
database; :mod:`lienthong.demo.seed` turns the records into rows.

The population is built household by household (single people, couples, nuclear families,
three-generation families, single parents), so family links, shared addresses and age gaps are
consistent by construction, and the age pyramid emerges from the household mix.
"""

from __future__ import annotations

import random
import unicodedata
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate

from lienthong.demo import names as N
from lienthong.geo import units
from lienthong.population.ids import century_sex_digit

FIRST_BIRTH_YEAR = 1930
REFORM_DAY = date(2025, 7, 1)
LEGACY_END = date(2025, 6, 30)
CMND_LAST_VALID = date(2024, 12, 31)


# --- weighted choice --------------------------------------------------------------------------------


class Weighted:
    """Fast repeated weighted choice (cumulative weights + bisect)."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, pairs: Sequence[tuple[object, float]]):
        self.items = [p[0] for p in pairs]
        self.cum = list(accumulate(float(p[1]) for p in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random):
        return self.items[bisect(self.cum, rng.random() * self.total)]


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _ward_display(name: str) -> str:
    """Ward name with the unit word lower-cased, for use inside a sentence ("phường Hoàn Kiếm")."""
    name = _nfc(name)
    head, _, rest = name.partition(" ")
    if head == "Đặc":  # "Đặc khu Côn Đảo"
        return "đặc " + rest
    return head.lower() + " " + rest


def _bare_ward(name: str) -> str:
    name = _nfc(name)
    for prefix in ("Phường ", "Xã ", "Đặc khu ", "Thị trấn "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


# --- province profile -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WardInfo:
    code: int
    name: str  # "Phường Hoàn Kiếm"
    urban: bool
    streets: tuple[str, ...]


@dataclass
class ProvinceProfile:
    code: int
    name: str  # "Thành phố Hà Nội"
    region: str  # north, central, south
    old_codes: tuple[str, ...]  # 63-set codes that now form the province
    wards: tuple[WardInfo, ...]
    birth_places: Weighted
    local_old: Weighted
    family_names: Weighted
    minorities: Weighted
    minority_share: float
    legacy_communes: tuple[tuple[str, str | None, str], ...]  # (old code, district or None, commune)
    southern: bool

    @property
    def formal_lower(self) -> str:
        """"thành phố Hà Nội" / "tỉnh Lào Cai"."""
        head, _, rest = self.name.partition(" ")
        if head == "Thành":
            return "thành phố " + rest.partition(" ")[2]
        return head.lower() + " " + rest


def region_of(province_code: int) -> str:
    if province_code <= 42:
        return "north"
    if province_code <= 68:
        return "central"
    return "south"


def old_codes_of(province_code: int) -> tuple[str, ...]:
    """Old 63-set codes merged into the current province (latest reform), largest first."""
    mapping = sorted(units.REFORMS, key=lambda r: r.effective)[-1].mapping
    codes = [f"{old:03d}" for old, new in mapping.items() if new == province_code]
    if not codes:
        raise units.UnknownUnit(f"mã tỉnh/thành phố không tồn tại: {province_code!r}")
    # The unit whose code the province kept comes first, then by population.
    return tuple(sorted(codes, key=lambda c: (int(c) != province_code, -N.OLD_PROVINCE_POPULATION[c])))


def _family_weights(region: str) -> list[tuple[str, float]]:
    split = {
        "north": {"Hoàng|Huỳnh": (0.92, 0.08), "Vũ|Võ": (0.9, 0.1)},
        "central": {"Hoàng|Huỳnh": (0.45, 0.55), "Vũ|Võ": (0.3, 0.7)},
        "south": {"Hoàng|Huỳnh": (0.15, 0.85), "Vũ|Võ": (0.12, 0.88)},
    }[region]
    out: list[tuple[str, float]] = []
    for name, weight in N.FAMILY_NAMES_COMMON:
        if "|" in name:
            a, b = name.split("|")
            wa, wb = split[name]
            out += [(a, weight * wa), (b, weight * wb)]
        else:
            out.append((name, weight))
    out += N.FAMILY_NAMES_TAIL
    return out


@lru_cache(maxsize=64)
def province_profile(province_code: int) -> ProvinceProfile:
    prov = units.province(province_code)
    region = region_of(province_code)
    olds = old_codes_of(province_code)
    southern = olds[0] in N.SOUTHERN_OLD_PROVINCES
    street_pool: list[str] = list(N.STREETS_COMMON)
    for code in olds:
        street_pool += N.STREETS_BY_OLD_PROVINCE.get(code, [])
    wards = []
    for w in sorted(units.wards_of(province_code), key=lambda w: int(w.code)):
        name = _nfc(w.name)
        picker = random.Random(int(w.code))  # streets of a ward do not depend on the seed
        wards.append(WardInfo(int(w.code), name, name.startswith("Phường"),
                              tuple(picker.sample(street_pool, min(6, len(street_pool))))))
    if not wards:
        raise units.UnknownUnit(f"tỉnh/thành phố {province_code} không có phường/xã")
    local = [(c, N.OLD_PROVINCE_POPULATION[c]) for c in olds]
    local_total = sum(w for _, w in local)
    others = [(c, p) for c, p in N.OLD_PROVINCE_POPULATION.items() if c not in olds]
    others_total = sum(p for _, p in others)
    # About 9 in 10 residents had their birth registered in the province itself.
    birth = [(c, 0.9 * w / local_total) for c, w in local] + [(c, 0.1 * p / others_total) for c, p in others]
    legacy: list[tuple[str, str | None, str]] = []
    for code in olds:
        districts = N.LEGACY_DISTRICTS.get(code)
        if districts:
            legacy += [(code, d, c) for d, communes in districts.items() for c in communes]
    if not legacy:
        # No district table for these provinces: most current wards carry the name of one of the
        # communes merged into them, so use those names (the district is not known).
        legacy = [(olds[0], None, w.name.replace("Đặc khu", "Huyện")) for w in wards]
    minorities = N.ETHNIC_MINORITIES[region]
    return ProvinceProfile(
        code=province_code, name=_nfc(prov.name), region=region, old_codes=olds, wards=tuple(wards),
        birth_places=Weighted(birth), local_old=Weighted(local),
        family_names=Weighted(_family_weights(region)), minorities=Weighted(minorities),
        minority_share=sum(w for _, w in minorities) / 100,
        legacy_communes=tuple(legacy), southern=southern,
    )


# --- records ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class Person:
    personal_id: str
    family_name: str
    middle_name: str
    given_name: str
    birth_date: date
    sex: str
    birth_place_code: str
    ethnicity: str = "Kinh"
    death_date: date | None = None

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.family_name, self.middle_name, self.given_name) if p)

    @property
    def status(self) -> str:
        return "dead" if self.death_date else "alive"


@dataclass(slots=True)
class Link:
    personal_id: str
    relation: str  # father, mother, spouse: relative_id is the <relation> of personal_id
    relative_id: str
    valid_from: date | None
    valid_to: date | None = None


@dataclass(slots=True)
class ResidenceRec:
    personal_id: str
    kind: str
    province_code: int
    ward_code: int | None
    street: str
    valid_from: date
    valid_to: date | None = None
    legacy_province_code: str | None = None
    legacy_district: str | None = None
    legacy_commune: str | None = None


@dataclass(slots=True)
class LegacyIdRec:
    personal_id: str
    id_type: str
    number: str
    issued_on: date | None
    issued_by: str | None
    replaced_on: date | None


@dataclass
class Household:
    kind: str  # single, couple, nuclear, three_gen, single_parent
    members: list[Person]
    links: list[Link] = field(default_factory=list)
    residences: list[ResidenceRec] = field(default_factory=list)
    legacy_ids: list[LegacyIdRec] = field(default_factory=list)


# --- names ------------------------------------------------------------------------------------------

_W = {
    "m_mid_old": Weighted(N.MALE_MIDDLE_TRADITIONAL), "m_mid_new": Weighted(N.MALE_MIDDLE_MODERN),
    "f_mid_old": Weighted(N.FEMALE_MIDDLE_TRADITIONAL), "f_mid_new": Weighted(N.FEMALE_MIDDLE_MODERN),
    "m_giv_old": Weighted(N.MALE_GIVEN_OLD), "m_giv_new": Weighted(N.MALE_GIVEN_YOUNG),
    "f_giv_old": Weighted(N.FEMALE_GIVEN_OLD), "f_giv_new": Weighted(N.FEMALE_GIVEN_YOUNG),
}


def make_name(rng: random.Random, sex: str, birth_year: int, avoid_given: Sequence[str] = ()) -> tuple[str, str]:
    """(middle name, given name) fitting the sex and generation."""
    s = "m" if sex == "M" else "f"
    # Share of "modern" naming rises from the 1975 generation to the 2000s.
    modern_p = min(1.0, max(0.0, (birth_year - 1972) / 28))
    era = "new" if rng.random() < modern_p else "old"
    given = ""
    for _ in range(8):
        given = _W[f"{s}_giv_{era}"].pick(rng)
        if given not in avoid_given:
            break
    r = rng.random()
    if birth_year >= 2005 and r < 0.04:
        return "", given  # a few young people have no middle name ("Lê Na")
    parts = []
    for _ in range(6):
        first = _W[f"{s}_mid_{era}"].pick(rng)
        if first != given:
            parts = [first]
            break
    two_p = 0.02 + 0.2 * modern_p
    if parts and rng.random() < two_p:
        second = rng.choice(N.MALE_SECOND_MIDDLE if sex == "M" else N.FEMALE_SECOND_MIDDLE)
        if second not in parts and second != given:
            parts.append(second)
    return " ".join(parts), given


# --- the generator ----------------------------------------------------------------------------------


def _day_in_year(rng: random.Random, year: int) -> date:
    start = date(year, 1, 1)
    return start + timedelta(days=rng.randrange((date(year + 1, 1, 1) - start).days))


def _between(rng: random.Random, lo: date, hi: date) -> date:
    if hi <= lo:
        return lo
    return lo + timedelta(days=rng.randrange((hi - lo).days + 1))


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


_KINDS = Weighted([("single", 15), ("couple", 13), ("nuclear", 47), ("three_gen", 19), ("single_parent", 6)])
_GAP = Weighted([(-2, 2), (-1, 3), (0, 8), (1, 12), (2, 14), (3, 14), (4, 12), (5, 10), (6, 8), (8, 5), (10, 2)])
_KIDS_OLD = Weighted([(1, 10), (2, 30), (3, 30), (4, 20), (5, 10)])
_KIDS_NEW = Weighted([(1, 28), (2, 50), (3, 18), (4, 4)])
_CCCD_YEAR = Weighted([(2016, 3), (2017, 4), (2018, 5), (2019, 6), (2020, 8), (2021, 30), (2022, 16), (2023, 10), (2024, 8)])


class PopulationGenerator:
    """Generates households for one province.

    ``taken_ids`` / ``taken_cmnd`` hold numbers already in the registry; new ones are added to them,
    so numbers never collide within a run or with existing data.
    """

    def __init__(self, rng: random.Random, profile: ProvinceProfile, ref_date: date,
                 taken_ids: set[str] | None = None, taken_cmnd: set[str] | None = None):
        self.rng = rng
        self.p = profile
        self.ref = ref_date
        self.last_year = ref_date.year - 1
        self.taken_ids = taken_ids if taken_ids is not None else set()
        self.taken_cmnd = taken_cmnd if taken_cmnd is not None else set()
        self._legacy_map: dict[tuple[str, str], tuple[int, int | None]] = {}
        # Serial numbers come from their own stream, so skipping a taken number does not change
        # anything else about the generated people.
        self.id_rng = random.Random(rng.getrandbits(64))

    # -- people --

    def _pid(self, ppp: str, sex: str, year: int) -> str:
        prefix = f"{ppp}{century_sex_digit(sex, year)}{year % 100:02d}"
        rng, taken = self.id_rng, self.taken_ids
        while True:
            pid = f"{prefix}{rng.randrange(1_000_000):06d}"
            if pid not in taken:
                taken.add(pid)
                return pid

    def person(self, sex: str, year: int, family: str | None = None, ethnicity: str = "Kinh",
               avoid_given: Sequence[str] = (), local: bool = False) -> Person:
        rng = self.rng
        year = max(FIRST_BIRTH_YEAR, min(self.last_year, year))
        birth = _day_in_year(rng, year)
        ppp = self.p.local_old.pick(rng) if local and rng.random() < 0.97 else self.p.birth_places.pick(rng)
        middle, given = make_name(rng, sex, year, avoid_given)
        return Person(self._pid(ppp, sex, year), family or self.p.family_names.pick(rng), middle, given,
                      birth, sex, ppp, ethnicity)

    def _age_year(self, age: float) -> int:
        return self.ref.year - int(age)

    def _couple(self, wife_year: int, eth: str) -> tuple[Person, Person]:
        husband_year = max(FIRST_BIRTH_YEAR, wife_year - _GAP.pick(self.rng))
        return self.person("M", husband_year, ethnicity=eth), self.person("F", wife_year, ethnicity=eth)

    def _marry(self, hh: Household, husband: Person, wife: Person, first_child: date | None) -> None:
        rng = self.rng
        legal = max(_add_years(husband.birth_date, 20), _add_years(wife.birth_date, 18))
        if first_child is not None:
            wed = first_child - timedelta(days=rng.randint(300, 1100))
        else:
            wed = _add_years(legal, rng.randint(2, 12))
        wed = min(max(wed, legal), self.ref - timedelta(days=30))
        hh.links.append(Link(husband.personal_id, "spouse", wife.personal_id, wed))
        hh.links.append(Link(wife.personal_id, "spouse", husband.personal_id, wed))

    def _children(self, hh: Household, mother: Person | None, father: Person | None, family: str,
                  eth: str, max_age: int = 30) -> list[Person]:
        rng = self.rng
        base = mother or father
        assert base is not None
        mother_year = base.birth_date.year if mother else base.birth_date.year + 2
        count = (_KIDS_OLD if mother_year < 1970 else _KIDS_NEW).pick(rng)
        year = mother_year + int(rng.triangular(19, 34, 24))
        kids: list[Person] = []
        for _ in range(count):
            if year > self.last_year:
                break
            if self.ref.year - year <= max_age:
                sex = "M" if rng.random() < 0.515 else "F"  # sex ratio at birth ~ 1.05-1.1
                kid = self.person(sex, year, family, eth, avoid_given=[k.given_name for k in kids], local=True)
                kids.append(kid)
                for parent, rel in ((father, "father"), (mother, "mother")):
                    if parent is not None:
                        hh.links.append(Link(kid.personal_id, rel, parent.personal_id, kid.birth_date))
            year += max(1, int(rng.triangular(1, 8, 3)))
        return kids

    def _ethnicity(self) -> str:
        if self.rng.random() < self.p.minority_share:
            return self.p.minorities.pick(self.rng)
        return "Kinh"

    def household(self, kind: str | None = None) -> Household:
        rng = self.rng
        kind = kind or _KINDS.pick(rng)
        eth = self._ethnicity()
        hh = Household(kind, [])
        if kind == "single":
            r = rng.random()
            if r < 0.45:
                sex, age = ("M" if rng.random() < 0.72 else "F"), rng.uniform(18, 35)
            elif r < 0.65:
                sex, age = ("M" if rng.random() < 0.65 else "F"), rng.uniform(35, 60)
            else:
                sex, age = ("F" if rng.random() < 0.62 else "M"), rng.triangular(60, 96, 72)
            hh.members.append(self.person(sex, self._age_year(age), ethnicity=eth))
        elif kind == "couple":
            young = rng.random() < 0.35
            wife_age = rng.uniform(20, 32) if young else rng.triangular(48, 92, 62)
            husband, wife = self._couple(self._age_year(wife_age), eth)
            hh.members += [husband, wife]
            self._marry(hh, husband, wife, None)
        elif kind == "nuclear":
            husband, wife = self._couple(self._age_year(rng.triangular(21, 63, 38)), eth)
            hh.members += [husband, wife]
            kids = self._children(hh, wife, husband, husband.family_name, eth)
            hh.members += kids
            self._marry(hh, husband, wife, kids[0].birth_date if kids else None)
        elif kind == "three_gen":
            son_year = self._age_year(rng.triangular(23, 52, 31))
            gm_year = son_year - int(rng.triangular(20, 38, 26))
            if gm_year < FIRST_BIRTH_YEAR:
                return self.household("nuclear")
            grandmother = self.person("F", gm_year, ethnicity=eth)
            grandfather = None
            if rng.random() < 0.6:
                gf_year = max(FIRST_BIRTH_YEAR, gm_year - _GAP.pick(rng))
                grandfather = self.person("M", gf_year, ethnicity=eth)
            family = grandfather.family_name if grandfather else self.p.family_names.pick(rng)
            son = self.person("M", son_year, family, eth, local=True)
            for parent, rel in ((grandfather, "father"), (grandmother, "mother")):
                if parent is not None:
                    hh.links.append(Link(son.personal_id, rel, parent.personal_id, son.birth_date))
            wife = self.person("F", max(FIRST_BIRTH_YEAR, son_year + _GAP.pick(rng)), ethnicity=eth)
            hh.members += [m for m in (grandfather, grandmother, son, wife) if m is not None]
            if grandfather is not None:
                self._marry(hh, grandfather, grandmother, son.birth_date)
            kids = self._children(hh, wife, son, son.family_name, eth)
            hh.members += kids
            self._marry(hh, son, wife, kids[0].birth_date if kids else None)
        elif kind == "single_parent":
            if rng.random() < 0.85:
                parent = self.person("F", self._age_year(rng.triangular(24, 56, 37)), ethnicity=eth)
                kids = self._children(hh, parent, None, parent.family_name, eth, max_age=25)
            else:
                parent = self.person("M", self._age_year(rng.triangular(26, 60, 40)), ethnicity=eth)
                kids = self._children(hh, None, parent, parent.family_name, eth, max_age=25)
            hh.members += [parent, *kids]
        else:
            raise ValueError(f"unknown household kind {kind!r}")
        self._deaths(hh)
        self._addresses(hh)
        for person in hh.members:
            self._cmnd(hh, person)
        return hh

    # -- deaths --

    def _deaths(self, hh: Household) -> None:
        rng = self.rng
        by_id = {m.personal_id: m for m in hh.members}
        floor: dict[str, date] = {}
        for link in hh.links:
            # A parent dies after the child's birth; a spouse after the wedding.
            target = link.relative_id if link.relation != "spouse" else link.personal_id
            when = by_id[link.personal_id].birth_date if link.relation != "spouse" else link.valid_from
            if when and (target not in floor or floor[target] < when):
                floor[target] = when
        for m in hh.members:
            age = self.ref.year - m.birth_date.year
            p = 0.16 if age >= 80 else 0.045 if age >= 70 else 0.012 if age >= 60 else 0.0012
            if rng.random() >= p:
                continue
            lo = max(m.birth_date + timedelta(days=1), floor.get(m.personal_id, m.birth_date),
                     self.ref - timedelta(days=365 * 12))
            hi = self.ref - timedelta(days=1)
            if lo > hi:
                continue
            m.death_date = _between(rng, lo, hi)
        for link in hh.links:
            if link.relation == "spouse":
                ends = [d for d in (by_id[link.personal_id].death_date, by_id[link.relative_id].death_date) if d]
                if ends:
                    link.valid_to = min(ends)

    # -- addresses --

    def street(self, ward: WardInfo) -> str:
        rng = self.rng
        n = rng.randint(1, 180)
        if ward.urban:
            s = rng.choice(ward.streets)
            r = rng.random()
            if self.p.southern:
                if r < 0.45:
                    return f"Số {n}, đường {s}"
                if r < 0.85:
                    return f"Số {n}, hẻm {rng.randint(2, 400)}, đường {s}"
                return f"Số {n}/{rng.randint(1, 60)}, hẻm {rng.randint(2, 400)}, đường {s}"
            if r < 0.35:
                return f"Số {n}, phố {s}"
            if r < 0.8:
                return f"Số {n}, ngõ {rng.randint(2, 300)}, phố {s}"
            if r < 0.95:
                return f"Số {rng.randint(1, 40)}, ngách {rng.randint(2, 80)}, ngõ {rng.randint(2, 300)}, phố {s}"
            return f"Tổ dân phố {rng.randint(1, 40)}"
        if self.p.southern:
            return f"Ấp {rng.randint(1, 12)}" if rng.random() < 0.6 else f"Tổ {rng.randint(1, 20)}, ấp {rng.choice(N.VILLAGE_NAMES_NORTH)}"
        word = rng.choice(N.VILLAGE_WORDS_NORTH)
        village = rng.choice(N.VILLAGE_NAMES_NORTH) if word == "Thôn" else str(rng.randint(1, 15))
        return f"Số nhà {n}, {word.lower()} {village}" if rng.random() < 0.3 else f"{word} {village}"

    def _map_legacy(self, old_code: str, commune: str) -> tuple[int, int | None]:
        key = (old_code, commune)
        if key not in self._legacy_map:
            self._legacy_map[key] = units.map_legacy_address(old_code, commune, REFORM_DAY)
        return self._legacy_map[key]

    def _addresses(self, hh: Household) -> None:
        rng, p = self.rng, self.p
        adults = [m for m in hh.members if self.ref.year - m.birth_date.year >= 18] or hh.members
        earliest = max(date(1990, 1, 1), min(_add_years(m.birth_date, 18) for m in adults))
        legacy = None
        if self.ref >= REFORM_DAY and rng.random() < 0.2:
            old_code, district, commune = rng.choice(p.legacy_communes)
            province_code, ward_code = self._map_legacy(old_code, commune)
            legacy = (old_code, district, commune, province_code, ward_code)
            moved_in = _between(rng, min(earliest, LEGACY_END - timedelta(days=60)), LEGACY_END - timedelta(days=30))
        else:
            ward_code = None
            moved_in = _between(rng, earliest, self.ref - timedelta(days=20))
        ward = next((w for w in p.wards if w.code == ward_code), None) if ward_code else None
        ward = ward or rng.choice(p.wards)
        street = self.street(ward)
        for m in hh.members:
            start = max(moved_in, m.birth_date)
            rows: list[ResidenceRec] = []
            if legacy is not None and start <= LEGACY_END:
                old_code, district, commune, province_code, legacy_ward = legacy
                rows.append(ResidenceRec(m.personal_id, "permanent", province_code, legacy_ward, street, start,
                                         LEGACY_END, old_code, district, commune))
                start = REFORM_DAY
            rows.append(ResidenceRec(m.personal_id, "permanent", p.code, ward.code, street, start))
            if m.death_date is not None:
                rows = [r for r in rows if r.valid_from <= m.death_date]
                for r in rows:
                    if r.valid_to is None or r.valid_to > m.death_date:
                        r.valid_to = m.death_date
            hh.residences += rows
            age = self.ref.year - m.birth_date.year
            if m.death_date is None and 16 <= age <= 62 and rng.random() < 0.16:
                other = rng.choice(p.wards)
                start = _between(rng, max(self.ref - timedelta(days=700), m.birth_date), self.ref - timedelta(days=5))
                hh.residences.append(ResidenceRec(m.personal_id, "temporary", p.code, other.code, self.street(other),
                                                  start, _add_years(start, rng.choice((1, 2)))))

    # -- legacy identity cards --

    def _cmnd(self, hh: Household, m: Person) -> None:
        rng = self.rng
        if m.birth_date.year > 2001 or rng.random() >= 0.9:
            return
        earliest = max(_add_years(m.birth_date, 14), date(1996, 1, 1))
        latest = min(date(2016, 6, 30), self.ref)
        if m.death_date is not None:
            latest = min(latest, m.death_date)
        if earliest > latest:
            return
        issued = _between(rng, max(earliest, latest - timedelta(days=365 * 15)), latest)
        place = m.birth_place_code if rng.random() < 0.7 else self.p.local_old.pick(rng)
        prefix = N.CMND_PREFIX[place]
        while True:
            number = prefix + f"{self.id_rng.randrange(10 ** (9 - len(prefix))):0{9 - len(prefix)}d}"
            if number not in self.taken_cmnd:
                self.taken_cmnd.add(number)
                break
        replaced: date | None = _day_in_year(rng, _CCCD_YEAR.pick(rng))
        replaced = min(max(replaced, issued + timedelta(days=200)), CMND_LAST_VALID)
        if replaced > self.ref or (m.death_date is not None and replaced > m.death_date):
            replaced = None
        hh.legacy_ids.append(LegacyIdRec(m.personal_id, "CMND9", number, issued,
                                         "Công an " + N.old_province_formal(place), replaced))

    # -- a whole population --

    def households(self, citizens: int) -> Iterator[Household]:
        """Households totalling exactly ``citizens`` people."""
        remaining = citizens
        while remaining > 0:
            hh = self.household()
            tries = 0
            while len(hh.members) > remaining:
                # Numbers drawn for the discarded household stay reserved (harmless).
                tries += 1
                hh = self.household("single" if remaining == 1 or tries > 5 else None)
            remaining -= len(hh.members)
            yield hh


# --- facilities, agencies ---------------------------------------------------------------------------

_CLINIC_NAMES = [
    "Hồng Phúc", "An Bình", "Thiện Nhân", "Tâm Đức", "Việt Hàn", "Phúc An", "Bảo An", "Minh Tâm",
    "Đức Thịnh", "Hòa An", "Nhân Ái", "Thanh Bình", "Khang Thịnh", "Hưng Thịnh", "Sài Gòn Tâm Trí",
    "Medic Bình An", "Phương Đông", "Quốc tế Việt Pháp",
]


@dataclass(frozen=True)
class FacilityRec:
    code: str
    name: str
    province_code: int
    ward_code: int | None
    tier: str
    ownership: str
    insurance_contracted: bool


@dataclass(frozen=True)
class AgencyRec:
    code: str
    name: str
    kind: str
    province_code: int
    ward_code: int | None


def facilities(rng: random.Random, profile: ProvinceProfile, citizens: int) -> list[FacilityRec]:
    """Hospitals (about one per 40,000 people), one health station per ward, a few private clinics.

    Codes are ``PP`` (2-digit old province code of the province) + a 3-digit serial.
    """
    prefixes = [c[1:] for c in profile.old_codes]
    main = prefixes[0]
    out: list[FacilityRec] = []
    n_hosp = max(1, round(citizens / 40_000))
    known = N.KNOWN_HOSPITALS.get(profile.code, [])
    generic_first = (f"Bệnh viện Đa khoa {profile.formal_lower}", "provincial")
    for i in range(n_hosp):
        if i < len(known):
            name, tier = known[i]
        elif i == 0 or (i == len(known) and not known):
            name, tier = generic_first
        else:
            ward = profile.wards[(i * 37) % len(profile.wards)]
            name, tier = f"Bệnh viện Đa khoa khu vực {_bare_ward(ward.name)}", "regional"
        prefix = prefixes[i % len(prefixes)]
        out.append(FacilityRec(f"{prefix}{1 + i // len(prefixes):03d}", name, profile.code,
                               rng.choice(profile.wards).code, tier, "public", rng.random() < 0.97))
    n_clinics = max(2, min(15, citizens // 15_000))
    for i, label in enumerate(rng.sample(_CLINIC_NAMES, min(n_clinics, len(_CLINIC_NAMES)))):
        ward = rng.choice([w for w in profile.wards if w.urban] or list(profile.wards))
        out.append(FacilityRec(f"{main}{60 + i:03d}", f"Phòng khám Đa khoa tư nhân {label}", profile.code,
                               ward.code, "commune", "private", rng.random() < 0.45))
    for i, ward in enumerate(profile.wards):
        if 100 + i > 999:
            break
        out.append(FacilityRec(f"{main}{100 + i:03d}", f"Trạm Y tế {_ward_display(ward.name)}", profile.code,
                               ward.code, "commune", "public", rng.random() < 0.98))
    return out


def agencies(profile: ProvinceProfile) -> list[AgencyRec]:
    pc, where = profile.code, profile.formal_lower
    out = [
        AgencyRec(f"CA-{pc:02d}", f"Công an {where}", "police", pc, None),
        AgencyRec(f"STP-{pc:02d}", f"Sở Tư pháp {where}", "justice", pc, None),
        AgencyRec(f"TAND-{pc:02d}", f"Tòa án nhân dân {where}", "court", pc, None),
        AgencyRec(f"BHXH-{pc:02d}", f"Bảo hiểm xã hội {where}", "social_insurance", pc, None),
    ]
    out += [AgencyRec(f"UBND-{w.code:05d}", f"Ủy ban nhân dân {_ward_display(w.name)}", "commune", pc, w.code)
            for w in profile.wards]
    return out
