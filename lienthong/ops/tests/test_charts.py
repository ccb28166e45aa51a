from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from lienthong.ops import charts
from lienthong.ops.fmt import metric_value, vndate, vnnum

SVG = "{http://www.w3.org/2000/svg}"


def test_vietnamese_number_formatting():
    assert vnnum(1234567) == "1.234.567"
    assert vnnum(1234.5, 1) == "1.234,5"
    assert vnnum(None) == "—"
    assert metric_value("ratio", 33.3333) == "33,3 %"
    assert metric_value("money", 840000) == "840.000 đ"
    assert metric_value("mean", 2.26, "ngày") == "2,3 ngày"
    assert vndate(date(2026, 3, 1)) == "01/03/2026"


def test_bar_chart_is_accessible_svg():
    svg = str(charts.bar_chart("Hồ sơ theo tỉnh", [("Thành phố Hà Nội", 1500), ("Cao Bằng", 0), ("Huế", None)]))
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Hồ sơ theo tỉnh"
    titles = [g.find(f"{SVG}title").text for g in root.findall(f"{SVG}g")]
    assert titles == ["Thành phố Hà Nội: 1.500", "Cao Bằng: 0", "Huế: không có dữ liệu"]
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths[0] > 0 and widths[1] == 0 and widths[2] == 0
    assert "<script" not in svg


def test_line_chart_grid_and_points():
    pts = [(date(2026, 3, d), float(v)) for d, v in ((1, 0), (2, 7), (3, 3))]
    root = ET.fromstring(str(charts.line_chart("Diễn biến", {"Hồ sơ": pts})))
    grid = [t.text for t in root.findall(f"{SVG}text")][:5]
    assert grid == ["0", "2", "4", "6", "8"]
    circles = root.findall(f"{SVG}circle")
    assert [c.find(f"{SVG}title").text for c in circles] == ["Hồ sơ 01/03/2026: 0", "Hồ sơ 02/03/2026: 7",
                                                            "Hồ sơ 03/03/2026: 3"]
    ys = [float(c.get("cy")) for c in circles]
    assert ys[1] < ys[2] < ys[0]  # higher value, higher on screen


def test_empty_charts_say_no_data():
    assert "Không có dữ liệu" in str(charts.bar_chart("x", []))
    assert "Không có dữ liệu" in str(charts.line_chart("x", {"a": []}))


def test_every_ops_route_is_guarded():
    from lienthong.ops.routes import api_router, web_router
    from lienthong.testing import iter_api_routes, route_actions

    seen = set()
    for path, route in list(iter_api_routes(api_router.routes)) + list(iter_api_routes(web_router.routes)):
        acts = route_actions(route.dependant)
        assert len(acts) == 1 and acts[0] in ("ops.read", "ops.manage", "ops.confirm"), path
        seen.add(acts[0])
        if route.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            # only a signal's proposal may be decided by an officer (of its province, checked in the service)
            assert acts == (["ops.confirm"] if "/de-xuat/" in path or "/proposals/" in path else ["ops.manage"]), path
    assert seen == {"ops.read", "ops.manage", "ops.confirm"}
