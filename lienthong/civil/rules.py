"""Pure rules of the linked procedures: versioned legal deadlines, who may act and with which papers,
retry backoff, driver-health validity.

Deadline rules are data (``data/deadlines.json``), each with an effective period and, optionally, a
``variant`` (``"verification"``: the longer time the linked birth group allows when a dossier needs
verifying). The version that applies is the one in force on the day the step starts (the day its
dossier is received). Working days come from :mod:`lienthong.workdays` with the procedures' 15:00
cutoff (a dossier received after 15:00 counts from the next working day; domain file §1.2 and §2.2).

Time limits in calendar days (60 days to register a birth, Luật Hộ tịch Điều 15; 15 days to register a
death, Điều 33) follow the Civil Code 2015: Điều 147 khoản 3 "Khi thời hạn bắt đầu bằng một sự kiện thì
ngày xảy ra sự kiện không được tính mà tính từ ngày tiếp theo liền kề của ngày xảy ra sự kiện đó" (the
day of the birth/death is not counted) and Điều 148 khoản 5 "Khi ngày cuối cùng của thời hạn là ngày nghỉ
cuối tuần hoặc ngày nghỉ lễ thì thời hạn kết thúc tại thời điểm kết thúc ngày làm việc tiếp theo ngày
nghỉ đó" (a last day that is a weekend day or a holiday moves to the end of the next working day),
khoản 6 "Thời điểm kết thúc ngày cuối cùng của thời hạn vào lúc hai mươi tư giờ của ngày đó".
Which days count as "days off" is a named setting (``calendar_days.day_off`` in the data file):
``"office_calendar"`` (default: the days the commune office is closed, including swapped days off) or
``"statutory"`` (weekends and statutory holidays only).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources

from lienthong.legal import Figure, notes
from lienthong.retry import backoff_delay
from lienthong.workdays import VN_TZ, WorkCalendar, add_months

DAY_OFF_READINGS = ("office_calendar", "statutory")


@dataclass(frozen=True)
class DeadlineRule:
    procedure: str
    step: str | None  # None: the whole procedure
    unit: str  # working_days, calendar_days
    days: int
    effective_from: date
    effective_to: date | None
    basis: str
    verified: str = "mem"
    variant: str | None = None  # None: the ordinary case; "verification": the dossier needs verifying
    figure: str | None = None  # the FIGURES key saying where the number comes from (lienthong.legal)

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


@dataclass(frozen=True)
class CalendarDaySettings:
    carry_to_next_working_day: bool = True  # BLDS 2015 Điều 148 khoản 5
    day_off: str = "office_calendar"


def parse_rules(data: dict) -> tuple[time, tuple[DeadlineRule, ...]]:
    hh, mm = (int(x) for x in data.get("cutoff", "15:00").split(":"))
    out = []
    for r in data["rules"]:
        if r["unit"] not in ("working_days", "calendar_days") or int(r["days"]) < 0:
            raise ValueError(f"bad deadline rule {r!r}")
        rule = DeadlineRule(r["procedure"], r.get("step"), r["unit"], int(r["days"]),
                            date.fromisoformat(r["effective_from"]),
                            date.fromisoformat(r["effective_to"]) if r.get("effective_to") else None,
                            r.get("basis", ""), r.get("verified", "mem"), r.get("variant"), r.get("figure"))
        if rule.effective_to is not None and rule.effective_to < rule.effective_from:
            raise ValueError(f"rule ends before it starts: {r!r}")
        out.append(rule)
    _check_no_overlap(out)
    return time(hh, mm), tuple(out)


def parse_calendar_days(data: dict) -> CalendarDaySettings:
    cfg = data.get("calendar_days") or {}
    s = CalendarDaySettings(bool(cfg.get("carry_to_next_working_day", True)), cfg.get("day_off", "office_calendar"))
    if s.day_off not in DAY_OFF_READINGS:
        raise ValueError(f"unknown calendar_days.day_off {s.day_off!r}")
    return s


def _check_no_overlap(rules: list[DeadlineRule]) -> None:
    by_key: dict[tuple, list[DeadlineRule]] = {}
    for r in rules:
        by_key.setdefault((r.procedure, r.step, r.variant), []).append(r)
    for key, rs in by_key.items():
        rs.sort(key=lambda r: r.effective_from)
        for a, b in zip(rs, rs[1:]):
            if a.effective_to is None or a.effective_to >= b.effective_from:
                raise ValueError(f"overlapping deadline rules for {key}")


@lru_cache(maxsize=1)
def _packaged_data() -> dict:
    return json.loads(resources.files("lienthong.civil").joinpath("data/deadlines.json").read_text("utf-8"))


@lru_cache(maxsize=1)
def _packaged() -> tuple[time, tuple[DeadlineRule, ...]]:
    return parse_rules(_packaged_data())


def deadline_rules() -> tuple[DeadlineRule, ...]:
    return _packaged()[1]


def calendar_day_settings() -> CalendarDaySettings:
    return parse_calendar_days(_packaged_data())


@lru_cache(maxsize=1)
def calendar() -> WorkCalendar:
    """The working-day calendar with the procedures' 15:00 receipt cutoff."""
    return WorkCalendar(cutoff=_packaged()[0])


def rule_for(procedure: str, step: str | None, day: date, rules: tuple[DeadlineRule, ...] | None = None,
             variant: str | None = None) -> DeadlineRule | None:
    """The rule in force on ``day`` for ``procedure``/``step`` (None: no legal deadline is known).

    With a ``variant`` the variant's rule is used where one exists, else the ordinary rule.
    """
    pool = rules if rules is not None else deadline_rules()
    if variant is not None:
        for r in pool:
            if r.procedure == procedure and r.step == step and r.variant == variant and r.in_force(day):
                return r
    for r in pool:
        if r.procedure == procedure and r.step == step and r.variant is None and r.in_force(day):
            return r
    return None


def calendar_day_end(start: date, days: int, cal: WorkCalendar | None = None,
                     settings: CalendarDaySettings | None = None) -> date:
    """Last day of a time limit of ``days`` calendar days counted from the event on ``start``.

    BLDS 2015 Điều 147.3: the event day is not counted, so day 1 is ``start + 1`` and the last day is
    ``start + days``; Điều 148.5: a last day that is a weekend day or a holiday moves to the next working day.
    """
    cal = cal or calendar()
    settings = settings or calendar_day_settings()
    end = start + timedelta(days=days)
    if not settings.carry_to_next_working_day:
        return end
    if settings.day_off == "statutory":
        while cal.is_statutory_day_off(end):
            end += timedelta(days=1)
        return end
    return cal.next_working_day(end, inclusive=True)


def due_at(rule: DeadlineRule, received_at: datetime, anchor: date | None = None,
           cal: WorkCalendar | None = None, settings: CalendarDaySettings | None = None) -> datetime:
    """When a step received at ``received_at`` is due under ``rule``.

    working_days: end of office hours of the N-th working day after the deemed receipt day (N = 0:
    the deemed receipt day itself). calendar_days: the end (23:59:59, Vietnam time; BLDS Điều 148.6) of
    :func:`calendar_day_end` counted from ``anchor`` (default: the receipt date).
    """
    cal = cal or calendar()
    if rule.unit == "working_days":
        return cal.deadline(received_at, rule.days)
    local = received_at.astimezone(VN_TZ) if received_at.tzinfo else received_at.replace(tzinfo=VN_TZ)
    start = anchor or local.date()
    return datetime.combine(calendar_day_end(start, rule.days, cal, settings), time(23, 59, 59), tzinfo=VN_TZ)


# --- who may act, and with which papers (Luật Hộ tịch 2014, NĐ 123/2015) -----------------------------------------------

# Luật Hộ tịch Điều 15 khoản 1: "Trong thời hạn 60 ngày kể từ ngày sinh con, cha hoặc mẹ có trách nhiệm đăng ký khai
# sinh cho con; trường hợp cha, mẹ không thể đăng ký khai sinh cho con thì ông hoặc bà hoặc người thân thích khác
# hoặc cá nhân, tổ chức đang nuôi dưỡng trẻ em có trách nhiệm đăng ký khai sinh cho trẻ em."
BIRTH_DECLARANTS = {
    "parent": "cha hoặc mẹ",
    "grandparent": "ông hoặc bà",
    "relative": "người thân thích khác",
    "carer": "cá nhân, tổ chức đang nuôi dưỡng trẻ em",
}
BIRTH_DECLARANTS_IF_PARENTS_UNABLE = ("grandparent", "relative", "carer")

# Luật Hộ tịch Điều 33: "1. Trong thời hạn 15 ngày kể từ ngày có người chết thì vợ, chồng hoặc con, cha, mẹ hoặc người
# thân thích khác của người chết có trách nhiệm đi đăng ký khai tử; trường hợp người chết không có người thân thích
# thì đại diện của cơ quan, tổ chức, cá nhân liên quan có trách nhiệm đi khai tử. 2. ... trường hợp không xác định
# được người có trách nhiệm đi khai tử thì công chức tư pháp - hộ tịch thực hiện đăng ký khai tử."
DEATH_DECLARANTS = {
    "spouse": "vợ, chồng",
    "child": "con",
    "parent": "cha, mẹ",
    "relative": "người thân thích khác",
    "organisation": "đại diện cơ quan, tổ chức, cá nhân liên quan (người chết không có người thân thích)",
    "civil_status_officer": "công chức tư pháp - hộ tịch (không xác định được người có trách nhiệm đi khai tử)",
}

# Luật Hộ tịch Điều 16 khoản 1: "... nộp tờ khai theo mẫu quy định và giấy chứng sinh ... Trường hợp không có giấy
# chứng sinh thì nộp văn bản của người làm chứng xác nhận về việc sinh; nếu không có người làm chứng thì phải có giấy
# cam đoan về việc sinh; trường hợp khai sinh cho trẻ em bị bỏ rơi phải có biên bản xác nhận việc trẻ bị bỏ rơi ...;
# trường hợp khai sinh cho trẻ em sinh ra do mang thai hộ phải có văn bản chứng minh việc mang thai hộ".
BIRTH_DOCUMENTS = {
    "birth_certificate": "Giấy chứng sinh",
    "witness_statement": "Văn bản của người làm chứng xác nhận về việc sinh",
    "sworn_statement": "Giấy cam đoan về việc sinh",
    "abandonment_record": "Biên bản xác nhận việc trẻ bị bỏ rơi",
}
# NĐ 63/2024 Điều 5 (linked birth group): "Trường hợp không có giấy chứng sinh thì đính kèm các thành phần hồ sơ
# thay thế theo quy định pháp luật về Hộ tịch."  A foundling (no mother to link to) follows NĐ 123/2015 Điều 14
# outside the linked group.
LINKED_BIRTH_DOCUMENTS = ("birth_certificate", "witness_statement", "sworn_statement")

# Luật Hộ tịch Điều 34 khoản 1: "Giấy báo tử hoặc giấy tờ khác thay giấy báo tử"; NĐ 123/2015 Điều 4 khoản 2 lists
# who issues it (secondary copies: thuvienhoidap.net/giay-bao-tu.html; danluat.thuvienphapluat.vn).
DEATH_DOCUMENTS = {
    "death_notice": "Giấy báo tử do cơ sở khám bệnh, chữa bệnh cấp",
    "execution_certificate": "Giấy xác nhận việc thi hành án tử hình",
    "court_declaration": "Bản án, quyết định của Tòa án tuyên bố một người là đã chết",
    "police_confirmation": "Văn bản xác nhận của cơ quan công an hoặc kết quả giám định pháp y (chết do tai nạn, bị giết, "
                           "chết đột ngột, chết có nghi vấn, chết trên phương tiện giao thông)",
    "commune_death_notice": "Giấy báo tử do Ủy ban nhân dân cấp xã nơi người đó chết cấp (các trường hợp khác)",
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


def birth_declarant_allowed(relation: str, parents_unable_reason: str | None = None) -> Decision:
    """May a person in ``relation`` to the child declare the birth (Luật Hộ tịch Điều 15.1)?"""
    if relation not in BIRTH_DECLARANTS:
        return Decision(False, "người đi đăng ký khai sinh phải là cha, mẹ, ông, bà, người thân thích khác hoặc cá nhân, "
                               "tổ chức đang nuôi dưỡng trẻ em (khoản 1 Điều 15 Luật Hộ tịch)")
    if relation in BIRTH_DECLARANTS_IF_PARENTS_UNABLE and len((parents_unable_reason or "").strip()) < 5:
        return Decision(False, f"{BIRTH_DECLARANTS[relation]} chỉ đăng ký khai sinh khi cha, mẹ không thể đăng ký khai sinh "
                               "cho con: cần ghi rõ lý do (khoản 1 Điều 15 Luật Hộ tịch)")
    return Decision(True, f"{BIRTH_DECLARANTS[relation]} (khoản 1 Điều 15 Luật Hộ tịch)")


def death_declarant_allowed(relation: str, *, has_relatives: bool = True, responsible_found: bool = True) -> Decision:
    """May a person in ``relation`` to the deceased declare the death (Luật Hộ tịch Điều 33)?"""
    if relation not in DEATH_DECLARANTS:
        return Decision(False, "người đi đăng ký khai tử phải là vợ, chồng, con, cha, mẹ, người thân thích khác của người "
                               "chết, hoặc đại diện cơ quan, tổ chức, cá nhân liên quan (Điều 33 Luật Hộ tịch)")
    if relation == "organisation" and has_relatives:
        return Decision(False, "đại diện cơ quan, tổ chức, cá nhân liên quan chỉ đi khai tử khi người chết không có người "
                               "thân thích (khoản 1 Điều 33 Luật Hộ tịch)")
    if relation == "civil_status_officer" and responsible_found:
        return Decision(False, "công chức tư pháp - hộ tịch chỉ tự đăng ký khai tử khi không xác định được người có trách "
                               "nhiệm đi khai tử (khoản 2 Điều 33 Luật Hộ tịch)")
    return Decision(True, f"{DEATH_DECLARANTS[relation]} (Điều 33 Luật Hộ tịch)")


def birth_document_allowed(kind: str, *, has_certificate: bool = False, has_witness: bool = False,
                           linked: bool = True) -> Decision:
    """Is ``kind`` an acceptable birth paper (Luật Hộ tịch Điều 16.1), in the linked group when ``linked``?"""
    if kind not in BIRTH_DOCUMENTS:
        return Decision(False, "giấy tờ không được Luật Hộ tịch chấp nhận để đăng ký khai sinh")
    if linked and kind not in LINKED_BIRTH_DOCUMENTS:
        return Decision(False, "trẻ bị bỏ rơi được đăng ký khai sinh theo Điều 14 Nghị định 123/2015/NĐ-CP, không qua "
                               "nhóm thủ tục liên thông")
    if kind == "witness_statement" and has_certificate:
        return Decision(False, "đã có giấy chứng sinh thì nộp giấy chứng sinh (khoản 1 Điều 16 Luật Hộ tịch)")
    if kind == "sworn_statement" and (has_certificate or has_witness):
        return Decision(False, "giấy cam đoan chỉ dùng khi không có giấy chứng sinh và không có người làm chứng "
                               "(khoản 1 Điều 16 Luật Hộ tịch)")
    return Decision(True, f"{BIRTH_DOCUMENTS[kind]} (khoản 1 Điều 16 Luật Hộ tịch)")


def death_document_allowed(kind: str) -> Decision:
    if kind not in DEATH_DOCUMENTS:
        return Decision(False, "giấy tờ không phải Giấy báo tử hoặc giấy tờ thay Giấy báo tử (khoản 1 Điều 34 Luật Hộ tịch, "
                               "khoản 2 Điều 4 Nghị định 123/2015/NĐ-CP)")
    return Decision(True, f"{DEATH_DOCUMENTS[kind]} (khoản 1 Điều 34 Luật Hộ tịch)")


# --- retries ---------------------------------------------------------------------------------------------------

RETRY_BASE_S = 60.0
RETRY_MAX_S = 6 * 3600.0
DEFAULT_MAX_ATTEMPTS = 8


def retry_delay_s(attempts: int) -> float:
    """Delay after ``attempts`` failed attempts: 1 min, 2, 4, ... capped at 6 hours."""
    return backoff_delay(attempts, RETRY_BASE_S, RETRY_MAX_S)


# --- driver health certificate ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DriverHealthRule:
    effective_from: date
    effective_until: date | None
    valid_months: int
    basis: str


# TTLT 24/2015/TTLT-BYT-BGTVT: 6 months ("từ 6 tháng như quy định hiện hành", vneconomy.vn 30/08/2024, news);
# TT 36/2024/TT-BYT (16/11/2024, in force 01/01/2025): 12 months (the draft's figure as reported; final text not read).
DRIVER_HEALTH_RULES: tuple[DriverHealthRule, ...] = (
    DriverHealthRule(date(2015, 10, 15), date(2025, 1, 1), 6, "TTLT 24/2015/TTLT-BYT-BGTVT"),
    DriverHealthRule(date(2025, 1, 1), None, 12, "TT 36/2024/TT-BYT"),
)
DRIVER_HEALTH_VALID_MONTHS = 12  # the rule in force today (kept for callers)


def driver_health_rule(signed_on: date) -> DriverHealthRule:
    for r in DRIVER_HEALTH_RULES:
        if r.effective_from <= signed_on and (r.effective_until is None or signed_on < r.effective_until):
            return r
    return DRIVER_HEALTH_RULES[0] if signed_on < DRIVER_HEALTH_RULES[0].effective_from else DRIVER_HEALTH_RULES[-1]


def driver_health_valid_until(signed_on: date) -> date:
    """Last valid day of a driver health certificate concluded on ``signed_on`` (by the rule in force that day)."""
    return add_months(signed_on, driver_health_rule(signed_on).valid_months) - timedelta(days=1)


def driver_health_status(issued_on: date, valid_until: date, fit: bool, on: date) -> str:
    """valid / expired / not_yet_valid / unfit."""
    if not fit:
        return "unfit"
    if on < issued_on:
        return "not_yet_valid"
    return "valid" if on <= valid_until else "expired"


# --- where the figures come from (lienthong.legal) ------------------------------------------------------------------

_HT = "Luật Hộ tịch 60/2014/QH13 (Bộ pháp điển, đề mục Hộ tịch; bản sao github.com/diepxuan/diepxuan.github.io van-ban/hanh-chinh-tu-phap/ho-tich.md)"

FIGURES: tuple[Figure, ...] = (
    Figure("civil.birth_60_days", "Time limit to register a birth", "60 days from the birth", "confirmed", f"Điều 15 khoản 1, {_HT}"),
    Figure("civil.death_15_days", "Time limit to register a death", "15 days from the death", "confirmed", f"Điều 33 khoản 1, {_HT}"),
    Figure("civil.calendar_day_end", "Calendar-day limits: event day not counted; a last day off moves to the next working day",
           "BLDS 147.3, 148.5-6", "confirmed", "BLDS 2015 Điều 147, 148; https://thuvienphapluat.vn/hoi-dap-phap-luat/"
           "3896F-hd-thoi-diem-bat-dau-va-ket-thuc-thoi-han-duoc-xac-dinh-nhu-the-nao.html"),
    Figure("civil.calendar_day_off", "Which days are 'days off' for art. 148.5", "the office calendar (swapped days off included)",
           "configurable", "BLDS 2015 Điều 148 khoản 5 'ngày nghỉ cuối tuần hoặc ngày nghỉ lễ' (a swapped working day is a reading)",
           "Hạn đăng ký khai sinh/khai tử rơi vào ngày nghỉ được chuyển sang ngày làm việc tiếp theo (khoản 5 Điều 148 BLDS); "
           "hệ thống coi cả ngày nghỉ hoán đổi của cơ quan là ngày nghỉ.", "data/deadlines.json calendar_days.day_off"),
    Figure("civil.declarants", "Who may register a birth / a death", "parents; grandparents, relatives, carers when parents "
           "cannot; spouse, children, parents, relatives; organisation; civil-status officer", "confirmed",
           f"Điều 15 khoản 1, Điều 33, {_HT}"),
    Figure("civil.birth_papers", "Papers replacing a hospital birth certificate", "witness statement; sworn statement; "
           "abandonment record; surrogacy document", "confirmed", f"Điều 16 khoản 1, {_HT}; NĐ 63/2024/NĐ-CP Điều 5 "
           "(thuvienphapluat.vn hỏi đáp 83A1FFB)"),
    Figure("civil.death_papers", "Papers replacing a hospital death notice", "execution, court, police/forensic, commune notice",
           "configurable", "Luật Hộ tịch Điều 34 khoản 1 (confirmed); list of NĐ 123/2015 Điều 4 khoản 2 from secondary copies",
           "Danh mục giấy tờ thay Giấy báo tử (khoản 2 Điều 4 NĐ 123/2015/NĐ-CP) lấy từ bản trích dẫn thứ cấp; cán bộ đối "
           "chiếu giấy tờ thực tế.", "civil.rules.DEATH_DOCUMENTS"),
    Figure("civil.birth_group_3_days", "Linked birth group deadline", "3 working days (NĐ 63/2024; QĐ 296/QĐ-VPCP)", "configurable",
           "amp.cand.com.vn (QĐ 296/QĐ-VPCP, 15/06/2024); thanhnien.vn; NĐ 63/2024 text not read",
           "Thời hạn giải quyết nhóm thủ tục liên thông khai sinh (3 ngày làm việc) theo QĐ 296/QĐ-VPCP qua tin báo chí; chưa "
           "đối chiếu NĐ 63/2024/NĐ-CP.", "data/deadlines.json"),
    Figure("civil.birth_group_verification", "Linked birth group deadline when verification is needed", "5 working days",
           "configurable", "thanhnien.vn dang-ky-thuong-tru-cho-tre-moi-sinh (domain S2; NĐ 63/2024 text not read)",
           "Thời hạn 05 ngày làm việc khi hồ sơ khai sinh liên thông cần xác minh lấy từ tin báo chí; chưa đối chiếu NĐ 63/2024.",
           "data/deadlines.json (variant verification)"),
    Figure("civil.birth_group_20_days_2015", "Paper linkage of birth, residence and BHYT card before 10/06/2024",
           "20 working days (TTLT 05/2015)", "configurable", "domain file (secondary); TTLT 05/2015 text not read",
           "Thời hạn 20 ngày làm việc của liên thông giấy (TTLT 05/2015) trước ngày 10/6/2024 chưa đối chiếu văn bản.",
           "data/deadlines.json"),
    Figure("civil.birth_register_same_day", "Birth registration in the linked group", "same working day", "configurable",
           "QĐ 296/QĐ-VPCP as reported (amp.cand.com.vn); NĐ 63/2024 text not read",
           "Đăng ký khai sinh trong ngày làm việc (nhóm liên thông) theo tin báo chí về QĐ 296/QĐ-VPCP; chưa đối chiếu văn bản.",
           "data/deadlines.json"),
    Figure("civil.health_card_2_days", "Under-6 BHYT card step in the linked birth group", "2 working days", "configurable",
           "thanhnien.vn (domain S2); NĐ 63/2024 text not read",
           "Thời hạn cấp thẻ BHYT trẻ em trong nhóm liên thông khai sinh (02 ngày làm việc) lấy từ tin báo chí.",
           "data/deadlines.json"),
    Figure("civil.residence_2_days", "Permanent residence step in the linked birth group", "2 working days (5 with verification)",
           "configurable", "thanhnien.vn (domain S2)",
           "Thời hạn đăng ký thường trú trong nhóm liên thông khai sinh (02/05 ngày làm việc) lấy từ tin báo chí.",
           "data/deadlines.json"),
    Figure("civil.assign_id_same_day", "Personal ID assigned with the birth registration", "same working day", "confirmed",
           f"Điều 16 khoản 2, {_HT} ('cập nhật vào ... Cơ sở dữ liệu quốc gia về dân cư để lấy Số định danh cá nhân')"),
    Figure("civil.remove_residence_1_day", "Residence removal after a death (linked death group)", "1 working day",
           "configurable", "recalled for the linked group; the stand-alone procedure 'Xóa đăng ký thường trú' published by "
           "Bộ Công an (căn cứ Luật Cư trú 2020, NĐ 62/2021, TT 66/2023/TT-BCA) gives 05 working days",
           "Thời hạn xóa đăng ký thường trú trong nhóm liên thông khai tử (01 ngày làm việc) chưa đối chiếu văn bản; thủ tục "
           "xóa đăng ký thường trú riêng lẻ của Bộ Công an có thời hạn 05 ngày làm việc.", "data/deadlines.json"),
    Figure("civil.death_register_same_day", "Death registration same day (next working day after 15:00)", "0 working days",
           "configurable", "dichvucong.gov.vn TTHC 1.007073 (domain S7)",
           "Đăng ký khai tử trong ngày (nhận sau 15 giờ thì ngày làm việc tiếp theo) theo trang thủ tục hành chính; "
           "chưa đối chiếu văn bản.", "data/deadlines.json"),
    Figure("civil.driver_health_validity", "Driver health certificate validity", "6 months (TTLT 24/2015), 12 months from "
           "01/01/2025 (TT 36/2024)", "configurable",
           "https://vneconomy.vn/de-xuat-tang-thoi-han-giay-kham-suc-khoe-lai-xe-len-12-thang.htm (draft reported); "
           "TT 36/2024/TT-BYT Điều 9 transitional clause (118.69.201.250 legal Q&A)",
           "Thời hạn giấy khám sức khỏe lái xe (12 tháng từ 01/01/2025 theo TT 36/2024/TT-BYT, 6 tháng trước đó) lấy theo tin "
           "về dự thảo; chưa đối chiếu nguyên văn thông tư.", "civil.rules.DRIVER_HEALTH_RULES"),
)

def officer_notes(procedure: str, day: date, steps: list[str] | tuple[str, ...] = (), *, verification: bool = False,
                  substitute_document: str | None = None, driver_health: bool = False) -> list[str]:
    """Warnings for the configurable figures the deadlines (and papers) of a case started on ``day`` depend on:
    the rule in force that day for the whole procedure and for each step, by their ``figure`` key."""
    keys: list[str] = []
    variant = "verification" if verification else None
    for step in (None, *steps):
        rule = rule_for(procedure, step, day, variant=variant)
        if rule is None:
            continue
        if rule.unit == "calendar_days":
            keys.append("civil.calendar_day_off")
        if rule.figure:
            keys.append(rule.figure)
    if substitute_document and procedure == "death" and substitute_document != "death_notice":
        keys.append("civil.death_papers")
    if driver_health:
        keys.append("civil.driver_health_validity")
    return notes(keys)
