"""Field specifications of the QĐ 130/QĐ-BYT output tables (as amended by QĐ 4750/QĐ-BYT), as data.

Source: /work/shared/domain/health-standards.md §2.3 (tags), §3 (formats), §4 (code lists), §5 (fields),
§7 (death notice). Items marked **[U]** there are marked ``uncertain=...`` here.

A specification is a :class:`SpecVersion` keyed by the date it takes effect. Amendments (QĐ 3176, QĐ 3276,
QĐ 1931...) become *new versions*, built from the previous one with :meth:`SpecVersion.amend` and
registered with :func:`register`; :func:`spec_for` picks the version in force on a date. Nothing in the
parser or validator names a specific decision.

Field types (``FieldSpec.kind``):

* ``str``: free text / code, ``max_length`` characters (``None`` = unbounded VARCHAR);
* ``int``: N(p) → at most ``precision`` digits;
* ``decimal``: N(p,s) → at most ``precision - scale`` integer and ``scale`` fraction digits, ``.`` separator;
* ``datetime``: ``yyyymmddHHMM`` (12 characters, 24 h);
* ``date``: ``yyyymmdd`` (8 characters).

``multi=True`` means several values separated by ``;`` (``max_length`` applies to the whole text).
``fmt`` names a semantic check done by the validator (``birth``, ``identity_document``, ``card_number``,
``facility``, ``facility_ref``, ``icd10``, ``no_spaces``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from typing import Iterable, Literal, Mapping

Kind = Literal["str", "int", "decimal", "datetime", "date"]


@dataclass(frozen=True)
class CodeList:
    name: str
    codes: Mapping[str, str]  # code -> Vietnamese label
    closed: bool = True  # False: list known to be incomplete -> an unknown value is only a warning
    uncertain: str | None = None


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: Kind = "str"
    max_length: int | None = None
    required: bool = False
    precision: int | None = None  # int / decimal digits
    scale: int = 0  # decimal fraction digits
    codes: str | None = None  # CodeList name
    multi: bool = False  # ';'-separated values
    fmt: str | None = None  # semantic check, see module doc
    min_value: int | None = None
    max_value: int | None = None
    uncertain: str | None = None  # why this item is not verified against the official text


@dataclass(frozen=True)
class TableSpec:
    """One inner file (LOAIHOSO) or standalone document.

    ``list_tag``/``record_tag`` are ``None`` for single-record tables whose fields sit directly under
    the root. ``specified=False`` marks a table whose tags are known but whose fields are not (its
    records are passed through unvalidated, with a warning).
    """

    name: str
    root: str
    list_tag: str | None
    record_tag: str | None
    fields: tuple[FieldSpec, ...]
    title: str = ""
    specified: bool = True
    uncertain: str | None = None

    @property
    def is_list(self) -> bool:
        return self.record_tag is not None

    @property
    def by_name(self) -> Mapping[str, FieldSpec]:
        return {f.name: f for f in self.fields}

    def field(self, name: str) -> FieldSpec | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


@dataclass(frozen=True)
class CardNumberFormat:
    """BHYT card number: 2 letters (subject group) + 1 digit (benefit code) + 2-digit province + 10 digits.

    **[U]** inferred from the 15-character length, gateway errors 052/053 and one real sample (§9).
    """

    pattern: str = r"^[A-Z]{2}[1-5]\d{2}\d{10}$"
    check_province: bool = True  # chars 4-5 must be a (63-set) province code
    allowed_groups: frozenset[str] | None = None  # None: any 2 uppercase letters
    uncertain: str | None = "layout 2+1+2+10 inferred (§9); benefit digits 1-5 from third-party code"


@dataclass(frozen=True)
class SpecVersion:
    key: str
    title: str
    effective_from: date
    tables: Mapping[str, TableSpec]  # by LOAIHOSO (XML1...)
    documents: Mapping[str, TableSpec]  # standalone documents (GIAYBAOTU...)
    code_lists: Mapping[str, CodeList]
    card_number: CardNumberFormat = field(default_factory=CardNumberFormat)
    # LOAIHOSO values that are known but must not appear in a claim envelope (checked by the parser).
    not_in_envelope: frozenset[str] = frozenset({"XML0", "XML12"})
    notes: str = ""

    def table(self, name: str) -> TableSpec:
        return self.tables[name]

    def amend(self, *, key: str, title: str, effective_from: date,
              add_fields: Mapping[str, Iterable[tuple[str | None, FieldSpec]]] = MappingProxyType({}),
              replace_fields: Mapping[str, Iterable[FieldSpec]] = MappingProxyType({}),
              remove_fields: Mapping[str, Iterable[str]] = MappingProxyType({}),
              tables: Mapping[str, TableSpec] = MappingProxyType({}),
              code_lists: Mapping[str, CodeList] = MappingProxyType({}),
              card_number: CardNumberFormat | None = None) -> "SpecVersion":
        """A new version derived from this one (the extension point for later decisions).

        ``add_fields[table]`` is a list of ``(after_field_name_or_None_for_end, FieldSpec)``;
        ``replace_fields`` swaps fields by name; ``remove_fields`` drops them; ``tables`` adds or
        replaces whole tables; ``code_lists`` adds or replaces lists.
        """
        new_tables = dict(self.tables)
        for name, spec in tables.items():
            new_tables[name] = spec
        for name, specs in replace_fields.items():
            by = {f.name: f for f in specs}
            t = new_tables[name]
            new_tables[name] = replace(t, fields=tuple(by.get(f.name, f) for f in t.fields))
        for name, names in remove_fields.items():
            drop = set(names)
            t = new_tables[name]
            new_tables[name] = replace(t, fields=tuple(f for f in t.fields if f.name not in drop))
        for name, additions in add_fields.items():
            t = new_tables[name]
            fields = list(t.fields)
            for after, spec in additions:
                if after is None:
                    fields.append(spec)
                else:
                    pos = [f.name for f in fields].index(after)
                    fields.insert(pos + 1, spec)
            new_tables[name] = replace(t, fields=tuple(fields))
        new_lists = dict(self.code_lists)
        new_lists.update(code_lists)
        return SpecVersion(
            key=key, title=title, effective_from=effective_from,
            tables=MappingProxyType(new_tables), documents=self.documents,
            code_lists=MappingProxyType(new_lists), card_number=card_number or self.card_number,
            not_in_envelope=self.not_in_envelope,
        )


# --- field constructors (keep the tables below readable) ------------------------------------------

def V(name: str, n: int | None = None, req: bool = False, **kw) -> FieldSpec:
    return FieldSpec(name, "str", n, req, **kw)


def N(name: str, p: int, s: int = 0, req: bool = False, **kw) -> FieldSpec:
    if s:
        return FieldSpec(name, "decimal", kw.pop("max_length", p + 2), req, precision=p, scale=s, **kw)
    return FieldSpec(name, "int", kw.pop("max_length", p + 1), req, precision=p, **kw)


def DT(name: str, req: bool = False, **kw) -> FieldSpec:
    return FieldSpec(name, "datetime", kw.pop("max_length", 12), req, **kw)


def D(name: str, req: bool = False, **kw) -> FieldSpec:
    return FieldSpec(name, "date", kw.pop("max_length", 8), req, **kw)


def MONEY(name: str, req: bool = True, **kw) -> FieldSpec:
    return N(name, 15, 2, req, **kw)


R = True
MA_LK = V("MA_LK", 100, R)
STT = N("STT", 10, 0, R, min_value=0)
DU_PHONG = V("DU_PHONG")

# --- code lists (§4) -------------------------------------------------------------------------------

CODE_LISTS: dict[str, CodeList] = {
    c.name: c for c in [
        CodeList("GIOI_TINH", {"1": "Nam", "2": "Nữ", "3": "Chưa xác định"}),
        CodeList("MA_LOAI_KCB", {
            "01": "Khám bệnh", "02": "Điều trị ngoại trú", "03": "Điều trị nội trú",
            "04": "Điều trị nội trú ban ngày", "05": "Điều trị ngoại trú các bệnh mạn tính",
            "06": "Điều trị lưu tại trạm y tế xã/phòng khám đa khoa khu vực",
            "07": "Nhận thuốc theo hẹn (không khám bệnh)",
            "08": "Điều trị ngoại trú bệnh mạn tính có khám bệnh và sử dụng DVKT/thuốc",
            "09": "Điều trị nội trú dưới 04 giờ", "10": "Các trường hợp khác",
        }),
        CodeList("MA_DOITUONG_KCB", {
            **{f"1.{i}": "Đúng tuyến" for i in range(1, 11)}, "2": "Cấp cứu",
            **{f"3.{i}": "Trái tuyến" for i in range(1, 8)},
            **{f"7.{i}": "Lĩnh thuốc theo hẹn" for i in range(1, 5)}, "8": "Khác", "9": "Khác",
        }, closed=False, uncertain="QĐ 824 PL2 labels not extracted; QĐ 3276 (2025) re-codes (§4)"),
        CodeList("KET_QUA_DTRI", {
            "1": "Khỏi", "2": "Đỡ", "3": "Không thay đổi", "4": "Nặng hơn", "5": "Tử vong",
            "6": "Tiên lượng nặng xin về", "7": "Chưa xác định", "8": "Tử vong ngoại viện",
        }),
        CodeList("MA_LOAI_RV", {
            "1": "Ra viện", "2": "Chuyển tuyến theo yêu cầu chuyên môn", "3": "Trốn viện",
            "4": "Xin ra viện", "5": "Chuyển tuyến theo yêu cầu người bệnh",
        }),
        CodeList("MA_LYDO_CT", {
            "1": "Đủ điều kiện chuyển tuyến phù hợp quy định",
            "2": "Đủ điều kiện chuyển tuyến do không phù hợp khả năng đáp ứng của cơ sở",
            "3": "Theo yêu cầu của người bệnh hoặc người đại diện",
        }),
        CodeList("MA_PTTT", {"1": "Phí dịch vụ", "2": "Định suất", "3": "DRG"}),
        CodeList("PHAM_VI", {"1": "Trong phạm vi hưởng BHYT", "2": "Ngoài phạm vi hưởng BHYT"}),
        CodeList("PHAM_VI_DVKT", {"1": "Trong phạm vi hưởng BHYT", "2": "Ngoài phạm vi hưởng BHYT"},
                 closed=False, uncertain="XML3 adds values not extracted (§4)"),
        CodeList("PP_VO_CAM", {"1": "Gây mê", "2": "Gây tê", "3": "Châm tê", "4": "Khác"}),
        CodeList("NGUON_CTRA", {"1": "Quỹ BHYT", "2": "Dự án"}, closed=False,
                 uncertain="list truncated in the source (§4)"),
        CodeList("MA_KHUVUC", {"K1": "Khu vực K1", "K2": "Khu vực K2", "K3": "Khu vực K3"}),
        CodeList("CO_KHONG", {"0": "Không", "1": "Có"}),
        CodeList("NHOM_MAU", {v: v for v in (
            "A", "A+", "A-", "B", "B+", "B-", "AB", "AB+", "AB-", "O", "O+", "O-", "Rh", "Rh+", "Rh-")},
            uncertain="vendor list (DH dmbenhnhan.nhom_mau); field is QĐ 3176, not 4750"),
        CodeList("MA_NHOM", {
            "1": "Xét nghiệm", "2": "Chẩn đoán hình ảnh", "3": "Thăm dò chức năng",
            "4": "Thuốc trong danh mục", "5": "Thuốc điều trị ung thư, chống thải ghép ngoài danh mục",
            "6": "Thuốc thanh toán theo tỷ lệ", "7": "Máu", "8": "Phẫu thuật", "9": "DVKT thanh toán theo tỷ lệ",
            "10": "Vật tư y tế trong danh mục", "11": "Vật tư y tế thanh toán theo tỷ lệ", "12": "Vận chuyển",
            "13": "Khám bệnh", "14": "Ngày giường bệnh ban ngày", "15": "Ngày giường bệnh điều trị nội trú",
            "16": "Ngày giường lưu", "17": "Chế phẩm máu", "18": "Thủ thuật",
        }, closed=False, uncertain="QĐ 5937 PL3 not in the notes; labels from memory, consistent with "
                                   "the DH rules on groups 12 and 1/2/3/8/18"),
    ]
}

# Cost groups (MA_NHOM) whose XML3 lines count as medical supplies in T_VTYT [U].
VTYT_GROUPS = frozenset({"10", "11"})
# XML3 groups that need NGUOI_THUC_HIEN and NGAY_TH_YL (DH vendor rule, §3) [U].
PERFORMER_GROUPS = frozenset({"1", "2", "3", "8", "18"})
TRANSPORT_GROUP = "12"

_XML1_COPY_NOTE = "copied from XML1"

# --- tables (§5) -----------------------------------------------------------------------------------

XML1 = TableSpec("XML1", "TONG_HOP", None, None, title="Bảng 1 - Chỉ tiêu tổng hợp KBCB", fields=(
    MA_LK, STT, V("MA_BN", 100, R), V("HO_TEN", 255, R),
    V("SO_CCCD", 15, fmt="identity_document",
      uncertain="CCCD/CMND/passport accepted per DH vendor note (§3)"),
    DT("NGAY_SINH", R, fmt="birth"), N("GIOI_TINH", 1, 0, R, codes="GIOI_TINH"),
    V("MA_QUOCTICH", 3, R), V("MA_DANTOC", 2, R), V("MA_NGHE_NGHIEP", 5, R), V("DIA_CHI", 1024, R),
    V("MATINH_CU_TRU", 3, R), N("MAHUYEN_CU_TRU", 3, 0, R, uncertain="N(3) per DH; a code with leading zeros"),
    V("MAXA_CU_TRU", 5, R), V("DIEN_THOAI", 15),
    V("MA_THE_BHYT", 50, R, multi=True, fmt="card_number"),
    V("MA_DKBD", 50, R, multi=True, fmt="facility"),
    D("GT_THE_TU", R, max_length=50, multi=True), D("GT_THE_DEN", R, max_length=50, multi=True),
    D("NGAY_MIEN_CCT", max_length=50, uncertain="V(50); date format assumed yyyymmdd"),
    V("LY_DO_VV", None, R), V("LY_DO_VNT"), V("MA_LY_DO_VNT", 5),
    V("CHAN_DOAN_VAO", None, R), V("CHAN_DOAN_RV", None, R),
    V("MA_BENH_CHINH", 7, R, fmt="icd10"), V("MA_BENH_KT", 100, multi=True, fmt="icd10"),
    V("MA_BENH_YHCT", 255, multi=True), V("MA_PTTT_QT", 125, multi=True),
    V("MA_DOITUONG_KCB", 4, R, codes="MA_DOITUONG_KCB"),
    V("MA_NOI_DI", 5, fmt="facility"), V("MA_NOI_DEN", 5, fmt="facility"), N("MA_TAI_NAN", 1),
    DT("NGAY_VAO", R), DT("NGAY_VAO_NOI_TRU"), DT("NGAY_RA", R), V("GIAY_CHUYEN_TUYEN", 50),
    N("SO_NGAY_DTRI", 3, 0, R, min_value=0), V("PP_DIEU_TRI"),
    N("KET_QUA_DTRI", 1, 0, R, codes="KET_QUA_DTRI"), N("MA_LOAI_RV", 1, 0, R, codes="MA_LOAI_RV"),
    V("GHI_CHU"),
    DT("NGAY_TTOAN", uncertain="DH flags it required, but the description says blank when unpaid"),
    MONEY("T_THUOC"), MONEY("T_VTYT"), MONEY("T_TONGCHI_BV"), MONEY("T_TONGCHI_BH"), MONEY("T_BNTT"),
    MONEY("T_BNCCT"), MONEY("T_BHTT"), MONEY("T_NGUONKHAC"), MONEY("T_BHTT_GDV"),
    N("NAM_QT", 4, 0, R, min_value=2000, max_value=2100), N("THANG_QT", 2, 0, R, min_value=1, max_value=12),
    V("MA_LOAI_KCB", 2, R, codes="MA_LOAI_KCB"), V("MA_KHOA", 50, R, multi=True),
    V("MA_CSKCB", 5, R, fmt="facility"), V("MA_KHUVUC", 2, codes="MA_KHUVUC"),
    N("CAN_NANG", 5, 2, max_length=6, uncertain="V(6) kg with 2 decimals"),
    N("CAN_NANG_CON", 10, 0, max_length=100, multi=True), D("NAM_NAM_LIEN_TUC"),
    D("NGAY_TAI_KHAM", max_length=50, multi=True), V("MA_HSBA", 100, R), V("MA_TTDV", 10, R), DU_PHONG,
))

_LINE_MONEY = (
    MONEY("T_NGUONKHAC_NSNN"), MONEY("T_NGUONKHAC_VTNN"), MONEY("T_NGUONKHAC_VTTN"),
    MONEY("T_NGUONKHAC_CL"), MONEY("T_NGUONKHAC"),
)
_PCT = {"min_value": 0, "max_value": 100}

XML2 = TableSpec("XML2", "CHITIEU_CHITIET_THUOC", "DSACH_CHI_TIET_THUOC", "CHI_TIET_THUOC",
                 title="Bảng 2 - Chỉ tiêu chi tiết thuốc", fields=(
    MA_LK, STT, V("MA_THUOC", 255, R), V("MA_PP_CHEBIEN", 255), V("MA_CSKCB_THUOC", 10, fmt="facility_ref"),
    N("MA_NHOM", 2, 0, R, codes="MA_NHOM"), V("TEN_THUOC", 1024, R), V("DON_VI_TINH", 50, R),
    V("HAM_LUONG", 1024, R), V("DUONG_DUNG", 4, R), V("DANG_BAO_CHE", 1024), V("LIEU_DUNG", 1024, R),
    V("CACH_DUNG", 1024), V("SO_DANG_KY", 255, fmt="no_spaces"), V("TT_THAU", 50),
    N("PHAM_VI", 1, 0, R, codes="PHAM_VI"), N("TYLE_TT_BH", 3, 0, R, **_PCT),
    N("SO_LUONG", 10, 3, R), N("DON_GIA", 15, 3, R), MONEY("THANH_TIEN_BV"), MONEY("THANH_TIEN_BH"),
    *_LINE_MONEY, N("MUC_HUONG", 3, 0, R, **_PCT), MONEY("T_BNTT"), MONEY("T_BNCCT"), MONEY("T_BHTT"),
    V("MA_KHOA", 50, R), V("MA_BAC_SI", 255, R), V("MA_DICH_VU", 255), DT("NGAY_YL"), DT("NGAY_TH_YL", R),
    N("MA_PTTT", 1, 0, codes="MA_PTTT"), N("NGUON_CTRA", 1, 0, R, codes="NGUON_CTRA"),
    N("VET_THUONG_TP", 1, 0, R), DU_PHONG,
))

XML3 = TableSpec("XML3", "CHITIEU_CHITIET_DVKT_VTYT", "DSACH_CHI_TIET_DVKT", "CHI_TIET_DVKT",
                 title="Bảng 3 - Chỉ tiêu chi tiết dịch vụ kỹ thuật và vật tư y tế", fields=(
    MA_LK, STT, V("MA_DICH_VU", 50), V("MA_PTTT_QT", 255), V("MA_VAT_TU", 255),
    N("MA_NHOM", 2, 0, R, codes="MA_NHOM"), V("GOI_VTYT", 3), V("TEN_VAT_TU", 1024), V("TEN_DICH_VU", 1024),
    V("MA_XANG_DAU", 20), V("DON_VI_TINH", 50, R), N("PHAM_VI", 1, 0, R, codes="PHAM_VI_DVKT"),
    N("SO_LUONG", 10, 3, R), N("DON_GIA_BV", 15, 3, R), N("DON_GIA_BH", 15, 3, R), V("TT_THAU", 50),
    N("TYLE_TT_DV", 3, 0, R, **_PCT), N("TYLE_TT_BH", 3, 0, R, **_PCT),
    MONEY("THANH_TIEN_BV"), MONEY("THANH_TIEN_BH"), MONEY("T_TRANTT", req=False),
    N("MUC_HUONG", 3, 0, R, **_PCT), *_LINE_MONEY, MONEY("T_BNTT"), MONEY("T_BNCCT"), MONEY("T_BHTT"),
    V("MA_KHOA", 50, R), V("MA_GIUONG", 50), V("MA_BAC_SI", 255, R), V("NGUOI_THUC_HIEN", 255),
    V("MA_BENH", 100, R, multi=True, fmt="icd10"), V("MA_BENH_YHCT", 255, multi=True),
    DT("NGAY_YL", R), DT("NGAY_TH_YL"), DT("NGAY_KQ"), N("MA_PTTT", 1, 0, R, codes="MA_PTTT"),
    N("VET_THUONG_TP", 1), N("PP_VO_CAM", 1, 0, codes="PP_VO_CAM"), N("VI_TRI_TH_DVKT", 3),
    V("MA_MAY", 1024), V("MA_HIEU_SP", 255), N("TAI_SU_DUNG", 1), DU_PHONG,
))

XML4 = TableSpec("XML4", "CHITIEU_CHITIET_DICHVUCANLAMSANG", "DSACH_CHI_TIET_CLS", "CHI_TIET_CLS",
                 title="Bảng 4 - Chỉ tiêu chi tiết dịch vụ cận lâm sàng", fields=(
    MA_LK, STT, V("MA_DICH_VU", 15, R), V("MA_CHI_SO", 50), V("TEN_CHI_SO", 255), V("GIA_TRI", 50),
    V("DON_VI_DO", 50), V("MO_TA"), V("KET_LUAN"), DT("NGAY_KQ", R), V("MA_BS_DOC_KQ", 255, R), DU_PHONG,
))

XML5 = TableSpec("XML5", "CHITIEU_CHITIET_DIENBIENLAMSANG", "DSACH_CHI_TIET_DIEN_BIEN_BENH",
                 "CHI_TIET_DIEN_BIEN_BENH", title="Bảng 5 - Chỉ tiêu chi tiết diễn biến bệnh", fields=(
    MA_LK, STT, V("DIEN_BIEN_LS", None, R), V("GIAI_DOAN_BENH"), V("HOI_CHAN"), V("PHAU_THUAT"),
    DT("THOI_DIEM_DBLS", R), V("NGUOI_THUC_HIEN", 255, R), DU_PHONG,
))

XML6 = TableSpec("XML6", "CHI_TIEU_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS",
                 "DSACH_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS", "HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS",
                 title="Bảng 6 - Hồ sơ bệnh án chăm sóc và điều trị HIV/AIDS", fields=(MA_LK,), specified=False,
                 uncertain="47 fields not extracted (§5.12)")

XML7 = TableSpec("XML7", "CHI_TIEU_DU_LIEU_GIAY_RA_VIEN", None, None, title="Bảng 7 - Giấy ra viện", fields=(
    MA_LK, V("SO_LUU_TRU", 200, R), V("MA_YTE", 200, R), V("MA_KHOA_RV", 200, R), DT("NGAY_VAO", R),
    DT("NGAY_RA", R), N("MA_DINH_CHI_THAI", 1, 0, codes="CO_KHONG"), V("NGUYENNHAN_DINHCHI"),
    DT("THOIGIAN_DINHCHI"), N("TUOI_THAI", 2, 0, min_value=1, max_value=42), V("CHAN_DOAN_RV", 1500, R),
    V("PP_DIEUTRI", 1500, R), V("GHI_CHU", 1500), V("MA_TTDV", 10, R), V("MA_BS", 200, R),
    V("TEN_BS", 255, R), D("NGAY_CT", R), V("MA_CHA", 10), V("MA_ME", 10), V("MA_THE_TAM", 15),
    V("HO_TEN_CHA", 255), V("HO_TEN_ME", 255), N("SO_NGAY_NGHI", 2), D("NGOAITRU_TUNGAY"),
    D("NGOAITRU_DENNGAY"), DU_PHONG,
), uncertain="DH lists 25 fields; DU_PHONG from tracnn/JS bundle")

XML8 = TableSpec("XML8", "CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN", None, None,
                 title="Bảng 8 - Tóm tắt hồ sơ bệnh án", fields=(
    MA_LK, V("MA_LOAI_KCB", 2, R, codes="MA_LOAI_KCB"), V("HO_TEN_CHA", 255), V("HO_TEN_ME", 255),
    V("NGUOI_GIAM_HO", 255), V("DON_VI", 1024), DT("NGAY_VAO", R), DT("NGAY_RA", R),
    V("CHAN_DOAN_VAO", None, R), V("CHAN_DOAN_RV", None, R), V("QT_BENHLY", None, R),
    V("TOMTAT_KQ", None, R), V("PP_DIEUTRI", None, R), D("NGAY_SINHCON"), D("NGAY_CONCHET"),
    N("SO_CONCHET", 2), N("KET_QUA_DTRI", 1, 0, R, codes="KET_QUA_DTRI"), V("GHI_CHU"), V("MA_TTDV", 10, R),
    D("NGAY_CT", R), V("MA_THE_TAM", 15), DU_PHONG,
))

XML9 = TableSpec("XML9", "CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH", "DSACH_GIAYCHUNGSINH", "DU_LIEU_GIAY_CHUNG_SINH",
                 title="Bảng 9 - Giấy chứng sinh", fields=(
    MA_LK, V("MA_BHXH_NND", 10), V("MA_THE_NND", 15, fmt="card_number"), V("HO_TEN_NND", 255, R),
    D("NGAYSINH_NND", R), V("MA_DANTOC_NND", 2, R), V("SO_CCCD_NND", 15, R, fmt="identity_document"),
    D("NGAYCAP_CCCD_NND", R), V("NOICAP_CCCD_NND", 1024, R), V("NOI_CU_TRU_NND", 1024, R),
    V("MA_QUOCTICH", 3, R), V("MATINH_CU_TRU", 3, R), N("MAHUYEN_CU_TRU", 3, 0, R), V("MAXA_CU_TRU", 5, R),
    V("HO_TEN_CHA", 255), V("MA_THE_TAM", 15), V("HO_TEN_CON", 255),
    N("GIOI_TINH_CON", 1, 0, R, codes="GIOI_TINH"), N("SO_CON", 2, 0, R, min_value=1),
    N("LAN_SINH", 2, 0, R, min_value=1), N("SO_CON_SONG", 2, 0, R, min_value=0),
    N("CAN_NANG_CON", 10, 0, R, min_value=1), DT("NGAY_SINH_CON", R), V("NOI_SINH_CON", 1024, R),
    V("TINH_TRANG_CON", None, R), N("SINHCON_PHAUTHUAT", 1, 0, R, codes="CO_KHONG"),
    N("SINHCON_DUOI32TUAN", 1, 0, R, codes="CO_KHONG"), V("GHI_CHU", None, R), V("NGUOI_DO_DE", 255, R),
    V("NGUOI_GHI_PHIEU", 255, R), D("NGAY_CT", R), V("SO", 200, R), V("QUYEN_SO", 200, R),
    V("MA_TTDV", 10, R), DU_PHONG,
))

XML10 = TableSpec("XML10", "CHI_TIEU_DU_LIEU_GIAY_NGHI_DUONG_THAI", None, None,
                  title="Bảng 10 - Giấy nghỉ dưỡng thai", fields=(
    MA_LK, V("SO_SERI", 200, R), V("SO_CT", 200, R), N("SO_NGAY", 3, 0, R), V("DON_VI", 1024, R),
    V("CHAN_DOAN_RV", None, R), D("TU_NGAY", R), D("DEN_NGAY", R), V("MA_TTDV", 10, R), V("TEN_BS", 255, R),
    V("MA_BS", 200, R), D("NGAY_CT", R), DU_PHONG,
), uncertain="field names only (§5.12); types and required flags by analogy with XML11")

XML11 = TableSpec("XML11", "CHI_TIEU_DU_LIEU_GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BAO_HIEM_XA_HOI", None, None,
                  title="Bảng 11 - Giấy chứng nhận nghỉ việc hưởng BHXH", fields=(
    MA_LK, V("SO_CT", 200, R), V("SO_SERI", 200, R), V("SO_KCB", 200, R), V("DON_VI", 1024, R),
    V("MA_BHXH", 10, R), V("MA_THE_BHYT", None, multi=True, fmt="card_number"), V("CHAN_DOAN_RV", None, R),
    V("PP_DIEUTRI", None, R), N("MA_DINH_CHI_THAI", 1, 0, codes="CO_KHONG"), V("NGUYENNHAN_DINHCHI"),
    N("TUOI_THAI", 2, 0, min_value=1, max_value=42), N("SO_NGAY_NGHI", 3, 0, R, min_value=0),
    D("TU_NGAY", R), D("DEN_NGAY", R), V("HO_TEN_CHA", 255), V("HO_TEN_ME", 255), V("MA_TTDV", 10, R),
    V("MA_BS", 200, R), D("NGAY_CT", R), V("MA_THE_TAM", 15),
    V("MAU_SO", 5, uncertain='declared N(5) but carries the string "CT07"'), DU_PHONG,
))

XML13 = TableSpec("XML13", "CHI_TIEU_GIAYCHUYENTUYEN", None, None, title="Bảng 13 - Giấy chuyển tuyến", fields=(
    MA_LK, V("SO_HOSO", 50, R), V("SO_CHUYENTUYEN", 50, R), V("GIAY_CHUYEN_TUYEN", 50, R),
    V("MA_CSKCB", 5, fmt="facility"), V("MA_NOI_DI", 5, fmt="facility"), V("MA_NOI_DEN", 5, fmt="facility"),
    V("HO_TEN", 255, R), DT("NGAY_SINH", fmt="birth"), N("GIOI_TINH", 1, 0, codes="GIOI_TINH"),
    V("MA_QUOCTICH", 3), V("MA_DANTOC", 2), V("MA_NGHE_NGHIEP", 5), V("DIA_CHI", 1024),
    V("MA_THE_BHYT", 50, multi=True, fmt="card_number"), D("GT_THE_DEN", max_length=50, multi=True),
    DT("NGAY_VAO"), DT("NGAY_VAO_NOI_TRU"), DT("NGAY_RA"), V("DAU_HIEU_LS", None, R), V("CHAN_DOAN_RV"),
    V("QT_BENHLY", None, R), V("TOMTAT_KQ"), V("PP_DIEUTRI"), V("MA_BENH_CHINH", 7, fmt="icd10"),
    V("MA_BENH_KT", 100, multi=True, fmt="icd10"), V("MA_BENH_YHCT", 255, multi=True),
    V("TEN_DICH_VU", 1024, R), V("TEN_THUOC", 1024), V("PP_DIEU_TRI"),
    N("MA_LOAI_RV", 1, 0, codes="MA_LOAI_RV"), N("MA_LYDO_CT", 1, 0, R, codes="MA_LYDO_CT"),
    V("HUONG_DIEU_TRI", None, R), V("PHUONGTIEN_VC", 255, R), V("HOTEN_NGUOI_HT", 255),
    V("CHUCDANH_NGUOI_HT", 255), V("MA_BAC_SI", 255, R), V("MA_TTDV", 10, R), DU_PHONG,
), uncertain="JS bundle omits PP_DIEU_TRI; fields copied from XML1/XML2 take their types from there")

XML14 = TableSpec("XML14", "CHI_TIEU_GIAYHEN_KHAMLAI", None, None, title="Bảng 14 - Giấy hẹn khám lại", fields=(
    MA_LK, V("SO_GIAYHEN_KL", 50, R), V("MA_CSKCB", 5, R, fmt="facility"), V("HO_TEN", 255, R),
    DT("NGAY_SINH", fmt="birth"), N("GIOI_TINH", 1, 0, codes="GIOI_TINH"), V("DIA_CHI", 1024),
    V("MA_THE_BHYT", 50, multi=True, fmt="card_number"), D("GT_THE_DEN", max_length=50, multi=True),
    DT("NGAY_VAO"), DT("NGAY_VAO_NOI_TRU"), DT("NGAY_RA"), DT("NGAY_HEN_KL", R), V("CHAN_DOAN_RV"),
    V("MA_BENH_CHINH", 7, fmt="icd10"), V("MA_BENH_KT", 100, multi=True, fmt="icd10"),
    V("MA_BENH_YHCT", 255, multi=True), V("MA_DOITUONG_KCB", 4, codes="MA_DOITUONG_KCB"),
    V("MA_BAC_SI", 255, R), V("MA_TTDV", 10, R), D("NGAY_CT", R), DU_PHONG,
))

XML15 = TableSpec("XML15", "CHI_TIEU_DIEUTRI_BENHLAO", "DSACH_CHITIET_DIEUTRI_BENHLAO", "CHITIET_DIEUTRI_BENHLAO",
                  title="Bảng 15 - Điều trị bệnh lao", fields=(
    MA_LK, STT, V("MA_BN", 100, R), V("HO_TEN", 255, R), V("SO_CCCD", 15, fmt="identity_document"),
    N("PHANLOAI_LAO_VITRI", 1), N("PHANLOAI_LAO_TS", 1), N("PHANLOAI_LAO_HIV", 1), N("PHANLOAI_LAO_VK", 1),
    N("PHANLOAI_LAO_KT", 1), N("LOAI_DTRI_LAO", 1), D("NGAYBD_DTRI_LAO"), V("PHACDO_DTRI_LAO", 255),
    D("NGAYKT_DTRI_LAO"), N("KET_QUA_DTRI_LAO", 1), V("MA_CSKCB", 5, fmt="facility"), D("NGAYKD_HIV"),
    D("BDDT_ARV"), D("NGAY_BAT_DAU_DT_CTX"), DU_PHONG,
), uncertain="field names only (§5.12); types, lengths and required flags guessed")

# Death notice (§7): standalone document sent to /api/hososuckhoe/guiGiayToDienTu, not in GIAMDINHHS.
GIAYBAOTU = TableSpec("GIAYBAOTU", "HSDLGBT", None, "GIAYBAOTU", title="Giấy báo tử (Mẫu 05 TT 25/2025/TT-BYT)",
                      fields=(
    V("MA_GBT", 50), V("MA_BN", 100), V("MA_HSBA", 100), V("HO_TEN", 255, R), DT("NGAY_SINH", R, fmt="birth"),
    N("GIOI_TINH", 1, 0, R, codes="GIOI_TINH"), V("MA_THE", 50, multi=True, fmt="card_number"),
    V("MA_DANTOC", 2), V("MA_QUOCTICH", 3), V("DCHI_THUONGTRU", 1024), V("MATINH_THUONGTRU", 3),
    V("MAHUYEN_THUONGTRU", 3), V("MAXA_THUONGTRU", 5), V("DCHI_HIENTAI", 1024), V("MATINH_HIENTAI", 3),
    V("MAHUYEN_HIENTAI", 3), V("MAXA_HIENTAI", 5), V("LOAI_GIAYTO", 2), V("SO_GIAYTO", 15, fmt="identity_document"),
    D("NGAY_CAP"), V("NOI_CAP", 1024), DT("NGAYGIO_VV"), DT("NGAY_TV", R), V("TINH_TRANG_TV", 1024),
    V("NGUYENNHAN_TV", 1024), V("NGUOI_GHIGIAY", 255), V("NGUOI_THANTHICH", 255), V("TTRUONG_DVI", 255),
    V("SO_BAOTU", 50), V("QUYEN_SO", 50), D("NGAY_CAPGIAYBT"), V("SO_BAOTU_BD", 50), V("QUYEN_SO_BD", 50),
    V("MACSKCB", 5, R, fmt="facility"), V("DIACHI_CSKCB", 1024), V("MA_BHXH", 10),
    V("BENH_ICD10_ID", 100, multi=True, fmt="icd10"), V("BENH_ICD10_TEN", 1024),
), uncertain="field names from a third-party TS generator; every type/length/required flag is a guess")

QD4750 = SpecVersion(
    key="4750",
    title="QĐ 130/QĐ-BYT sửa đổi bởi QĐ 4750/QĐ-BYT",
    # [U] third-party notes: the 4750 set applies from 01/07/2024 (and 3176 from 01/01/2025).
    effective_from=date(2024, 7, 1),
    tables=MappingProxyType({t.name: t for t in (
        XML1, XML2, XML3, XML4, XML5, XML6, XML7, XML8, XML9, XML10, XML11, XML13, XML14, XML15)}),
    documents=MappingProxyType({"GIAYBAOTU": GIAYBAOTU}),
    code_lists=MappingProxyType(CODE_LISTS),
    notes="Field tables from the DH transcription of QĐ 4750 (§0); XML6 fields not extracted.",
)

# --- version registry ------------------------------------------------------------------------------

_REGISTRY: list[SpecVersion] = [QD4750]


class NoSpecForDate(LookupError):
    pass


def register(spec: SpecVersion) -> None:
    """Add a version (e.g. ``QD4750.amend(key="3176", effective_from=date(2025, 1, 1), ...)``)."""
    if any(s.key == spec.key or s.effective_from == spec.effective_from for s in _REGISTRY):
        raise ValueError(f"spec {spec.key} or its effective date is already registered")
    _REGISTRY.append(spec)
    _REGISTRY.sort(key=lambda s: s.effective_from)


def unregister(key: str) -> None:
    _REGISTRY[:] = [s for s in _REGISTRY if s.key != key]


def versions() -> tuple[SpecVersion, ...]:
    return tuple(_REGISTRY)


def spec_for(on: date) -> SpecVersion:
    """The version in force on ``on`` (the latest with ``effective_from <= on``)."""
    current = None
    for s in _REGISTRY:
        if s.effective_from <= on:
            current = s
    if current is None:
        first = _REGISTRY[0]
        raise NoSpecForDate(
            f"không có chuẩn dữ liệu áp dụng cho ngày {on:%d/%m/%Y} "
            f"(chuẩn sớm nhất {first.key} áp dụng từ {first.effective_from:%d/%m/%Y})")
    return current


def latest() -> SpecVersion:
    return _REGISTRY[-1]
