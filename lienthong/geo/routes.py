"""Public reference data: administrative units and the 63 -> 34 mapping."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query
from pydantic import BaseModel

from lienthong.geo import units
from lienthong.params import ProvinceCode

router = APIRouter(prefix="/api/v1/geo", tags=["geo"])


class ProvinceOut(BaseModel):
    code: int
    name: str
    division_type: str
    ward_count: int


class WardOut(BaseModel):
    code: int
    name: str
    division_type: str
    province_code: int


class OldProvinceOut(BaseModel):
    old_code: str
    name: str
    current_code: int
    current_name: str
    unit_set: str


class ResolvedAddress(BaseModel):
    province_code: int
    province_name: str
    ward_code: int | None
    ward_name: str | None
    unit_set: str


@router.get("/provinces", response_model=list[ProvinceOut], summary="Current provinces (34 from 01/07/2025)")
def list_provinces():
    return [ProvinceOut(code=int(p.code), name=p.name, division_type=p.division_type.value,
                        ward_count=len(units.wards_of(int(p.code)))) for p in units.provinces()]


@router.get("/provinces/{code}/wards", response_model=list[WardOut])
def list_wards(code: ProvinceCode):
    units.province(code)
    return [WardOut(code=int(w.code), name=w.name, division_type=w.division_type.value,
                    province_code=int(w.province_code)) for w in units.wards_of(code)]


@router.get("/old-provinces", response_model=list[OldProvinceOut],
            summary="The 63 pre-reform provinces and the unit each belongs to on a date")
def list_old_provinces(on: date | None = None):
    on = on or date.today()
    out = []
    for code, name in units.OLD_PROVINCES.items():
        current = units.map_old_province(code, on)
        current_name = units.province(current).name if units.unit_set_on(on) == "vn34" else units.OLD_PROVINCES[f"{current:03d}"]
        out.append(OldProvinceOut(old_code=code, name=name, current_code=current, current_name=current_name,
                                  unit_set=units.unit_set_on(on)))
    return out


@router.get("/resolve", response_model=ResolvedAddress, summary="Map a legacy 3-level address to current units")
def resolve(old_province_code: str = Query(pattern=r"^\d{2,3}$"), commune: str = Query(max_length=120),
            on: date | None = None):
    on = on or date.today()
    province_code, ward_code = units.map_legacy_address(old_province_code, commune, on)
    if units.unit_set_on(on) != "vn34":
        return ResolvedAddress(province_code=province_code, province_name=units.OLD_PROVINCES[f"{province_code:03d}"],
                               ward_code=None, ward_name=None, unit_set="vn63")
    return ResolvedAddress(province_code=province_code, province_name=units.province(province_code).name,
                           ward_code=ward_code, ward_name=units.ward(ward_code).name if ward_code else None,
                           unit_set="vn34")
