"""Health context metrics: health books, facility coverage, referrals, appointments."""

from __future__ import annotations

from sqlalchemy import case, distinct, func, select

from lienthong.facilities.models import Facility
from lienthong.health.models import Appointment, IngestBatch, Referral, Visit
from lienthong.ops.metrics import StatsFilter, context, grouped, in_period, register, register_count
from lienthong.population.models import Citizen, Residence

context("health", "Y tế: sổ sức khỏe điện tử và liên thông khám chữa bệnh")


def _first_visits():
    """One row per citizen: the time their first visit reached the platform (the book's creation)."""
    return (select(Visit.personal_id.label("pid"), func.min(Visit.received_at).label("first"))
            .where(Visit.personal_id.is_not(None)).group_by(Visit.personal_id).subquery("first_visits"))


def _home_province():
    """Province of each citizen's current permanent residence."""
    return (select(Residence.personal_id.label("pid"), func.min(Residence.province_code).label("province_code"))
            .where(Residence.kind == "permanent", Residence.valid_to.is_(None))
            .group_by(Residence.personal_id).subquery("home"))


_FV = _first_visits()
_HOME = _home_province()


def _books_base():
    return select().select_from(_FV).outerjoin(_HOME, _HOME.c.pid == _FV.c.pid)


register_count(key="health.books_created", context="health", unit="sổ",
               label="Sổ sức khỏe điện tử được tạo",
               definition="Số công dân có lượt khám chữa bệnh đầu tiên được gửi lên nền tảng trong kỳ (sổ sức "
                          "khỏe điện tử của công dân được lập từ lượt khám đầu tiên). Tỉnh: nơi thường trú hiện "
                          "tại.",
               formula="đếm công dân có min(thời điểm nhận lượt khám) thuộc kỳ",
               base=_books_base, ts=_FV.c.first, province=_HOME.c.province_code)


@register(key="health.citizens_with_book", context="health", kind="ratio", unit="%",
          label="Công dân đã có sổ sức khỏe điện tử",
          definition="Công dân còn sống có ít nhất một lượt khám được gửi lên đến hết ngày cuối kỳ, trên tổng số "
                     "công dân còn sống trong Cơ sở dữ liệu dân cư. Tỉnh: nơi thường trú hiện tại.",
          formula="công dân có sổ ÷ tổng số công dân × 100%")
def _citizens_with_book(db, f: StatsFilter):
    alive = select().select_from(Citizen).outerjoin(_HOME, _HOME.c.pid == Citizen.personal_id).where(
        Citizen.status == "alive")
    den = grouped(db, alive, _HOME.c.province_code, f, func.count(), func.count())
    with_book = alive.join(_FV, _FV.c.pid == Citizen.personal_id).where(_FV.c.first < f.end_utc)
    num = grouped(db, with_book, _HOME.c.province_code, f, func.count(), func.count())
    return {p: (num.get(p, (0, 0))[0], den.get(p, (0, 0))[0]) for p in set(den) | set(num)}


@register(key="health.facility_coverage", context="health", kind="ratio", unit="%",
          label="Độ phủ cơ sở khám chữa bệnh kết nối",
          definition="Cơ sở đang hoạt động có ít nhất một hồ sơ được chấp nhận trong một lần gửi dữ liệu (XML "
                     "4750/130 hoặc FHIR) nhận trong kỳ, trên tổng số cơ sở đang hoạt động.",
          formula="cơ sở có ≥ 1 hồ sơ được chấp nhận trong kỳ ÷ tổng số cơ sở × 100%")
def _facility_coverage(db, f: StatsFilter):
    total = grouped(db, select().select_from(Facility).where(Facility.active.is_(True)), Facility.province_code, f,
                    func.count(), func.count())
    connected = grouped(
        db, select().select_from(IngestBatch).join(Facility, Facility.code == IngestBatch.facility_code)
        .where(Facility.active.is_(True), IngestBatch.accepted > 0, in_period(IngestBatch.received_at, f)),
        Facility.province_code, f, func.count(distinct(IngestBatch.facility_code)), func.count())
    return {p: (connected.get(p, (0, 0))[0], total.get(p, (0, 0))[0]) for p in set(total) | set(connected)}


def _referrals_base():
    return select().select_from(Referral).outerjoin(Facility, Facility.code == Referral.from_facility)


register_count(key="health.referrals", context="health", unit="giấy",
               label="Giấy chuyển tuyến điện tử",
               definition="Giấy chuyển tuyến (XML13 / FHIR ServiceRequest) có ngày cấp trong kỳ. Tỉnh: tỉnh của "
                          "cơ sở chuyển đi.",
               formula="đếm giấy chuyển tuyến có ngày cấp thuộc kỳ",
               base=_referrals_base, ts=Referral.issued_at, province=Facility.province_code)


@register(key="health.referral_acceptance", context="health", kind="ratio", unit="%",
          label="Tỷ lệ giấy chuyển tuyến được tiếp nhận",
          definition="Giấy chuyển tuyến được cơ sở nhận tiếp nhận, trên số giấy đã có quyết định (tiếp nhận hoặc "
                     "từ chối) trong kỳ. Tỉnh: tỉnh của cơ sở nhận.",
          formula="số giấy được tiếp nhận ÷ số giấy đã quyết định × 100%")
def _referral_acceptance(db, f: StatsFilter):
    stmt = (select().select_from(Referral).outerjoin(Facility, Facility.code == Referral.to_facility)
            .where(Referral.status.in_(("accepted", "rejected")), in_period(Referral.decided_at, f)))
    accepted = func.sum(case((Referral.status == "accepted", 1), else_=0))
    return grouped(db, stmt, Facility.province_code, f, accepted, func.count())


def _appointments_base():
    return select().select_from(Appointment).outerjoin(Facility, Facility.code == Appointment.facility_code)


register_count(key="health.appointments", context="health", unit="giấy",
               label="Giấy hẹn khám lại",
               definition="Giấy hẹn khám lại (XML14 / FHIR Appointment) có ngày hẹn trong kỳ. Tỉnh: tỉnh của cơ sở "
                          "hẹn.",
               formula="đếm giấy hẹn có ngày hẹn thuộc kỳ",
               base=_appointments_base, ts=Appointment.appointment_at, province=Facility.province_code)
