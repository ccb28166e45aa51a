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
    service_key: str
    unit_set: Literal["vn34", "vn63"]
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
    basis: Literal["recorded", "derived"] = Field(description="derived: the state follows from the merged old "
                                                              "provinces (NQ 202/2025/QH15), see /rollout/provinces/{code}")
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
    service: str = Field("judicial_vneid", max_length=40)


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
    effective_on: date
    source: Literal["manual", "import", "merger", "signal"]
    source_ref: str | None


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


# --- services, history, proposals ---------------------------------------------------------------


class ServiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    name: str
    description: str
    builtin: bool


class ServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$", description="lower-case ASCII, digits, underscores")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)


class TimelinePointOut(BaseModel):
    day: date
    unit_set: Literal["vn34", "vn63"]
    counts: dict[str, int]


class TimelineOut(BaseModel):
    service: str
    reform: dict
    points: list[TimelinePointOut]


class SnapshotOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    service_key: str
    as_of: date
    kind: Literal["table", "figures"]
    unit_set: str
    title: str
    source: str
    source_url: str | None
    verified: bool
    verification: str
    filename: str
    digest: str
    imported_at: datetime


class SnapshotRowOut(BaseModel):
    row_no: int
    province_code: int
    province_label: str
    cells: dict
    values: dict
    uncertain: list[str]


class FigureOut(BaseModel):
    key: str
    label: str
    value: int
    of: int | None
    qualifier: str
    note: str


class SummaryFigureOut(BaseModel):
    key: str
    label: str
    group: str
    computed: int = Field(description="every cell counted as read")
    certain: int = Field(description="only rows whose cells for this figure are not uncertain")
    possible: tuple[int, int] = Field(description="range of the true figure if every uncertain cell read otherwise")
    uncertain_rows: list[str]
    printed: int | None
    qualifier: str
    difference: int | None
    verdict: Literal["match", "within_uncertain", "unexplained", "not_printed"]
    explanation: str


class SnapshotDetail(BaseModel):
    snapshot: SnapshotOut
    rows: list[SnapshotRowOut] = []
    figures: list[FigureOut] = []
    printed_snapshot: SnapshotOut | None = None
    summary: list[SummaryFigureOut] = []


class ProposalOut(BaseModel):
    id: int
    unit_id: int
    service_key: str
    province_code: int
    province_name: str
    signal: str
    signal_label: str
    proposed: dict
    evidence: dict
    evidence_text: str
    observed_at: datetime
    created_at: datetime
    state: Literal["pending", "confirmed", "rejected"]
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=2000)


class MemberOut(BaseModel):
    code: int
    name: str
    state: dict | None
    unit_id: int | None
    snapshot_rows: list[dict]
    changes: list[RolloutChangeOut]


class ProvincePathOut(BaseModel):
    service: str
    service_name: str
    province_code: int
    province_name: str
    unit: RolloutUnitOut
    basis_text: str
    merged: bool
    reform: dict
    rule: dict | None
    derived: dict | None
    members: list[MemberOut]
    merger_changes: list[RolloutChangeOut]
    own_changes: list[RolloutChangeOut]
    proposals: list[ProposalOut]
