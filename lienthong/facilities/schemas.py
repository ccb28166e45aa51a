from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lienthong.facilities.rules import validate_facility_code
from lienthong.params import ProvinceCode, WardCode


class FacilityIn(BaseModel):
    code: str
    name: str = Field(min_length=3, max_length=255)
    ward_code: WardCode | None = None
    tier: Literal["central", "provincial", "regional", "commune"]
    ownership: Literal["public", "private"]
    insurance_contracted: bool = True

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        return validate_facility_code(v)


class FacilityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    province_code: int
    ward_code: int | None
    tier: str
    ownership: str
    insurance_contracted: bool
    active: bool


class AgencyIn(BaseModel):
    code: str = Field(pattern=r"^[A-Za-z0-9_.-]{2,20}$")
    name: str = Field(min_length=3, max_length=255)
    kind: Literal["police", "justice", "court", "social_insurance", "commune", "ministry"]
    province_code: ProvinceCode | None = None
    ward_code: WardCode | None = None


class AgencyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    kind: str
    province_code: int | None
    ward_code: int | None
    active: bool
