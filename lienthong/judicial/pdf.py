"""PDF rendering of an issued certificate (reportlab), with the DejaVu Sans font shipped in
``lienthong/fonts/`` (full Vietnamese glyph coverage; licence in ``LICENSE-DejaVu.txt`` there) and a vector QR
code (segno) that points at the public verification page.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import segno
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT_DIR = Path(__file__).parent.parent / "fonts"  # lienthong/fonts: DejaVu Sans, shared
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"


def _register_fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


class QrCode(Flowable):
    """A QR code drawn as vector squares (no raster image, no Pillow needed)."""

    def __init__(self, data: str, size: float = 32 * mm):
        super().__init__()
        self.qr = segno.make(data, error="m")
        self.size = size
        self.width = self.height = size

    def draw(self) -> None:
        matrix = [list(row) for row in self.qr.matrix]
        border = 2
        n = len(matrix) + 2 * border
        cell = self.size / n
        c = self.canv
        c.setFillColor(colors.black)
        for y, row in enumerate(matrix):
            for x, dark in enumerate(row):
                if dark:
                    c.rect((x + border) * cell, self.size - (y + border + 1) * cell, cell, cell, stroke=0, fill=1)


def _dmy(iso: str | None) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else ""


def render_certificate(*, content: dict, record_number: str, agency_name: str, issued_on: date,
                       verify_url: str, certificate_id: str, revoked: bool = False) -> bytes:
    """The certificate as PDF bytes."""
    _register_fonts()
    buf = io.BytesIO()
    kind = int(content["kind"])
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=f"Phiếu lý lịch tư pháp số {kind} - {record_number}",
                            author=agency_name, subject="Phiếu lý lịch tư pháp", creator="lienthong")
    base = ParagraphStyle("base", fontName=FONT, fontSize=10.5, leading=14)
    center = ParagraphStyle("center", parent=base, alignment=TA_CENTER)
    bold_center = ParagraphStyle("bc", parent=center, fontName=FONT_BOLD)
    title = ParagraphStyle("title", parent=bold_center, fontSize=15, leading=20, spaceBefore=6, spaceAfter=2)
    small = ParagraphStyle("small", parent=base, fontSize=8.5, leading=11, textColor=colors.HexColor("#444444"))
    h2 = ParagraphStyle("h2", parent=base, fontName=FONT_BOLD, fontSize=11, spaceBefore=8, spaceAfter=3)

    def p(text: str, style: ParagraphStyle = base) -> Paragraph:
        return Paragraph(escape(text), style)

    story: list = []
    header = Table(
        [[[p(agency_name.upper(), bold_center), p(f"Số: {record_number}", center)],
          [p("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold_center), p("Độc lập - Tự do - Hạnh phúc", bold_center)]]],
        colWidths=[75 * mm, 95 * mm],
    )
    header.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [header, Spacer(1, 6 * mm), p(f"PHIẾU LÝ LỊCH TƯ PHÁP SỐ {kind}", title)]
    if revoked:
        story.append(p("ĐÃ BỊ THU HỒI - KHÔNG CÒN GIÁ TRỊ", ParagraphStyle("rev", parent=bold_center,
                                                                          textColor=colors.red)))
    story.append(Spacer(1, 4 * mm))

    rows = [[p(label + ":"), p(value or "")] for label, value in content["identity"]]
    ident = Table(rows, colWidths=[62 * mm, 108 * mm])
    ident.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    story += [ident, p("Tình trạng án tích:", h2), p(content["criminal_status"], ParagraphStyle("st", parent=base,
                                                                                                fontName=FONT_BOLD))]

    for i, c in enumerate(content["convictions"], 1):
        lines = [f"{i}. Tội danh: {'; '.join(c['offences'])}", f"Hình phạt chính: {c['principal_penalty']}"]
        if c["additional_penalties"]:
            lines.append(f"Hình phạt bổ sung: {'; '.join(c['additional_penalties'])}")
        if kind == 2:
            lines.append(f"Bản án số {c['judgment_number']} ngày {_dmy(c['judgment_date'])} của {c['court']}")
            if c.get("civil_obligations"):
                lines.append(f"Nghĩa vụ dân sự: {c['civil_obligations']}")
            if c.get("court_fee"):
                lines.append(f"Án phí: {c['court_fee']}")
            if c.get("enforcement_status"):
                lines.append(f"Tình trạng thi hành án: {c['enforcement_status']}")
            if c.get("expungement_status"):
                lines.append(f"Xóa án tích: {c['expungement_status']}")
        story.append(Spacer(1, 2 * mm))
        story += [p(line) for line in lines]

    if content.get("ban_status") is not None:
        story += [p("Thông tin về việc cấm đảm nhiệm chức vụ, thành lập, quản lý doanh nghiệp, hợp tác xã:", h2),
                  p(content["ban_status"])]
        for b in content["bans"]:
            line = f"- {b['content']}, thời hạn {b['term']}"
            if b.get("decision_number"):
                line += f" (Quyết định số {b['decision_number']} ngày {_dmy(b['decision_date'])} của {b['court']})"
            story.append(p(line))

    story.append(Spacer(1, 8 * mm))
    sign = Table(
        [[QrCode(verify_url),
          [p(f"Ngày {issued_on.day:02d} tháng {issued_on.month:02d} năm {issued_on.year}", center),
           p("THỦ TRƯỞNG CƠ QUAN CẤP PHIẾU", bold_center),
           p("(Đã ký số)", center)]]],
        colWidths=[45 * mm, 125 * mm],
    )
    sign.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [sign, Spacer(1, 3 * mm),
              p(f"Kiểm tra tính xác thực: quét mã QR hoặc truy cập {verify_url} (mã phiếu {certificate_id}).", small)]
    if content.get("electronic_equal_value"):
        story.append(p("Phiếu lý lịch tư pháp điện tử có giá trị pháp lý như Phiếu lý lịch tư pháp bản giấy.", small))
    doc.build(story)
    return buf.getvalue()
