"""Expungement of convictions (xóa án tích): Penal Code 2015, amended 2017 (BLHS), arts. 60-61, 69-73, 107.

Pure functions over plain dataclasses; no database.  One :class:`Conviction` is one judgment in force
(it may cover several offences).  :func:`expungement_status` evaluates one conviction at a date,
taking the person's other convictions into account (art. 73.2 restarts); :func:`explain` does all
of them and says whether certificate No. 1 would show a record.

The text applied is the Penal Code as amended by Law 12/2017/QH14 (in force 01/01/2018), read in the
Ministry of Justice codification (Bộ pháp điển, đề mục "Hình sự", articles "Điều 16.1.LQ.60" -
"16.1.LQ.73", "16.1.LQ.107"; copy: github.com/diepxuan/diepxuan.github.io van-ban/hinh-su/hinh-su.md,
links to https://vbpl.vn and https://thuvienphapluat.vn).  Each rule below quotes its article.

Legal routes (``basis``)
------------------------
- ``"no_record"``: art. 69.2: unintentional less-serious/serious offences, or exemption from penalty:
  the person is not considered to have a record at all.
- ``"minor_never_record"``: art. 107.1: offence at 14-<16; at 16-<18 for less-serious/serious
  offences or unintentional very serious ones; judicial measures instead of a penalty.
- ``"minor_automatic"``: art. 107.2: 16-<18, intentional very serious / especially serious: automatic
  after 6 months / 1 / 2 / 3 years.
- ``"automatic"``: art. 70: all offences outside chapters XIII and XXVI: 1 / 2 / 3 / 5 years.
- ``"court_decision"``: art. 71 (and art. 73.3 for mixed judgments): chapters XIII, XXVI: 1 / 3 / 5 /
  7 years (as amended by Law 12/2017), then only a court decision expunges.
- ``"special"``: art. 72: court decision after at least 1/3 of the period.
- ``"amnesty"``: đại xá; the record is cleared from the amnesty date (``amnesty_clears_record``,
  configurable: art. 62.1 only says the amnestied person need not serve the penalty).
- ``"not_in_force"``: the judgment has not taken legal effect by the evaluation date: not (yet) a
  record at all.
- ``"not_applicable"``: no expungement route (death sentence not commuted; a principal penalty with
  no period in art. 70.2 / 71.2, e.g. expulsion, or a fine on the court route): a person decides.

For a not-yet-expunged conviction ``basis`` is the route that will apply and ``waiting_until`` the
first day it can (automatic routes) or the first day a court may decide (court routes).

Two starting points (arts. 70.2 and 70.3)
-----------------------------------------
- Art. 70.2 counts from the day the principal penalty was completed or the probation of a suspended
  sentence ended, and requires the additional penalties and the other decisions of the judgment
  (court fee, compensation, ...) to be completed; remission of the remainder (art. 73.4) and release
  under a special pardon (đặc xá, art. 62.1) count as completion.
- Art. 70.3 counts from the day the enforcement limitation expired and requires only that no new
  offence was committed in the period (``limitation_route_requires_obligations=False``, default;
  ``True`` is the stricter reading that still asks for the other decisions).  Art. 61: no
  limitation exists for chapters XIII, XXVI and art. 353, 354 clauses 3-4: a reported expiry is
  ignored for those judgments.
The engine evaluates both routes and takes the earlier date.

Date conventions (parameters of :class:`ExpungementRules`)
---------------------------------------------------------
- ``period_end_convention="day_after_anniversary"`` (default, Civil Code 2015 arts. 147.2 and
  148.4: the day of the event is not counted and a period in years ends at the end of the
  corresponding day): the person is expunged on the day after ``T0 + W``.  ``"anniversary"`` gives
  ``T0 + W`` itself.
- Additional penalties and other decisions of the judgment must be completed (arts. 70.2, 71.2).
  When the supervision, residence ban, ban on posts/professions or civic-rights deprivation listed
  in art. 70.2 last paragraph (points a-c) - or, on the court route, the supervision, residence ban
  or civic-rights deprivation of art. 71.2 last paragraph (points a-b) - outlasts the period, the
  period ends at its completion.  For every other late item ``late_obligations_policy`` decides:
  ``"at_completion"`` (default) the person is expunged once it is completed; ``"restart_period"``
  the whole period runs again from its completion (a stricter reading some practitioners use).
- Art. 73.2: a new offence committed after this judgment took effect and before it was expunged,
  once convicted by a judgment in force, restarts this conviction's period from the new
  judgment's own ``T0``.  ``reset_trigger="offence_date"`` (default, "thực hiện hành vi phạm tội mới")
  compares the date of the new act; ``"judgment_date"`` the date of the new judgment.

Time behaviour (documented property)
------------------------------------
The result at ``on`` reflects the judgments in force at ``on``.  For a fixed list of convictions the
result is monotone in time: once expunged at ``d1`` it stays expunged at every ``d2 > d1`` with the
same ``since`` **unless** some conviction took legal effect in ``(d1, d2]`` for an act committed
before ``since`` (art. 73.2: the conditions were in fact never met; the record is reinstated once
the new judgment is known).  Adding a later conviction never moves any ``since`` earlier.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Iterable, Sequence

from lienthong.legal import Figure, notes
from lienthong.workdays.calendar import add_months

__all__ = [
    "AdditionalPenalty",
    "AdditionalPenaltyType",
    "Basis",
    "Conviction",
    "Explanation",
    "ExpungementResult",
    "ExpungementRules",
    "NoRulesError",
    "Offence",
    "PenaltyType",
    "Person",
    "RULESETS",
    "Severity",
    "add_months",
    "age_on",
    "enforcement_limitation_end",
    "explain",
    "expungement_status",
    "fmt_date",
    "fmt_months",
    "principal_start",
    "rules_in_force",
]


# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------
class PenaltyType(StrEnum):
    """Principal penalties (BLHS art. 32.1) plus the two outcomes without a penalty."""

    WARNING = "warning"  # cảnh cáo
    FINE = "fine"  # phạt tiền
    NON_CUSTODIAL_REFORM = "non_custodial_reform"  # cải tạo không giam giữ
    EXPULSION = "expulsion"  # trục xuất (foreigners)
    IMPRISONMENT = "imprisonment"  # tù có thời hạn
    LIFE = "life_imprisonment"  # tù chung thân
    DEATH = "death"  # tử hình
    EXEMPTED = "exempted"  # miễn hình phạt (art. 59)
    JUDICIAL_MEASURE = "judicial_measure"  # biện pháp tư pháp for minors (Ch. XII Mục 3)


class Severity(StrEnum):
    """Offence categories of BLHS art. 9."""

    LESS_SERIOUS = "less_serious"  # ít nghiêm trọng
    SERIOUS = "serious"  # nghiêm trọng
    VERY_SERIOUS = "very_serious"  # rất nghiêm trọng
    ESPECIALLY_SERIOUS = "especially_serious"  # đặc biệt nghiêm trọng


class AdditionalPenaltyType(StrEnum):
    """Additional penalties (art. 32.3)."""

    POST_OR_PROFESSION_BAN = "post_or_profession_ban"  # cấm đảm nhiệm chức vụ, cấm hành nghề ...
    RESIDENCE_BAN = "residence_ban"  # cấm cư trú
    SUPERVISION = "supervision"  # quản chế
    CIVIC_RIGHTS = "civic_rights_deprivation"  # tước một số quyền công dân
    CONFISCATION = "confiscation"  # tịch thu tài sản
    FINE = "fine"  # phạt tiền (bổ sung)
    EXPULSION = "expulsion"  # trục xuất (bổ sung)


class Basis(StrEnum):
    NO_RECORD = "no_record"
    MINOR_NEVER_RECORD = "minor_never_record"
    MINOR_AUTOMATIC = "minor_automatic"
    AUTOMATIC = "automatic"
    COURT_DECISION = "court_decision"
    SPECIAL = "special"
    AMNESTY = "amnesty"
    NOT_IN_FORCE = "not_in_force"
    NOT_APPLICABLE = "not_applicable"


_PENALTY_VI = {
    PenaltyType.WARNING: "cảnh cáo",
    PenaltyType.FINE: "phạt tiền",
    PenaltyType.NON_CUSTODIAL_REFORM: "cải tạo không giam giữ",
    PenaltyType.EXPULSION: "trục xuất",
    PenaltyType.IMPRISONMENT: "phạt tù có thời hạn",
    PenaltyType.LIFE: "tù chung thân",
    PenaltyType.DEATH: "tử hình",
    PenaltyType.EXEMPTED: "miễn hình phạt",
    PenaltyType.JUDICIAL_MEASURE: "áp dụng biện pháp tư pháp",
}

# Additional penalties (art. 32.2) as they are named in a sentence (lower case).
ADDITIONAL_PENALTY_VI = {
    AdditionalPenaltyType.POST_OR_PROFESSION_BAN: "cấm đảm nhiệm chức vụ, cấm hành nghề hoặc làm công việc nhất định",
    AdditionalPenaltyType.RESIDENCE_BAN: "cấm cư trú",
    AdditionalPenaltyType.SUPERVISION: "quản chế",
    AdditionalPenaltyType.CIVIC_RIGHTS: "tước một số quyền công dân",
    AdditionalPenaltyType.CONFISCATION: "tịch thu tài sản",
    AdditionalPenaltyType.FINE: "phạt tiền",
    AdditionalPenaltyType.EXPULSION: "trục xuất",
}

_SEVERITY_VI = {
    Severity.LESS_SERIOUS: "ít nghiêm trọng",
    Severity.SERIOUS: "nghiêm trọng",
    Severity.VERY_SERIOUS: "rất nghiêm trọng",
    Severity.ESPECIALLY_SERIOUS: "đặc biệt nghiêm trọng",
}


class NoRulesError(LookupError):
    """No versioned rule set covers the requested date."""


# ---------------------------------------------------------------------------------------------
# Versioned rule table
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bracket:
    """Waiting period for imprisonment up to ``max_months`` (None = above every bound, life, commuted death)."""

    max_months: int | None
    wait_months: int
    point: str  # điểm of the clause, for the explanation


_LIGHT_AUTOMATIC = (PenaltyType.WARNING, PenaltyType.FINE, PenaltyType.NON_CUSTODIAL_REFORM)
_LIGHT_COURT = (PenaltyType.WARNING, PenaltyType.NON_CUSTODIAL_REFORM)
_BANS_70 = (AdditionalPenaltyType.SUPERVISION, AdditionalPenaltyType.RESIDENCE_BAN,
            AdditionalPenaltyType.POST_OR_PROFESSION_BAN, AdditionalPenaltyType.CIVIC_RIGHTS)
_BANS_71 = (AdditionalPenaltyType.SUPERVISION, AdditionalPenaltyType.RESIDENCE_BAN, AdditionalPenaltyType.CIVIC_RIGHTS)


@dataclass(frozen=True)
class ExpungementRules:
    """One version of the expungement rules.  All periods in months.  ``verified`` notes per item."""

    name: str
    effective_from: date
    effective_until: date | None
    legal_basis: str
    # art. 70.2 (automatic): "a) 01 năm trong trường hợp bị phạt cảnh cáo, phạt tiền, cải tạo không giam
    # giữ, phạt tù nhưng được hưởng án treo; b) 02 năm ... phạt tù đến 05 năm; c) 03 năm ... từ trên 05
    # năm đến 15 năm; d) 05 năm ... từ trên 15 năm, tù chung thân hoặc tử hình nhưng đã được giảm án."
    # (1 / 2 / 3 / 5 years for a warning, fine, non-custodial reform or suspended sentence / prison up to
    # 5 years / over 5 to 15 / over 15, life, commuted death.)
    automatic_light_months: int = 12
    automatic_light_penalties: tuple[PenaltyType, ...] = _LIGHT_AUTOMATIC
    automatic_brackets: tuple[Bracket, ...] = (Bracket(60, 24, "b"), Bracket(180, 36, "c"), Bracket(None, 60, "d"))
    # art. 70.2 last paragraph: "quản chế, cấm cư trú, cấm đảm nhiệm chức vụ, cấm hành nghề hoặc làm công
    # việc nhất định, tước một số quyền công dân mà thời hạn phải chấp hành dài hơn thời hạn quy định tại
    # các điểm a, b và c khoản này thì thời hạn đương nhiên được xóa án tích sẽ hết vào thời điểm người đó
    # chấp hành xong hình phạt bổ sung" (these bans, when longer than the period of points a-c: the period
    # ends when the ban is served).
    automatic_extension_kinds: tuple[AdditionalPenaltyType, ...] = _BANS_70
    automatic_extension_points: tuple[str, ...] = ("a", "b", "c")
    # art. 71.2 as amended by Law 12/2017 (court decision): "a) 01 năm trong trường hợp bị phạt cảnh cáo,
    # phạt cải tạo không giam giữ, phạt tù nhưng được hưởng án treo; b) 03 năm ... phạt tù đến 05 năm;
    # c) 05 năm ... từ trên 05 năm đến 15 năm; d) 07 năm ... trên 15 năm, tù chung thân hoặc tử hình nhưng
    # đã được giảm án." (1 / 3 / 5 / 7 years; a fine is not in point a.)
    court_light_months: int = 12
    court_light_penalties: tuple[PenaltyType, ...] = _LIGHT_COURT
    court_brackets: tuple[Bracket, ...] = (Bracket(60, 36, "b"), Bracket(180, 60, "c"), Bracket(None, 84, "d"))
    # A fine as the principal penalty on the court route has no period in art. 71.2: "not_applicable"
    # (default: a person decides) or "light" (treat it as point a by analogy with art. 70.2.a).
    court_fine_reading: str = "not_applicable"
    # art. 71.2 last paragraph: "quản chế, cấm cư trú, tước một số quyền công dân mà thời hạn phải chấp
    # hành dài hơn thời hạn quy định tại điểm a, điểm b khoản này thì Tòa án quyết định việc xóa án tích từ
    # khi người đó chấp hành xong hình phạt bổ sung" (only these three, only in points a and b).
    court_extension_kinds: tuple[AdditionalPenaltyType, ...] = _BANS_71
    court_extension_points: tuple[str, ...] = ("a", "b")
    # art. 71.3: "bị Tòa án bác đơn xin xóa án tích lần đầu, thì sau 01 năm ... ; nếu bị bác đơn lần thứ hai
    # trở đi, thì sau 02 năm" (reapply 1 year after the first refusal, 2 years after later ones).
    refusal_wait_months: tuple[int, int] = (12, 24)
    # art. 72: "ít nhất một phần ba thời hạn quy định tại khoản 2 Điều 70 và khoản 2 Điều 71"
    special_fraction: tuple[int, int] = (1, 3)
    # art. 107 (persons under 18 at the time of the offence)
    minor_min_age: int = 14
    minor_never_record_below_age: int = 16
    minor_never_record_intentional: tuple[Severity, ...] = (Severity.LESS_SERIOUS, Severity.SERIOUS)
    minor_never_record_unintentional: tuple[Severity, ...] = (Severity.LESS_SERIOUS, Severity.SERIOUS, Severity.VERY_SERIOUS)
    # art. 107.2: "a) 06 tháng ... cảnh cáo, phạt tiền, phạt cải tạo không giam giữ hoặc phạt tù nhưng được
    # hưởng án treo; b) 01 năm ... phạt tù đến 05 năm; c) 02 năm ... từ trên 05 năm đến 15 năm; d) 03 năm ...
    # phạt tù trên 15 năm."
    minor_light_months: int = 6
    minor_light_penalties: tuple[PenaltyType, ...] = _LIGHT_AUTOMATIC
    minor_brackets: tuple[Bracket, ...] = (Bracket(60, 12, "b"), Bracket(180, 24, "c"), Bracket(None, 36, "d"))
    # art. 69.2
    adult_no_record_unintentional: tuple[Severity, ...] = (Severity.LESS_SERIOUS, Severity.SERIOUS)
    # art. 70.1 / 71.1: chapters decided by a court, and the article ranges of those chapters
    court_chapters: tuple[int, ...] = (13, 26)
    chapter_article_ranges: tuple[tuple[int, int, int], ...] = ((13, 108, 122), (26, 421, 425))
    # art. 60.2: "a) 05 năm đối với các trường hợp xử phạt tiền, cải tạo không giam giữ hoặc xử phạt tù từ 03
    # năm trở xuống; b) 10 năm ... tù từ trên 03 năm đến 15 năm; c) 15 năm ... từ trên 15 năm đến 30 năm;
    # d) 20 năm ... tù chung thân hoặc tử hình."  A warning has no limitation (it is executed on
    # pronouncement).  Counted from the legal-effect date (art. 60.4).
    limitation_brackets: tuple[tuple[int | None, int], ...] = ((36, 5), (180, 10), (360, 15), (None, 20))
    limitation_light_penalties: tuple[PenaltyType, ...] = (PenaltyType.FINE, PenaltyType.NON_CUSTODIAL_REFORM)
    # art. 61 as amended by Law 12/2017: "Không áp dụng thời hiệu thi hành bản án đối với các tội quy định
    # tại Chương XIII, Chương XXVI, khoản 3 và khoản 4 Điều 353, khoản 3 và khoản 4 Điều 354".
    limitation_excluded_chapters: tuple[int, ...] = (13, 26)
    limitation_excluded_clauses: tuple[tuple[int, tuple[int, ...]], ...] = ((353, (3, 4)), (354, (3, 4)))
    # art. 70.3: "đương nhiên được xóa án tích, nếu từ khi hết thời hiệu thi hành bản án, người đó không
    # thực hiện hành vi phạm tội mới trong thời hạn quy định tại khoản 2" (only: no new offence).
    limitation_route_requires_obligations: bool = False
    # conventions, see module doc
    period_end_convention: str = "day_after_anniversary"
    late_obligations_policy: str = "at_completion"
    reset_trigger: str = "offence_date"
    amnesty_clears_record: bool = True
    verified: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.period_end_convention not in ("day_after_anniversary", "anniversary"):
            raise ValueError(f"unknown period_end_convention {self.period_end_convention!r}")
        if self.late_obligations_policy not in ("at_completion", "restart_period"):
            raise ValueError(f"unknown late_obligations_policy {self.late_obligations_policy!r}")
        if self.reset_trigger not in ("offence_date", "judgment_date"):
            raise ValueError(f"unknown reset_trigger {self.reset_trigger!r}")
        if self.court_fine_reading not in ("not_applicable", "light"):
            raise ValueError(f"unknown court_fine_reading {self.court_fine_reading!r}")

    def covers(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_until is None or on < self.effective_until)

    def chapter_of(self, article: int | None) -> int | None:
        if article is None:
            return None
        for chapter, lo, hi in self.chapter_article_ranges:
            if lo <= article <= hi:
                return chapter
        return None


_CODIFICATION = ("Bộ pháp điển, đề mục Hình sự (Bộ luật 100/2015/QH13 sửa đổi bởi Luật 12/2017/QH14), "
                 "bản sao github.com/diepxuan/diepxuan.github.io van-ban/hinh-su/hinh-su.md")

BLHS_2015_2017 = ExpungementRules(
    name="BLHS 2015 (sửa đổi, bổ sung 2017)",
    effective_from=date(2018, 1, 1),
    effective_until=None,
    legal_basis="Bộ luật Hình sự số 100/2015/QH13, sửa đổi bởi Luật số 12/2017/QH14",
    verified=(
        ("art_70_periods", f"src: Điều 70 khoản 2, {_CODIFICATION}"),
        ("art_71_periods", f"src: Điều 71 khoản 2 (sửa đổi 2017: 1/3/5/7 năm), {_CODIFICATION}"),
        ("art_71_3_refusal", f"src: Điều 71 khoản 3, {_CODIFICATION}"),
        ("art_72_fraction", f"src: Điều 72, {_CODIFICATION}"),
        ("art_107_periods", f"src: Điều 107 khoản 2 (sửa đổi 2017), {_CODIFICATION}"),
        ("chapter_article_ranges", f"src: Chương XIII Điều 108-122, Chương XXVI Điều 421-425, {_CODIFICATION}"),
        ("art_60_limitation", f"src: Điều 60 khoản 2, 4, {_CODIFICATION}"),
        ("art_61_no_limitation", f"src: Điều 61 (sửa đổi 2017), {_CODIFICATION}"),
        ("probation_start", "src: Điều 5 Nghị quyết 02/2018/NQ-HĐTP (thời gian thử thách tính từ ngày tuyên án)"),
        ("amnesty", "configurable: Điều 62.1 only exempts from serving the penalty; 'no record' is practice"),
        ("period_end_convention", "src: BLDS 2015 Điều 147 khoản 2, Điều 148 khoản 4 (thuvienphapluat.vn)"),
        ("late_obligations_policy", "configurable: practitioners disagree for items outside art. 70.2/71.2 last paragraphs"),
        ("reset_trigger", "src: Điều 73 khoản 2 'thực hiện hành vi phạm tội mới và bị Tòa án kết án'"),
        ("court_fine_reading", "configurable: art. 71.2.a does not list a fine"),
    ),
)

RULESETS: tuple[ExpungementRules, ...] = (BLHS_2015_2017,)


def rules_in_force(on: date, rulesets: Sequence[ExpungementRules] = RULESETS) -> ExpungementRules:
    """The rule set in force on ``on``; :class:`NoRulesError` before the Penal Code 2015 (2018-01-01)."""
    for r in rulesets:
        if r.covers(on):
            return r
    raise NoRulesError(f"không có bộ quy tắc xóa án tích áp dụng cho ngày {fmt_date(on)}")


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Person:
    birth_date: date
    full_name: str = ""
    sex: str = ""
    place_of_birth: str = ""
    nationality: str = "Việt Nam"
    residence: str = ""
    id_number: str = ""
    father_name: str = ""
    mother_name: str = ""
    spouse_name: str = ""


@dataclass(frozen=True)
class Offence:
    """One offence (tội danh) in a judgment."""

    name: str  # tội danh, e.g. "Trộm cắp tài sản"
    article: int | None = None  # điều
    clause: int | None = None  # khoản
    point: str | None = None  # điểm
    severity: Severity | None = None
    intentional: bool | None = None  # True cố ý, False vô ý, None unknown
    offence_date: date | None = None
    age_at_offence: int | None = None
    chapter: int | None = None  # derived from ``article`` when None

    def article_text(self) -> str:
        parts = []
        if self.point:
            parts.append(f"điểm {self.point}")
        if self.clause is not None:
            parts.append(f"khoản {self.clause}")
        if self.article is not None:
            parts.append(f"Điều {self.article}")
        return " ".join(parts)


@dataclass(frozen=True)
class AdditionalPenalty:
    kind: AdditionalPenaltyType
    months: int | None = None
    amount_vnd: int | None = None
    completed_on: date | None = None
    description: str = ""


@dataclass(frozen=True)
class Conviction:
    """One criminal judgment in force (bản án), as the LLTP database holds it."""

    id: str
    offences: tuple[Offence, ...]
    judgment_date: date
    legal_effect_date: date
    penalty: PenaltyType
    term_months: int | None = None  # imprisonment or non-custodial reform length
    fine_vnd: int | None = None
    suspended: bool = False  # án treo
    probation_months: int | None = None
    probation_completed_on: date | None = None  # default: judgment_date + probation_months (art. 65)
    death_commuted: bool = False  # tử hình / chung thân đã được giảm án
    principal_completed_on: date | None = None
    remainder_exempted_on: date | None = None  # art. 73.4
    special_pardon_on: date | None = None  # đặc xá: release counts as completion
    limitation_expired_on: date | None = None  # art. 70.3 (see enforcement_limitation_end)
    additional_penalties: tuple[AdditionalPenalty, ...] = ()
    has_other_obligations: bool = False  # án phí, bồi thường, ... in the judgment
    other_obligations_completed_on: date | None = None
    amnesty_on: date | None = None  # đại xá
    court_expungement_on: date | None = None
    court_expungement_article: int = 71  # 71 or 72
    court_refusals: tuple[date, ...] = ()
    committed_under_18: bool | None = None  # when offence dates/ages are unknown
    age_at_offence: int | None = None  # applies to every offence without its own age
    court: str = ""
    judgment_number: str = ""
    civil_obligations: str = ""
    court_fee: str = ""
    enforcement_status: str = ""

    def __post_init__(self) -> None:
        if not self.offences:
            raise ValueError("a conviction needs at least one offence")
        if self.legal_effect_date < self.judgment_date:
            raise ValueError("legal_effect_date before judgment_date")


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExpungementResult:
    conviction_id: str
    expunged: bool
    since: date | None
    basis: Basis
    reason: str
    waiting_until: date | None = None
    in_force: bool = True
    start_date: date | None = None  # effective T0 (after art. 73.2 restarts)
    period_months: int | None = None
    special_eligible_from: date | None = None  # art. 72
    blocked_by: tuple[str, ...] = ()
    legal_refs: tuple[str, ...] = ()

    @property
    def counts_as_record(self) -> bool:
        """Shown as án tích on certificate No. 1."""
        return self.in_force and not self.expunged


@dataclass(frozen=True)
class Explanation:
    on: date
    results: tuple[ExpungementResult, ...]
    has_record: bool
    summary: str
    rules: str

    def result_for(self, conviction_id: str) -> ExpungementResult:
        for r in self.results:
            if r.conviction_id == conviction_id:
                return r
        raise KeyError(conviction_id)


# ---------------------------------------------------------------------------------------------
# Date helpers
# ---------------------------------------------------------------------------------------------
def age_on(birth: date, d: date) -> int:
    return d.year - birth.year - ((d.month, d.day) < (birth.month, birth.day))


def fmt_date(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else "chưa xác định"


def fmt_months(months: int) -> str:
    """Vietnamese period text in the Code's style: 06 tháng, 01 năm, 02 năm 06 tháng."""
    y, m = divmod(months, 12)
    if y and m:
        return f"{y:02d} năm {m:02d} tháng"
    if y:
        return f"{y:02d} năm"
    return f"{m:02d} tháng"


def _period_end(t0: date, months: int, rules: ExpungementRules) -> date:
    end = add_months(t0, months)
    return end + timedelta(days=1) if rules.period_end_convention == "day_after_anniversary" else end


def _after(d: date, rules: ExpungementRules) -> date:
    return d + timedelta(days=1) if rules.period_end_convention == "day_after_anniversary" else d


# ---------------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------------
def _probation_end(c: Conviction) -> date | None:
    if c.probation_completed_on is not None:
        return c.probation_completed_on
    if c.probation_months is not None:
        # NQ 02/2018/NQ-HĐTP Điều 5.1: "thời điểm bắt đầu tính thời gian thử thách là ngày tuyên án sơ
        # thẩm" (probation runs from the first-instance pronouncement; appeal variants in 5.2-5.8 are
        # for the feed to state as probation_completed_on).
        return add_months(c.judgment_date, c.probation_months)
    return None


def _served_start(c: Conviction) -> tuple[date | None, str]:
    """Art. 70.2 start: principal penalty served, probation ended, remainder exempted (73.4), special pardon."""
    candidates: list[tuple[date, str]] = []
    if c.penalty in (PenaltyType.EXEMPTED, PenaltyType.JUDICIAL_MEASURE):
        return c.legal_effect_date, "ngày bản án có hiệu lực pháp luật"
    if c.suspended:
        pe = _probation_end(c)
        if pe is not None:
            candidates.append((pe, "ngày hết thời gian thử thách án treo"))
    else:
        done = c.principal_completed_on
        if done is None and c.penalty is PenaltyType.WARNING:
            done = c.legal_effect_date  # a warning is executed when the judgment takes effect
        if done is not None:
            candidates.append((done, "ngày chấp hành xong hình phạt chính"))
        if c.remainder_exempted_on is not None:
            candidates.append((c.remainder_exempted_on, "ngày được miễn chấp hành phần hình phạt còn lại (khoản 4 Điều 73)"))
        if c.special_pardon_on is not None:
            candidates.append((c.special_pardon_on, "ngày được đặc xá"))
    if not candidates:
        return None, ""
    return min(candidates)


def limitation_applies(c: Conviction, rules: ExpungementRules | None = None) -> bool:
    """False when art. 61 excludes the enforcement limitation for an offence of the judgment.

    BLHS Điều 61 (sửa đổi 2017): "Không áp dụng thời hiệu thi hành bản án đối với các tội quy định tại
    Chương XIII, Chương XXVI, khoản 3 và khoản 4 Điều 353, khoản 3 và khoản 4 Điều 354 của Bộ luật này."
    (No limitation for crimes against national security, against peace and humanity / war crimes, and
    embezzlement or bribe-taking under clauses 3-4.)
    """
    rules = rules or rules_in_force(max(c.legal_effect_date, RULESETS[0].effective_from))
    for o in c.offences:
        if _chapter(o, rules) in rules.limitation_excluded_chapters:
            return False
        for article, clauses in rules.limitation_excluded_clauses:
            if o.article == article and o.clause in clauses:
                return False
    return True


def _limitation_start(c: Conviction, rules: ExpungementRules) -> tuple[date | None, str]:
    if c.limitation_expired_on is None or not limitation_applies(c, rules):
        return None, ""
    return c.limitation_expired_on, "ngày hết thời hiệu thi hành bản án (khoản 3 Điều 70)"


def principal_start(c: Conviction, rules: ExpungementRules | None = None) -> tuple[date | None, str]:
    """``T0`` of this judgment alone and a Vietnamese description of the event (art. 70.2, 70.3, 73.4).

    The earlier of the served date (art. 70.2) and the expiry of the enforcement limitation (art. 70.3,
    ignored where art. 61 excludes it).  Art. 73.2 restarts an earlier conviction from this date of a
    new judgment: "kể từ ngày chấp hành xong hình phạt chính hoặc thời gian thử thách án treo của bản án
    mới hoặc từ ngày bản án mới hết thời hiệu thi hành".
    """
    rules = rules or rules_in_force(max(c.legal_effect_date, RULESETS[0].effective_from))
    candidates = [x for x in (_served_start(c), _limitation_start(c, rules)) if x[0] is not None]
    if not candidates:
        return None, ""
    return min(candidates)


def enforcement_limitation_end(c: Conviction, rules: ExpungementRules | None = None) -> date | None:
    """Default end of the enforcement limitation (art. 60.2, 60.4), counted from the legal-effect date.

    BLHS Điều 60 khoản 2: "a) 05 năm đối với các trường hợp xử phạt tiền, cải tạo không giam giữ hoặc xử
    phạt tù từ 03 năm trở xuống; b) 10 năm ... từ trên 03 năm đến 15 năm; c) 15 năm ... từ trên 15 năm
    đến 30 năm; d) 20 năm ... tù chung thân hoặc tử hình"; khoản 4: "được tính từ ngày bản án có hiệu
    lực pháp luật".  None when no limitation applies: art. 61 exclusions (chapters XIII, XXVI, art. 353
    and 354 clauses 3-4), a warning (executed on pronouncement, not in art. 60.2), exemption, judicial
    measures or expulsion.

    Ignores interruptions (a new offence restarts it from the new act, art. 60.4; absconding under a
    wanted notice restarts it from surrender or arrest, art. 60.5) which the engine cannot see; the
    caller decides whether to set ``limitation_expired_on``.
    """
    rules = rules or rules_in_force(max(c.legal_effect_date, RULESETS[0].effective_from))
    if not limitation_applies(c, rules):
        return None
    numeric = [(bound, years) for bound, years in rules.limitation_brackets if bound is not None]
    open_ended = [years for bound, years in rules.limitation_brackets if bound is None]
    if c.penalty in rules.limitation_light_penalties:
        years = numeric[0][1]
    elif c.penalty is PenaltyType.IMPRISONMENT and c.term_months is not None:
        found = next((y for bound, y in numeric if c.term_months <= bound), None)
        if found is None:  # over 30 years cannot be pronounced (art. 38); treat as the highest numeric bracket
            found = numeric[-1][1]
        years = found
    elif c.penalty in (PenaltyType.LIFE, PenaltyType.DEATH) and open_ended:
        years = open_ended[0]
    else:
        return None
    return add_months(c.legal_effect_date, 12 * years)


def _chapter(o: Offence, rules: ExpungementRules) -> int | None:
    return o.chapter if o.chapter is not None else rules.chapter_of(o.article)


def _bracket(c: Conviction, light: int, brackets: tuple[Bracket, ...],
             light_penalties: tuple[PenaltyType, ...]) -> tuple[int, str] | None:
    """(waiting months, điểm) for the principal penalty as pronounced (art. 73.1)."""
    if c.suspended or c.penalty in light_penalties:
        return light, "a"
    if c.penalty is PenaltyType.IMPRISONMENT:
        if c.term_months is None:
            return None
        for b in brackets:
            if b.max_months is None or c.term_months <= b.max_months:
                return b.wait_months, b.point
    if c.penalty is PenaltyType.LIFE or (c.penalty is PenaltyType.DEATH and c.death_commuted):
        return brackets[-1].wait_months, brackets[-1].point
    return None


def _offence_ages(person: Person, c: Conviction) -> list[int | None]:
    ages: list[int | None] = []
    for o in c.offences:
        if o.age_at_offence is not None:
            ages.append(o.age_at_offence)
        elif o.offence_date is not None:
            ages.append(age_on(person.birth_date, o.offence_date))
        elif c.age_at_offence is not None:
            ages.append(c.age_at_offence)
        else:
            ages.append(None)
    return ages


def _is_minor_case(person: Person, c: Conviction) -> tuple[bool, list[int | None]]:
    """All offences committed under 18 (art. 107 applies only then; mixed judgments use adult rules)."""
    ages = _offence_ages(person, c)
    if all(a is not None for a in ages):
        return all(a < 18 for a in ages if a is not None), ages
    if c.committed_under_18 is True:
        # Unknown exact ages: assume 16-<18 (the stricter branch of art. 107) where unknown.
        return all(a is None or a < 18 for a in ages), [a if a is not None else 16 for a in ages]
    return False, ages


def _trigger_date(n: Conviction, rules: ExpungementRules) -> tuple[date, bool]:
    """Date that decides whether ``n`` is a 'new offence' (art. 73.2); flag = fell back to the judgment date."""
    if rules.reset_trigger == "judgment_date":
        return n.judgment_date, False
    dates = [o.offence_date for o in n.offences if o.offence_date is not None]
    return (min(dates), False) if dates else (n.judgment_date, True)


@dataclass(frozen=True)
class _Obligations:
    """When the additional penalties and other decisions of a judgment are completed."""

    extension_done: date | None  # the bans the last paragraph of art. 70.2 / 71.2 lets end the period
    other_done: date | None  # everything else (fines, confiscation, court fee, compensation, other bans)
    missing: tuple[str, ...]

    @property
    def latest(self) -> date | None:
        dates = [d for d in (self.extension_done, self.other_done) if d is not None]
        return max(dates) if dates else None


def _obligations_done(c: Conviction, t0: date | None, extension_kinds: tuple[AdditionalPenaltyType, ...] = ()) -> _Obligations:
    """Completion of the additional penalties and the other decisions of the judgment (arts. 70.2, 71.2)."""
    ext: date | None = None
    other: date | None = None
    missing: list[str] = []

    def bump(current: date | None, d: date) -> date:
        return d if current is None or d > current else current

    non_custodial = c.suspended or c.penalty in (PenaltyType.WARNING, PenaltyType.FINE, PenaltyType.NON_CUSTODIAL_REFORM)
    for ap in c.additional_penalties:
        done = ap.completed_on
        if done is None and ap.months is not None:
            # Bans, residence bans, supervision and civic-rights deprivation run from the end of the
            # prison term, or from the legal-effect date for non-custodial/suspended sentences (arts. 41-44).
            start = c.legal_effect_date if non_custodial else t0
            if start is not None:
                done = add_months(start, ap.months)
        if done is None:
            missing.append(f"chưa chấp hành xong hình phạt bổ sung {ADDITIONAL_PENALTY_VI[ap.kind]}")
        elif ap.kind in extension_kinds:
            ext = bump(ext, done)
        else:
            other = bump(other, done)
    if c.has_other_obligations:
        if c.other_obligations_completed_on is not None:
            other = bump(other, c.other_obligations_completed_on)
        else:
            missing.append("chưa thi hành xong các quyết định khác của bản án (án phí, bồi thường, ...)")
    return _Obligations(ext, other, tuple(missing))


def _in_force(c: Conviction, on: date) -> bool:
    return c.legal_effect_date <= on


def _penalty_text(c: Conviction) -> str:
    if c.penalty is PenaltyType.IMPRISONMENT and c.term_months is not None:
        text = f"{fmt_months(c.term_months)} tù"
        if c.suspended:
            text += " cho hưởng án treo"
        return text
    if c.penalty is PenaltyType.NON_CUSTODIAL_REFORM and c.term_months is not None:
        return f"{fmt_months(c.term_months)} cải tạo không giam giữ"
    return _PENALTY_VI[c.penalty]


# ---------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------
def expungement_status(
    person: Person,
    conviction: Conviction,
    on: date,
    all_convictions: Iterable[Conviction] = (),
    rules: ExpungementRules | None = None,
) -> ExpungementResult:
    """Expungement state of ``conviction`` on ``on``, given the person's other convictions."""
    rules = rules or rules_in_force(on)
    c = conviction
    others = [n for n in all_convictions if n.id != c.id and _in_force(n, on)]
    if not _in_force(c, on):
        return ExpungementResult(
            c.id, False, None, Basis.NOT_IN_FORCE,
            f"Bản án chưa có hiệu lực pháp luật vào ngày {fmt_date(on)} (có hiệu lực từ {fmt_date(c.legal_effect_date)}); chưa phải là án tích.",
            in_force=False,
        )
    core = _core_status(person, c, on, others, rules)
    if c.amnesty_on is not None and c.amnesty_on <= on and rules.amnesty_clears_record:
        if not core.expunged or (core.since is not None and core.since > c.amnesty_on):
            return ExpungementResult(
                c.id, True, c.amnesty_on, Basis.AMNESTY,
                f"Được đại xá ngày {fmt_date(c.amnesty_on)}; được coi là không có án tích kể từ ngày đó.",
                legal_refs=("đại xá",),
            )
    return core


def _core_status(person: Person, c: Conviction, on: date, others: list[Conviction], rules: ExpungementRules) -> ExpungementResult:
    # --- art. 69.2: exemption from penalty -> no record at all (adults and minors alike) ----------
    if c.penalty is PenaltyType.EXEMPTED:
        return ExpungementResult(
            c.id, True, c.legal_effect_date, Basis.NO_RECORD,
            "Người được miễn hình phạt không bị coi là có án tích (khoản 2 Điều 69 BLHS).",
            legal_refs=("BLHS Điều 69 khoản 2",),
        )

    # --- art. 107: persons under 18 at the time of every offence --------------------------------
    minor, ages = _is_minor_case(person, c)
    if minor:
        never = []
        for o, a in zip(c.offences, ages):
            assert a is not None
            if c.penalty is PenaltyType.JUDICIAL_MEASURE:
                never.append("điểm c khoản 1 Điều 107 (áp dụng biện pháp tư pháp)")
            elif a < rules.minor_never_record_below_age:
                never.append(f"điểm a khoản 1 Điều 107 (phạm tội khi {a} tuổi, từ đủ 14 đến dưới 16 tuổi)")
            elif o.severity is not None and o.intentional is not None and (
                (o.intentional and o.severity in rules.minor_never_record_intentional)
                or (not o.intentional and o.severity in rules.minor_never_record_unintentional)
            ):
                kind = "do cố ý" if o.intentional else "do vô ý"
                never.append(f"điểm b khoản 1 Điều 107 (tội phạm {_SEVERITY_VI[o.severity]} {kind}, phạm tội khi {a} tuổi)")
            elif o.severity is not None and o.intentional is None and o.severity in rules.minor_never_record_intentional:
                never.append(f"điểm b khoản 1 Điều 107 (tội phạm {_SEVERITY_VI[o.severity]}, phạm tội khi {a} tuổi)")
            else:
                never = []
                break
        if never:
            return ExpungementResult(
                c.id, True, c.legal_effect_date, Basis.MINOR_NEVER_RECORD,
                "Người dưới 18 tuổi bị kết án được coi là không có án tích theo " + "; ".join(dict.fromkeys(never)) + " BLHS.",
                legal_refs=("BLHS Điều 107 khoản 1",),
            )
        return _timed(c, on, others, rules, Basis.MINOR_AUTOMATIC)

    # --- art. 69.2: no record at all -------------------------------------------------------------
    if all(o.intentional is False and o.severity in rules.adult_no_record_unintentional for o in c.offences):
        return ExpungementResult(
            c.id, True, c.legal_effect_date, Basis.NO_RECORD,
            "Bị kết án do lỗi vô ý về tội phạm ít nghiêm trọng hoặc nghiêm trọng nên không bị coi là có án tích (khoản 2 Điều 69 BLHS).",
            legal_refs=("BLHS Điều 69 khoản 2",),
        )

    # --- no expungement route --------------------------------------------------------------------
    if c.penalty is PenaltyType.DEATH and not c.death_commuted:
        return ExpungementResult(
            c.id, False, None, Basis.NOT_APPLICABLE,
            "Hình phạt tử hình chưa được giảm án: không có thời hạn xóa án tích theo Điều 70, 71 BLHS.",
        )
    court_track = any(_chapter(o, rules) in rules.court_chapters for o in c.offences)
    if court_track:
        return _timed(c, on, others, rules, Basis.COURT_DECISION)
    return _timed(c, on, others, rules, Basis.AUTOMATIC)


@dataclass
class _Route:
    """One way of counting the period: from service of the penalty (art. 70.2) or from the expiry
    of the enforcement limitation (art. 70.3), after the art. 73.2 restarts."""

    start: date
    what: str
    due: date | None  # None: blocked
    missing: tuple[str, ...]
    blocked_new: "Conviction | None"
    notes: list[str]
    refs: list[str]
    restarted: bool
    late_items: bool  # completion of an additional penalty / other decision moved the date


def _params(rules: ExpungementRules, basis: Basis) -> tuple[int, tuple[Bracket, ...], tuple[PenaltyType, ...], str,
                                                            tuple[AdditionalPenaltyType, ...], tuple[str, ...]]:
    if basis is Basis.MINOR_AUTOMATIC:
        return rules.minor_light_months, rules.minor_brackets, rules.minor_light_penalties, "khoản 2 Điều 107", (), ()
    if basis is Basis.COURT_DECISION:
        light_penalties = rules.court_light_penalties
        if rules.court_fine_reading == "light":
            light_penalties = (*light_penalties, PenaltyType.FINE)
        return (rules.court_light_months, rules.court_brackets, light_penalties, "khoản 2 Điều 71",
                rules.court_extension_kinds, rules.court_extension_points)
    return (rules.automatic_light_months, rules.automatic_brackets, rules.automatic_light_penalties, "khoản 2 Điều 70",
            rules.automatic_extension_kinds, rules.automatic_extension_points)


def _route(c: Conviction, others: list[Conviction], rules: ExpungementRules, wait: int, start: date, what: str,
           obligations: _Obligations | None, extension_applies: bool) -> _Route:
    """Due date of one route: the period from ``start`` (moved by late obligations, art. 73.2 restarts)."""
    notes: list[str] = []
    refs: list[str] = []
    missing = obligations.missing if obligations is not None else ()
    late = False

    def due_from(begin: date) -> date:
        nonlocal late
        due = _period_end(begin, wait, rules)
        if obligations is None:
            return due
        ext, other = obligations.extension_done, obligations.other_done
        if not extension_applies and ext is not None:  # not one of the listed bans/points: like any other item
            other = ext if other is None or ext > other else other
            ext = None
        candidates = [due]
        if ext is not None:
            candidates.append(_after(ext, rules))  # last paragraph of art. 70.2 / 71.2: ends at completion
        if other is not None:
            if rules.late_obligations_policy == "restart_period" and other > begin:
                candidates.append(_period_end(other, wait, rules))
            else:
                candidates.append(_after(other, rules))
        result = max(candidates)
        if result != due:
            late = True
        return result

    begin = start
    due = due_from(begin)
    used: set[str] = set()
    blocked_new: Conviction | None = None
    restarted = False
    while True:
        hits = []
        for n in others:
            if n.id in used:
                continue
            td, fell_back = _trigger_date(n, rules)
            if c.legal_effect_date <= td < due:
                hits.append((td, n.id, n, fell_back))
        if not hits:
            break
        td, _, n, fell_back = min(hits)
        used.add(n.id)
        n_t0, _ = principal_start(n, rules)
        if fell_back:
            notes.append(f"bản án {n.id or 'mới'} không ghi ngày phạm tội, tạm lấy ngày tuyên án {fmt_date(td)}")
        if n_t0 is None:
            blocked_new = n
            break
        notes.append(
            f"phạm tội mới ngày {fmt_date(td)} (bản án {n.id}) khi chưa được xóa án tích: thời hạn tính lại từ "
            f"ngày chấp hành xong bản án mới {fmt_date(n_t0)} (khoản 2 Điều 73 BLHS)"
        )
        refs.append("BLHS Điều 73 khoản 2")
        if n_t0 > begin:
            begin = n_t0
            restarted = True
        due = max(due, due_from(begin))
    return _Route(begin, what, None if (missing or blocked_new is not None) else due, missing, blocked_new, notes,
                  refs, restarted, late)


def _timed(c: Conviction, on: date, others: list[Conviction], rules: ExpungementRules, basis: Basis) -> ExpungementResult:
    light, brackets, light_penalties, clause_ref, ext_kinds, ext_points = _params(rules, basis)
    refs = [f"BLHS {clause_ref}"]
    court = basis is Basis.COURT_DECISION
    minor = basis is Basis.MINOR_AUTOMATIC
    found = _bracket(c, light, brackets, light_penalties)
    if found is None:
        if court and c.penalty is PenaltyType.FINE:
            reason = ("Hình phạt chính là phạt tiền nhưng điểm a khoản 2 Điều 71 BLHS (sửa đổi 2017) chỉ quy định cảnh cáo, "
                      "cải tạo không giam giữ, phạt tù cho hưởng án treo: luật không quy định thời hạn; cần cán bộ xem xét.")
        else:
            reason = (f"Hình phạt chính ({_penalty_text(c)}) không thuộc trường hợp nào tại {clause_ref} BLHS "
                      "(hoặc thiếu thời hạn tù); cần xem xét thủ công.")
        return ExpungementResult(c.id, False, None, Basis.NOT_APPLICABLE, reason, legal_refs=(f"BLHS {clause_ref}",))
    wait, point = found
    period_ref = f"điểm {point} {clause_ref} BLHS"
    period_txt = f"thời hạn {fmt_months(wait)} (hình phạt chính đã tuyên: {_penalty_text(c)}; {period_ref})"
    extension_applies = point in ext_points

    served, served_what = _served_start(c)
    lim, lim_what = (None, "") if court else _limitation_start(c, rules)
    ignored_limitation = c.limitation_expired_on is not None and lim is None
    routes: list[_Route] = []
    if served is not None:
        obl = None if minor else _obligations_done(c, served, ext_kinds)
        routes.append(_route(c, others, rules, wait, served, served_what, obl, extension_applies))
    if lim is not None:
        obl = None
        if not minor and rules.limitation_route_requires_obligations:
            obl = _obligations_done(c, served, ext_kinds)
        routes.append(_route(c, others, rules, wait, lim, lim_what, obl, extension_applies))
    lim_note = ("thời hiệu thi hành bản án không áp dụng đối với tội trong bản án (Điều 61 BLHS) nên không tính từ ngày "
                "được báo hết thời hiệu") if ignored_limitation else ""
    if not routes:
        text = f"Chưa chấp hành xong hình phạt chính / chưa hết thời gian thử thách án treo nên chưa bắt đầu tính {period_txt}"
        return ExpungementResult(
            c.id, False, None, basis, text + (f"; {lim_note}" if lim_note else "") + ".",
            period_months=wait, blocked_by=("chưa chấp hành xong hình phạt chính",), legal_refs=tuple(refs),
        )

    open_routes = [r for r in routes if r.due is not None]
    best = min(open_routes, key=lambda r: r.due) if open_routes else routes[0]
    notes = list(best.notes)
    if lim_note:
        notes.append(lim_note)
    if best.what.endswith("(khoản 3 Điều 70)"):
        refs.append("BLHS Điều 70 khoản 3")
    refs.extend(best.refs)
    note_txt = ("; " + "; ".join(notes)) if notes else ""
    start = best.start
    special_from = None
    if not minor:
        num, den = rules.special_fraction
        special_from = _period_end(start, wait * num // den, rules)
    base_txt = f"{best.what} {fmt_date(start)}" if not best.restarted else f"ngày chấp hành xong bản án mới {fmt_date(start)}"

    if best.due is None and best.blocked_new is not None:
        n = best.blocked_new
        return ExpungementResult(
            c.id, False, None, basis,
            f"Phạm tội mới (bản án {n.id}) khi chưa được xóa án tích; thời hạn {fmt_months(wait)} sẽ tính lại từ ngày "
            f"chấp hành xong hình phạt chính của bản án mới (khoản 2 Điều 73 BLHS), hiện chưa xác định{note_txt}.",
            start_date=None, period_months=wait, blocked_by=(f"bản án mới {n.id} chưa chấp hành xong",),
            legal_refs=tuple(dict.fromkeys(refs + ["BLHS Điều 73 khoản 2"])),
        )
    missing = list(best.missing)
    due = best.due

    # Court decision present (art. 71 / 72), possibly earlier than an automatic date.
    decision = c.court_expungement_on if c.court_expungement_on is not None and c.court_expungement_on <= on else None
    decision_basis = Basis.SPECIAL if c.court_expungement_article == 72 else Basis.COURT_DECISION
    decision_ref = "BLHS Điều 72" if decision_basis is Basis.SPECIAL else "BLHS Điều 71"

    if court:
        eligible = due
        refusals = sorted(d for d in c.court_refusals if d <= on)
        if refusals and eligible is not None:
            first_wait, later_wait = rules.refusal_wait_months
            after = add_months(refusals[-1], first_wait if len(refusals) == 1 else later_wait)
            eligible = max(eligible, after)
            notes.append(f"bị bác đơn lần {len(refusals)} ngày {fmt_date(refusals[-1])}: được nộp lại từ {fmt_date(after)} (khoản 3 Điều 71)")
            note_txt = "; " + "; ".join(notes)
        if decision is not None:
            return ExpungementResult(
                c.id, True, decision, decision_basis,
                f"Được Tòa án quyết định xóa án tích ngày {fmt_date(decision)} ({decision_ref}).",
                start_date=start, period_months=wait, special_eligible_from=special_from, legal_refs=(decision_ref, *refs),
            )
        if missing:
            reason = f"Tội thuộc Chương XIII/XXVI: chỉ được xóa án tích theo quyết định của Tòa án, {period_txt}; " + "; ".join(missing) + note_txt + "."
        else:
            reason = (
                f"Tội thuộc Chương XIII/XXVI (hoặc bản án có tội thuộc các chương này, khoản 3 Điều 73): chỉ được xóa án tích theo quyết định của Tòa án; "
                f"{period_txt} kể từ {base_txt}; có thể đề nghị Tòa án xóa án tích từ ngày {fmt_date(eligible)}{note_txt}."
            )
        return ExpungementResult(
            c.id, False, None, Basis.COURT_DECISION, reason, waiting_until=eligible, start_date=start,
            period_months=wait, special_eligible_from=special_from, blocked_by=tuple(missing), legal_refs=tuple(dict.fromkeys(refs)),
        )

    # Automatic routes (art. 70, art. 107.2).
    article_name = "Điều 107" if minor else "Điều 70"
    if due is not None and due <= on:
        if decision is not None and decision < due:
            return ExpungementResult(
                c.id, True, decision, decision_basis,
                f"Được Tòa án quyết định xóa án tích ngày {fmt_date(decision)} ({decision_ref}) trước thời điểm đương nhiên xóa án tích {fmt_date(due)}.",
                start_date=start, period_months=wait, special_eligible_from=special_from, legal_refs=(decision_ref, *refs),
            )
        extra = ""
        if best.late_items:
            extra = "; hình phạt bổ sung/quyết định khác của bản án chấp hành xong sau khi hết thời hạn nên tính theo ngày chấp hành xong"
        lim_only = best.what.endswith("(khoản 3 Điều 70)")
        cond = "không phạm tội mới" + (" (khoản 3 Điều 70 chỉ đòi hỏi điều kiện này)" if lim_only and not minor else "")
        return ExpungementResult(
            c.id, True, due, basis,
            f"Đương nhiên được xóa án tích theo {article_name} BLHS: {period_txt} kể từ {base_txt}, {cond}; "
            f"được xóa án tích từ ngày {fmt_date(due)}{extra}{note_txt}.",
            start_date=start, period_months=wait, special_eligible_from=special_from, legal_refs=tuple(dict.fromkeys(refs)),
        )
    if decision is not None:
        return ExpungementResult(
            c.id, True, decision, decision_basis,
            f"Được Tòa án quyết định xóa án tích ngày {fmt_date(decision)} ({decision_ref}).",
            start_date=start, period_months=wait, special_eligible_from=special_from, legal_refs=(decision_ref, *refs),
        )
    if due is None:
        return ExpungementResult(
            c.id, False, None, basis,
            f"Chưa đủ điều kiện đương nhiên xóa án tích theo {article_name} BLHS ({period_txt} kể từ {base_txt}): " + "; ".join(missing) + note_txt + ".",
            start_date=start, period_months=wait, special_eligible_from=special_from, blocked_by=tuple(missing),
            legal_refs=tuple(dict.fromkeys(refs)),
        )
    return ExpungementResult(
        c.id, False, None, basis,
        f"Chưa đủ thời hạn đương nhiên xóa án tích theo {article_name} BLHS: {period_txt} kể từ {base_txt}; "
        f"nếu không phạm tội mới sẽ được xóa án tích từ ngày {fmt_date(due)}{note_txt}.",
        waiting_until=due, start_date=start, period_months=wait, special_eligible_from=special_from,
        legal_refs=tuple(dict.fromkeys(refs)),
    )


def explain(
    person: Person,
    convictions: Sequence[Conviction],
    on: date,
    rules: ExpungementRules | None = None,
) -> Explanation:
    """Per-conviction results on ``on`` plus ``has_record`` for certificate No. 1.

    ``has_record`` is True when at least one conviction in force is not expunged (bases
    ``not_applicable`` count as a record).  Results keep the input order.
    """
    rules = rules or rules_in_force(on)
    ids = [c.id for c in convictions]
    if len(set(ids)) != len(ids):
        raise ValueError("conviction ids must be unique")
    results = tuple(expungement_status(person, c, on, convictions, rules) for c in convictions)
    has_record = any(r.counts_as_record for r in results)
    if not any(r.in_force for r in results):
        summary = "Không có án tích."
    elif has_record:
        n = sum(r.counts_as_record for r in results)
        summary = f"Có án tích ({n} bản án chưa được xóa án tích)."
    else:
        summary = "Không có án tích (các án tích đã được xóa hoặc không bị coi là có án tích)."
    return Explanation(on, results, has_record, summary, rules.name)


def with_rules(rules: ExpungementRules, **changes) -> ExpungementRules:
    """A copy of a rule set with some items changed (e.g. a verified table or another convention)."""
    return replace(rules, **changes)


__all__.append("with_rules")
__all__.append("BLHS_2015_2017")
__all__.append("Bracket")


# ---------------------------------------------------------------------------------------------
# Where each figure comes from (lienthong.legal); warnings shown on the officer's case page
# ---------------------------------------------------------------------------------------------
_PD = "Bộ pháp điển, đề mục Hình sự (BLHS 100/2015/QH13 sửa đổi bởi Luật 12/2017/QH14); bản sao github.com/diepxuan/diepxuan.github.io van-ban/hinh-su/hinh-su.md"

FIGURES: tuple[Figure, ...] = (
    Figure("expungement.art69_no_record", "No record: unintentional less-serious/serious offences, exemption from penalty",
           "art. 69.2", "confirmed", f"BLHS Điều 69 khoản 2; {_PD}"),
    Figure("expungement.art70_periods", "Automatic expungement periods", "1 / 2 / 3 / 5 years", "confirmed",
           f"BLHS Điều 70 khoản 2; {_PD}; https://hethongphapluat.com/bo-luat-hinh-su-2015/dieu-70"),
    Figure("expungement.art70_extension", "Longer bans end the automatic period at completion (points a-c)",
           "supervision, residence ban, post/profession ban, civic rights; points a, b, c", "confirmed",
           f"BLHS Điều 70 khoản 2 đoạn cuối; {_PD}"),
    Figure("expungement.art70_3", "After the enforcement limitation only 'no new offence' is required", "art. 70.3",
           "confirmed", f"BLHS Điều 70 khoản 3; {_PD}"),
    Figure("expungement.art71_periods", "Court-decision periods (Law 12/2017)", "1 / 3 / 5 / 7 years; fines not in point a",
           "confirmed", f"BLHS Điều 71 khoản 2 (sửa đổi bởi Điều 1 Luật 12/2017/QH14); {_PD}; lawnet.vn "
           "what-are-the-cases-of-conviction-expungement-under-a-court-s-decision-in-vietnam-121420"),
    Figure("expungement.art71_extension", "Longer bans on the court route", "supervision, residence ban, civic rights; points a, b",
           "confirmed", f"BLHS Điều 71 khoản 2 đoạn cuối; {_PD}"),
    Figure("expungement.art71_refusals", "Reapplication after a court refusal", "1 year, then 2 years", "confirmed",
           f"BLHS Điều 71 khoản 3; {_PD}"),
    Figure("expungement.art72_fraction", "Special court expungement", "at least 1/3 of the art. 70.2 / 71.2 period",
           "confirmed", f"BLHS Điều 72; {_PD}"),
    Figure("expungement.art73", "Period by the pronounced penalty; restart on a new offence; mixed judgments; remission",
           "art. 73.1-4", "confirmed", f"BLHS Điều 73; {_PD}"),
    Figure("expungement.art107", "Minors: no record cases and 6 months / 1 / 2 / 3 years", "art. 107 (Law 12/2017)",
           "confirmed", f"BLHS Điều 107 (sửa đổi 2017); {_PD}"),
    Figure("expungement.chapters", "Court-route chapters", "XIII = arts. 108-122, XXVI = arts. 421-425", "confirmed",
           f"BLHS Chương XIII (Điều 108-122), Chương XXVI (Điều 421-425); {_PD}"),
    Figure("expungement.art60_limitation", "Enforcement limitation", "5 / 10 / 15 / 20 years from the legal-effect date; "
           "none for a warning", "confirmed", f"BLHS Điều 60 khoản 2, 4; {_PD}; https://luathoangsa.vn/dieu-60-thoi-hieu-thi-hanh-ban-an-theo-bo-luat-hinh-su-nd76822.html"),
    Figure("expungement.art61", "No enforcement limitation", "chapters XIII, XXVI; art. 353, 354 clauses 3-4", "confirmed",
           f"BLHS Điều 61 (sửa đổi bởi Luật 12/2017/QH14); {_PD}"),
    Figure("expungement.additional_penalty_start", "When bans start", "after prison; from legal effect for warning, fine, "
           "non-custodial reform or suspended sentence (posts/professions, civic rights)", "confirmed",
           f"BLHS Điều 41-44; {_PD}"),
    Figure("expungement.probation_start", "Probation of a suspended sentence starts", "on the first-instance pronouncement",
           "confirmed", "Nghị quyết 02/2018/NQ-HĐTP Điều 5 khoản 1 (Bộ pháp điển, đề mục Hình sự, Điều 16.1.NQ.4.5)"),
    Figure("expungement.period_end", "Day of the event not counted; a period in years ends at the end of the same date",
           "expunged on the day after T0 + W", "confirmed",
           "BLDS 2015 Điều 147 khoản 2-3, Điều 148 khoản 4; https://thuvienphapluat.vn/hoi-dap-phap-luat/"
           "3896F-hd-thoi-diem-bat-dau-va-ket-thuc-thoi-han-duoc-xac-dinh-nhu-the-nao.html"),
    Figure("expungement.reset_trigger", "A new offence is dated by the act", "offence date", "confirmed",
           "BLHS Điều 73 khoản 2 'thực hiện hành vi phạm tội mới và bị Tòa án kết án bằng bản án có hiệu lực'"),
    Figure("expungement.amnesty", "An amnesty clears the record from its date", "amnesty_clears_record=True", "configurable",
           "BLHS Điều 62 khoản 1 only exempts from serving the penalty; practice note pbgdpl.camau.gov.vn (domain §1.4)",
           "Đại xá: hệ thống coi người được đại xá là không có án tích từ ngày đại xá theo thực tiễn cấp Phiếu; "
           "Điều 62 BLHS chỉ quy định miễn chấp hành hình phạt. Cán bộ cần đối chiếu nghị quyết đại xá cụ thể.",
           "ExpungementRules.amnesty_clears_record"),
    Figure("expungement.late_obligations", "Late additional penalties / other decisions outside the listed bans",
           "expunged at completion (at_completion)", "configurable",
           "BLHS Điều 70 khoản 2, Điều 71 khoản 2 (condition); practitioners disagree (tapchitoaan.vn 9416)",
           "Án phí, bồi thường hoặc hình phạt bổ sung thi hành xong sau khi hết thời hạn: hệ thống tính xóa án tích từ "
           "ngày thi hành xong (có quan điểm cho rằng phải tính lại toàn bộ thời hạn). Cán bộ kiểm tra trước khi cấp Phiếu.",
           "ExpungementRules.late_obligations_policy"),
    Figure("expungement.court_fine", "A fine on the court route has no period in art. 71.2", "not applicable: a person decides",
           "configurable", f"BLHS Điều 71 khoản 2 điểm a (không liệt kê phạt tiền); {_PD}",
           "Bản án về tội thuộc Chương XIII/XXVI với hình phạt chính là phạt tiền: Điều 71 không quy định thời hạn; "
           "hệ thống không tự tính, cán bộ xem xét.", "ExpungementRules.court_fine_reading"),
)


def officer_notes(results: Iterable[ExpungementResult], convictions: Iterable[Conviction] = ()) -> list[str]:
    """Warnings for the configurable figures the given results depend on (officer's case page)."""
    keys: list[str] = []
    by_id = {c.id: c for c in convictions}
    for r in results:
        if r.basis is Basis.AMNESTY:
            keys.append("expungement.amnesty")
        c = by_id.get(r.conviction_id)
        if r.basis is Basis.NOT_APPLICABLE and c is not None and c.penalty is PenaltyType.FINE:
            keys.append("expungement.court_fine")
        if c is not None and (c.has_other_obligations or c.additional_penalties) and r.basis in (
                Basis.AUTOMATIC, Basis.COURT_DECISION, Basis.MINOR_AUTOMATIC):
            keys.append("expungement.late_obligations")
    return notes(keys)


__all__ += ["FIGURES", "officer_notes", "limitation_applies"]
