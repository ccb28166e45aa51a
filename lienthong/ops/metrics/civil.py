"""Civil context metrics: linked procedure cases (birth, death), processing time and deadlines."""

from __future__ import annotations

from sqlalchemy import case, func, select

from lienthong.civil.models import ProcedureCase, ProcedureStep
from lienthong.ops.metrics import (
    StatsFilter, context, grouped, in_period, register, register_count, seconds_between,
)

context("civil", "Hộ tịch: thủ tục liên thông khai sinh, khai tử")


def _base():
    return select().select_from(ProcedureCase)


register_count(key="civil.cases", context="civil", unit="hồ sơ",
               label="Hồ sơ thủ tục liên thông (khai sinh, khai tử)",
               definition="Hồ sơ thủ tục liên thông được khởi tạo trong kỳ từ giấy chứng sinh / giấy báo tử điện "
                          "tử. Tỉnh: tỉnh nơi giải quyết.",
               formula="đếm hồ sơ có thời điểm khởi tạo thuộc kỳ",
               base=_base, ts=ProcedureCase.created_at, province=ProcedureCase.province_code)


def _closed(f: StatsFilter):
    return _base().where(ProcedureCase.status == "done", ProcedureCase.closed_at.is_not(None),
                         in_period(ProcedureCase.closed_at, f))


@register(key="civil.processing_days", context="civil", kind="mean", unit="ngày",
          label="Thời gian giải quyết bình quân (thủ tục liên thông)",
          definition="Với hồ sơ hoàn thành trong kỳ: thời gian từ khi nhận đủ hồ sơ (hoặc khởi tạo, nếu chưa ghi "
                     "nhận) đến khi hoàn thành, tính theo ngày lịch.",
          formula="Σ (thời điểm hoàn thành − thời điểm nhận đủ hồ sơ) ÷ số hồ sơ hoàn thành")
def _processing(db, f: StatsFilter):
    start = func.coalesce(ProcedureCase.received_at, ProcedureCase.created_at)
    secs = seconds_between(db, start, ProcedureCase.closed_at)
    return grouped(db, _closed(f), ProcedureCase.province_code, f, func.sum(secs) / 86400.0, func.count())


@register(key="civil.sla_compliance", context="civil", kind="ratio", unit="%",
          label="Tỷ lệ hồ sơ liên thông hoàn thành đúng hạn",
          definition="Hồ sơ hoàn thành trong kỳ, có hạn giải quyết, hoàn thành không muộn hơn hạn, trên số hồ sơ "
                     "hoàn thành trong kỳ có hạn giải quyết.",
          formula="hồ sơ hoàn thành ≤ hạn ÷ hồ sơ hoàn thành có hạn × 100%")
def _sla(db, f: StatsFilter):
    on_time = func.sum(case((ProcedureCase.closed_at <= ProcedureCase.due_at, 1), else_=0))
    return grouped(db, _closed(f).where(ProcedureCase.due_at.is_not(None)), ProcedureCase.province_code, f,
                   on_time, func.count())


@register(key="civil.step_sla", context="civil", kind="ratio", unit="%",
          label="Tỷ lệ bước xử lý đúng thời hạn",
          definition="Các bước của thủ tục (của cơ quan, công dân hoặc tự động) hoàn thành trong kỳ có thời hạn, "
                     "hoàn thành không muộn hơn thời hạn của bước.",
          formula="bước hoàn thành ≤ hạn ÷ bước hoàn thành có hạn × 100%")
def _step_sla(db, f: StatsFilter):
    stmt = (select().select_from(ProcedureStep).join(ProcedureCase, ProcedureCase.id == ProcedureStep.case_id)
            .where(ProcedureStep.state == "done", ProcedureStep.due_at.is_not(None),
                   ProcedureStep.finished_at.is_not(None), in_period(ProcedureStep.finished_at, f)))
    on_time = func.sum(case((ProcedureStep.finished_at <= ProcedureStep.due_at, 1), else_=0))
    return grouped(db, stmt, ProcedureCase.province_code, f, on_time, func.count())
