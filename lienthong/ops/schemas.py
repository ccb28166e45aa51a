"""API schemas of the ops context."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from lienthong.params import Version

Status = Literal["not_started", "testing", "test_done", "production", "completed"]
Assessment = Literal["not_started", "in_progress", "passed", "failed"]


class RolloutUnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    province_code: int
    province_name: str = ""
    facility_code: str | None
    test_batch: int | None
    test_start: date | None
    test_end: date | None
    status: Status
    status_label: str = ""
    source_assessment: Assessment
    system_assessment: Assessment
    machine_ready: bool
    access_granted: bool
    production_date: date | None
    note: str
    updated_at: datetime
    updated_by: str | None
    version: int


class RolloutUpdate(BaseModel):
    """Fields to change (omitted fields stay as they are); ``version`` guards against lost updates."""

    model_config = ConfigDict(extra="forbid")

    test_batch: int | None = Field(None, ge=1, le=99)
    test_start: date | None = None
    test_end: date | None = None
    status: Status | None = None
    source_assessment: Assessment | None = None
    system_assessment: Assessment | None = None
    machine_ready: bool | None = None
    access_granted: bool | None = None
    production_date: date | None = None
    note: str | None = Field(None, max_length=2000)
    change_note: str = Field("", max_length=500, description="reason for the change, kept in the history")
    version: Version | None = None


class FacilityUnitIn(BaseModel):
    facility_code: str = Field(min_length=5, max_length=5)
    note: str = Field("", max_length=2000)


class RolloutChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    unit_id: int
    at: datetime
    actor_id: str
    actor_name: str
    field: str
    old_value: str | None
    new_value: str | None
    note: str


class RolloutDetail(BaseModel):
    unit: RolloutUnitOut
    history: list[RolloutChangeOut]


class KioskIn(BaseModel):
    committed: int = Field(ge=0, le=100_000)
    deployed: int = Field(ge=0, le=100_000)
    note: str = Field("", max_length=1000)


class KioskOut(BaseModel):
    facility_code: str
    facility_name: str
    province_code: int
    tier: str
    committed: int
    deployed: int
    note: str
    updated_at: datetime


class KioskAggregateOut(BaseModel):
    key: str | int
    label: str
    facilities: int
    committed: int
    deployed: int
    percent: float | None


class KioskSummary(BaseModel):
    total: KioskAggregateOut
    by_tier: list[KioskAggregateOut]
    by_province: list[KioskAggregateOut]
    items: list[KioskOut]
