"""API models of the population registry."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lienthong.population.ids import validate_cmnd
from lienthong.params import ProvinceCode, WardCode


def clean_name_part(value: str) -> str:
    """One part of a person's name: NFC, single spaces, no digits (a pydantic validator body)."""
    value = unicodedata.normalize("NFC", " ".join(value.split()))
    if any(ch.isdigit() for ch in value):
        raise ValueError("họ tên không được chứa chữ số")
    return value


class ResidenceIn(BaseModel):
    kind: Literal["permanent", "temporary"] = "permanent"
    province_code: ProvinceCode = Field(description="current (34-unit) province code")
    ward_code: WardCode = Field(description="ward / commune / special-zone code in that province")
    street: str = Field(default="", max_length=255)
    valid_from: date | None = None


class LegacyAddressIn(BaseModel):
    """A pre-01/07/2025 3-level address (old province, district, commune)."""

    old_province_code: str = Field(pattern=r"^\d{2,3}$")
    district: str = Field(max_length=120)
    commune: str = Field(max_length=120)
    street: str = Field(default="", max_length=255)
    valid_from: date
    valid_to: date


class LegacyIdIn(BaseModel):
    number: str
    issued_on: date | None = None
    issued_by: str | None = Field(default=None, max_length=120)

    @field_validator("number")
    @classmethod
    def _number(cls, v: str) -> str:
        return validate_cmnd(v)


class CitizenIn(BaseModel):
    personal_id: str = Field(description="12-digit personal ID, PPP G YY NNNNNN")
    family_name: str = Field(min_length=1, max_length=40)
    middle_name: str = Field(default="", max_length=80)
    given_name: str = Field(min_length=1, max_length=40)
    birth_date: date
    sex: Literal["M", "F"]
    ethnicity: str = Field(default="Kinh", max_length=40)
    residence: ResidenceIn
    legacy_addresses: list[LegacyAddressIn] = []
    legacy_ids: list[LegacyIdIn] = []
    father_id: str | None = None
    mother_id: str | None = None
    spouse_id: str | None = None

    @field_validator("family_name", "middle_name", "given_name")
    @classmethod
    def _name(cls, v: str) -> str:
        return clean_name_part(v)


class ResidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    province_code: int
    province_name: str | None = None
    ward_code: int | None
    ward_name: str | None = None
    street: str
    legacy_province_code: str | None = None
    legacy_district: str | None = None
    legacy_commune: str | None = None
    valid_from: date
    valid_to: date | None


class RelativeOut(BaseModel):
    relation: str
    personal_id: str
    full_name: str


class LegacyIdOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id_type: str
    number: str
    issued_on: date | None
    issued_by: str | None
    replaced_on: date | None


class CitizenOut(BaseModel):
    personal_id: str
    full_name: str
    family_name: str
    middle_name: str
    given_name: str
    birth_date: date
    sex: str
    birth_place_code: str
    birth_place_name: str | None
    ethnicity: str
    nationality: str
    status: str
    death_date: date | None
    residences: list[ResidenceOut]
    legacy_ids: list[LegacyIdOut]
    relatives: list[RelativeOut]


class CitizenSummary(BaseModel):
    personal_id: str
    full_name: str
    birth_date: date
    sex: str
    status: str
    province_code: int | None


class DeathIn(BaseModel):
    death_date: date


class MoveIn(BaseModel):
    residence: ResidenceIn
