"""Request and response bodies of the judicial-record API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lienthong.judicial.rules.expungement import AdditionalPenaltyType, PenaltyType, Severity
from lienthong.judicial.rules.procedure import FeeCategory

_CODE = r"^[0-9A-ZĐ][0-9A-ZĐ\-\.]{0,19}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------------------------------------
# Feeds (courts, enforcement bodies)
# ---------------------------------------------------------------------------------------------
class OffenceIn(_Strict):
    name: str = Field(min_length=2, max_length=300, description="tội danh")
    article: int | None = Field(default=None, ge=1, le=500, description="điều")
    clause: int | None = Field(default=None, ge=1, le=10, description="khoản")
    point: str | None = Field(default=None, pattern=r"^[a-zđ]$", description="điểm")
    severity: Severity | None = None
    intentional: bool | None = None
    offence_date: date | None = None
    age_at_offence: int | None = Field(default=None, ge=14, le=130)


class AdditionalPenaltyIn(_Strict):
    kind: AdditionalPenaltyType
    months: int | None = Field(default=None, ge=1, le=600)
    amount_vnd: int | None = Field(default=None, ge=1)
    description: str = Field(default="", max_length=300)
    completed_on: date | None = None


class ConvictionIn(_Strict):
    """A criminal judgment in force about one person (Law 28/2009 art. 2.2)."""

    personal_id: str = Field(description="số định danh cá nhân (12 chữ số) hoặc số hộ chiếu")
    id_type: Literal["personal_id", "passport"] = "personal_id"
    full_name: str = Field(min_length=2, max_length=160)
    birth_date: date
    court_code: str = Field(pattern=_CODE, description="mã Tòa án")
    court_name: str = Field(min_length=3, max_length=200)
    judgment_number: str = Field(min_length=1, max_length=60)
    judgment_date: date
    legal_effect_date: date
    offences: list[OffenceIn] = Field(min_length=1, max_length=30)
    penalty_type: PenaltyType
    term_months: int | None = Field(default=None, ge=1, le=600)
    fine_vnd: int | None = Field(default=None, ge=1)
    suspended: bool = False
    probation_months: int | None = Field(default=None, ge=1, le=60)
    death_commuted: bool = False
    committed_under_18: bool | None = None
    age_at_offence: int | None = Field(default=None, ge=14, le=130)
    additional_penalties: list[AdditionalPenaltyIn] = Field(default=[], max_length=20)
    civil_obligations: str = Field(default="", max_length=4000)
    court_fee: str = Field(default="", max_length=200)
    has_other_obligations: bool = False
    enforcement_status: str = Field(default="", max_length=300)
    principal_completed_on: date | None = None
    verification_note: str | None = Field(default=None, max_length=2000)

    @field_validator("personal_id")
    @classmethod
    def _pid(cls, v: str) -> str:
        return v.strip().upper()

    @model_validator(mode="after")
    def _consistent(self) -> ConvictionIn:
        today = date.today()
        if self.id_type == "personal_id" and not (len(self.personal_id) == 12 and self.personal_id.isdigit()):
            raise ValueError("số định danh cá nhân phải gồm 12 chữ số")
        if self.id_type == "passport" and not (6 <= len(self.personal_id) <= 20 and self.personal_id.isalnum()):
            raise ValueError("số hộ chiếu không hợp lệ")
        if self.judgment_date > today:
            raise ValueError("ngày tuyên án ở tương lai")
        if self.legal_effect_date < self.judgment_date:
            raise ValueError("ngày bản án có hiệu lực pháp luật trước ngày tuyên án")
        if self.birth_date >= self.judgment_date:
            raise ValueError("ngày sinh phải trước ngày tuyên án")
        p = self.penalty_type
        if p in (PenaltyType.IMPRISONMENT, PenaltyType.NON_CUSTODIAL_REFORM) and self.term_months is None:
            raise ValueError("hình phạt tù có thời hạn / cải tạo không giam giữ phải có thời hạn (term_months)")
        if p not in (PenaltyType.IMPRISONMENT, PenaltyType.NON_CUSTODIAL_REFORM) and self.term_months is not None:
            raise ValueError("term_months chỉ dùng cho phạt tù có thời hạn hoặc cải tạo không giam giữ")
        if p is PenaltyType.FINE and self.fine_vnd is None:
            raise ValueError("hình phạt tiền phải có số tiền (fine_vnd)")
        if self.suspended and (p is not PenaltyType.IMPRISONMENT or self.probation_months is None):
            raise ValueError("án treo chỉ áp dụng với phạt tù có thời hạn và phải có thời gian thử thách")
        if self.probation_months is not None and not self.suspended:
            raise ValueError("thời gian thử thách chỉ dùng cho án treo")
        if self.death_commuted and p not in (PenaltyType.DEATH, PenaltyType.LIFE):
            raise ValueError("death_commuted chỉ dùng cho tử hình / chung thân được giảm án")
        if self.principal_completed_on is not None and self.principal_completed_on < self.judgment_date:
            raise ValueError("ngày chấp hành xong hình phạt chính trước ngày tuyên án")
        for o in self.offences:
            if o.offence_date and o.offence_date > self.judgment_date:
                raise ValueError("ngày thực hiện hành vi phạm tội sau ngày tuyên án")
        return self


class ConvictionRef(_Strict):
    """Identifies a judgment by its natural key (court + judgment number + person)."""

    court_code: str = Field(pattern=_CODE)
    judgment_number: str = Field(min_length=1, max_length=60)
    personal_id: str

    @field_validator("personal_id")
    @classmethod
    def _pid(cls, v: str) -> str:
        return v.strip().upper()


EnforcementKind = Literal[
    "principal_completed", "probation_completed", "additional_completed", "obligations_completed",
    "remainder_exempted", "special_pardon", "limitation_expired", "amnesty", "status",
]


class EnforcementIn(_Strict):
    """An enforcement update from a criminal or civil judgment enforcement body."""

    conviction: ConvictionRef
    agency_code: str = Field(pattern=_CODE, description="mã cơ quan thi hành án")
    document_number: str = Field(min_length=1, max_length=60, description="số văn bản / giấy chứng nhận")
    kind: EnforcementKind
    occurred_on: date
    additional_seq: int | None = Field(default=None, ge=1, description="số thứ tự hình phạt bổ sung (từ 1)")
    status_text: str = Field(default="", max_length=300, description="tình trạng thi hành án")

    @model_validator(mode="after")
    def _consistent(self) -> EnforcementIn:
        if self.occurred_on > date.today():
            raise ValueError("ngày sự kiện thi hành án ở tương lai")
        if (self.kind == "additional_completed") != (self.additional_seq is not None):
            raise ValueError("additional_seq là bắt buộc với (và chỉ với) kind=additional_completed")
        if self.kind == "status" and not self.status_text:
            raise ValueError("cần status_text khi cập nhật tình trạng thi hành án")
        return self


class ExpungementDecisionIn(_Strict):
    conviction: ConvictionRef
    court_code: str = Field(pattern=_CODE)
    court_name: str = Field(min_length=3, max_length=200)
    decision_number: str = Field(min_length=1, max_length=60)
    decision_date: date
    article: Literal[71, 72] = 71
    granted: bool

    @model_validator(mode="after")
    def _future(self) -> ExpungementDecisionIn:
        if self.decision_date > date.today():
            raise ValueError("ngày quyết định ở tương lai")
        return self


class BanIn(_Strict):
    personal_id: str
    content: str = Field(min_length=5, max_length=400)
    court_code: str = Field(pattern=_CODE)
    court_name: str = Field(min_length=3, max_length=200)
    decision_number: str = Field(min_length=1, max_length=60)
    decision_date: date
    start_date: date
    duration_months: int | None = Field(default=None, ge=1, le=600)
    end_date: date | None = None

    @field_validator("personal_id")
    @classmethod
    def _pid(cls, v: str) -> str:
        return v.strip().upper()

    @model_validator(mode="after")
    def _consistent(self) -> BanIn:
        if self.decision_date > date.today():
            raise ValueError("ngày quyết định ở tương lai")
        if self.start_date < self.decision_date:
            raise ValueError("ngày bắt đầu cấm trước ngày ra quyết định")
        if (self.duration_months is None) == (self.end_date is None):
            raise ValueError("cần đúng một trong hai: duration_months hoặc end_date")
        if self.end_date is not None and self.end_date <= self.start_date:
            raise ValueError("ngày kết thúc phải sau ngày bắt đầu")
        return self


class FeedResult(BaseModel):
    id: str
    created: bool
    personal_id: str


# ---------------------------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------------------------
class ApplicationIn(_Strict):
    kind: Literal[1, 2] = Field(description="Phiếu số 1 hoặc số 2")
    purpose: str = Field(min_length=3, max_length=300, description="mục đích sử dụng Phiếu")
    include_ban_info: bool = Field(default=False, description="Phiếu số 1: yêu cầu ghi thông tin cấm đảm nhiệm chức vụ")
    delivery_electronic: bool = True
    delivery_postal: bool = False
    postal_address: str | None = Field(default=None, max_length=400)
    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9]{9,15}$")
    fee_category: FeeCategory = FeeCategory.STANDARD

    @model_validator(mode="after")
    def _delivery(self) -> ApplicationIn:
        if not (self.delivery_electronic or self.delivery_postal):
            raise ValueError("chọn ít nhất một hình thức nhận Phiếu: điện tử hoặc qua bưu chính")
        if self.delivery_postal and not (self.postal_address and len(self.postal_address) >= 10):
            raise ValueError("nhận qua bưu chính cần địa chỉ nhận (postal_address)")
        if self.kind == 2 and self.include_ban_info:
            raise ValueError("Phiếu số 2 luôn ghi thông tin cấm đảm nhiệm chức vụ; không cần include_ban_info")
        return self


class ApplicationEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    from_status: str | None
    to_status: str
    actor_type: str
    note: str


class ApplicationOut(BaseModel):
    id: str
    personal_id: str
    kind: int
    purpose: str
    status: str
    status_text: str
    submitted_at: datetime
    due_at: datetime
    sla_basis: str
    overdue: bool
    fee_category: str
    fee_vnd: int | None
    fee_note: str
    delivery_electronic: bool
    delivery_postal: bool
    province_code: int
    regime: str
    decision_reason: str | None
    review_reasons: list[str] = []
    certificate_id: str | None = None
    record_number: str | None = None
    certificate_revoked: bool = False
    events: list[ApplicationEventOut] = []


class DecisionIn(_Strict):
    approve: bool
    reason: str = Field(min_length=5, max_length=2000)


class RevokeIn(_Strict):
    reason: str = Field(min_length=5, max_length=2000)


class VerificationOut(BaseModel):
    certificate_id: str
    valid: bool
    status: Literal["valid", "revoked"]
    record_number: str
    kind: int
    issued_on: date
    issuing_agency: str
    holder: str = Field(description="họ tên người được cấp Phiếu, che bớt")
    revoked_on: date | None = None
    content_sha256: str = Field(description="SHA-256 của JWS: so khớp với bản điện tử đang cầm")
