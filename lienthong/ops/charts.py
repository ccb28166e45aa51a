"""Server-rendered SVG charts (no JavaScript): horizontal bar charts and line charts.

Each chart is an accessible ``<svg role="img">`` with ``<title>``/``<desc>`` (aria-labelledby),
a ``<title>`` per bar/point carrying its label and value, and values printed next to bars.
"""

from __future__ import annotations

from datetime import date
from html import escape
from itertools import count

from markupsafe import Markup

from lienthong.ops.fmt import vnnum

_ids = count(1)
PALETTE = ("#b71c1c", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exp = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def _nice_step(value: float) -> float:
    """Smallest 1/2/5 x 10^k step >= value (at least 1: the line charts show counts)."""
    if value <= 1:
        return 1.0
    exp = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * exp:
            return float(step * exp)
    return 10.0 * exp


def bar_chart(title: str, items: list[tuple[str, float | None]], *, fmt=vnnum, width: int = 640,
              max_value: float | None = None, description: str = "", color: str = PALETTE[0]) -> Markup:
    """Horizontal bars, one per (label, value); ``None`` values are shown as "không có dữ liệu"."""
    uid = f"c{next(_ids)}"
    bar_h, gap, label_w, value_w, top = 18, 6, 190, 90, 8
    height = top * 2 + max(1, len(items)) * (bar_h + gap)
    top_value = max_value if max_value is not None else _nice_max(max((v or 0) for _, v in items) if items else 0)
    plot_w = width - label_w - value_w
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" aria-labelledby="{uid}t {uid}d">',
           f'<title id="{uid}t">{escape(title)}</title>',
           f'<desc id="{uid}d">{escape(description or title)}</desc>']
    if not items:
        out.append(f'<text x="8" y="{top + 14}" font-size="13" fill="#5f6b7a">Không có dữ liệu</text>')
    for i, (label, value) in enumerate(items):
        y = top + i * (bar_h + gap)
        shown = fmt(value) if value is not None else "không có dữ liệu"
        w = 0 if not value or not top_value else max(1.0, plot_w * min(value, top_value) / top_value)
        out.append(f'<g><title>{escape(label)}: {escape(shown)}</title>'
                   f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" font-size="12" fill="#1d232b">'
                   f'{escape(label[:30])}</text>'
                   f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}" rx="2"/>'
                   f'<text x="{label_w + w + 4:.1f}" y="{y + 13}" font-size="12" fill="#1d232b">{escape(shown)}</text></g>')
    out.append("</svg>")
    return Markup("".join(out))


def line_chart(title: str, series: dict[str, list[tuple[date, float]]], *, width: int = 640, height: int = 220,
               description: str = "", date_format: str = "%d/%m", markers: tuple[tuple[date, str], ...] = (),
               legend_totals: bool = True) -> Markup:
    """One or more series over the same dates, with axis labels and a legend.

    ``date_format`` labels the x axis (``"%d/%m/%Y"`` when the dates span years); ``markers`` draws a
    dashed vertical line with a label at each (date, text) within the dates (e.g. a reform);
    ``legend_totals`` adds each series' sum to the legend (meaningful for counts per day, not for
    states counted at each date)."""
    uid = f"c{next(_ids)}"
    legend_h = 18 * len(series)
    height += legend_h
    left, right, top, bottom = 56, 24, 12, 28 + legend_h
    pw, ph = width - left - right, height - top - bottom
    dates = sorted({d for pts in series.values() for d, _ in pts})
    # four grid steps of a whole 1/2/5 x 10^k size, so grid values are whole numbers
    top_value = 4 * _nice_step(max((v for pts in series.values() for _, v in pts), default=0) / 4)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" aria-labelledby="{uid}t {uid}d">',
           f'<title id="{uid}t">{escape(title)}</title>',
           f'<desc id="{uid}d">{escape(description or title)}</desc>']
    for i in range(5):  # horizontal grid with values
        v = top_value * i / 4
        y = top + ph - ph * i / 4
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dde3ea"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#5f6b7a">'
                   f'{vnnum(v, 0 if v == int(v) else 1)}</text>')
    if not dates:
        out.append(f'<text x="{left + 8}" y="{top + 20}" font-size="13" fill="#5f6b7a">Không có dữ liệu</text>')

    def x_of(d: date) -> float:
        if len(dates) == 1:
            return left + pw / 2
        return left + pw * dates.index(d) / (len(dates) - 1)

    step = max(1, len(dates) // 6)
    for d in dates[::step]:
        out.append(f'<text x="{x_of(d):.1f}" y="{top + ph + 16}" text-anchor="middle" font-size="11" '
                   f'fill="#5f6b7a">{d.strftime(date_format)}</text>')
    for when, label in markers:
        if len(dates) < 2 or not dates[0] <= when <= dates[-1]:
            continue
        i = next(k for k, d in enumerate(dates) if d >= when)
        x = x_of(dates[i]) if dates[i] == when or i == 0 else (
            x_of(dates[i - 1]) + (x_of(dates[i]) - x_of(dates[i - 1]))
            * (when - dates[i - 1]).days / (dates[i] - dates[i - 1]).days)
        out.append(f'<g class="marker"><title>{escape(label)}</title>'
                   f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + ph}" stroke="#5f6b7a" '
                   f'stroke-dasharray="4 3"/>'
                   f'<text x="{x + 4:.1f}" y="{top + 12}" font-size="11" fill="#5f6b7a">{escape(label)}</text></g>')
    for n, (name, pts) in enumerate(series.items()):
        color = PALETTE[n % len(PALETTE)]
        coords = [(x_of(d), top + ph - ph * (v / top_value)) for d, v in pts]
        if coords:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        for (d, v), (x, y) in zip(pts, coords):
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}">'
                       f'<title>{escape(name)} {d.strftime("%d/%m/%Y")}: {vnnum(v)}</title></circle>')
        ly = top + ph + 30 + 18 * n
        total = sum(v for _, v in pts)
        suffix = f" (tổng: {vnnum(total)})" if legend_totals else (f" (cuối kỳ: {vnnum(pts[-1][1])})" if pts else "")
        out.append(f'<rect x="{left}" y="{ly - 5}" width="14" height="4" fill="{color}"/>'
                   f'<text x="{left + 20}" y="{ly}" font-size="12" fill="#1d232b">{escape(name)}'
                   f'{escape(suffix)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
