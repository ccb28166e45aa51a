"""Weekly rollout report: the same content as XLSX (openpyxl) and PDF (reportlab, DejaVu Sans for
Vietnamese glyphs). The week runs Monday to Sunday, Vietnam time."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.facilities.models import Facility
from lienthong.ops import service
from lienthong.ops.fmt import vndate, vndatetime, vnnum
from lienthong.ops.models import DEFAULT_SERVICE, ROLLOUT_STATUSES, RolloutChange, RolloutUnit
from lienthong.workdays.calendar import VN_TZ

FONT_DIR = Path(__file__).parent.parent / "fonts"  # lienthong/fonts: DejaVu Sans, shared
STATUS_FILL = {"not_started": "EEEEEE", "testing": "FFF3CD", "test_done": "D6EAF8", "production": "D4EDDA",
               "completed": "A9DFBF"}
COLUMNS = ("STT", "Tỉnh/thành phố", "Cơ sở", "Đợt kiểm thử", "Bắt đầu kiểm thử", "Kết thúc kiểm thử", "Trạng thái",
           "ATTT mã nguồn", "ATTT hệ thống", "Máy chủ sẵn sàng", "Cấp quyền truy cập", "Ngày vận hành", "Ghi chú")


@dataclass
class WeeklyReport:
    service_name: str
    week_start: date
    week_end: date
    generated_at: datetime
    units: list[RolloutUnit]
    facility_names: dict[str, str]
    changes: list[tuple[RolloutChange, RolloutUnit]]
    counts: dict[str, int]
    kiosks: dict

    @property
    def title(self) -> str:
        return f"Báo cáo tiến độ triển khai tuần {vndate(self.week_start)} – {vndate(self.week_end)}"

    @property
    def subtitle(self) -> str:
        return f"Dịch vụ: {self.service_name}"

    def unit_name(self, u: RolloutUnit) -> tuple[str, str]:
        fac = ""
        if u.facility_code:
            fac = f"{u.facility_code} – {self.facility_names.get(u.facility_code, '')}".rstrip(" –")
        return service.unit_label(u), fac


def week_bounds(day: date) -> tuple[date, date]:
    start = day - timedelta(days=day.weekday())
    return start, start + timedelta(days=6)


def build(db: Session, week_of: date | None = None, province_code: int | None = None,
          service_key: str = DEFAULT_SERVICE) -> WeeklyReport:
    week_of = week_of or datetime.now(VN_TZ).date()
    start, end = week_bounds(week_of)
    svc = service.get_service(db, service_key)
    units = service.list_units(db, service_key=service_key, province_code=province_code)
    codes = [u.facility_code for u in units if u.facility_code]
    names = dict(db.execute(select(Facility.code, Facility.name).where(Facility.code.in_(codes))).all()) if codes else {}
    t0 = datetime.combine(start, time(), VN_TZ).astimezone(UTC)
    t1 = datetime.combine(end + timedelta(days=1), time(), VN_TZ).astimezone(UTC)
    stmt = (select(RolloutChange, RolloutUnit).join(RolloutUnit, RolloutUnit.id == RolloutChange.unit_id)
            .where(RolloutChange.at >= t0, RolloutChange.at < t1, RolloutUnit.service_key == service_key)
            .order_by(RolloutChange.at, RolloutChange.id))
    if province_code is not None:
        stmt = stmt.where(RolloutUnit.province_code == province_code)
    changes = [(c, u) for c, u in db.execute(stmt)]
    provinces_only = [u for u in units if u.facility_code is None]
    return WeeklyReport(svc.name, start, end, datetime.now(UTC), units, names, changes,
                        service.status_counts(provinces_only),
                        service.kiosk_summary(db, province_code=province_code))


def _yes(v: bool) -> str:
    return "Có" if v else "Chưa"


def change_text(field: str, value: str | None) -> str:
    if value is None or value == "":
        return "(trống)"
    if field == "status":
        return service.STATUS_LABELS.get(value, value)
    if field in ("source_assessment", "system_assessment"):
        return service.ASSESSMENT_LABELS.get(value, value)
    if field in ("machine_ready", "access_granted"):
        return "Có" if value == "true" else "Chưa"
    if field in ("test_start", "test_end", "production_date"):
        return vndate(date.fromisoformat(value))
    return value


def _row(r: WeeklyReport, i: int, u: RolloutUnit) -> list:
    prov, fac = r.unit_name(u)
    status = service.STATUS_LABELS[u.status] + (" (suy ra khi hợp nhất tỉnh)" if u.basis == "derived" else "")
    return [i, prov, fac, u.test_batch, u.test_start, u.test_end, status,
            service.ASSESSMENT_LABELS[u.source_assessment], service.ASSESSMENT_LABELS[u.system_assessment],
            _yes(u.machine_ready), _yes(u.access_granted), u.production_date, u.note]


# --- XLSX ---------------------------------------------------------------------------------------


def to_xlsx(r: WeeklyReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    thin = Side(style="thin", color="BBBBBB")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_font = Font(bold=True, color="FFFFFF")
    head_fill = PatternFill("solid", fgColor="B71C1C")

    def header(ws, row: int, cols) -> None:
        for c, name in enumerate(cols, 1):
            cell = ws.cell(row=row, column=c, value=name)
            cell.font, cell.fill, cell.border = head_font, head_fill, border
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    ws = wb.active
    ws.title = "Tiến độ"
    ws["A1"] = r.title
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = f"{r.subtitle}. Lập lúc {vndatetime(r.generated_at)} (giờ Việt Nam). Số tỉnh/thành phố theo trạng thái: " + "; ".join(
        f"{service.STATUS_LABELS[s]}: {r.counts[s]}" for s in ROLLOUT_STATUSES)
    header(ws, 4, COLUMNS)
    for i, u in enumerate(r.units, 1):
        row = 4 + i
        for c, value in enumerate(_row(r, i, u), 1):
            cell = ws.cell(row=row, column=c, value=value)
            cell.border = border
            cell.alignment = Alignment(vertical="top", wrap_text=c in (2, 3, 13))
            if isinstance(value, date):
                cell.number_format = "dd/mm/yyyy"
        ws.cell(row=row, column=7).fill = PatternFill("solid", fgColor=STATUS_FILL[u.status])
    widths = (6, 24, 28, 10, 14, 14, 20, 15, 15, 12, 12, 14, 40)
    for c, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(c)].width = w
    ws.row_dimensions[4].height = 32
    ws.freeze_panes = "C5"
    ws.auto_filter.ref = f"A4:{get_column_letter(len(COLUMNS))}{4 + len(r.units)}"
    ws.print_options.gridLines = False
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1

    hs = wb.create_sheet("Thay đổi trong tuần")
    hs["A1"] = f"Thay đổi từ {vndate(r.week_start)} đến {vndate(r.week_end)}"
    hs["A1"].font = Font(bold=True, size=13)
    header(hs, 3, ("Thời điểm", "Tỉnh/thành phố", "Cơ sở", "Nội dung", "Giá trị cũ", "Giá trị mới", "Người cập nhật",
                   "Ghi chú"))
    for i, (c, u) in enumerate(r.changes, 4):
        prov, fac = r.unit_name(u)
        values = [c.at.astimezone(VN_TZ).replace(tzinfo=None) if c.at.tzinfo else c.at, prov, fac,
                  service.FIELD_LABELS.get(c.field, c.field), change_text(c.field, c.old_value),
                  change_text(c.field, c.new_value), c.actor_name or c.actor_id, c.note]
        for col, v in enumerate(values, 1):
            cell = hs.cell(row=i, column=col, value=v)
            cell.border = border
            if col == 1:
                cell.number_format = "dd/mm/yyyy hh:mm"
    if not r.changes:
        hs["A4"] = "Không có thay đổi trong tuần."
    for c, w in enumerate((17, 24, 24, 24, 20, 20, 22, 40), 1):
        hs.column_dimensions[get_column_letter(c)].width = w
    hs.freeze_panes = "A4"

    ks = wb.create_sheet("Ki-ốt y tế")
    ks["A1"] = "Ki-ốt y tế: cam kết và đã triển khai"
    ks["A1"].font = Font(bold=True, size=13)
    header(ks, 3, ("Tuyến / tỉnh", "Số cơ sở", "Cam kết", "Đã triển khai", "Tỷ lệ (%)"))
    rows = list(r.kiosks["by_tier"]) + [r.kiosks["total"]] + list(r.kiosks["by_province"])
    for i, a in enumerate(rows, 4):
        for col, v in enumerate((a.label, a.facilities, a.committed, a.deployed,
                                 (a.percent / 100) if a.percent is not None else None), 1):
            cell = ks.cell(row=i, column=col, value=v)
            cell.border = border
            if col in (2, 3, 4):
                cell.number_format = "#,##0"
            if col == 5:
                cell.number_format = "0.0%"
            if a.key == "total":
                cell.font = Font(bold=True)
    for c, w in enumerate((28, 10, 10, 14, 10), 1):
        ks.column_dimensions[get_column_letter(c)].width = w

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- PDF ----------------------------------------------------------------------------------------

_fonts_registered = False


def _register_fonts() -> None:
    global _fonts_registered
    if _fonts_registered:
        return
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("OpsDejaVu", str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("OpsDejaVu-Bold", str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily("OpsDejaVu", normal="OpsDejaVu", bold="OpsDejaVu-Bold")
    _fonts_registered = True


def to_pdf(r: WeeklyReport) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _register_fonts()
    base = ParagraphStyle("base", fontName="OpsDejaVu", fontSize=7.5, leading=9.5)
    h1 = ParagraphStyle("h1", parent=base, fontName="OpsDejaVu-Bold", fontSize=14, leading=18, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=base, fontName="OpsDejaVu-Bold", fontSize=11, leading=14, spaceBefore=8,
                        spaceAfter=4)
    cellh = ParagraphStyle("cellh", parent=base, fontName="OpsDejaVu-Bold", textColor=colors.white)

    def p(text, style=base):
        from xml.sax.saxutils import escape

        return Paragraph(escape("" if text is None else str(text)), style)

    def table(rows, widths, status_col: int | None = None, statuses=()):
        t = Table([[p(c, cellh) for c in rows[0]]] + [[p(c) for c in row] for row in rows[1:]], colWidths=widths,
                  repeatRows=1)
        style = [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#B71C1C")),
                 ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#BBBBBB")),
                 ("VALIGN", (0, 0), (-1, -1), "TOP")]
        if status_col is not None:
            for i, s in enumerate(statuses, 1):
                style.append(("BACKGROUND", (status_col, i), (status_col, i), colors.HexColor("#" + STATUS_FILL[s])))
        t.setStyle(TableStyle(style))
        return t

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont("OpsDejaVu", 7)
        canvas.drawString(12 * mm, 7 * mm, f"{r.title} · lập lúc {vndatetime(r.generated_at)}")
        canvas.drawRightString(landscape(A4)[0] - 12 * mm, 7 * mm, f"Trang {doc.page}")
        canvas.restoreState()

    story = [p(r.title, h1), p(r.subtitle),
             p("Số tỉnh/thành phố theo trạng thái: " + "; ".join(
                 f"{service.STATUS_LABELS[s]}: {r.counts[s]}" for s in ROLLOUT_STATUSES))]
    rows = [list(COLUMNS)]
    for i, u in enumerate(r.units, 1):
        rows.append([vndate(v) if isinstance(v, date) else v for v in _row(r, i, u)])
    widths = [9, 30, 32, 13, 22, 22, 24, 18, 18, 14, 14, 22, 35]
    story += [p("Tiến độ theo tỉnh/thành phố", h2),
              table(rows, [w * mm for w in widths], 6, [u.status for u in r.units])]
    story.append(p(f"Thay đổi trong tuần ({len(r.changes)})", h2))
    if r.changes:
        crow = [["Thời điểm", "Tỉnh/thành phố", "Cơ sở", "Nội dung", "Cũ", "Mới", "Người cập nhật", "Ghi chú"]]
        for c, u in r.changes:
            prov, fac = r.unit_name(u)
            crow.append([vndatetime(c.at), prov, fac, service.FIELD_LABELS.get(c.field, c.field),
                         change_text(c.field, c.old_value), change_text(c.field, c.new_value),
                         c.actor_name or c.actor_id, c.note])
        story.append(table(crow, [w * mm for w in (26, 32, 32, 34, 28, 28, 34, 59)]))
    else:
        story.append(p("Không có thay đổi trong tuần."))
    story.append(p("Ki-ốt y tế: cam kết và đã triển khai", h2))
    krows = [["Tuyến", "Số cơ sở", "Cam kết", "Đã triển khai", "Tỷ lệ"]]
    for a in list(r.kiosks["by_tier"]) + [r.kiosks["total"]]:
        krows.append([a.label, vnnum(a.facilities), vnnum(a.committed), vnnum(a.deployed),
                      f"{vnnum(a.percent, 1)} %" if a.percent is not None else "—"])
    story += [table(krows, [w * mm for w in (50, 25, 25, 30, 25)]), Spacer(1, 4 * mm)]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                            bottomMargin=14 * mm, title=r.title, author="lienthong")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
