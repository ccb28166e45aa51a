"""Social insurance service: every call authorizes the principal and writes an audit entry.

* :func:`record_periods` / :func:`close_period`: BHXH (agency, scope ``insurance.write``) records
  the contribution history per employer;
* :func:`book`: a citizen reads their own social insurance book (periods per employer, totals,
  BHYT cards);
* :func:`issue_child_card`: the free under-6 BHYT card (linked birth procedure);
* :func:`decide_funeral_allowance`: the funeral-allowance decision (linked death procedure), by the law in
  force on the date of death; :func:`officer_decide_funeral_allowance` when the contribution history
  cannot decide (pensioners, work accidents: Luật BHXH 2024 Điều 85.1.b-c).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.audit import service as audit
from lienthong.db import next_counter_value, utcnow
from lienthong.errors import Conflict, DomainError
from lienthong.events.outbox import record_event
from lienthong.identity.policy import Target, authorize
from lienthong.identity.principal import Principal
from lienthong.insurance import rules
from lienthong.insurance.models import ContributionPeriod, FuneralAllowance, HealthInsuranceCard, NumberCounter
from lienthong.population.service import parse_id
from lienthong.workdays import VN_TZ

SCHEME_NAMES = {
    "bhxh_compulsory": "BHXH bắt buộc",
    "bhxh_voluntary": "BHXH tự nguyện",
    "bhtn": "Bảo hiểm thất nghiệp",
    "bhyt": "Bảo hiểm y tế",
}


# --- schemas -------------------------------------------------------------------------------------------------


class PeriodIn(BaseModel):
    personal_id: str
    scheme: str = Field(pattern="^(bhxh_compulsory|bhxh_voluntary|bhtn|bhyt)$")
    employer_code: str = Field(min_length=1, max_length=20)
    employer_name: str = Field(min_length=1, max_length=255)
    job_title: str | None = Field(default=None, max_length=160)
    from_month: date = Field(description="any day of the first month (stored as the 1st)")
    to_month: date | None = Field(default=None, description="any day of the last month; empty: still contributing")
    basis_vnd: int | None = Field(default=None, ge=0)

    @field_validator("personal_id")
    @classmethod
    def _pid(cls, v: str) -> str:
        return parse_id(v).number

    @model_validator(mode="after")
    def _range(self):
        self.from_month = rules.month_start(self.from_month)
        if self.to_month is not None:
            self.to_month = rules.month_start(self.to_month)
            if self.to_month < self.from_month:
                raise ValueError("tháng kết thúc trước tháng bắt đầu")
        return self


class PeriodsIn(BaseModel):
    periods: list[PeriodIn] = Field(min_length=1, max_length=1000)


class PeriodOut(BaseModel):
    id: int
    scheme: str
    scheme_name: str
    employer_code: str
    employer_name: str
    job_title: str | None
    from_month: date
    to_month: date | None
    months: int
    basis_vnd: int | None


class EmployerOut(BaseModel):
    employer_code: str
    employer_name: str
    months: int
    periods: list[PeriodOut]


class CardOut(BaseModel):
    card_number: str
    group_code: str
    benefit_level: int
    valid_from: date
    valid_to: date
    extended_to: date | None
    valid_today: bool


class BookOut(BaseModel):
    personal_id: str
    as_of: date
    employers: list[EmployerOut]
    totals: dict[str, int]  # months per scheme
    cards: list[CardOut]


class RecordResult(BaseModel):
    created: int
    updated: int


# --- counters ---------------------------------------------------------------------------------------------------


def next_serial(session: Session, name: str) -> int:
    """Allocate the next value of a named counter (see :func:`lienthong.db.next_counter_value`)."""
    return next_counter_value(session, NumberCounter, name)


# --- contribution history ----------------------------------------------------------------------------------------


def record_periods(session: Session, principal: Principal, data: PeriodsIn) -> RecordResult:
    """Create or update periods keyed by (person, scheme, employer, first month)."""
    authorize(principal, "insurance.write")
    created = updated = 0
    for p in data.periods:
        row = session.scalars(select(ContributionPeriod).where(
            ContributionPeriod.personal_id == p.personal_id, ContributionPeriod.scheme == p.scheme,
            ContributionPeriod.employer_code == p.employer_code, ContributionPeriod.from_month == p.from_month)).first()
        if row is None:
            row = ContributionPeriod(personal_id=p.personal_id, scheme=p.scheme, employer_code=p.employer_code,
                                     from_month=p.from_month, recorded_by=principal.subject[:64])
            session.add(row)
            created += 1
        else:
            updated += 1
        row.employer_name, row.job_title, row.to_month, row.basis_vnd = p.employer_name, p.job_title, p.to_month, p.basis_vnd
        audit.record(session, principal, "create" if row.id is None else "update", "insurance.contribution",
                     subject_id=p.personal_id, purpose="ghi nhận quá trình tham gia bảo hiểm xã hội",
                     detail={"scheme": p.scheme, "employer_code": p.employer_code,
                             "from_month": p.from_month, "to_month": p.to_month})
    session.flush()
    return RecordResult(created=created, updated=updated)


def _period_out(p: ContributionPeriod, as_of: date) -> PeriodOut:
    end = p.to_month or rules.month_start(as_of)
    return PeriodOut(id=p.id, scheme=p.scheme, scheme_name=SCHEME_NAMES.get(p.scheme, p.scheme),
                     employer_code=p.employer_code, employer_name=p.employer_name, job_title=p.job_title,
                     from_month=p.from_month, to_month=p.to_month, months=rules.months_between(p.from_month, end),
                     basis_vnd=p.basis_vnd)


def book(session: Session, principal: Principal, personal_id: str, *, as_of: date | None = None) -> BookOut:
    """The social insurance book of ``personal_id``: periods grouped by employer, totals, BHYT cards."""
    authorize(principal, "insurance.book.read", Target(personal_id=personal_id))
    as_of = as_of or date.today()
    periods = list(session.scalars(select(ContributionPeriod).where(ContributionPeriod.personal_id == personal_id)
                                   .order_by(ContributionPeriod.from_month, ContributionPeriod.id)))
    groups: OrderedDict[str, EmployerOut] = OrderedDict()
    for p in periods:
        out = _period_out(p, as_of)
        g = groups.get(p.employer_code)
        if g is None:
            g = groups[p.employer_code] = EmployerOut(employer_code=p.employer_code, employer_name=p.employer_name,
                                                      months=0, periods=[])
        g.periods.append(out)
    plain = [rules.Period(p.scheme, p.from_month, p.to_month) for p in periods]
    for code, g in groups.items():
        own = [rules.Period(p.scheme, p.from_month, p.to_month) for p in periods if p.employer_code == code]
        g.months = max((rules.contribution_months(own, s, as_of) for s in SCHEME_NAMES), default=0)
    totals = {s: rules.contribution_months(plain, s, as_of) for s in SCHEME_NAMES}
    cards = [CardOut(card_number=c.card_number, group_code=c.group_code, benefit_level=c.benefit_level,
                     valid_from=c.valid_from, valid_to=c.valid_to, extended_to=c.extended_to,
                     valid_today=rules.card_valid_on(rules.CardValidity(c.valid_from, c.valid_to, c.extended_to), as_of))
             for c in session.scalars(select(HealthInsuranceCard).where(HealthInsuranceCard.personal_id == personal_id)
                                      .order_by(HealthInsuranceCard.valid_from.desc()))]
    audit.record(session, principal, "read", "insurance.book", resource_id=personal_id, subject_id=personal_id,
                 purpose="công dân xem sổ bảo hiểm xã hội")
    return BookOut(personal_id=personal_id, as_of=as_of, employers=list(groups.values()), totals=totals, cards=cards)


def periods_of(session: Session, personal_id: str) -> list[rules.Period]:
    return [rules.Period(p.scheme, p.from_month, p.to_month) for p in session.scalars(
        select(ContributionPeriod).where(ContributionPeriod.personal_id == personal_id))]


# --- BHYT card for a child under 6 -------------------------------------------------------------------------------


def issue_child_card(session: Session, principal: Principal, *, personal_id: str, birth_date: date,
                     province_code: int, source: str, on: date | None = None) -> HealthInsuranceCard:
    """Issue (idempotently) the free under-6 card, group TE, benefit level 1.

    The validity follows the rule in force on the issue date ``on`` (Luật BHYT 16.3.d; NĐ 146/2018 Điều 13.2,
    replaced by NĐ 188/2025 from 15/08/2025): :func:`lienthong.insurance.rules.under6_card_validity`.
    """
    authorize(principal, "insurance.write")
    existing = session.scalars(select(HealthInsuranceCard).where(
        HealthInsuranceCard.personal_id == personal_id, HealthInsuranceCard.group_code == "TE",
        HealthInsuranceCard.valid_from == birth_date)).first()
    if existing is not None:
        return existing
    on = on or utcnow().astimezone(VN_TZ).date()
    validity = rules.under6_card_validity(birth_date, on=on)
    if validity.last_day < on:
        raise DomainError("trẻ đã quá 72 tháng tuổi, không thuộc diện cấp thẻ bảo hiểm y tế trẻ em dưới 6 tuổi")
    serial = next_serial(session, f"bhxh:{province_code:02d}")
    if serial > 99_999_999:
        raise DomainError("hết dãy số bảo hiểm xã hội của tỉnh")
    card = HealthInsuranceCard(card_number=f"{province_code:02d}{serial:08d}", personal_id=personal_id, group_code="TE",
                               benefit_level=1, province_code=province_code, valid_from=validity.valid_from,
                               valid_to=validity.valid_to, extended_to=validity.extended_to, source=source[:64])
    session.add(card)
    session.flush()
    audit.record(session, principal, "create", "insurance.card", resource_id=card.card_number, subject_id=personal_id,
                 purpose="cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi (liên thông khai sinh)",
                 detail={"valid_from": card.valid_from, "valid_to": card.valid_to, "extended_to": card.extended_to,
                         "basis": validity.basis})
    record_event(session, "insurance.card.issued", {"personal_id": personal_id, "card_number": card.card_number,
                                                    "group_code": "TE", "valid_to": validity.last_day.isoformat()})
    return card


# --- funeral allowance --------------------------------------------------------------------------------------------

FUNERAL_ROUTES = {
    "pension": "người đang hưởng hoặc tạm dừng hưởng lương hưu, trợ cấp tai nạn lao động, bệnh nghề nghiệp hằng tháng "
               "(điểm c khoản 1 Điều 85, điểm b khoản 1 Điều 109 Luật BHXH 2024; điểm c khoản 1 Điều 66 Luật BHXH 2014)",
    "work_accident": "chết do tai nạn lao động, bệnh nghề nghiệp (điểm b khoản 1 Điều 85 Luật BHXH 2024; điểm b khoản 1 "
                     "Điều 66 Luật BHXH 2014)",
    "not_eligible": "không thuộc trường hợp được hưởng trợ cấp mai táng",
}


def _store_decision(session: Session, principal: Principal, personal_id: str, death_date: date, status: str, reason: str,
                    detail: dict, source: str, *, purpose: str, action: str = "create",
                    row: FuneralAllowance | None = None) -> FuneralAllowance:
    amount = salary = basis = None
    if status == "eligible":
        amount, ref = rules.funeral_allowance(death_date)
        salary, basis = ref.amount_vnd, ref.basis
    if row is None:
        row = FuneralAllowance(personal_id=personal_id, death_date=death_date, source=source[:64])
        session.add(row)
    row.status, row.reason, row.amount_vnd = status, reason, amount
    row.reference_salary_vnd, row.reference_basis = salary, basis
    row.detail = {**(row.detail or {}), **detail}
    row.decided_by = principal.subject[:64]
    row.decided_at = utcnow()
    session.flush()
    audit.record(session, principal, action, "insurance.funeral_allowance", resource_id=str(row.id),
                 subject_id=personal_id, purpose=purpose,
                 detail={"status": status, "amount_vnd": amount, "death_date": death_date})
    record_event(session, "insurance.funeral_allowance.decided", {
        "personal_id": personal_id, "status": status, "amount_vnd": amount, "death_date": death_date.isoformat()})
    return row


def decide_funeral_allowance(session: Session, principal: Principal, *, personal_id: str, death_date: date,
                             source: str) -> FuneralAllowance:
    """Decide once per deceased person from the contribution history, by the law in force on the date of death.

    ``eligible`` (with the amount: 10 × the reference level of the month of death), or ``unknown`` when the
    history does not make the person eligible: pensions and work accidents are not on this platform, a
    social-insurance officer decides (:func:`officer_decide_funeral_allowance`).
    """
    authorize(principal, "insurance.write")
    existing = session.scalars(select(FuneralAllowance).where(FuneralAllowance.personal_id == personal_id)).first()
    if existing is not None:
        if existing.death_date != death_date:
            raise Conflict("đã có quyết định trợ cấp mai táng với ngày chết khác")
        return existing
    elig = rules.funeral_eligibility(periods_of(session, personal_id), death_date)
    status = {"needs_review": "unknown"}.get(elig.status, elig.status)
    return _store_decision(session, principal, personal_id, death_date, status, elig.reason,
                           {"compulsory_months": elig.compulsory_months, "voluntary_months": elig.voluntary_months,
                            "total_months": elig.total_months, "basis": elig.basis, "rules": elig.rules},
                           source, purpose="xét trợ cấp mai táng (liên thông khai tử)")


def funeral_decision(session: Session, personal_id: str | None) -> FuneralAllowance | None:
    if not personal_id:
        return None
    return session.scalars(select(FuneralAllowance).where(FuneralAllowance.personal_id == personal_id)).first()


class FuneralDecisionIn(BaseModel):
    death_date: date
    route: str = Field(pattern="^(" + "|".join(FUNERAL_ROUTES) + ")$")
    reason: str = Field(min_length=5, max_length=500)


class FuneralDecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    personal_id: str
    death_date: date
    status: str
    reason: str
    amount_vnd: int | None
    reference_salary_vnd: int | None
    reference_basis: str | None


def _last_province(session: Session, personal_id: str) -> int | None:
    from lienthong.population.models import Residence

    row = session.scalars(select(Residence).where(Residence.personal_id == personal_id, Residence.kind == "permanent")
                          .order_by(Residence.valid_from.desc(), Residence.id.desc())).first()
    return row.province_code if row else None


def decide_from_agency(session: Session, principal: Principal, personal_id: str, body: FuneralDecisionIn) -> FuneralAllowance:
    """BHXH records the decision a linked death case is waiting for (the pension or work-accident route).
    The civil case's step then takes it when an officer completes it (``civil.service.act``)."""
    personal_id = parse_id(personal_id).number
    return officer_decide_funeral_allowance(session, principal, personal_id=personal_id, death_date=body.death_date,
                                            route=body.route, reason=body.reason,
                                            province_code=_last_province(session, personal_id), source="bhxh")


def officer_decide_funeral_allowance(session: Session, principal: Principal, *, personal_id: str, death_date: date,
                                     route: str, reason: str, province_code: int | None, source: str) -> FuneralAllowance:
    """A social-insurance officer decides a case the contribution history could not decide."""
    authorize(principal, "insurance.funeral.decide", Target(personal_id=personal_id, province_code=province_code))
    if route not in FUNERAL_ROUTES:
        raise DomainError("căn cứ quyết định không hợp lệ", field="funeral_route")
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise DomainError("cần ghi rõ căn cứ xác minh (ít nhất 5 ký tự)", field="note")
    row = session.scalars(select(FuneralAllowance).where(FuneralAllowance.personal_id == personal_id)).first()
    if row is not None and row.death_date != death_date:
        raise Conflict("đã có quyết định trợ cấp mai táng với ngày chết khác")
    if row is not None and row.status != "unknown":
        raise Conflict("trợ cấp mai táng của người này đã được quyết định")
    status = "not_eligible" if route == "not_eligible" else "eligible"
    text = f"{FUNERAL_ROUTES[route]}; xác minh: {reason}"
    return _store_decision(session, principal, personal_id, death_date, status, text,
                           {"route": route, "officer_reason": reason}, source,
                           purpose="cán bộ bảo hiểm xã hội quyết định trợ cấp mai táng", action="update" if row else "create",
                           row=row)
