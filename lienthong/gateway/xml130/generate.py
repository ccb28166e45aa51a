"""Synthetic GIAMDINHHS claim files (QĐ 130/4750) for tests, demos and load runs.

:func:`write_envelope` streams one envelope to a path or binary stream: each visit is built, encoded and
written before the next, so multi-GB files need constant memory. Content is realistic but entirely
synthetic (small embedded lists of Vietnamese names, addresses, ICD-10 codes, drugs, services and lab
tests; administrative/service codes are plausible, not authoritative). Output is deterministic for a
seed. With ``error_rate > 0`` some visits get exactly one known defect, listed in the result
(``injected``) with the table/record/field/code the validator must report.
"""

from __future__ import annotations

import base64
import os
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import BinaryIO, Callable, Sequence

from lienthong.facilities.rules import validate_facility_code
from lienthong.gateway.xml130.spec import QD4750, SpecVersion
from lienthong.population.ids import make_personal_id

CENT = Decimal("0.01")

# --- embedded reference data -----------------------------------------------------------------------

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
          "Ngô", "Dương", "Lý"]
MIDDLE = {"M": ["Văn", "Đức", "Minh", "Quốc", "Hữu", "Thành", "Công", "Gia"],
          "F": ["Thị", "Ngọc", "Thu", "Thanh", "Minh", "Khánh", "Bảo", "Mai"]}
GIVEN = {"M": ["Hùng", "Dũng", "Nam", "Tuấn", "Long", "Phúc", "Khoa", "Bảo", "Sơn", "Hải", "Quang", "Trung"],
         "F": ["Lan", "Hương", "Mai", "Hoa", "Linh", "Trang", "Ngân", "Thảo", "Hạnh", "Yến", "Vy", "Nhung"]}

# (province 2-digit, district, commune, text) -- plausible codes, synthetic data.
ADDRESSES = [
    ("01", "001", "00001", "Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội"),
    ("01", "005", "00163", "Phường Dịch Vọng, Quận Cầu Giấy, Thành phố Hà Nội"),
    ("79", "760", "26734", "Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh"),
    ("48", "492", "20227", "Phường Hải Châu I, Quận Hải Châu, Thành phố Đà Nẵng"),
    ("31", "303", "11311", "Phường Máy Chai, Quận Ngô Quyền, Thành phố Hải Phòng"),
    ("92", "916", "31117", "Phường Xuân Khánh, Quận Ninh Kiều, Thành phố Cần Thơ"),
    ("38", "380", "14755", "Phường Điện Biên, Thành phố Thanh Hóa, Tỉnh Thanh Hóa"),
    ("40", "412", "16681", "Phường Hưng Bình, Thành phố Vinh, Tỉnh Nghệ An"),
]
STREETS = ["Trần Hưng Đạo", "Lê Lợi", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung",
           "Phan Chu Trinh", "Điện Biên Phủ"]

# (ICD-10, name, visit kinds it fits)
DIAGNOSES = [
    ("J06.9", "Nhiễm trùng đường hô hấp trên cấp, không đặc hiệu", "01"),
    ("I10", "Bệnh lý tăng huyết áp vô căn (nguyên phát)", "01"),
    ("E11.9", "Bệnh đái tháo đường không phụ thuộc insuline, không có biến chứng", "01"),
    ("K29.7", "Viêm dạ dày, không đặc hiệu", "01"),
    ("M54.5", "Đau vùng thắt lưng", "01"),
    ("A09", "Tiêu chảy và viêm dạ dày - ruột do nhiễm trùng", "01"),
    ("J18.9", "Viêm phổi, không đặc hiệu", "03"),
    ("N39.0", "Nhiễm khuẩn hệ tiết niệu, vị trí không xác định", "03"),
    ("K35.8", "Viêm ruột thừa cấp, khác và không đặc hiệu", "03"),
    ("J45.9", "Hen phế quản, không đặc hiệu", "02"),
    ("I63.9", "Nhồi máu não, không đặc hiệu", "03"),
]
SECONDARY = [("E78.5", "Tăng lipid máu, không đặc hiệu"), ("K21.9", "Bệnh trào ngược dạ dày - thực quản"),
             ("I10", "Bệnh lý tăng huyết áp vô căn (nguyên phát)"), ("E55.9", "Thiếu vitamin D, không đặc hiệu")]
BIRTH_DX = ("O80", "Đẻ thường một thai")

# (MA_THUOC, name, strength, unit, route, form, unit price, dose text, registration no.)
DRUGS = [
    ("40.17", "Paracetamol", "500mg", "Viên", "1.01", "Viên nén", "350", "1 viên/lần * 3 lần/ngày", "VD-21319-14"),
    ("40.124", "Amoxicilin", "500mg", "Viên", "1.01", "Viên nang cứng", "1150", "1 viên/lần * 3 lần/ngày",
     "VD-25684-16"),
    ("40.678", "Omeprazol", "20mg", "Viên", "1.01", "Viên nang", "850", "1 viên/lần * 2 lần/ngày", "VD-30245-18"),
    ("40.532", "Metformin", "850mg", "Viên", "1.01", "Viên nén bao phim", "600", "1 viên/lần * 2 lần/ngày",
     "VD-27719-17"),
    ("40.493", "Amlodipin", "5mg", "Viên", "1.01", "Viên nén", "420", "1 viên/lần * 1 lần/ngày", "VD-24071-16"),
    ("40.257", "Cefuroxim", "500mg", "Viên", "1.01", "Viên nén bao phim", "4800", "1 viên/lần * 2 lần/ngày",
     "VD-32105-19"),
    ("40.30", "Ibuprofen", "400mg", "Viên", "1.01", "Viên nén", "700", "1 viên/lần * 2 lần/ngày", "VD-26433-17"),
    ("40.1016", "Natri clorid", "0,9% 500ml", "Chai", "2.15", "Dung dịch tiêm truyền", "12600",
     "1 chai/lần * 1 lần/ngày", "VD-29876-18"),
    ("40.63", "Ceftriaxon", "1g", "Lọ", "2.10", "Bột pha tiêm", "23500", "1 lọ/lần * 2 lần/ngày", "VD-28860-18"),
    ("40.58", "Salbutamol", "2,5mg/2,5ml", "Ống", "1.05", "Dung dịch khí dung", "4500", "1 ống/lần * 3 lần/ngày",
     "VD-22437-15"),
]

# (MA_DICH_VU, name, unit, MA_NHOM, price, lab/imaging key)
EXAM = ("02.1896", "Khám Nội", "Lần", 13, "38700", None)
BED = ("K48.1917", "Ngày giường bệnh Nội khoa loại 1 hạng II", "Ngày", 15, "214300", None)
LABS = [
    ("22.0120.1370", "Tổng phân tích tế bào máu ngoại vi (bằng máy đếm laser)", "Lần", 1, "46200", "CBC"),
    ("23.0075.1494", "Định lượng Glucose [Máu]", "Lần", 1, "21500", "GLU"),
    ("23.0051.1494", "Định lượng Creatinin (máu)", "Lần", 1, "21500", "CRE"),
    ("23.0019.1493", "Đo hoạt độ ALT (GPT) [Máu]", "Lần", 1, "21500", "ALT"),
    ("23.0020.1493", "Đo hoạt độ AST (GOT) [Máu]", "Lần", 1, "21500", "AST"),
    ("23.0083.1523", "Định lượng HbA1c [Máu]", "Lần", 1, "101000", "HBA1C"),
    ("23.0041.1506", "Định lượng Cholesterol toàn phần (máu)", "Lần", 1, "26900", "CHOL"),
]
IMAGING = [
    ("18.0119.0028", "Chụp Xquang ngực thẳng", "Lần", 2, "65400", "XQ"),
    ("18.0001.0001", "Siêu âm ổ bụng (gan mật, tụy, lách, thận, bàng quang)", "Lần", 2, "43900", "SA"),
]
SUPPLIES = [("N03.05.070", "Bơm tiêm nhựa liền kim 5ml", "Cái", 10, "1050"),
            ("N04.01.020", "Kim luồn tĩnh mạch 22G", "Cái", 10, "9800"),
            ("N02.03.010", "Dây truyền dịch", "Bộ", 10, "5200")]
SURGERY = ("10.0590.0469", "Phẫu thuật nội soi cắt ruột thừa", "Lần", 8, "2845000", None)
DELIVERY = ("13.0038.0613", "Đỡ đẻ thường ngôi chỏm", "Lần", 18, "706000", None)

# lab key -> [(MA_CHI_SO, name, unit, low, high, decimals)]
LAB_INDICES = {
    "CBC": [("WBC", "Số lượng bạch cầu", "G/L", 4.0, 10.0, 1), ("RBC", "Số lượng hồng cầu", "T/L", 3.8, 5.5, 2),
            ("HGB", "Lượng huyết sắc tố", "g/L", 120, 160, 0), ("HCT", "Hematocrit", "%", 36, 48, 1),
            ("PLT", "Số lượng tiểu cầu", "G/L", 150, 400, 0)],
    "GLU": [("GLU", "Glucose", "mmol/L", 3.9, 7.8, 1)],
    "CRE": [("CREA", "Creatinin", "µmol/L", 62, 115, 0)],
    "ALT": [("ALT", "ALT (GPT)", "U/L", 10, 45, 0)],
    "AST": [("AST", "AST (GOT)", "U/L", 10, 40, 0)],
    "HBA1C": [("HBA1C", "HbA1c", "%", 4.5, 8.5, 1)],
    "CHOL": [("CHOL", "Cholesterol toàn phần", "mmol/L", 3.5, 6.5, 2)],
}
IMAGING_TEXT = {
    "XQ": ("Hai phế trường sáng, không thấy tổn thương nhu mô. Bóng tim không to. Góc sườn hoành hai bên nhọn.",
           "Hình ảnh Xquang ngực thẳng trong giới hạn bình thường"),
    "SA": ("Gan không to, nhu mô đều. Túi mật không sỏi. Hai thận không ứ nước. Bàng quang thành mỏng.",
           "Chưa phát hiện bất thường trên siêu âm ổ bụng"),
}
DEPARTMENTS = ["K01", "K02", "K03", "K19", "K26"]
OTHER_FACILITIES = ["01001", "01002", "79005", "48010", "31004"]
CARD_GROUPS = ["DN", "HC", "GD", "HT", "TE", "CN", "HS", "SV", "BT", "NO"]
BENEFIT_RATE = {1: 100, 2: 100, 3: 95, 4: 80, 5: 100}

CDATA_FIELDS = frozenset({"HO_TEN", "DIA_CHI", "TEN_THUOC", "LIEU_DUNG", "CHAN_DOAN_VAO", "CHAN_DOAN_RV",
                          "TEN_DICH_VU", "TEN_VAT_TU", "DIEN_BIEN_LS", "MO_TA", "KET_LUAN", "HO_TEN_NND",
                          "HO_TEN_CON", "NOI_CU_TRU_NND", "QT_BENHLY", "TOMTAT_KQ", "PP_DIEUTRI"})


# --- result types ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class InjectedError:
    dossier_index: int  # 1-based HOSO position
    ma_lk: str
    table: str
    record_index: int | None
    field: str
    code: str


@dataclass
class GenerationResult:
    visits: int = 0
    bytes_written: int = 0
    records: int = 0
    injected: list[InjectedError] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)  # LOAIHOSO -> files written


@dataclass(frozen=True)
class _Person:
    personal_id: str
    name: str
    birth: date
    sex: str  # "M"/"F"


# --- formatting helpers ----------------------------------------------------------------------------

def _dt(d: datetime) -> str:
    return d.strftime("%Y%m%d%H%M")


def _d(d: date) -> str:
    return d.strftime("%Y%m%d")


def _num(d: Decimal) -> str:
    s = f"{d:f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def _money(d: Decimal) -> str:
    return f"{d.quantize(CENT, ROUND_HALF_UP):f}"


def _esc(value: str) -> str:
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    return value


def _fields_xml(names: Sequence[str], values: dict[str, str], parts: list[str]) -> None:
    for name in names:
        v = values.get(name, "")
        if v == "":
            parts.append(f"<{name}/>")
        elif name in CDATA_FIELDS and "]]>" not in v:
            parts.append(f"<{name}><![CDATA[{v}]]></{name}>")
        else:
            parts.append(f"<{name}>{_esc(v)}</{name}>")


def table_xml(spec: SpecVersion, name: str, records: list[dict[str, str]]) -> bytes:
    """Serialize records of one table as an inner XML file (all spec fields, in spec order)."""
    t = spec.tables[name]
    names = [f.name for f in t.fields]
    extra = [k for r in records for k in r if k not in set(names)]
    names += list(dict.fromkeys(extra))
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n<', t.root,
             ' xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">']
    if t.is_list:
        parts.append(f"<{t.list_tag}>")
        for r in records:
            parts.append(f"<{t.record_tag}>")
            _fields_xml(names, r, parts)
            parts.append(f"</{t.record_tag}>")
        parts.append(f"</{t.list_tag}>")
    else:
        _fields_xml(names, records[0], parts)
    parts.append(f"</{t.root}>")
    return "".join(parts).encode("utf-8")


# --- visit builder ---------------------------------------------------------------------------------

def _normalize_citizen(c) -> _Person:
    pid, name, birth, sex = c
    s = str(sex).strip().upper()
    sex = "F" if s in ("F", "2", "NỮ", "NU", "FEMALE") else "M"
    if isinstance(birth, datetime):
        birth = birth.date()
    return _Person(str(pid), str(name), birth, sex)


class _Builder:
    def __init__(self, rng: random.Random, facility: str, spec: SpecVersion):
        self.rng = rng
        self.facility = facility
        self.spec = spec
        self.director = f"{rng.randrange(10**9, 10**10)}"
        self.doctors = [f"{rng.randrange(1, 99999):06d}/{rng.choice(['HNO', 'HCM', 'DNA'])}-CCHN" for _ in range(8)]
        self.readers = [f"{rng.randrange(10**9, 10**10)}" for _ in range(4)]
        self.start = datetime(2024, 9, 2, 7, 0)
        self.span_days = 300

    def person(self) -> _Person:
        rng = self.rng
        sex = rng.choice("MF")
        year = rng.choices([rng.randint(1940, 1970), rng.randint(1971, 2000), rng.randint(2001, 2023)],
                           weights=[3, 4, 2])[0]
        birth = date(year, rng.randint(1, 12), rng.randint(1, 28))
        place = "0" + rng.choice(ADDRESSES)[0]
        pid = make_personal_id(place, sex, year, rng.randrange(1_000_000))
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE[sex])} {rng.choice(GIVEN[sex])}"
        return _Person(pid, name, birth, sex)

    def visit(self, index: int, p: _Person) -> dict[str, list[dict[str, str]]]:
        rng = self.rng
        fac = self.facility
        vao = self.start + timedelta(days=rng.randrange(self.span_days), minutes=rng.randrange(0, 9 * 60))
        if p.birth >= vao.date():
            vao = datetime.combine(p.birth, datetime.min.time()) + timedelta(days=2, hours=9)
        age = (vao.date() - p.birth).days // 365
        birth_case = p.sex == "F" and 18 <= age <= 42 and rng.random() < 0.12
        r = rng.random()
        kind = "03" if birth_case else ("01" if r < 0.6 else "02" if r < 0.7 else "03")
        referral = not birth_case and rng.random() < 0.05
        appointment = not referral and rng.random() < 0.2
        if birth_case:
            dx, dx_name = BIRTH_DX
        else:
            pool = [d for d in DIAGNOSES if d[2] == kind] or DIAGNOSES
            dx, dx_name, _ = rng.choice(pool)
        sec = rng.sample(SECONDARY, rng.randint(0, 2))
        sec = [s for s in sec if s[0] != dx]
        if kind == "01":
            ra = vao + timedelta(minutes=rng.randint(30, 180))
            noi_tru = None
        elif kind == "02":
            noi_tru = None
            ra = (vao + timedelta(days=rng.randint(3, 7))).replace(hour=23, minute=59)
        else:
            noi_tru = vao + timedelta(minutes=rng.randint(30, 180))
            ra = (vao + timedelta(days=rng.randint(1 if birth_case else 2, 3 if birth_case else 9))).replace(
                hour=rng.randint(8, 11), minute=rng.randint(0, 59))
        days = 0 if kind == "01" else (ra.date() - vao.date()).days + 1
        ma_lk = f"{fac}{vao:%y%m%d}{index:07d}"
        prov, dist, commune, area = rng.choice(ADDRESSES)
        address = f"Số {rng.randint(1, 300)} {rng.choice(STREETS)}, {area}"
        benefit = rng.choice([1, 2, 3, 3, 4, 4, 4, 5])
        muc = BENEFIT_RATE[benefit]
        card = f"{rng.choice(CARD_GROUPS)}{benefit}{prov}{rng.randrange(10**10):010d}"
        card_from = date(vao.year, 1, 1)
        card_to = date(vao.year, 12, 31)
        dept = rng.choice(DEPARTMENTS)
        doctor = rng.choice(self.doctors)
        icd_all = ";".join([dx] + [s[0] for s in sec])
        birth_hhmm = "0000"
        if (vao.date() - p.birth).days <= 28:
            birth_hhmm = f"{rng.randint(0, 23):02d}{rng.randint(1, 59):02d}"

        def order_time(k: int) -> datetime:
            return min(vao + timedelta(minutes=10 + 17 * k), ra - timedelta(minutes=5))

        money = _Money(muc)
        # XML2 drugs
        drugs = []
        n_drugs = rng.randint(2, 5) if kind != "03" else rng.randint(4, 9)
        for k, d in enumerate(rng.sample(DRUGS, min(n_drugs, len(DRUGS)))):
            qty = Decimal(rng.choice([5, 10, 14, 20, 28, 30]) if d[3] == "Viên" else rng.randint(1, 6))
            price = Decimal(d[6])
            line = money.line(qty, price, price)
            yl = order_time(k)
            drugs.append({
                "MA_LK": ma_lk, "STT": str(k + 1), "MA_THUOC": d[0], "MA_NHOM": "4", "TEN_THUOC": d[1],
                "DON_VI_TINH": d[3], "HAM_LUONG": d[2], "DUONG_DUNG": d[4], "DANG_BAO_CHE": d[5],
                "LIEU_DUNG": f"{d[7]} * {max(days, 1)} ngày", "CACH_DUNG": "Uống sau ăn" if d[4] == "1.01" else "",
                "SO_DANG_KY": d[8], "TT_THAU": f"{rng.randint(100, 999)}/QĐ-SYT;G1;N4;2024",
                "PHAM_VI": "1", "TYLE_TT_BH": "100", "SO_LUONG": _num(qty), "DON_GIA": _num(price),
                **line, "MA_KHOA": dept, "MA_BAC_SI": doctor, "NGAY_YL": _dt(yl),
                "NGAY_TH_YL": _dt(yl + timedelta(minutes=5)), "MA_PTTT": "1", "NGUON_CTRA": "1",
                "VET_THUONG_TP": "0",
            })
        # XML3 services + XML4 results
        services: list[tuple] = [EXAM]
        labs = rng.sample(LABS, rng.randint(1, 3 if kind == "01" else 5))
        services += labs
        if rng.random() < 0.4 or kind == "03":
            services.append(rng.choice(IMAGING))
        if kind == "03":
            services += [BED] * max(days - 1, 1)
            services += rng.sample(SUPPLIES, 2)
        if birth_case:
            services.append(DELIVERY)
        elif dx == "K35.8":
            services.append(SURGERY)
        dvkt, cls = [], []
        for k, s in enumerate(services):
            qty = Decimal(1)
            price = Decimal(s[4])
            line = money.line(qty, price, price)
            yl = order_time(k)
            group = str(s[3])
            rec = {
                "MA_LK": ma_lk, "STT": str(k + 1), "MA_NHOM": group, "DON_VI_TINH": s[2], "PHAM_VI": "1",
                "SO_LUONG": _num(qty), "DON_GIA_BV": _num(price), "DON_GIA_BH": _num(price),
                "TYLE_TT_DV": "100", "TYLE_TT_BH": "100", **line, "MA_KHOA": dept, "MA_BAC_SI": doctor,
                "MA_BENH": icd_all, "NGAY_YL": _dt(yl), "MA_PTTT": "1",
            }
            if group == "10":
                rec.update({"MA_VAT_TU": s[0], "TEN_VAT_TU": s[1], "TT_THAU": "245/QĐ-SYT;G1;N1;2024"})
            else:
                rec.update({"MA_DICH_VU": s[0], "TEN_DICH_VU": s[1]})
            if group in ("1", "2", "8", "18"):
                rec["NGUOI_THUC_HIEN"] = doctor
                rec["NGAY_TH_YL"] = _dt(yl + timedelta(minutes=10))
                rec["NGAY_KQ"] = _dt(yl + timedelta(minutes=45))
            if group == "15":
                rec["MA_GIUONG"] = f"H{rng.randint(1, 300):03d}"
            if group == "8":
                rec["PP_VO_CAM"] = "1"
            dvkt.append(rec)
            key = s[5] if len(s) > 5 else None
            if key in LAB_INDICES:
                for idx in LAB_INDICES[key]:
                    code, name, unit, lo, hi, dec = idx
                    val = rng.uniform(lo, hi * 1.1)
                    cls.append({"MA_LK": ma_lk, "STT": str(len(cls) + 1), "MA_DICH_VU": s[0], "MA_CHI_SO": code,
                                "TEN_CHI_SO": name, "GIA_TRI": f"{val:.{dec}f}", "DON_VI_DO": unit,
                                "NGAY_KQ": rec["NGAY_KQ"], "MA_BS_DOC_KQ": rng.choice(self.readers)})
            elif key in IMAGING_TEXT:
                desc, concl = IMAGING_TEXT[key]
                cls.append({"MA_LK": ma_lk, "STT": str(len(cls) + 1), "MA_DICH_VU": s[0], "MO_TA": desc,
                            "KET_LUAN": concl, "NGAY_KQ": rec["NGAY_KQ"], "MA_BS_DOC_KQ": rng.choice(self.readers)})
        # XML5 clinical course
        course = []
        n_course = 1 if kind == "01" else min(days, 8)
        for k in range(n_course):
            t = min(vao + timedelta(days=k, minutes=20), ra - timedelta(minutes=1))
            course.append({
                "MA_LK": ma_lk, "STT": str(k + 1),
                "DIEN_BIEN_LS": (f"Mạch {rng.randint(64, 96)} lần/phút, nhiệt độ {rng.uniform(36.4, 38.2):.1f}°C, "
                                 f"huyết áp {rng.randint(105, 150)}/{rng.randint(65, 95)} mmHg. "
                                 + ("Người bệnh tỉnh, tiếp xúc tốt." if k else f"Vào viện vì {dx_name.lower()}.")),
                "THOI_DIEM_DBLS": _dt(t), "NGUOI_THUC_HIEN": doctor,
            })
        t = money.totals
        t_thuoc = sum((Decimal(r["THANH_TIEN_BV"]) for r in drugs), Decimal(0))
        t_vtyt = sum((Decimal(r["THANH_TIEN_BV"]) for r in dvkt if r["MA_NHOM"] == "10"), Decimal(0))
        ttoan = ra + timedelta(minutes=30)
        reexam = (ra + timedelta(days=rng.choice([7, 14, 30]))).replace(hour=8, minute=0)
        pp = "Điều trị nội khoa" if not birth_case and dx != "K35.8" else (
            "Đỡ đẻ thường" if birth_case else "Phẫu thuật nội soi cắt ruột thừa")
        xml1 = {
            "MA_LK": ma_lk, "STT": str(index), "MA_BN": f"BN{p.personal_id[-8:]}", "HO_TEN": p.name,
            "SO_CCCD": p.personal_id, "NGAY_SINH": f"{p.birth:%Y%m%d}{birth_hhmm}",
            "GIOI_TINH": "1" if p.sex == "M" else "2", "MA_QUOCTICH": "000", "MA_DANTOC": "01",
            "MA_NGHE_NGHIEP": "00000", "DIA_CHI": address, "MATINH_CU_TRU": prov, "MAHUYEN_CU_TRU": dist,
            "MAXA_CU_TRU": commune, "DIEN_THOAI": f"09{rng.randrange(10**8):08d}", "MA_THE_BHYT": card,
            "MA_DKBD": fac, "GT_THE_TU": _d(card_from), "GT_THE_DEN": _d(card_to),
            "LY_DO_VV": "Sinh con" if birth_case else f"Khám vì {dx_name.lower()}",
            "LY_DO_VNT": "Chuyển dạ" if birth_case else ("Điều trị nội trú" if noi_tru else ""),
            "CHAN_DOAN_VAO": dx_name, "CHAN_DOAN_RV": dx_name, "MA_BENH_CHINH": dx,
            "MA_BENH_KT": ";".join(s[0] for s in sec), "MA_DOITUONG_KCB": "2" if rng.random() < 0.05 else "1.1",
            "NGAY_VAO": _dt(vao), "NGAY_VAO_NOI_TRU": _dt(noi_tru) if noi_tru else "", "NGAY_RA": _dt(ra),
            "SO_NGAY_DTRI": str(days), "PP_DIEU_TRI": pp, "KET_QUA_DTRI": "1" if birth_case else rng.choice("12"),
            "MA_LOAI_RV": "2" if referral else "1", "GHI_CHU": "Tái khám theo hẹn" if appointment else "",
            "NGAY_TTOAN": _dt(ttoan), "T_THUOC": _money(t_thuoc), "T_VTYT": _money(t_vtyt),
            "T_TONGCHI_BV": _money(t["THANH_TIEN_BV"]), "T_TONGCHI_BH": _money(t["THANH_TIEN_BH"]),
            "T_BNTT": _money(t["T_BNTT"]), "T_BNCCT": _money(t["T_BNCCT"]), "T_BHTT": _money(t["T_BHTT"]),
            "T_NGUONKHAC": _money(t["T_NGUONKHAC"]), "T_BHTT_GDV": "0.00", "NAM_QT": str(ttoan.year),
            "THANG_QT": str(ttoan.month), "MA_LOAI_KCB": kind, "MA_KHOA": dept, "MA_CSKCB": fac,
            "MA_KHUVUC": "", "CAN_NANG": f"{rng.uniform(45, 80):.2f}" if age >= 16 else f"{rng.uniform(8, 40):.2f}",
            "NGAY_TAI_KHAM": _d(reexam) if appointment else "",
            "MA_HSBA": f"{vao:%y}{index:08d}", "MA_TTDV": self.director,
        }
        if referral:
            xml1["MA_NOI_DEN"] = rng.choice([f for f in OTHER_FACILITIES if f != fac])
        tables: dict[str, list[dict[str, str]]] = {"XML1": [xml1], "XML2": drugs, "XML3": dvkt}
        if cls:
            tables["XML4"] = cls
        tables["XML5"] = course
        if kind == "03":
            tables["XML7"] = [{
                "MA_LK": ma_lk, "SO_LUU_TRU": f"LT{vao:%y}{index:06d}", "MA_YTE": xml1["MA_BN"], "MA_KHOA_RV": dept,
                "NGAY_VAO": xml1["NGAY_VAO"], "NGAY_RA": xml1["NGAY_RA"], "CHAN_DOAN_RV": dx_name,
                "PP_DIEUTRI": pp, "GHI_CHU": "Tái khám sau 1 tuần" if appointment else "",
                "MA_TTDV": self.director, "MA_BS": self.readers[0], "TEN_BS": "Nguyễn Văn Bình",
                "NGAY_CT": _d(ra),
            }]
            tables["XML8"] = [{
                "MA_LK": ma_lk, "MA_LOAI_KCB": kind, "NGAY_VAO": xml1["NGAY_VAO"], "NGAY_RA": xml1["NGAY_RA"],
                "CHAN_DOAN_VAO": dx_name, "CHAN_DOAN_RV": dx_name,
                "QT_BENHLY": f"Người bệnh vào viện vì {dx_name.lower()}, được điều trị {days} ngày.",
                "TOMTAT_KQ": "Các xét nghiệm trong giới hạn cho phép.", "PP_DIEUTRI": pp,
                "KET_QUA_DTRI": xml1["KET_QUA_DTRI"], "MA_TTDV": self.director, "NGAY_CT": _d(ra),
                **({"NGAY_SINHCON": _d(vao + timedelta(hours=6))} if birth_case else {}),
            }]
        if birth_case:
            born = vao + timedelta(hours=rng.randint(2, 10), minutes=rng.randint(0, 59))
            weight = rng.randint(2600, 3900)
            xml1["CAN_NANG_CON"] = str(weight)
            father = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE['M'])} {rng.choice(GIVEN['M'])}"
            tables["XML9"] = [{
                "MA_LK": ma_lk, "MA_THE_NND": card, "HO_TEN_NND": p.name, "NGAYSINH_NND": _d(p.birth),
                "MA_DANTOC_NND": "01", "SO_CCCD_NND": p.personal_id,
                "NGAYCAP_CCCD_NND": _d(date(max(p.birth.year + 14, 2021), 7, 1)),
                "NOICAP_CCCD_NND": "Cục Cảnh sát quản lý hành chính về trật tự xã hội", "NOI_CU_TRU_NND": address,
                "MA_QUOCTICH": "000", "MATINH_CU_TRU": prov, "MAHUYEN_CU_TRU": dist, "MAXA_CU_TRU": commune,
                "HO_TEN_CHA": father, "HO_TEN_CON": f"{father.split()[0]} {rng.choice(MIDDLE['F'])} Bé",
                "GIOI_TINH_CON": rng.choice("12"), "SO_CON": "1", "LAN_SINH": str(rng.randint(1, 3)),
                "SO_CON_SONG": "1", "CAN_NANG_CON": str(weight), "NGAY_SINH_CON": _dt(born),
                "NOI_SINH_CON": f"Cơ sở khám chữa bệnh {fac}", "TINH_TRANG_CON": "Khỏe mạnh",
                "SINHCON_PHAUTHUAT": "0", "SINHCON_DUOI32TUAN": "0", "GHI_CHU": "Không",
                "NGUOI_DO_DE": "Hộ sinh Trần Thị Hoa", "NGUOI_GHI_PHIEU": "Hộ sinh Trần Thị Hoa",
                "NGAY_CT": _d(ra), "SO": f"{index:06d}", "QUYEN_SO": f"{vao.year}-01", "MA_TTDV": self.director,
            }]
        if referral:
            tables["XML13"] = [{
                "MA_LK": ma_lk, "SO_HOSO": xml1["MA_HSBA"], "SO_CHUYENTUYEN": f"CT{index:06d}",
                "GIAY_CHUYEN_TUYEN": f"{index:06d}/GCT", "MA_CSKCB": fac, "MA_NOI_DI": fac,
                "MA_NOI_DEN": xml1["MA_NOI_DEN"], "HO_TEN": p.name, "NGAY_SINH": xml1["NGAY_SINH"],
                "GIOI_TINH": xml1["GIOI_TINH"], "MA_QUOCTICH": "000", "MA_DANTOC": "01", "MA_NGHE_NGHIEP": "00000",
                "DIA_CHI": address, "MA_THE_BHYT": card, "GT_THE_DEN": xml1["GT_THE_DEN"],
                "NGAY_VAO": xml1["NGAY_VAO"], "NGAY_VAO_NOI_TRU": xml1["NGAY_VAO_NOI_TRU"], "NGAY_RA": xml1["NGAY_RA"],
                "DAU_HIEU_LS": course[0]["DIEN_BIEN_LS"], "CHAN_DOAN_RV": dx_name,
                "QT_BENHLY": f"Người bệnh {dx_name.lower()}, điều trị chưa cải thiện.",
                "TOMTAT_KQ": "Xét nghiệm cơ bản trong giới hạn.", "PP_DIEUTRI": pp, "MA_BENH_CHINH": dx,
                "MA_BENH_KT": xml1["MA_BENH_KT"], "TEN_DICH_VU": "; ".join(s[1] for s in services[:3]),
                "TEN_THUOC": "; ".join(d["TEN_THUOC"] for d in drugs[:3]), "MA_LOAI_RV": "2",
                "MA_LYDO_CT": rng.choice("12"), "HUONG_DIEU_TRI": "Tiếp tục điều trị tại tuyến trên",
                "PHUONGTIEN_VC": "Xe cứu thương", "HOTEN_NGUOI_HT": "Lê Văn Tâm", "CHUCDANH_NGUOI_HT": "Điều dưỡng",
                "MA_BAC_SI": doctor, "MA_TTDV": self.director,
            }]
        if appointment:
            tables["XML14"] = [{
                "MA_LK": ma_lk, "SO_GIAYHEN_KL": f"HK{index:07d}", "MA_CSKCB": fac, "HO_TEN": p.name,
                "NGAY_SINH": xml1["NGAY_SINH"], "GIOI_TINH": xml1["GIOI_TINH"], "DIA_CHI": address,
                "MA_THE_BHYT": card, "GT_THE_DEN": xml1["GT_THE_DEN"], "NGAY_VAO": xml1["NGAY_VAO"],
                "NGAY_VAO_NOI_TRU": xml1["NGAY_VAO_NOI_TRU"], "NGAY_RA": xml1["NGAY_RA"], "NGAY_HEN_KL": _dt(reexam),
                "CHAN_DOAN_RV": dx_name, "MA_BENH_CHINH": dx, "MA_BENH_KT": xml1["MA_BENH_KT"],
                "MA_DOITUONG_KCB": xml1["MA_DOITUONG_KCB"], "MA_BAC_SI": doctor, "MA_TTDV": self.director,
                "NGAY_CT": _d(ra),
            }]
        return tables


class _Money:
    """Line amounts consistent with §3 formulas; running totals for XML1."""

    KEYS = ("THANH_TIEN_BV", "THANH_TIEN_BH", "T_BNTT", "T_BNCCT", "T_BHTT", "T_NGUONKHAC")

    def __init__(self, muc_huong: int):
        self.muc = Decimal(muc_huong)
        self.totals = {k: Decimal(0) for k in self.KEYS}

    def line(self, qty: Decimal, price_bv: Decimal, price_bh: Decimal) -> dict[str, str]:
        bv = (qty * price_bv).quantize(CENT, ROUND_HALF_UP)
        bh = (qty * price_bh).quantize(CENT, ROUND_HALF_UP)
        bncct = (bh * (100 - self.muc) / 100).quantize(CENT, ROUND_HALF_UP)
        bhtt = bh - bncct
        bntt = bv - bh
        vals = {"THANH_TIEN_BV": bv, "THANH_TIEN_BH": bh, "T_BNTT": bntt, "T_BNCCT": bncct, "T_BHTT": bhtt,
                "T_NGUONKHAC": Decimal(0)}
        for k, v in vals.items():
            self.totals[k] += v
        out = {k: _money(v) for k, v in vals.items()}
        out.update({"T_NGUONKHAC_NSNN": "0.00", "T_NGUONKHAC_VTNN": "0.00", "T_NGUONKHAC_VTTN": "0.00",
                    "T_NGUONKHAC_CL": "0.00", "MUC_HUONG": _num(self.muc)})
        return out


# --- error injection -------------------------------------------------------------------------------

# Each injector mutates the visit tables (or the encoded files) and returns (table, record_index, field, code).
_Injector = Callable[[random.Random, dict, dict], tuple[str, int | None, str, str]]


def _pick(rng: random.Random, rows: list) -> int:
    return rng.randrange(len(rows))


def _inj_sex(rng, t, enc):
    t["XML1"][0]["GIOI_TINH"] = "4"
    return "XML1", 0, "GIOI_TINH", "unknown_code"


def _inj_discharge(rng, t, enc):
    vao = datetime.strptime(t["XML1"][0]["NGAY_VAO"], "%Y%m%d%H%M")
    t["XML1"][0]["NGAY_RA"] = _dt(vao - timedelta(days=1))
    return "XML1", 0, "NGAY_RA", "discharge_before_admission"


def _inj_amount(rng, t, enc):
    i = _pick(rng, t["XML2"])
    r = t["XML2"][i]
    r["THANH_TIEN_BV"] = _money(Decimal(r["THANH_TIEN_BV"]) + 1000)
    return "XML2", i, "THANH_TIEN_BV", "amount_mismatch"


def _inj_card(rng, t, enc):
    card = t["XML1"][0]["MA_THE_BHYT"]
    t["XML1"][0]["MA_THE_BHYT"] = card[:3] + "00" + card[5:]
    return "XML1", 0, "MA_THE_BHYT", "invalid_card_number"


def _inj_cccd(rng, t, enc):
    t["XML1"][0]["SO_CCCD"] = "999" + t["XML1"][0]["SO_CCCD"][3:]
    return "XML1", 0, "SO_CCCD", "invalid_personal_id"


def _inj_datetime(rng, t, enc):
    i = _pick(rng, t["XML3"])
    t["XML3"][i]["NGAY_YL"] = "202413321200"
    return "XML3", i, "NGAY_YL", "invalid_datetime"


def _inj_required(rng, t, enc):
    t["XML1"][0]["HO_TEN"] = ""
    return "XML1", 0, "HO_TEN", "required"


def _inj_too_long(rng, t, enc):
    t["XML1"][0]["MA_BENH_CHINH"] = t["XML1"][0]["MA_BENH_CHINH"] + "12345"
    return "XML1", 0, "MA_BENH_CHINH", "too_long"


def _inj_icd(rng, t, enc):
    t["XML1"][0]["MA_BENH_KT"] = "XYZ"
    return "XML1", 0, "MA_BENH_KT", "invalid_icd10"


def _inj_facility(rng, t, enc):
    own = t["XML1"][0]["MA_CSKCB"]
    t["XML1"][0]["MA_CSKCB"] = next(f for f in OTHER_FACILITIES if f != own)
    return "XML1", 0, "MA_CSKCB", "facility_mismatch"


def _inj_total(rng, t, enc):
    r = t["XML1"][0]
    r["T_TONGCHI_BV"] = _money(Decimal(r["T_TONGCHI_BV"]) + 500)
    return "XML1", 0, "T_TONGCHI_BV", "total_mismatch"


def _inj_digits(rng, t, enc):
    i = _pick(rng, t["XML2"])
    t["XML2"][i]["DON_GIA"] = t["XML2"][i]["DON_GIA"] + ".12345"
    return "XML2", i, "DON_GIA", "too_many_digits"


def _inj_ma_lk(rng, t, enc):
    i = _pick(rng, t["XML3"])
    t["XML3"][i]["MA_LK"] = t["XML3"][i]["MA_LK"] + "X"
    return "XML3", i, "MA_LK", "ma_lk_mismatch"


def _inj_lab_time(rng, t, enc):
    if not t.get("XML4"):
        return _inj_sex(rng, t, enc)
    i = _pick(rng, t["XML4"])
    t["XML4"][i]["NGAY_KQ"] = ""
    return "XML4", i, "NGAY_KQ", "required"


def _inj_birth(rng, t, enc):
    t["XML1"][0]["NGAY_SINH"] = t["XML1"][0]["NGAY_SINH"][:4] + "1332" + "0000"
    return "XML1", 0, "NGAY_SINH", "invalid_datetime"


def _inj_base64(rng, t, enc):
    enc["XML2"] = "!" + enc["XML2"][1:]  # applied to the encoded file
    return "XML2", None, "NOIDUNGFILE", "invalid_base64"


INJECTORS: list[_Injector] = [
    _inj_sex, _inj_discharge, _inj_amount, _inj_card, _inj_cccd, _inj_datetime, _inj_required, _inj_too_long,
    _inj_icd, _inj_facility, _inj_total, _inj_digits, _inj_ma_lk, _inj_lab_time, _inj_birth, _inj_base64,
]


# --- envelope writer -------------------------------------------------------------------------------

class _Counter:
    def __init__(self, out: BinaryIO):
        self.out = out
        self.n = 0

    def write(self, b: bytes) -> None:
        self.out.write(b)
        self.n += len(b)


def write_envelope(path_or_stream: str | os.PathLike | BinaryIO, visits: int, *, facility_code: str, seed: int = 0,
                   citizens: Sequence[tuple[str, str, date, str]] | None = None, error_rate: float = 0.0,
                   created: date | None = None, spec: SpecVersion = QD4750) -> GenerationResult:
    """Write a synthetic GIAMDINHHS envelope with ``visits`` dossiers; see the module docstring.

    ``citizens`` are ``(personal_id, full_name, birth_date, sex)`` with sex ``"M"``/``"F"`` (or 1/2);
    patients are drawn from them (else synthetic people are made up). Deterministic for ``seed``.
    """
    facility_code = validate_facility_code(facility_code)
    if visits < 0:
        raise ValueError("visits must be >= 0")
    if not 0.0 <= error_rate <= 1.0:
        raise ValueError("error_rate must be within [0, 1]")
    if isinstance(path_or_stream, (str, os.PathLike)):
        with open(path_or_stream, "wb", buffering=1024 * 1024) as fh:
            return _write(fh, visits, facility_code, seed, citizens, error_rate, created, spec)
    return _write(path_or_stream, visits, facility_code, seed, citizens, error_rate, created, spec)


def _write(out: BinaryIO, visits: int, facility: str, seed: int, citizens, error_rate: float,
           created: date | None, spec: SpecVersion) -> GenerationResult:
    rng = random.Random(seed)
    builder = _Builder(rng, facility, spec)
    people = [_normalize_citizen(c) for c in citizens] if citizens else None
    result = GenerationResult()
    w = _Counter(out)
    created = created or date(2025, 7, 1)
    w.write(('<?xml version="1.0" encoding="utf-8"?>\n<GIAMDINHHS xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
             'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
             f'  <THONGTINDONVI><MACSKCB>{facility}</MACSKCB></THONGTINDONVI>\n'
             f'  <THONGTINHOSO>\n    <NGAYLAP>{created:%Y%m%d}</NGAYLAP>\n    <SOLUONGHOSO>{visits}</SOLUONGHOSO>\n'
             '    <DANHSACHHOSO>\n').encode())
    for index in range(1, visits + 1):
        person = rng.choice(people) if people else builder.person()
        tables = builder.visit(index, person)
        inject = error_rate > 0 and rng.random() < error_rate
        injector = rng.choice(INJECTORS) if inject else None
        if injector is not None and injector is not _inj_base64:
            table, rec, fld, code = injector(rng, tables, {})
            result.injected.append(InjectedError(index, tables["XML1"][0]["MA_LK"], table, rec, fld, code))
        encoded = {name: base64.b64encode(table_xml(spec, name, rows)).decode("ascii")
                   for name, rows in tables.items()}
        if injector is _inj_base64:
            table, rec, fld, code = injector(rng, tables, encoded)
            result.injected.append(InjectedError(index, tables["XML1"][0]["MA_LK"], table, rec, fld, code))
        parts = ["      <HOSO>\n"]
        for name, b64 in encoded.items():
            parts.append(f"        <FILEHOSO><LOAIHOSO>{name}</LOAIHOSO><NOIDUNGFILE>{b64}</NOIDUNGFILE></FILEHOSO>\n")
            result.tables[name] = result.tables.get(name, 0) + 1
            result.records += len(tables[name])
        parts.append("      </HOSO>\n")
        w.write("".join(parts).encode("ascii"))
        result.visits += 1
    w.write(b"    </DANHSACHHOSO>\n  </THONGTINHOSO>\n  <CHUKYDONVI/>\n</GIAMDINHHS>\n")
    out.flush()
    result.bytes_written = w.n
    return result



def sample_visit(*, facility_code: str = "01001", seed: int = 0, index: int = 1,
                 spec: SpecVersion = QD4750) -> dict[str, list[dict[str, str]]]:
    """The tables of one synthetic visit (raw strings), e.g. to craft test envelopes by hand."""
    rng = random.Random(seed)
    builder = _Builder(rng, validate_facility_code(facility_code), spec)
    return builder.visit(index, builder.person())
