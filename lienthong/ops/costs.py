"""Unit costs behind the estimated-savings metric. ASSUMPTIONS, not measurements: configure them with
``LIENTHONG_OPS_PAPER_VISIT_VND`` and ``LIENTHONG_OPS_ONLINE_VND`` (whole đồng).

Default paper visit: 150.000 đ (travel to and from the office, copies and notarisation, half a
day's income at roughly the regional minimum wage); default online: 10.000 đ (data and postage
avoided). Both are shown on the dashboard marked as assumptions.
"""

from __future__ import annotations

import os

DEFAULTS = {"paper_visit_vnd": 150_000, "online_vnd": 10_000}
ENV = {"paper_visit_vnd": "LIENTHONG_OPS_PAPER_VISIT_VND", "online_vnd": "LIENTHONG_OPS_ONLINE_VND"}
LABELS = {"paper_visit_vnd": "Chi phí một lượt nộp hồ sơ giấy trực tiếp",
          "online_vnd": "Chi phí một lần nộp hồ sơ trực tuyến"}


def unit_costs() -> dict:
    out = {}
    for key, default in DEFAULTS.items():
        raw = os.environ.get(ENV[key], "").strip()
        try:
            value = int(raw) if raw else default
        except ValueError:
            raise ValueError(f"{ENV[key]} must be a whole number of đồng, got {raw!r}") from None
        if value < 0:
            raise ValueError(f"{ENV[key]} must not be negative")
        out[key] = value
    out["configured"] = {k: bool(os.environ.get(ENV[k], "").strip()) for k in DEFAULTS}
    return out
