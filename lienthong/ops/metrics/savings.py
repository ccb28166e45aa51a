"""Derived metric: estimated savings from procedures handled online (an estimate on assumptions)."""

from __future__ import annotations

from lienthong.ops.metrics import Derived, context, register_derived

context("ops", "Hiệu quả ước tính")


def _savings(parts: dict[str, tuple[float, float]], costs: dict) -> tuple[float, float]:
    online_judicial = parts["judicial.online_share"][0]
    civil_cases = parts["civil.cases"][0]
    per_case = costs["paper_visit_vnd"] - costs["online_vnd"]
    return ((online_judicial + civil_cases) * per_case, 1.0)


register_derived(Derived(
    key="ops.estimated_savings", context="ops", kind="money", unit="đồng",
    label="Chi phí xã hội tiết kiệm được (ước tính)",
    definition="Ước tính chi phí người dân không phải bỏ ra nhờ giải quyết thủ tục trực tuyến thay vì đến trực "
               "tiếp cơ quan: số hồ sơ LLTP xử lý hoàn toàn trực tuyến cộng số hồ sơ liên thông khai sinh, khai tử "
               "trong kỳ, nhân với chênh lệch chi phí một lượt nộp giấy và chi phí nộp trực tuyến. Đơn giá là giả "
               "định cấu hình được, không phải số liệu đo đạc.",
    formula="(hồ sơ LLTP hoàn toàn trực tuyến + hồ sơ liên thông) × (chi phí một lượt nộp giấy − chi phí nộp "
            "trực tuyến)",
    depends=("judicial.online_share", "civil.cases"),
    combine=_savings,
))
