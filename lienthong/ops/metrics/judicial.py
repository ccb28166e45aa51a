"""Judicial context metrics: criminal-record certificate applications, online share, processing
time and SLA compliance (statutory due date ``due_at`` set at submission)."""

from __future__ import annotations

from sqlalchemy import case, func, select

from lienthong.judicial.models import Application
from lienthong.ops.metrics import (
    StatsFilter, context, grouped, in_period, register, register_count, seconds_between,
)

context("judicial", "Tư pháp: cấp Phiếu lý lịch tư pháp")

DECIDED = ("approved", "rejected", "issued")
OPEN = ("submitted", "checking", "review")


def _base():
    return select().select_from(Application)


register_count(key="judicial.applications", context="judicial", unit="hồ sơ",
               label="Hồ sơ yêu cầu cấp Phiếu lý lịch tư pháp",
               definition="Hồ sơ nộp trực tuyến trong kỳ. Tỉnh: tỉnh có thẩm quyền giải quyết.",
               formula="đếm hồ sơ có thời điểm nộp thuộc kỳ",
               base=_base, ts=Application.submitted_at, province=Application.province_code)


@register(key="judicial.online_share", context="judicial", kind="ratio", unit="%",
          label="Tỷ lệ hồ sơ xử lý hoàn toàn trực tuyến",
          definition="Hồ sơ nộp trong kỳ nhận kết quả bản điện tử, không yêu cầu gửi bản giấy qua bưu chính, "
                     "trên tổng số hồ sơ nộp trong kỳ.",
          formula="hồ sơ chỉ nhận kết quả điện tử ÷ tổng số hồ sơ × 100%")
def _online_share(db, f: StatsFilter):
    online = func.sum(case(((Application.delivery_electronic.is_(True)) & (Application.delivery_postal.is_(False)), 1),
                           else_=0))
    return grouped(db, _base().where(in_period(Application.submitted_at, f)), Application.province_code, f,
                   online, func.count())


def _decided(f: StatsFilter):
    return _base().where(Application.status.in_(DECIDED), Application.decided_at.is_not(None),
                         in_period(Application.decided_at, f))


@register(key="judicial.processing_days", context="judicial", kind="mean", unit="ngày",
          label="Thời gian xử lý bình quân (Phiếu LLTP)",
          definition="Với hồ sơ có quyết định (duyệt, từ chối, đã cấp) trong kỳ: thời gian từ lúc nộp đến lúc có "
                     "quyết định, tính theo ngày lịch.",
          formula="Σ (thời điểm quyết định − thời điểm nộp) ÷ số hồ sơ đã quyết định")
def _processing(db, f: StatsFilter):
    secs = seconds_between(db, Application.submitted_at, Application.decided_at)
    return grouped(db, _decided(f), Application.province_code, f, func.sum(secs) / 86400.0, func.count())


@register(key="judicial.sla_compliance", context="judicial", kind="ratio", unit="%",
          label="Tỷ lệ hồ sơ LLTP giải quyết đúng hạn",
          definition="Hồ sơ có quyết định trong kỳ và quyết định không muộn hơn hạn giải quyết theo quy định "
                     "(tính theo ngày làm việc khi nộp), trên số hồ sơ có quyết định trong kỳ.",
          formula="hồ sơ quyết định ≤ hạn ÷ hồ sơ đã quyết định × 100%")
def _sla(db, f: StatsFilter):
    on_time = func.sum(case((Application.decided_at <= Application.due_at, 1), else_=0))
    return grouped(db, _decided(f), Application.province_code, f, on_time, func.count())


@register(key="judicial.overdue_open", context="judicial", kind="count", unit="hồ sơ",
          label="Hồ sơ LLTP đang quá hạn",
          definition="Hồ sơ chưa có quyết định (đang tiếp nhận, kiểm tra hoặc xem xét) mà hạn giải quyết đã qua tại thời "
                     "điểm cuối kỳ.",
          formula="đếm hồ sơ chưa có quyết định có hạn < cuối kỳ")
def _overdue(db, f: StatsFilter):
    stmt = _base().where(Application.status.in_(OPEN), Application.due_at < f.end_utc,
                         Application.submitted_at < f.end_utc)
    return grouped(db, stmt, Application.province_code, f, func.count(), func.count())
