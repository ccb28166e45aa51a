"""Labelled synthetic data for measuring linkage quality.

:func:`make_registry` builds a population registry (the same columns as the database export of
:mod:`lienthong.linkage.registry`) from the household generator of :mod:`lienthong.demo.synthetic`.
:func:`make_dataset` draws records from it, as a legacy register would hold them (one ``ho_ten``
column, text dates in several formats, old CMND numbers, old province names), damages them with
realistic noise and keeps the ground truth (``true_personal_id``; empty for people who are not in
the registry). Everything is deterministic for a given seed.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date

import pyarrow as pa

from lienthong.demo.synthetic import PopulationGenerator, province_profile
from lienthong.geo import units
from lienthong.linkage.prepare import OCR_DAMAGE, PLACE_ALIASES

REF_DATE = date(2026, 1, 1)
# Provinces the synthetic registry is drawn from (north, centre, south, with mixed old units).
PROVINCES = (1, 79, 37, 48, 92, 24, 40, 66)

REGISTRY_SCHEMA = pa.schema([
    ("personal_id", pa.string()), ("family_name", pa.string()), ("middle_name", pa.string()),
    ("given_name", pa.string()), ("birth_date", pa.date32()), ("sex", pa.string()),
    ("birth_place_code", pa.string()), ("cmnd", pa.string()), ("residence_province", pa.int32()),
])

# Column mapping of the datasets made by :func:`make_dataset` (a legacy judicial register).
DATASET_MAPPING = {
    "record_id": "so_ho_so", "full_name": "ho_ten", "birth_date": "ngay_sinh", "sex": "gioi_tinh",
    "id_number": "so_giay_to", "birth_place": "noi_sinh",
}


@dataclass(frozen=True)
class NoiseLevel:
    """Probabilities of each kind of damage, per record."""

    no_diacritics: float = 0.3
    upper_case: float = 0.15
    ocr: float = 0.12  # per record; then each confusable letter is damaged with ``ocr_rate``
    ocr_rate: float = 0.35
    typo: float = 0.06
    western_order: float = 0.05
    missing_middle: float = 0.08
    dm_swap: float = 0.05
    year_only: float = 0.06
    month_year: float = 0.03
    year_typo: float = 0.02
    id_personal: float = 0.35
    id_cmnd: float = 0.30  # when the person had one
    id_typo: float = 0.02
    id_lost_zero: float = 0.3  # share of CMND written without their leading zero (spreadsheets)
    place_missing: float = 0.15
    place_ocr: float = 0.05
    sex_missing: float = 0.1
    sex_wrong: float = 0.005


NOISE_LEVELS: dict[str, NoiseLevel] = {
    "low": NoiseLevel(no_diacritics=0.1, upper_case=0.1, ocr=0.04, typo=0.02, western_order=0.02,
                      missing_middle=0.03, dm_swap=0.02, year_only=0.02, month_year=0.01, year_typo=0.005,
                      id_personal=0.5, id_cmnd=0.3, place_missing=0.05),
    "moderate": NoiseLevel(),
    "high": NoiseLevel(no_diacritics=0.5, upper_case=0.3, ocr=0.25, ocr_rate=0.5, typo=0.15, western_order=0.1,
                       missing_middle=0.15, dm_swap=0.1, year_only=0.12, month_year=0.06, year_typo=0.05,
                       id_personal=0.2, id_cmnd=0.25, id_typo=0.05, place_missing=0.3, place_ocr=0.15,
                       sex_missing=0.2),
}


# --- the registry ---------------------------------------------------------------------------------


def make_registry(n: int, seed: int = 1, provinces: tuple[int, ...] = PROVINCES,
                  taken_ids: set[str] | None = None, taken_cmnd: set[str] | None = None) -> pa.Table:
    """``n`` synthetic citizens (exactly), spread over ``provinces``, as an Arrow table."""
    rng = random.Random(seed)
    taken_ids = taken_ids if taken_ids is not None else set()
    taken_cmnd = taken_cmnd if taken_cmnd is not None else set()
    cols: dict[str, list] = {f.name: [] for f in REGISTRY_SCHEMA}
    share = [n // len(provinces) + (1 if i < n % len(provinces) else 0) for i in range(len(provinces))]
    for code, count in zip(provinces, share):
        if count == 0:
            continue
        gen = PopulationGenerator(random.Random(rng.getrandbits(64)), province_profile(code), REF_DATE,
                                  taken_ids, taken_cmnd)
        for hh in gen.households(count):
            cmnd = {rec.personal_id: rec.number for rec in hh.legacy_ids}
            for p in hh.members:
                cols["personal_id"].append(p.personal_id)
                cols["family_name"].append(p.family_name)
                cols["middle_name"].append(p.middle_name)
                cols["given_name"].append(p.given_name)
                cols["birth_date"].append(p.birth_date)
                cols["sex"].append(p.sex)
                cols["birth_place_code"].append(p.birth_place_code)
                cols["cmnd"].append(cmnd.get(p.personal_id))
                cols["residence_province"].append(code)
    return pa.table(cols, schema=REGISTRY_SCHEMA)


# --- damage functions (pure given the rng) ---------------------------------------------------------


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese diacritics, keeping case ("Đỗ Thị Ánh" -> "Do Thi Anh")."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFC", "".join(c for c in unicodedata.normalize("NFD", text)
                                                 if unicodedata.category(c) != "Mn"))


def ocr_damage(text: str, rng: random.Random, rate: float = 0.35) -> str:
    """Replace confusable letters as a scanner would ("Hà Nội" -> "Hà Néi")."""
    out = []
    for c in unicodedata.normalize("NFC", text):
        options = OCR_DAMAGE.get(c)
        out.append(rng.choice(options) if options and rng.random() < rate else c)
    return "".join(out)


_KEYBOARD_NEAR = {"a": "sq", "n": "mb", "m": "n", "h": "gj", "t": "ry", "g": "hf", "u": "yi", "i": "uo",
                  "o": "ip", "e": "wr", "c": "xv", "l": "k", "d": "sf", "v": "cb", "y": "tu", "r": "et"}


def typo(text: str, rng: random.Random) -> str:
    """One keyboard typo (substitution, deletion, transposition or doubled letter) inside a word."""
    positions = [i for i, c in enumerate(text) if c.isalpha() and i > 0 and text[i - 1] != " "]
    if not positions:
        return text
    i = rng.choice(positions)
    kind = rng.randrange(4)
    c = text[i]
    if kind == 0:
        near = _KEYBOARD_NEAR.get(strip_diacritics(c).lower(), "")
        return text[:i] + (rng.choice(near) if near else c) + text[i + 1:]
    if kind == 1 and len(text) > 3:
        return text[:i] + text[i + 1:]
    if kind == 2 and i + 1 < len(text) and text[i + 1].isalpha():
        return text[:i] + text[i + 1] + c + text[i + 2:]
    return text[:i] + c + text[i:]


def _date_text(d: date, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.6:
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if r < 0.75:
        return f"{d.day}/{d.month}/{d.year}"
    if r < 0.9:
        return d.isoformat()
    return f"{d.day:02d}-{d.month:02d}-{d.year}"


def _place_text(old_code: str, rng: random.Random, level: NoiseLevel) -> str:
    name = units.OLD_PROVINCES[old_code]
    aliases = [a for a, c in PLACE_ALIASES.items() if c == old_code and len(a) > 3]
    r = rng.random()
    if r < 0.15 and aliases:
        name = rng.choice(aliases)
    elif r < 0.3:
        name = ("Thành phố " if old_code in ("001", "031", "048", "079", "092") else "Tỉnh ") + name
    elif r < 0.35:
        name = "TP HCM" if old_code == "079" else name
    if rng.random() < 0.3:
        name = strip_diacritics(name)
    if rng.random() < level.place_ocr:
        name = ocr_damage(name, rng, 0.5)
    return name


def _id_text(person: dict, rng: random.Random, level: NoiseLevel) -> str:
    r = rng.random()
    number = ""
    if r < level.id_personal:
        number = person["personal_id"]
    elif r < level.id_personal + level.id_cmnd and person["cmnd"]:
        number = person["cmnd"]
        if number.startswith("0") and rng.random() < level.id_lost_zero:
            number = number[1:]
    if number and rng.random() < level.id_typo:
        i = rng.randrange(len(number))
        number = number[:i] + str((int(number[i]) + rng.randint(1, 9)) % 10) + number[i + 1:]
    return number


def damage_record(person: dict, rng: random.Random, level: NoiseLevel) -> dict:
    """One register row for ``person`` (a registry row as a dict), with realistic noise."""
    family, middle, given = person["family_name"], person["middle_name"], person["given_name"]
    if middle and rng.random() < level.missing_middle:
        middle = ""
    parts = [p for p in (family, middle, given) if p]
    if rng.random() < level.western_order:
        parts = [given, *([middle] if middle else []), family]
    name = " ".join(parts)
    if rng.random() < level.no_diacritics:
        name = strip_diacritics(name)
    if rng.random() < level.ocr:
        name = ocr_damage(name, rng, level.ocr_rate)
    if rng.random() < level.typo:
        name = typo(name, rng)
    if rng.random() < level.upper_case:
        name = name.upper()

    d: date = person["birth_date"]
    r = rng.random()
    if r < level.year_only:
        dob = str(d.year)
    elif r < level.year_only + level.month_year:
        dob = f"{d.month:02d}/{d.year}"
    else:
        if rng.random() < level.dm_swap and d.day <= 12 and d.day != d.month:
            d = d.replace(month=d.day, day=d.month)
        if rng.random() < level.year_typo:
            try:
                d = d.replace(year=d.year + rng.choice((-1, 1)))
            except ValueError:
                pass
        dob = _date_text(d, rng)

    sex = "Nam" if person["sex"] == "M" else "Nữ"
    if rng.random() < level.sex_wrong:
        sex = "Nữ" if sex == "Nam" else "Nam"
    if rng.random() < level.sex_missing:
        sex = ""
    place = "" if rng.random() < level.place_missing else _place_text(person["birth_place_code"], rng, level)
    return {"ho_ten": name, "ngay_sinh": dob, "gioi_tinh": sex, "so_giay_to": _id_text(person, rng, level),
            "noi_sinh": place}


# --- the labelled dataset -------------------------------------------------------------------------

DATASET_SCHEMA = pa.schema([
    ("so_ho_so", pa.string()), ("ho_ten", pa.string()), ("ngay_sinh", pa.string()), ("gioi_tinh", pa.string()),
    ("so_giay_to", pa.string()), ("noi_sinh", pa.string()), ("true_personal_id", pa.string()),
])


def make_dataset(registry: pa.Table, m: int, *, seed: int = 2, level: str | NoiseLevel = "moderate",
                 match_share: float = 0.85, outsiders: pa.Table | None = None) -> pa.Table:
    """``m`` noisy records: ``match_share`` of them about registry people, the rest about outsiders.

    ``outsiders`` are people who are not in the registry (made with :func:`make_registry` and the
    registry's taken-number sets so that numbers never collide); when omitted they are generated.
    The ``true_personal_id`` column is the ground truth (empty for outsiders).
    """
    noise = NOISE_LEVELS[level] if isinstance(level, str) else level
    rng = random.Random(seed)
    n = registry.num_rows
    matched = min(round(m * match_share), m)
    if outsiders is None and matched < m:
        outsiders = make_registry(m - matched, seed=seed + 10_000, provinces=(1, 79, 40),
                                  taken_ids=set(registry.column("personal_id").to_pylist()),
                                  taken_cmnd={c for c in registry.column("cmnd").to_pylist() if c})
    picks = rng.sample(range(n), matched) if matched <= n else [rng.randrange(n) for _ in range(matched)]
    reg_cols = {name: registry.column(name).to_pylist() for name in REGISTRY_SCHEMA.names}
    out: dict[str, list] = {f.name: [] for f in DATASET_SCHEMA}

    def add(row: dict, truth: str) -> None:
        rec = damage_record(row, rng, noise)
        out["so_ho_so"].append(f"HS{len(out['so_ho_so']) + 1:08d}")
        for key, value in rec.items():
            out[key].append(value)
        out["true_personal_id"].append(truth)

    for i in picks:
        row = {k: v[i] for k, v in reg_cols.items()}
        add(row, row["personal_id"])
    if matched < m and outsiders is not None:
        out_cols = {name: outsiders.column(name).to_pylist() for name in REGISTRY_SCHEMA.names}
        for i in range(m - matched):
            j = i % outsiders.num_rows
            add({k: v[j] for k, v in out_cols.items()}, "")
    # Shuffle so that matches and non-matches are interleaved, then renumber.
    order = list(range(m))
    rng.shuffle(order)
    table = pa.table({k: [v[i] for i in order] for k, v in out.items()}, schema=DATASET_SCHEMA)
    ids = pa.array([f"HS{i + 1:08d}" for i in range(m)])
    return table.set_column(0, "so_ho_so", ids)


def truth(dataset: pa.Table) -> dict[str, str]:
    """The ground truth of a :func:`make_dataset` table: record id (``so_ho_so``) -> true personal ID
    (empty for people who are not in the registry), as :func:`lienthong.linkage.link.evaluate` takes it."""
    return dict(zip(dataset.column("so_ho_so").to_pylist(), dataset.column("true_personal_id").to_pylist()))
