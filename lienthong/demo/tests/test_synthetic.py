"""Pure generators of the synthetic province (no database)."""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lienthong.demo import names as N
from lienthong.demo import synthetic as S
from lienthong.facilities.rules import facility_province
from lienthong.geo import units
from lienthong.population.ids import validate_cmnd, validate_personal_id

REF = date(2026, 5, 1)
PROVINCES = [1, 79, 46, 8, 92]  # Hà Nội, TP HCM, Huế, Tuyên Quang, Cần Thơ
KNOWN_FAMILY = {n for name, _ in N.FAMILY_NAMES_COMMON for n in name.split("|")} | {n for n, _ in N.FAMILY_NAMES_TAIL}
MALE_ONLY_MIDDLE = {"Văn", "Đức", "Quốc", "Hữu", "Công", "Trọng", "Mạnh", "Đình", "Bá", "Viết"}
FEMALE_ONLY_MIDDLE = {"Thị", "Thu", "Thúy", "Thùy", "Bích", "Tuyết", "Diệu", "Hồng", "Phương", "Quỳnh", "Hoài", "Yến", "Cẩm", "Tường"}


def population(seed: int, province: int, n: int, taken: set[str] | None = None):
    gen = S.PopulationGenerator(random.Random(seed), S.province_profile(province), REF, taken)
    return list(gen.households(n))


def people(households):
    return [m for h in households for m in h.members]


@pytest.fixture(scope="module")
def hanoi_5k():
    return population(2026, 1, 5000)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), province=st.sampled_from(PROVINCES), n=st.integers(1, 250))
def test_households_are_consistent(seed, province, n):
    hhs = population(seed, province, n)
    persons = {p.personal_id: p for p in people(hhs)}
    assert len(persons) == sum(len(h.members) for h in hhs) == n  # exact count, unique IDs
    old_codes = set(S.old_codes_of(province))
    wards = {int(w.code) for w in units.wards_of(province)}
    for p in persons.values():
        validate_personal_id(p.personal_id, p.birth_date, p.sex)
        assert p.personal_id[:3] == p.birth_place_code
        assert S.FIRST_BIRTH_YEAR <= p.birth_date.year <= REF.year - 1
        assert p.death_date is None or p.birth_date < p.death_date < REF
    for h in hhs:
        spouses = {(l.personal_id, l.relative_id, l.valid_from, l.valid_to) for l in h.links if l.relation == "spouse"}
        assert {(b, a, f, t) for a, b, f, t in spouses} == spouses  # both directions, same dates
        for l in h.links:
            child, rel = persons[l.personal_id], persons[l.relative_id]
            if l.relation in ("father", "mother"):
                assert rel.sex == ("M" if l.relation == "father" else "F")
                assert (child.birth_date - rel.birth_date).days >= 15 * 365
                if l.relation == "father":
                    assert child.family_name == rel.family_name
            else:
                assert child.sex != rel.sex
                assert l.valid_from >= max(child.birth_date, rel.birth_date)
        addresses = {(r.ward_code, r.street) for r in h.residences if r.kind == "permanent" and r.legacy_province_code is None}
        assert len(addresses) <= 1  # a household shares its address
        assert addresses or all(m.death_date for m in h.members)
        for r in h.residences:
            if r.legacy_province_code is None:
                assert r.province_code == province and r.ward_code in wards
            else:
                died = persons[r.personal_id].death_date
                # a pre-reform residence ends with the reform, or earlier with its holder's death
                assert r.legacy_province_code in old_codes
                assert r.valid_to == S.LEGACY_END or (died is not None and r.valid_to == died < S.LEGACY_END)
                assert (r.province_code, r.ward_code) == units.map_legacy_address(r.legacy_province_code, r.legacy_commune)
            assert r.valid_to is None or r.valid_from <= r.valid_to
        for c in h.legacy_ids:
            assert c.id_type == "CMND9" and validate_cmnd(c.number) == c.number and len(c.number) == 9
            assert c.issued_by.startswith("Công an ")
            assert c.replaced_on is None or c.issued_on < c.replaced_on <= S.CMND_LAST_VALID
            assert c.issued_on >= date(persons[c.personal_id].birth_date.year + 14, 1, 1)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sex=st.sampled_from("MF"), year=st.integers(1930, 2025))
def test_names_fit_sex_and_are_nfc(seed, sex, year):
    middle, given = S.make_name(random.Random(seed), sex, year)
    parts = middle.split()
    assert given and given not in parts and len(set(parts)) == len(parts) <= 2
    assert not set(parts) & (FEMALE_ONLY_MIDDLE if sex == "M" else MALE_ONLY_MIDDLE)
    for text in (middle, given):
        assert unicodedata.is_normalized("NFC", text)


def test_name_order_and_diacritics(hanoi_5k):
    for p in people(hanoi_5k):
        assert p.family_name in KNOWN_FAMILY
        assert p.full_name == " ".join(x for x in (p.family_name, p.middle_name, p.given_name) if x)
        assert p.full_name.split()[0] == p.family_name and p.full_name.split()[-1] == p.given_name
        assert unicodedata.is_normalized("NFC", p.full_name)
    sample = {p.full_name for p in people(hanoi_5k)}
    assert any(name.startswith("Nguyễn Thị ") for name in sample)
    assert any(name.startswith("Nguyễn Văn ") for name in sample)


def test_population_shape(hanoi_5k):
    persons = people(hanoi_5k)
    n = len(persons)
    fam = Counter(p.family_name for p in persons)
    assert 0.30 <= fam["Nguyễn"] / n <= 0.46
    assert 0.07 <= fam["Trần"] / n <= 0.15 and 0.06 <= fam["Lê"] / n <= 0.13
    assert fam["Hoàng"] > fam["Huỳnh"]  # northern province
    assert 0.46 <= sum(p.sex == "M" for p in persons) / n <= 0.54
    ages = [REF.year - p.birth_date.year for p in persons]
    assert 0.15 <= sum(a < 15 for a in ages) / n <= 0.32
    assert 0.04 <= sum(a >= 65 for a in ages) / n <= 0.15
    assert min(ages) <= 2 and max(ages) >= 85
    assert 0.001 <= sum(p.death_date is not None for p in persons) / n <= 0.015
    assert sum(p.birth_place_code == "001" for p in persons) / n > 0.8
    kinds = Counter(h.kind for h in hanoi_5k)
    assert {"single", "couple", "nuclear", "three_gen", "single_parent"} <= set(kinds)
    residents = {r.personal_id for h in hanoi_5k for r in h.residences if r.kind == "temporary"}
    legacy = {r.personal_id for h in hanoi_5k for r in h.residences if r.legacy_province_code}
    assert 0.05 <= len(residents) / n <= 0.16
    assert 0.12 <= len(legacy) / n <= 0.28
    born_before_2000 = [p for p in persons if p.birth_date.year < 2000 and p.death_date is None]
    with_cmnd = {c.personal_id for h in hanoi_5k for c in h.legacy_ids}
    assert sum(p.personal_id in with_cmnd for p in born_before_2000) / len(born_before_2000) > 0.75


def test_southern_province_uses_merged_old_codes():
    persons = people(population(7, 79, 3000))
    codes = Counter(p.birth_place_code for p in persons)
    assert {"079", "074", "077"} <= set(codes)
    fam = Counter(p.family_name for p in persons)
    assert fam["Huỳnh"] > fam["Hoàng"] and fam["Võ"] > fam["Vũ"]


def test_deterministic_for_a_seed():
    a = [(p.personal_id, p.full_name, p.birth_date) for p in people(population(99, 1, 800))]
    b = [(p.personal_id, p.full_name, p.birth_date) for p in people(population(99, 1, 800))]
    c = [(p.personal_id, p.full_name, p.birth_date) for p in people(population(100, 1, 800))]
    assert a == b and a != c


def test_taken_ids_are_avoided():
    first = population(5, 1, 500)
    taken = {p.personal_id for p in people(first)}
    before = set(taken)
    second = population(5, 1, 500, taken)
    assert not before & {p.personal_id for p in people(second)}
    # Same seed otherwise: the same people, with fresh numbers.
    assert [(p.full_name, p.birth_date) for p in people(first)] == [(p.full_name, p.birth_date) for p in people(second)]


@pytest.mark.parametrize("province", PROVINCES)
def test_facilities_and_agencies(province):
    profile = S.province_profile(province)
    facs = S.facilities(random.Random(1), profile, 100_000)
    codes = [f.code for f in facs]
    assert len(codes) == len(set(codes))
    wards = {int(w.code) for w in units.wards_of(province)}
    for f in facs:
        assert len(f.code) == 5 and f.code.isdigit()
        assert f"0{f.code[:2]}" in profile.old_codes and facility_province(f.code) == province
        assert f.ward_code in wards and unicodedata.is_normalized("NFC", f.name)
    hospitals = [f for f in facs if f.name.startswith("Bệnh viện")]
    stations = [f for f in facs if f.name.startswith("Trạm Y tế ")]
    clinics = [f for f in facs if f.name.startswith("Phòng khám Đa khoa tư nhân ")]
    assert len(hospitals) == round(100_000 / 40_000)
    assert len(stations) == len(wards) and all(s.tier == "commune" and s.ownership == "public" for s in stations)
    assert 2 <= len(clinics) <= 15 and all(c.ownership == "private" for c in clinics)
    assert all(h.tier in ("central", "provincial", "regional") for h in hospitals)
    assert sum(f.insurance_contracted for f in facs if f.ownership == "public") / len(stations) > 0.9
    assert any(s.name.startswith("Trạm Y tế phường ") or s.name.startswith("Trạm Y tế xã ") for s in stations)
    ags = S.agencies(profile)
    kinds = Counter(a.kind for a in ags)
    assert kinds["police"] == kinds["justice"] == kinds["court"] == kinds["social_insurance"] == 1
    assert kinds["commune"] == len(wards)
    police = next(a for a in ags if a.kind == "police")
    assert police.name.startswith("Công an ") and police.name.endswith(S.province_profile(province).name.split(" ", 2)[-1])
    assert all(a.name.startswith("Ủy ban nhân dân ") for a in ags if a.kind == "commune")


def test_hanoi_names_and_legacy_addresses():
    profile = S.province_profile(1)
    assert profile.formal_lower == "thành phố Hà Nội"
    facs = S.facilities(random.Random(1), profile, 40_000)
    assert facs[0].code.startswith("01") and facs[0].name.startswith("Bệnh viện")
    assert any(d == "Quận Hoàn Kiếm" for _, d, _ in profile.legacy_communes)
    assert S.agencies(profile)[0].name == "Công an thành phố Hà Nội"
