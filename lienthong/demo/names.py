"""Reference data for the synthetic province: names, streets, old-province facts, legacy addresses.

Everything here is plain data (NFC Vietnamese text). Frequencies are approximate shares from
published surname surveys and the 2019 census; they only need to look right in a demo.
"""

from __future__ import annotations

# --- family names ---------------------------------------------------------------------------------
# Approximate national shares (per cent). Hoàng/Huỳnh and Vũ/Võ are the same surnames written
# differently in the north and south; the split is applied per region in :func:`family_weights`.
FAMILY_NAMES_COMMON: list[tuple[str, float]] = [
    ("Nguyễn", 38.0), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.1), ("Hoàng|Huỳnh", 5.0),
    ("Phan", 4.5), ("Vũ|Võ", 3.9), ("Đặng", 2.1), ("Bùi", 2.0), ("Đỗ", 1.4), ("Hồ", 1.3),
    ("Ngô", 1.3), ("Dương", 1.0), ("Lý", 0.5),
]
# The tail (about 11 %), roughly by frequency.
FAMILY_NAMES_TAIL: list[tuple[str, float]] = [
    ("Đinh", 0.9), ("Trịnh", 0.8), ("Lương", 0.7), ("Mai", 0.7), ("Cao", 0.6), ("Đoàn", 0.6),
    ("Lâm", 0.5), ("Hà", 0.5), ("Tạ", 0.4), ("Tô", 0.4), ("Chu", 0.35), ("Lưu", 0.35),
    ("Trương", 0.5), ("Văn", 0.3), ("Thái", 0.3), ("Kiều", 0.25), ("Quách", 0.25),
    ("Triệu", 0.25), ("Châu", 0.25), ("Nông", 0.2), ("Lại", 0.2), ("Khúc", 0.15), ("Vương", 0.2),
    ("Phùng", 0.25), ("Tăng", 0.15), ("Thân", 0.15), ("Lục", 0.1), ("Âu", 0.1), ("Giang", 0.15),
    ("Hứa", 0.15), ("La", 0.1), ("Mạc", 0.1), ("Bạch", 0.1), ("Từ", 0.1), ("Doãn", 0.1),
    ("Tống", 0.1), ("Khổng", 0.05), ("Diệp", 0.1), ("Kim", 0.05), ("Ninh", 0.05), ("Lã", 0.05),
]

# --- middle names ---------------------------------------------------------------------------------
# Traditional middle names dominate among older people; younger people more often carry a
# "meaningful" middle name, sometimes two, and occasionally none.
MALE_MIDDLE_TRADITIONAL: list[tuple[str, float]] = [
    ("Văn", 45), ("Đức", 8), ("Minh", 7), ("Quốc", 5), ("Hữu", 6), ("Thành", 4), ("Công", 5),
    ("Quang", 5), ("Xuân", 4), ("Đình", 5), ("Ngọc", 3), ("Trọng", 3), ("Mạnh", 2), ("Thanh", 3),
    ("Tiến", 2), ("Duy", 2), ("Viết", 1), ("Bá", 1), ("Kim", 1),
]
MALE_MIDDLE_MODERN: list[tuple[str, float]] = [
    ("Văn", 12), ("Minh", 14), ("Đức", 9), ("Gia", 9), ("Quốc", 7), ("Hoàng", 7), ("Anh", 6),
    ("Tuấn", 5), ("Bảo", 6), ("Hữu", 4), ("Thành", 4), ("Đăng", 4), ("Trung", 3), ("Duy", 4),
    ("Nhật", 4), ("Tiến", 2), ("Khánh", 3), ("Việt", 3), ("Hải", 3), ("Thanh", 3), ("Quang", 4),
]
FEMALE_MIDDLE_TRADITIONAL: list[tuple[str, float]] = [
    ("Thị", 62), ("Thu", 6), ("Ngọc", 5), ("Thanh", 5), ("Hồng", 4), ("Phương", 3), ("Kim", 3),
    ("Minh", 2), ("Bích", 2), ("Thúy", 2), ("Xuân", 2), ("Mai", 1), ("Hải", 1), ("Diệu", 1),
    ("Tuyết", 1),
]
FEMALE_MIDDLE_MODERN: list[tuple[str, float]] = [
    ("Thị", 18), ("Ngọc", 11), ("Thu", 7), ("Phương", 7), ("Thanh", 6), ("Minh", 6), ("Bảo", 6),
    ("Khánh", 6), ("Hồng", 4), ("Thùy", 5), ("Quỳnh", 4), ("Hoài", 3), ("Mai", 3), ("Diệu", 3),
    ("Hà", 3), ("Tường", 2), ("Gia", 3), ("Yến", 2), ("Cẩm", 2), ("Hải", 2),
]
# A second middle name placed before the given name (e.g. "Nguyễn Ngọc Bảo Anh").
MALE_SECOND_MIDDLE = ["Minh", "Gia", "Bảo", "Đăng", "Hoàng", "Anh", "Nhật", "Quang", "Khánh", "Đức"]
FEMALE_SECOND_MIDDLE = ["Bảo", "Khánh", "Minh", "Ngọc", "Phương", "Gia", "Tuệ", "Hà", "Thảo", "Diệu"]

# --- given names ----------------------------------------------------------------------------------
MALE_GIVEN_OLD: list[tuple[str, float]] = [
    ("Hùng", 6), ("Dũng", 6), ("Tuấn", 5), ("Hải", 5), ("Thắng", 5), ("Long", 4), ("Sơn", 5),
    ("Hòa", 3), ("Bình", 4), ("Minh", 5), ("Cường", 4), ("Thành", 4), ("Quang", 3), ("Nam", 4),
    ("Trung", 4), ("Phúc", 2), ("Tâm", 2), ("Hưng", 4), ("Lâm", 2), ("Chiến", 2), ("Thuận", 2),
    ("Tùng", 3), ("Thịnh", 2), ("Hiếu", 2), ("Toàn", 2), ("Thanh", 2), ("Hoàng", 2), ("Lợi", 1),
    ("Vinh", 2), ("Phong", 2), ("Khánh", 2), ("Đông", 1), ("Tiến", 2), ("Quý", 1), ("Lực", 1),
    ("Mạnh", 2), ("Định", 1), ("Hậu", 1), ("Tài", 1), ("Đạt", 2), ("Tuyến", 1), ("Thọ", 1),
]
MALE_GIVEN_YOUNG: list[tuple[str, float]] = [
    ("Khang", 5), ("Khôi", 5), ("Phúc", 5), ("Bảo", 4), ("Minh", 6), ("Huy", 6), ("Khoa", 4),
    ("Nam", 4), ("An", 5), ("Quân", 5), ("Đăng", 3), ("Lâm", 4), ("Hiếu", 3), ("Kiên", 3),
    ("Duy", 4), ("Đức", 4), ("Vinh", 2), ("Phong", 3), ("Long", 4), ("Hoàng", 3), ("Tuấn", 4),
    ("Đạt", 4), ("Thịnh", 2), ("Nguyên", 3), ("Tùng", 2), ("Sơn", 2), ("Trí", 2), ("Vũ", 2),
    ("Hưng", 3), ("Kiệt", 2), ("Nhật", 2), ("Thành", 2), ("Việt", 2), ("Dương", 2), ("Hải", 2),
]
FEMALE_GIVEN_OLD: list[tuple[str, float]] = [
    ("Lan", 5), ("Hoa", 5), ("Hương", 6), ("Hà", 5), ("Mai", 5), ("Hạnh", 4), ("Hằng", 5),
    ("Thủy", 5), ("Nga", 4), ("Liên", 3), ("Loan", 3), ("Nhung", 3), ("Yến", 3), ("Dung", 4),
    ("Tuyết", 2), ("Xuân", 2), ("Phượng", 3), ("Huệ", 3), ("Thảo", 3), ("Lý", 2), ("Oanh", 2),
    ("Vân", 3), ("Thu", 2), ("Hiền", 4), ("Tâm", 2), ("Bình", 2), ("Nguyệt", 2), ("Thanh", 3),
    ("Chi", 1), ("Lệ", 1), ("Sen", 1), ("Cúc", 1), ("Đào", 1), ("Thơm", 1), ("Hồng", 2),
    ("Minh", 1), ("Quyên", 1), ("Trinh", 1), ("Ánh", 2), ("Diệu", 1),
]
FEMALE_GIVEN_YOUNG: list[tuple[str, float]] = [
    ("Anh", 7), ("Linh", 7), ("Trang", 5), ("Ngọc", 4), ("Vy", 4), ("Nhi", 5), ("Hân", 4),
    ("Như", 3), ("Thư", 4), ("My", 3), ("Ngân", 3), ("Quỳnh", 3), ("Trâm", 2), ("Châu", 2),
    ("Diệp", 2), ("An", 4), ("Hà", 3), ("Phương", 3), ("Thảo", 4), ("Huyền", 3), ("Uyên", 3),
    ("Giang", 3), ("Mai", 2), ("Hương", 2), ("Hiền", 2), ("Yến", 2), ("Trà", 2), ("Lan", 1),
    ("Vân", 2), ("Tú", 1), ("Nhung", 1), ("Thùy", 1), ("Khuê", 1), ("Hằng", 2), ("Nga", 1),
]

# --- ethnicity (share of non-Kinh residents by region; names stay Kinh-style in the demo) ---------
ETHNIC_MINORITIES: dict[str, list[tuple[str, float]]] = {
    "north": [("Mường", 0.5), ("Tày", 0.3), ("Thái", 0.2), ("Dao", 0.1), ("Nùng", 0.2), ("Hoa", 0.05)],
    "central": [("Thái", 0.3), ("Mường", 0.3), ("Ê Đê", 0.2), ("Gia Rai", 0.2), ("Chăm", 0.1), ("Hoa", 0.05)],
    "south": [("Hoa", 0.6), ("Khmer", 0.6), ("Chăm", 0.1), ("Xtiêng", 0.05), ("Tày", 0.05)],
}

# --- old 63 provinces -----------------------------------------------------------------------------
# Approximate population (thousands, 2019 census), used to weight birth-registration provinces.
OLD_PROVINCE_POPULATION: dict[str, int] = {
    "001": 8054, "002": 854, "004": 530, "006": 314, "008": 784, "010": 730, "011": 599, "012": 460,
    "014": 1248, "015": 821, "017": 854, "019": 1286, "020": 782, "022": 1320, "024": 1803,
    "025": 1463, "026": 1151, "027": 1368, "030": 1892, "031": 2028, "033": 1252, "034": 1861,
    "035": 852, "036": 1780, "037": 982, "038": 3640, "040": 3327, "042": 1289, "044": 896,
    "045": 633, "046": 1128, "048": 1134, "049": 1495, "051": 1231, "052": 1487, "054": 872,
    "056": 1232, "058": 590, "060": 1230, "062": 540, "064": 1513, "066": 1869, "067": 622,
    "068": 1296, "070": 994, "072": 1169, "074": 2426, "075": 3097, "077": 1148, "079": 8993,
    "080": 1688, "082": 1764, "083": 1288, "084": 1009, "086": 1022, "087": 1599, "089": 1908,
    "091": 1723, "092": 1235, "093": 733, "094": 1199, "095": 907, "096": 1194,
}
# Centrally-run cities before 2025 ("thành phố"); every other old unit was a "tỉnh".
OLD_CITIES = {"001", "031", "048", "079", "092"}

# Prefix of 9-digit CMND numbers allocated to each provincial police force (the rest of the
# number is a serial). Neighbouring provinces sometimes shared a prefix range.
CMND_PREFIX: dict[str, str] = {
    "001": "01", "079": "02", "031": "03", "011": "04", "012": "04", "014": "05", "010": "06",
    "015": "06", "002": "07", "008": "07", "020": "08", "004": "08", "019": "09", "006": "09",
    "022": "10", "024": "12", "027": "12", "025": "13", "026": "13", "017": "11", "030": "14",
    "033": "14", "034": "15", "036": "16", "035": "16", "037": "16", "038": "17", "040": "18",
    "042": "18", "044": "19", "045": "19", "046": "19", "048": "20", "049": "20", "051": "21",
    "052": "21", "056": "22", "054": "22", "064": "23", "062": "23", "066": "24", "067": "24",
    "068": "25", "058": "26", "060": "26", "075": "27", "077": "27", "074": "280", "070": "285",
    "072": "29", "080": "30", "082": "31", "083": "32", "086": "33", "084": "33", "087": "34",
    "089": "35", "092": "36", "093": "36", "094": "36", "091": "37", "096": "38", "095": "38",
}


def old_province_formal(code: str) -> str:
    """Formal name of an old (63-set) province: "thành phố Hà Nội", "tỉnh Nam Định"."""
    from lienthong.geo.units import OLD_PROVINCES

    if code == "079":
        return "Thành phố Hồ Chí Minh"
    name = OLD_PROVINCES[code]
    return f"thành phố {name}" if code in OLD_CITIES else f"tỉnh {name}"


# --- streets --------------------------------------------------------------------------------------
# Streets named after historical figures and events, found in most cities.
STREETS_COMMON = [
    "Trần Hưng Đạo", "Lê Lợi", "Nguyễn Trãi", "Lý Thường Kiệt", "Hai Bà Trưng", "Quang Trung",
    "Lê Duẩn", "Nguyễn Huệ", "Phan Đình Phùng", "Điện Biên Phủ", "Hoàng Hoa Thám", "Trần Phú",
    "Nguyễn Du", "Bà Triệu", "Lê Thánh Tông", "Nguyễn Văn Cừ", "Võ Thị Sáu", "Hùng Vương",
    "Lạc Long Quân", "Âu Cơ", "Nguyễn Chí Thanh", "Tôn Đức Thắng", "Phạm Văn Đồng", "Lê Hồng Phong",
    "Ngô Quyền", "Lý Thái Tổ", "Trần Quang Khải", "Phan Chu Trinh", "Phan Bội Châu", "Nguyễn Thái Học",
    "Chu Văn An", "Lê Quý Đôn", "Nguyễn Khuyến", "Hoàng Văn Thụ", "Cách Mạng Tháng Tám", "Trường Chinh",
    "Võ Nguyên Giáp", "Nguyễn Lương Bằng", "Tô Hiến Thành", "Yết Kiêu", "Lê Văn Hưu", "Trần Nhân Tông",
]
STREETS_BY_OLD_PROVINCE: dict[str, list[str]] = {
    "001": [
        "Hàng Bông", "Hàng Gai", "Hàng Bạc", "Đội Cấn", "Kim Mã", "Giảng Võ", "Láng Hạ", "Xã Đàn",
        "Tây Sơn", "Thái Hà", "Chùa Bộc", "Bạch Mai", "Minh Khai", "Kim Ngưu", "Lò Đúc", "Giải Phóng",
        "Trương Định", "Tam Trinh", "Lĩnh Nam", "Nguyễn Tuân", "Khương Trung", "Xuân Thủy", "Cầu Giấy",
        "Hoàng Quốc Việt", "Trần Duy Hưng", "Mỹ Đình", "Hồ Tùng Mậu", "Phạm Hùng", "Thụy Khuê",
        "Lạc Trung", "Ngọc Lâm", "Nguyễn Văn Linh", "Quang Trung", "Tô Hiệu", "Ngô Thì Nhậm",
        "Phùng Hưng", "Chùa Láng", "Vĩnh Hưng", "Định Công", "Tân Mai",
    ],
    "079": [
        "Nguyễn Thị Minh Khai", "Cách Mạng Tháng Tám", "Lê Văn Sỹ", "Nam Kỳ Khởi Nghĩa", "Pasteur",
        "Võ Văn Tần", "Nguyễn Đình Chiểu", "Xô Viết Nghệ Tĩnh", "Phan Xích Long", "Bạch Đằng",
        "Nơ Trang Long", "Quang Trung", "Lê Đức Thọ", "Phan Văn Trị", "Cộng Hòa", "Hoàng Văn Thụ",
        "Trường Chinh", "Âu Cơ", "Lũy Bán Bích", "Tân Kỳ Tân Quý", "Kinh Dương Vương", "Hậu Giang",
        "Nguyễn Văn Linh", "Huỳnh Tấn Phát", "Kha Vạn Cân", "Võ Văn Ngân", "Đỗ Xuân Hợp",
        "Nguyễn Duy Trinh", "Tỉnh lộ 10", "Quốc lộ 22",
    ],
    "074": ["Đại lộ Bình Dương", "Yersin", "Phú Lợi", "Lê Hồng Phong", "Nguyễn Văn Tiết", "Cách Mạng Tháng Tám", "Mỹ Phước Tân Vạn"],
    "077": ["Thùy Vân", "Hạ Long", "Lê Hồng Phong", "Nguyễn An Ninh", "Bình Giã", "30 Tháng 4", "Cách Mạng Tháng Tám"],
}
# Northern cities say "phố" and "ngõ/ngách"; the south says "đường" and "hẻm".
SOUTHERN_OLD_PROVINCES = {
    "070", "072", "074", "075", "077", "079", "080", "082", "083", "084", "086", "087", "089",
    "091", "092", "093", "094", "095", "096", "058", "060", "068", "067",
}
VILLAGE_WORDS_NORTH = ["Thôn", "Xóm"]
VILLAGE_NAMES_NORTH = [
    "Đông", "Đoài", "Thượng", "Hạ", "Trung", "Bắc", "Nam", "Tiền", "Hậu", "Đình", "Chùa", "Cầu",
    "Yên Lạc", "Phú Mỹ", "An Thái", "Bình Minh", "Tân Lập", "Đồng Tâm", "Hòa Bình", "Văn Minh",
]

# --- pre-reform (3-level) addresses ---------------------------------------------------------------
# Old districts and some of their communes, for the old provinces of the default demo provinces
# (Hà Nội; TP Hồ Chí Minh with Bình Dương and Bà Rịa - Vũng Tàu). Entries are "Unit Name".
LEGACY_DISTRICTS: dict[str, dict[str, list[str]]] = {
    "001": {
        "Quận Ba Đình": ["Phường Phúc Xá", "Phường Trúc Bạch", "Phường Vĩnh Phúc", "Phường Cống Vị", "Phường Liễu Giai", "Phường Quán Thánh", "Phường Ngọc Hà", "Phường Điện Biên", "Phường Đội Cấn", "Phường Ngọc Khánh", "Phường Kim Mã", "Phường Giảng Võ", "Phường Thành Công"],
        "Quận Hoàn Kiếm": ["Phường Phúc Tân", "Phường Đồng Xuân", "Phường Hàng Mã", "Phường Hàng Buồm", "Phường Hàng Đào", "Phường Hàng Bồ", "Phường Cửa Đông", "Phường Lý Thái Tổ", "Phường Hàng Bạc", "Phường Hàng Gai", "Phường Chương Dương", "Phường Hàng Trống", "Phường Cửa Nam", "Phường Hàng Bông", "Phường Tràng Tiền", "Phường Trần Hưng Đạo", "Phường Phan Chu Trinh", "Phường Hàng Bài"],
        "Quận Tây Hồ": ["Phường Phú Thượng", "Phường Nhật Tân", "Phường Tứ Liên", "Phường Quảng An", "Phường Xuân La", "Phường Yên Phụ", "Phường Bưởi", "Phường Thụy Khuê"],
        "Quận Long Biên": ["Phường Thượng Thanh", "Phường Ngọc Thụy", "Phường Giang Biên", "Phường Đức Giang", "Phường Việt Hưng", "Phường Gia Thụy", "Phường Ngọc Lâm", "Phường Phúc Lợi", "Phường Bồ Đề", "Phường Long Biên", "Phường Thạch Bàn", "Phường Phúc Đồng", "Phường Cự Khối"],
        "Quận Cầu Giấy": ["Phường Nghĩa Đô", "Phường Nghĩa Tân", "Phường Mai Dịch", "Phường Dịch Vọng", "Phường Dịch Vọng Hậu", "Phường Quan Hoa", "Phường Yên Hòa", "Phường Trung Hòa"],
        "Quận Đống Đa": ["Phường Cát Linh", "Phường Văn Miếu", "Phường Quốc Tử Giám", "Phường Láng Thượng", "Phường Ô Chợ Dừa", "Phường Văn Chương", "Phường Hàng Bột", "Phường Láng Hạ", "Phường Khâm Thiên", "Phường Thổ Quan", "Phường Nam Đồng", "Phường Trung Phụng", "Phường Quang Trung", "Phường Trung Liệt", "Phường Phương Liên", "Phường Thịnh Quang", "Phường Trung Tự", "Phường Kim Liên", "Phường Phương Mai", "Phường Ngã Tư Sở", "Phường Khương Thượng"],
        "Quận Hai Bà Trưng": ["Phường Nguyễn Du", "Phường Bạch Đằng", "Phường Phạm Đình Hổ", "Phường Lê Đại Hành", "Phường Đồng Nhân", "Phường Phố Huế", "Phường Đống Mác", "Phường Thanh Lương", "Phường Thanh Nhàn", "Phường Cầu Dền", "Phường Bách Khoa", "Phường Đồng Tâm", "Phường Vĩnh Tuy", "Phường Bạch Mai", "Phường Quỳnh Mai", "Phường Quỳnh Lôi", "Phường Minh Khai", "Phường Trương Định"],
        "Quận Hoàng Mai": ["Phường Thanh Trì", "Phường Vĩnh Hưng", "Phường Định Công", "Phường Mai Động", "Phường Tương Mai", "Phường Đại Kim", "Phường Tân Mai", "Phường Hoàng Văn Thụ", "Phường Giáp Bát", "Phường Lĩnh Nam", "Phường Thịnh Liệt", "Phường Trần Phú", "Phường Hoàng Liệt", "Phường Yên Sở"],
        "Quận Thanh Xuân": ["Phường Nhân Chính", "Phường Thượng Đình", "Phường Khương Trung", "Phường Khương Mai", "Phường Thanh Xuân Trung", "Phường Phương Liệt", "Phường Hạ Đình", "Phường Khương Đình", "Phường Thanh Xuân Bắc", "Phường Thanh Xuân Nam", "Phường Kim Giang"],
        "Quận Hà Đông": ["Phường Nguyễn Trãi", "Phường Mộ Lao", "Phường Văn Quán", "Phường Vạn Phúc", "Phường Yết Kiêu", "Phường Quang Trung", "Phường La Khê", "Phường Phú La", "Phường Phúc La", "Phường Hà Cầu", "Phường Yên Nghĩa", "Phường Kiến Hưng", "Phường Phú Lãm", "Phường Phú Lương", "Phường Dương Nội", "Phường Đồng Mai", "Phường Biên Giang"],
        "Quận Nam Từ Liêm": ["Phường Cầu Diễn", "Phường Xuân Phương", "Phường Phương Canh", "Phường Mỹ Đình 1", "Phường Mỹ Đình 2", "Phường Tây Mỗ", "Phường Mễ Trì", "Phường Phú Đô", "Phường Đại Mỗ", "Phường Trung Văn"],
        "Quận Bắc Từ Liêm": ["Phường Thượng Cát", "Phường Liên Mạc", "Phường Đông Ngạc", "Phường Đức Thắng", "Phường Thụy Phương", "Phường Tây Tựu", "Phường Xuân Đỉnh", "Phường Xuân Tảo", "Phường Minh Khai", "Phường Cổ Nhuế 1", "Phường Cổ Nhuế 2", "Phường Phúc Diễn", "Phường Phú Diễn"],
        "Thị xã Sơn Tây": ["Phường Lê Lợi", "Phường Phú Thịnh", "Phường Ngô Quyền", "Phường Quang Trung", "Phường Sơn Lộc", "Phường Xuân Khanh", "Phường Trung Hưng", "Phường Viên Sơn", "Phường Trung Sơn Trầm", "Xã Đường Lâm", "Xã Thanh Mỹ", "Xã Xuân Sơn", "Xã Kim Sơn", "Xã Sơn Đông", "Xã Cổ Đông"],
        "Huyện Sóc Sơn": ["Thị trấn Sóc Sơn", "Xã Bắc Sơn", "Xã Minh Trí", "Xã Hồng Kỳ", "Xã Nam Sơn", "Xã Trung Giã", "Xã Tân Hưng", "Xã Minh Phú", "Xã Phù Linh", "Xã Bắc Phú", "Xã Tân Minh", "Xã Quang Tiến", "Xã Hiền Ninh", "Xã Tân Dân", "Xã Tiên Dược", "Xã Việt Long", "Xã Xuân Giang", "Xã Mai Đình", "Xã Đức Hòa", "Xã Thanh Xuân", "Xã Đông Xuân", "Xã Kim Lũ", "Xã Phú Cường", "Xã Phú Minh", "Xã Phù Lỗ", "Xã Xuân Thu"],
        "Huyện Đông Anh": ["Thị trấn Đông Anh", "Xã Xuân Nộn", "Xã Thụy Lâm", "Xã Bắc Hồng", "Xã Nguyên Khê", "Xã Nam Hồng", "Xã Tiên Dương", "Xã Vân Hà", "Xã Uy Nỗ", "Xã Vân Nội", "Xã Liên Hà", "Xã Việt Hùng", "Xã Kim Nỗ", "Xã Kim Chung", "Xã Dục Tú", "Xã Đại Mạch", "Xã Vĩnh Ngọc", "Xã Cổ Loa", "Xã Hải Bối", "Xã Xuân Canh", "Xã Võng La", "Xã Tầm Xá", "Xã Mai Lâm", "Xã Đông Hội"],
        "Huyện Gia Lâm": ["Thị trấn Yên Viên", "Thị trấn Trâu Quỳ", "Xã Yên Thường", "Xã Yên Viên", "Xã Ninh Hiệp", "Xã Đình Xuyên", "Xã Dương Hà", "Xã Phù Đổng", "Xã Trung Mầu", "Xã Lệ Chi", "Xã Cổ Bi", "Xã Đặng Xá", "Xã Phú Thị", "Xã Kim Sơn", "Xã Dương Quang", "Xã Dương Xá", "Xã Đông Dư", "Xã Đa Tốn", "Xã Kiêu Kỵ", "Xã Bát Tràng", "Xã Kim Lan", "Xã Văn Đức"],
        "Huyện Thanh Trì": ["Thị trấn Văn Điển", "Xã Tân Triều", "Xã Thanh Liệt", "Xã Tả Thanh Oai", "Xã Hữu Hòa", "Xã Tam Hiệp", "Xã Yên Mỹ", "Xã Vĩnh Quỳnh", "Xã Ngũ Hiệp", "Xã Duyên Hà", "Xã Ngọc Hồi", "Xã Vạn Phúc", "Xã Đại Áng", "Xã Liên Ninh", "Xã Đông Mỹ"],
        "Huyện Mê Linh": ["Thị trấn Quang Minh", "Thị trấn Chi Đông", "Xã Đại Thịnh", "Xã Kim Hoa", "Xã Thạch Đà", "Xã Tiến Thắng", "Xã Tự Lập", "Xã Thanh Lâm", "Xã Tam Đồng", "Xã Liên Mạc", "Xã Vạn Yên", "Xã Chu Phan", "Xã Tiến Thịnh", "Xã Mê Linh", "Xã Văn Khê", "Xã Hoàng Kim", "Xã Tiền Phong", "Xã Tráng Việt"],
        "Huyện Ba Vì": ["Thị trấn Tây Đằng", "Xã Phú Cường", "Xã Cổ Đô", "Xã Tản Hồng", "Xã Vạn Thắng", "Xã Châu Sơn", "Xã Phong Vân", "Xã Phú Đông", "Xã Phú Phương", "Xã Phú Châu", "Xã Thái Hòa", "Xã Đồng Thái", "Xã Phú Sơn", "Xã Minh Châu", "Xã Vật Lại", "Xã Chu Minh", "Xã Tòng Bạt", "Xã Cẩm Lĩnh", "Xã Sơn Đà", "Xã Đông Quang", "Xã Tiên Phong", "Xã Thụy An", "Xã Cam Thượng", "Xã Thuần Mỹ", "Xã Tản Lĩnh", "Xã Ba Trại", "Xã Minh Quang", "Xã Ba Vì", "Xã Vân Hòa", "Xã Yên Bài", "Xã Khánh Thượng"],
        "Huyện Phúc Thọ": ["Thị trấn Phúc Thọ", "Xã Vân Phúc", "Xã Vân Nam", "Xã Xuân Đình", "Xã Sen Phương", "Xã Võng Xuyên", "Xã Thọ Lộc", "Xã Long Xuyên", "Xã Thượng Cốc", "Xã Hát Môn", "Xã Tích Giang", "Xã Thanh Đa", "Xã Trạch Mỹ Lộc", "Xã Phúc Hòa", "Xã Ngọc Tảo", "Xã Phụng Thượng", "Xã Tam Thuấn", "Xã Tam Hiệp", "Xã Hiệp Thuận", "Xã Liên Hiệp"],
        "Huyện Đan Phượng": ["Thị trấn Phùng", "Xã Trung Châu", "Xã Thọ An", "Xã Thọ Xuân", "Xã Hồng Hà", "Xã Liên Hồng", "Xã Liên Hà", "Xã Hạ Mỗ", "Xã Liên Trung", "Xã Phương Đình", "Xã Thượng Mỗ", "Xã Tân Hội", "Xã Tân Lập", "Xã Đan Phượng", "Xã Đồng Tháp", "Xã Song Phượng"],
        "Huyện Hoài Đức": ["Thị trấn Trạm Trôi", "Xã Đức Thượng", "Xã Minh Khai", "Xã Dương Liễu", "Xã Di Trạch", "Xã Đức Giang", "Xã Cát Quế", "Xã Kim Chung", "Xã Yên Sở", "Xã Sơn Đồng", "Xã Vân Canh", "Xã Đắc Sở", "Xã Lại Yên", "Xã Tiền Yên", "Xã Song Phương", "Xã An Khánh", "Xã An Thượng", "Xã Vân Côn", "Xã La Phù", "Xã Đông La"],
        "Huyện Quốc Oai": ["Thị trấn Quốc Oai", "Xã Sài Sơn", "Xã Phượng Cách", "Xã Yên Sơn", "Xã Ngọc Liệp", "Xã Ngọc Mỹ", "Xã Liệp Tuyết", "Xã Thạch Thán", "Xã Đồng Quang", "Xã Phú Cát", "Xã Tuyết Nghĩa", "Xã Nghĩa Hương", "Xã Cộng Hòa", "Xã Tân Phú", "Xã Đại Thành", "Xã Phú Mãn", "Xã Cấn Hữu", "Xã Tân Hòa", "Xã Hòa Thạch", "Xã Đông Yên", "Xã Đông Xuân"],
        "Huyện Thạch Thất": ["Thị trấn Liên Quan", "Xã Đại Đồng", "Xã Cẩm Yên", "Xã Lại Thượng", "Xã Phú Kim", "Xã Hương Ngải", "Xã Canh Nậu", "Xã Kim Quan", "Xã Dị Nậu", "Xã Bình Yên", "Xã Chàng Sơn", "Xã Thạch Hòa", "Xã Cần Kiệm", "Xã Hữu Bằng", "Xã Phùng Xá", "Xã Tân Xã", "Xã Thạch Xá", "Xã Bình Phú", "Xã Hạ Bằng", "Xã Đồng Trúc", "Xã Yên Bình", "Xã Yên Trung", "Xã Tiến Xuân"],
        "Huyện Chương Mỹ": ["Thị trấn Chúc Sơn", "Thị trấn Xuân Mai", "Xã Phụng Châu", "Xã Tiên Phương", "Xã Đông Sơn", "Xã Phú Nghĩa", "Xã Trường Yên", "Xã Ngọc Hòa", "Xã Thủy Xuân Tiên", "Xã Thanh Bình", "Xã Trung Hòa", "Xã Đại Yên", "Xã Thụy Hương", "Xã Tốt Động", "Xã Lam Điền", "Xã Tân Tiến", "Xã Nam Phương Tiến", "Xã Hợp Đồng", "Xã Hoàng Văn Thụ", "Xã Hoàng Diệu", "Xã Hữu Văn", "Xã Quảng Bị", "Xã Mỹ Lương", "Xã Thượng Vực", "Xã Hồng Phong", "Xã Đồng Phú", "Xã Trần Phú", "Xã Văn Võ", "Xã Đồng Lạc", "Xã Hòa Chính", "Xã Phú Nam An"],
        "Huyện Thanh Oai": ["Thị trấn Kim Bài", "Xã Cự Khê", "Xã Bích Hòa", "Xã Mỹ Hưng", "Xã Cao Viên", "Xã Bình Minh", "Xã Tam Hưng", "Xã Thanh Cao", "Xã Thanh Thùy", "Xã Thanh Mai", "Xã Thanh Văn", "Xã Đỗ Động", "Xã Kim An", "Xã Kim Thư", "Xã Phương Trung", "Xã Tân Ước", "Xã Dân Hòa", "Xã Liên Châu", "Xã Cao Dương", "Xã Xuân Dương", "Xã Hồng Dương"],
        "Huyện Thường Tín": ["Thị trấn Thường Tín", "Xã Ninh Sở", "Xã Nhị Khê", "Xã Duyên Thái", "Xã Khánh Hà", "Xã Hòa Bình", "Xã Văn Bình", "Xã Hiền Giang", "Xã Hồng Vân", "Xã Vân Tảo", "Xã Liên Phương", "Xã Văn Phú", "Xã Tự Nhiên", "Xã Tiền Phong", "Xã Hà Hồi", "Xã Thư Phú", "Xã Nguyễn Trãi", "Xã Quất Động", "Xã Chương Dương", "Xã Tân Minh", "Xã Lê Lợi", "Xã Thắng Lợi", "Xã Dũng Tiến", "Xã Thống Nhất", "Xã Nghiêm Xuyên", "Xã Tô Hiệu", "Xã Văn Tự", "Xã Vạn Điểm", "Xã Minh Cường"],
        "Huyện Phú Xuyên": ["Thị trấn Phú Minh", "Thị trấn Phú Xuyên", "Xã Hồng Minh", "Xã Phượng Dực", "Xã Nam Tiến", "Xã Tri Trung", "Xã Đại Thắng", "Xã Phú Túc", "Xã Văn Hoàng", "Xã Hồng Thái", "Xã Hoàng Long", "Xã Quang Trung", "Xã Nam Phong", "Xã Nam Triều", "Xã Tân Dân", "Xã Sơn Hà", "Xã Chuyên Mỹ", "Xã Khai Thái", "Xã Phúc Tiến", "Xã Vân Từ", "Xã Tri Thủy", "Xã Đại Xuyên", "Xã Phú Yên", "Xã Bạch Hạ", "Xã Quang Lãng", "Xã Châu Can", "Xã Minh Tân"],
        "Huyện Ứng Hòa": ["Thị trấn Vân Đình", "Xã Viên An", "Xã Viên Nội", "Xã Hoa Sơn", "Xã Quảng Phú Cầu", "Xã Trường Thịnh", "Xã Cao Thành", "Xã Liên Bạt", "Xã Sơn Công", "Xã Đồng Tiến", "Xã Phương Tú", "Xã Trung Tú", "Xã Đồng Tân", "Xã Tảo Dương Văn", "Xã Vạn Thái", "Xã Minh Đức", "Xã Hòa Lâm", "Xã Hòa Xá", "Xã Trầm Lộng", "Xã Kim Đường", "Xã Hòa Nam", "Xã Hòa Phú", "Xã Đội Bình", "Xã Đại Hùng", "Xã Đông Lỗ", "Xã Phù Lưu", "Xã Đại Cường", "Xã Lưu Hoàng", "Xã Hồng Quang"],
        "Huyện Mỹ Đức": ["Thị trấn Đại Nghĩa", "Xã Đồng Tâm", "Xã Thượng Lâm", "Xã Tuy Lai", "Xã Phúc Lâm", "Xã Mỹ Thành", "Xã Bột Xuyên", "Xã An Mỹ", "Xã Hồng Sơn", "Xã Lê Thanh", "Xã Xuy Xá", "Xã Phùng Xá", "Xã Phù Lưu Tế", "Xã Đại Hưng", "Xã Vạn Kim", "Xã Đốc Tín", "Xã Hương Sơn", "Xã Hùng Tiến", "Xã An Tiến", "Xã Hợp Tiến", "Xã Hợp Thanh", "Xã An Phú"],
    },
    "079": {
        "Quận 1": ["Phường Bến Nghé", "Phường Bến Thành", "Phường Cầu Kho", "Phường Cầu Ông Lãnh", "Phường Cô Giang", "Phường Đa Kao", "Phường Nguyễn Cư Trinh", "Phường Nguyễn Thái Bình", "Phường Phạm Ngũ Lão", "Phường Tân Định"],
        "Quận 3": ["Phường Võ Thị Sáu", "Phường 1", "Phường 2", "Phường 3", "Phường 4", "Phường 5", "Phường 9", "Phường 11", "Phường 12", "Phường 14"],
        "Quận 4": ["Phường 1", "Phường 2", "Phường 3", "Phường 4", "Phường 6", "Phường 8", "Phường 9", "Phường 13", "Phường 15", "Phường 16", "Phường 18"],
        "Quận 7": ["Phường Tân Thuận Đông", "Phường Tân Thuận Tây", "Phường Tân Kiểng", "Phường Tân Hưng", "Phường Bình Thuận", "Phường Tân Quy", "Phường Phú Thuận", "Phường Tân Phú", "Phường Tân Phong", "Phường Phú Mỹ"],
        "Quận Bình Thạnh": ["Phường 1", "Phường 2", "Phường 3", "Phường 5", "Phường 7", "Phường 11", "Phường 12", "Phường 13", "Phường 14", "Phường 15", "Phường 17", "Phường 19", "Phường 22", "Phường 25", "Phường 26", "Phường 27", "Phường 28"],
        "Quận Gò Vấp": ["Phường 1", "Phường 3", "Phường 4", "Phường 5", "Phường 6", "Phường 7", "Phường 8", "Phường 10", "Phường 11", "Phường 12", "Phường 14", "Phường 15", "Phường 16", "Phường 17"],
        "Quận Phú Nhuận": ["Phường 1", "Phường 2", "Phường 4", "Phường 5", "Phường 7", "Phường 8", "Phường 9", "Phường 10", "Phường 11", "Phường 13", "Phường 15"],
        "Quận Tân Bình": ["Phường 1", "Phường 2", "Phường 3", "Phường 4", "Phường 5", "Phường 6", "Phường 7", "Phường 8", "Phường 9", "Phường 10", "Phường 11", "Phường 12", "Phường 13", "Phường 14", "Phường 15"],
        "Quận Tân Phú": ["Phường Tân Sơn Nhì", "Phường Tây Thạnh", "Phường Sơn Kỳ", "Phường Tân Quý", "Phường Tân Thành", "Phường Phú Thọ Hòa", "Phường Phú Thạnh", "Phường Phú Trung", "Phường Hòa Thạnh", "Phường Hiệp Tân", "Phường Tân Thới Hòa"],
        "Quận Bình Tân": ["Phường Bình Hưng Hòa", "Phường Bình Hưng Hòa A", "Phường Bình Hưng Hòa B", "Phường Bình Trị Đông", "Phường Bình Trị Đông A", "Phường Bình Trị Đông B", "Phường Tân Tạo", "Phường Tân Tạo A", "Phường An Lạc", "Phường An Lạc A"],
        "Quận 12": ["Phường Thạnh Xuân", "Phường Thạnh Lộc", "Phường Hiệp Thành", "Phường Thới An", "Phường Tân Chánh Hiệp", "Phường An Phú Đông", "Phường Tân Thới Hiệp", "Phường Trung Mỹ Tây", "Phường Tân Hưng Thuận", "Phường Đông Hưng Thuận", "Phường Tân Thới Nhất"],
        "Thành phố Thủ Đức": ["Phường Linh Xuân", "Phường Linh Trung", "Phường Linh Chiểu", "Phường Hiệp Bình Chánh", "Phường Hiệp Bình Phước", "Phường Tam Bình", "Phường Thảo Điền", "Phường An Khánh", "Phường Cát Lái", "Phường Long Bình", "Phường Long Phước", "Phường Long Trường", "Phường Tăng Nhơn Phú A", "Phường Phước Long A", "Phường Hiệp Phú", "Phường Bình Trưng Đông"],
        "Huyện Củ Chi": ["Thị trấn Củ Chi", "Xã Phú Hòa Đông", "Xã Nhuận Đức", "Xã Thái Mỹ", "Xã Tân An Hội", "Xã An Nhơn Tây", "Xã Trung An", "Xã Tân Thạnh Đông", "Xã Phước Vĩnh An", "Xã Bình Mỹ", "Xã Tân Phú Trung", "Xã Phạm Văn Cội"],
        "Huyện Hóc Môn": ["Thị trấn Hóc Môn", "Xã Xuân Thới Sơn", "Xã Bà Điểm", "Xã Đông Thạnh", "Xã Tân Xuân", "Xã Tân Hiệp", "Xã Nhị Bình", "Xã Thới Tam Thôn", "Xã Trung Chánh"],
        "Huyện Bình Chánh": ["Thị trấn Tân Túc", "Xã Vĩnh Lộc A", "Xã Vĩnh Lộc B", "Xã Bình Hưng", "Xã Bình Chánh", "Xã Tân Nhựt", "Xã Hưng Long", "Xã An Phú Tây", "Xã Lê Minh Xuân", "Xã Phạm Văn Hai", "Xã Đa Phước", "Xã Bình Lợi"],
        "Huyện Nhà Bè": ["Thị trấn Nhà Bè", "Xã Hiệp Phước", "Xã Phước Kiển", "Xã Nhơn Đức", "Xã Long Thới", "Xã Phú Xuân"],
        "Huyện Cần Giờ": ["Thị trấn Cần Thạnh", "Xã Bình Khánh", "Xã An Thới Đông", "Xã Long Hòa", "Xã Thạnh An", "Xã Lý Nhơn"],
    },
    "074": {
        "Thành phố Thủ Dầu Một": ["Phường Phú Cường", "Phường Hiệp Thành", "Phường Phú Hòa", "Phường Phú Lợi", "Phường Chánh Nghĩa", "Phường Định Hòa", "Phường Hòa Phú", "Phường Phú Mỹ", "Phường Tân An", "Phường Chánh Mỹ"],
        "Thành phố Dĩ An": ["Phường Dĩ An", "Phường Đông Hòa", "Phường Tân Đông Hiệp", "Phường Bình An", "Phường Bình Thắng", "Phường An Bình", "Phường Tân Bình"],
        "Thành phố Thuận An": ["Phường Lái Thiêu", "Phường An Phú", "Phường Bình Hòa", "Phường Thuận Giao", "Phường Vĩnh Phú", "Phường Bình Chuẩn", "Phường An Thạnh"],
        "Thành phố Tân Uyên": ["Phường Uyên Hưng", "Phường Tân Hiệp", "Phường Khánh Bình", "Phường Vĩnh Tân", "Phường Thạnh Phước", "Phường Tân Phước Khánh"],
        "Thành phố Bến Cát": ["Phường Mỹ Phước", "Phường Chánh Phú Hòa", "Phường Hòa Lợi", "Phường Tân Định", "Phường An Tây"],
        "Huyện Dầu Tiếng": ["Thị trấn Dầu Tiếng", "Xã Minh Thạnh", "Xã Long Hòa", "Xã Thanh An", "Xã An Lập"],
        "Huyện Phú Giáo": ["Thị trấn Phước Vĩnh", "Xã An Long", "Xã Phước Hòa", "Xã Tân Long"],
        "Huyện Bàu Bàng": ["Thị trấn Lai Uyên", "Xã Long Nguyên", "Xã Trừ Văn Thố"],
        "Huyện Bắc Tân Uyên": ["Thị trấn Tân Thành", "Xã Thường Tân", "Xã Tân Bình", "Xã Bình Mỹ"],
    },
    "077": {
        "Thành phố Vũng Tàu": ["Phường 1", "Phường 2", "Phường 7", "Phường 9", "Phường 10", "Phường 11", "Phường 12", "Phường Thắng Nhì", "Phường Thắng Tam", "Phường Rạch Dừa", "Phường Nguyễn An Ninh", "Xã Long Sơn"],
        "Thành phố Bà Rịa": ["Phường Phước Hiệp", "Phường Phước Trung", "Phường Long Hương", "Phường Kim Dinh", "Phường Phước Hưng", "Phường Long Toàn"],
        "Thị xã Phú Mỹ": ["Phường Phú Mỹ", "Phường Tân Phước", "Phường Tân Hải", "Phường Mỹ Xuân", "Phường Hắc Dịch", "Xã Tân Hòa"],
        "Huyện Châu Đức": ["Thị trấn Ngãi Giao", "Xã Bình Giã", "Xã Kim Long", "Xã Xuân Sơn", "Xã Nghĩa Thành"],
        "Huyện Xuyên Mộc": ["Thị trấn Phước Bửu", "Xã Bình Châu", "Xã Hòa Hiệp", "Xã Bàu Lâm", "Xã Xuyên Mộc"],
        "Huyện Long Điền": ["Thị trấn Long Điền", "Thị trấn Long Hải", "Xã Phước Hưng"],
        "Huyện Đất Đỏ": ["Thị trấn Đất Đỏ", "Thị trấn Phước Hải", "Xã Láng Dài"],
        "Huyện Côn Đảo": ["Huyện Côn Đảo"],
    },
}

# Well-known hospitals of the default demo provinces (name, tier).
KNOWN_HOSPITALS: dict[int, list[tuple[str, str]]] = {
    1: [
        ("Bệnh viện Bạch Mai", "central"), ("Bệnh viện Đa khoa Xanh Pôn", "provincial"),
        ("Bệnh viện Thanh Nhàn", "provincial"), ("Bệnh viện Đa khoa Đức Giang", "provincial"),
        ("Bệnh viện Đa khoa Hà Đông", "provincial"), ("Bệnh viện Đa khoa Sơn Tây", "regional"),
        ("Bệnh viện Hữu nghị Việt Đức", "central"), ("Bệnh viện Đa khoa Đống Đa", "provincial"),
        ("Bệnh viện Đa khoa huyện Sóc Sơn", "regional"), ("Bệnh viện Đa khoa Đông Anh", "regional"),
    ],
    79: [
        ("Bệnh viện Chợ Rẫy", "central"), ("Bệnh viện Nhân dân 115", "provincial"),
        ("Bệnh viện Nhân dân Gia Định", "provincial"), ("Bệnh viện Đa khoa tỉnh Bình Dương", "provincial"),
        ("Bệnh viện Bà Rịa", "provincial"), ("Bệnh viện Thống Nhất", "central"),
        ("Bệnh viện Nguyễn Tri Phương", "provincial"), ("Bệnh viện Lê Văn Thịnh", "regional"),
        ("Bệnh viện Vũng Tàu", "regional"), ("Bệnh viện Đa khoa khu vực Củ Chi", "regional"),
    ],
}
