"""Expungement of convictions (xóa án tích): Penal Code 2015, amended 2017 (BLHS), arts. 69-73, 107.

Pure functions over plain dataclasses; no database.  One :class:`Conviction` is one judgment in force
(it may cover several offences).  :func:`expungement_status` evaluates one conviction at a date,
taking the person's other convictions into account (art. 73.2 restarts); :func:`explain` does all
of them and says whether certificate No. 1 would show a record.

Legal routes (``basis``)
------------------------
- ``"no_record"``: art. 69.2: unintentional less-serious/serious offences, or exemption from penalty:
  the person is not considered to have a record at all.
- ``"minor_never_record"``: art. 107.1: offence at 14-<16; at 16-<18 for less-serious/serious
  offences or unintentional very serious ones; judicial measures instead of a penalty.
- ``"minor_automatic"``: art. 107.2: 16-<18, intentional very serious / especially serious: automatic
  after 6 months / 1 / 2 / 3 years.
- ``"automatic"``: art. 70: all offences outside chapters XIII and XXVI: 1 / 2 / 3 / 5 years.
- ``"court_decision"``: art. 71 (and art. 73.3 for mixed judgments): chapters XIII, XXVI: 3 / 5 / 7 /
  10 years, then only a court decision expunges.
- ``"special"``: art. 72: court decision after at least 1/3 of the period.
- ``"amnesty"``: đại xá; the record is cleared from the amnesty date [mem].
- ``"not_in_force"``: the judgment has not taken legal effect by the evaluation date: not (yet) a
  record at all.
- ``"not_applicable"``: no expungement route (death sentence not commuted; a principal penalty with
  no period in art. 70.2, e.g. expulsion): needs a person to look at it.

For a not-yet-expunged conviction ``basis`` is the route that will apply and ``waiting_until`` the
first day it can (automatic routes) or the first day a court may decide (court routes).

Date conventions (parameters of :class:`ExpungementRules`)
---------------------------------------------------------
- ``T0`` is the day the principal penalty was completed, the probation of a suspended sentence
  ended, or the enforcement limitation expired (arts. 70.2, 70.3); remission of the remainder of a
  sentence (art. 73.4) and release under a special pardon (đặc xá) count as completion.
- ``period_end_convention="day_after_anniversary"`` (default, Civil Code 2015 arts. 147-148: the day
  of the event is not counted and a period in years ends at the end of the corresponding day): the
  person is expunged on the day after ``T0 + W``.  ``"anniversary"`` gives ``T0 + W`` itself [?].
- Additional penalties and other decisions of the judgment (fines, court fee, compensation) must be
  completed (art. 70.2).  ``late_obligations_policy="at_completion"`` (default, art. 70.2 last
  paragraph): when they end after ``T0 + W`` the person is expunged once they are completed;
  ``"restart_period"``: the whole period ``W`` runs again from their completion (a stricter reading
  some practitioners use) [?].
- Art. 73.2: a new offence committed after this judgment took effect and before it was expunged,
  once convicted by a judgment in force, restarts this conviction's period from the new
  judgment's own ``T0``.  ``reset_trigger="offence_date"`` (default, "thực hiện hành vi phạm tội mới")
  compares the date of the new act; ``"judgment_date"`` the date of the new judgment [?].

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


@dataclass(frozen=True)
class ExpungementRules:
    """One version of the expungement rules.  All periods in months.  ``verified`` notes per item."""

    name: str
    effective_from: date
    effective_until: date | None
    legal_basis: str
    # art. 70.2 (automatic)
    automatic_light_months: int = 12
    automatic_brackets: tuple[Bracket, ...] = (Bracket(60, 24, "b"), Bracket(180, 36, "c"), Bracket(None, 60, "d"))
    # art. 71.2 (court decision)
    court_light_months: int = 36
    court_brackets: tuple[Bracket, ...] = (Bracket(60, 60, "b"), Bracket(180, 84, "c"), Bracket(None, 120, "d"))
    # art. 71.4 reapplication after refusal: first refusal, second and later
    refusal_wait_months: tuple[int, int] = (12, 24)
    # art. 72: fraction of the art. 70.2 / 71.2 period
    special_fraction: tuple[int, int] = (1, 3)
    # art. 107 (persons under 18 at the time of the offence)
    minor_min_age: int = 14
    minor_never_record_below_age: int = 16
    minor_never_record_intentional: tuple[Severity, ...] = (Severity.LESS_SERIOUS, Severity.SERIOUS)
    minor_never_record_unintentional: tuple[Severity, ...] = (Severity.LESS_SERIOUS, Severity.SERIOUS, Severity.VERY_SERIOUS)
    minor_light_months: int = 6
    minor_brackets: tuple[Bracket, ...] = (Bracket(60, 12, "b"), Bracket(180, 24, "c"), Bracket(None, 36, "d"))
    # art. 69.2
    adult_no_record_unintentional: tuple[Severity, ...] = (Severity.LESS_SERIOUS, Severity.SERIOUS)
    # art. 70.1 / 71.1: chapters decided by a court, and the article ranges of those chapters
    court_chapters: tuple[int, ...] = (13, 26)
    chapter_article_ranges: tuple[tuple[int, int, int], ...] = ((13, 108, 122), (26, 421, 425))
    # art. 60.2: enforcement limitation (years) by imprisonment bound in months (None = life/death)
    limitation_brackets: tuple[tuple[int | None, int], ...] = ((36, 5), (180, 10), (360, 15), (None, 20))
    limitation_excluded_chapters: tuple[int, ...] = (13, 26)
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

    def covers(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_until is None or on < self.effective_until)

    def chapter_of(self, article: int | None) -> int | None:
        if article is None:
            return None
        for chapter, lo, hi in self.chapter_article_ranges:
            if lo <= article <= hi:
                return chapter
        return None


BLHS_2015_2017 = ExpungementRules(
    name="BLHS 2015 (sửa đổi, bổ sung 2017)",
    effective_from=date(2018, 1, 1),
    effective_until=None,
    legal_basis="Bộ luật Hình sự số 100/2015/QH13, sửa đổi bởi Luật số 12/2017/QH14",
    verified=(
        ("art_70_periods", "src: hethongphapluat.com/bo-luat-hinh-su-2015/dieu-70 (domain §3)"),
        ("art_71_periods", "mem: 3/5/7/10 years, not confirmed in research; verify on vbpl.vn"),
        ("art_71_4_refusal", "mem: 1 year after the first refusal, 2 years after later ones"),
        ("art_72_fraction", "src: luathoangsa.vn art. 72 (domain §3)"),
        ("art_107_periods", "src: dontu.net / luatngogia.net copies of art. 107 as amended 2017 "
                            "(6 months / 1 / 2 / 3 years; the 2015 original had a flat 3 years)"),
        ("chapter_article_ranges", "mem: chapter XIII = arts. 108-122, chapter XXVI = arts. 421-425"),
        ("art_60_limitation", "mem: 5/10/15/20 years; callers should pass limitation_expired_on"),
        ("amnesty", "mem: practice note (domain §1.4): amnestied persons are certified 'không có án tích'"),
        ("period_end_convention", "?: whether day T0+W itself counts"),
        ("late_obligations_policy", "?: practitioners disagree"),
        ("reset_trigger", "?: act date vs judgment date"),
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
        # Art. 65 / NQ 02/2018/HĐTP: probation runs from the day the judgment is pronounced [mem].
        return add_months(c.judgment_date, c.probation_months)
    return None


def principal_start(c: Conviction) -> tuple[date | None, str]:
    """``T0`` of this judgment alone and a Vietnamese description of the event (art. 70.2, 70.3, 73.4)."""
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
    if c.limitation_expired_on is not None:
        candidates.append((c.limitation_expired_on, "ngày hết thời hiệu thi hành bản án (khoản 3 Điều 70)"))
    if not candidates:
        return None, ""
    return min(candidates)


def enforcement_limitation_end(c: Conviction, rules: ExpungementRules | None = None) -> date | None:
    """Default end of the enforcement limitation (art. 60.2-3) counted from the legal-effect date [mem].

    Ignores interruptions (a new offence or absconding under a wanted notice restarts it, art. 60.3)
    which the engine cannot see; the caller decides whether to set ``limitation_expired_on``.
    None when no limitation applies (chapters XIII/XXVI, art. 61) or the penalty has none.
    """
    rules = rules or rules_in_force(max(c.legal_effect_date, RULESETS[0].effective_from))
    if any(_chapter(o, rules) in rules.limitation_excluded_chapters for o in c.offences):
        return None
    numeric = [(bound, years) for bound, years in rules.limitation_brackets if bound is not None]
    open_ended = [years for bound, years in rules.limitation_brackets if bound is None]
    if c.penalty in (PenaltyType.FINE, PenaltyType.NON_CUSTODIAL_REFORM, PenaltyType.WARNING):
        years = numeric[0][1]
    elif c.penalty is PenaltyType.IMPRISONMENT and c.term_months is not None:
        years = next((y for bound, y in numeric if c.term_months <= bound), numeric[-1][1])
    elif c.penalty in (PenaltyType.LIFE, PenaltyType.DEATH) and open_ended:
        years = open_ended[0]
    else:
        return None
    return add_months(c.legal_effect_date, 12 * years)


def _chapter(o: Offence, rules: ExpungementRules) -> int | None:
    return o.chapter if o.chapter is not None else rules.chapter_of(o.article)


def _bracket(c: Conviction, light: int, brackets: tuple[Bracket, ...]) -> tuple[int, str] | None:
    """(waiting months, điểm) for the principal penalty as pronounced (art. 73.1)."""
    if c.suspended or c.penalty in (PenaltyType.WARNING, PenaltyType.FINE, PenaltyType.NON_CUSTODIAL_REFORM):
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


def _obligations_done(c: Conviction, t0: date | None) -> tuple[date | None, list[str]]:
    """Date by which additional penalties and other decisions are completed; missing items listed."""
    latest: date | None = None
    missing: list[str] = []

    def bump(d: date) -> None:
        nonlocal latest
        latest = d if latest is None or d > latest else latest

    non_custodial = c.suspended or c.penalty in (PenaltyType.WARNING, PenaltyType.FINE, PenaltyType.NON_CUSTODIAL_REFORM)
    for ap in c.additional_penalties:
        if ap.completed_on is not None:
            bump(ap.completed_on)
            continue
        if ap.months is not None:
            # Bans, residence bans, supervision and civic-rights deprivation run from the end of the
            # prison term, or from the legal-effect date for non-custodial/suspended sentences (arts. 41-44).
            start = c.legal_effect_date if non_custodial else t0
            if start is not None:
                bump(add_months(start, ap.months))
                continue
        missing.append(f"chưa chấp hành xong hình phạt bổ sung {ADDITIONAL_PENALTY_VI[ap.kind]}")
    if c.has_other_obligations:
        if c.other_obligations_completed_on is not None:
            bump(c.other_obligations_completed_on)
        else:
            missing.append("chưa thi hành xong các quyết định khác của bản án (án phí, bồi thường, ...)")
    return latest, missing


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
        return _timed(c, on, others, rules, Basis.MINOR_AUTOMATIC, rules.minor_light_months, rules.minor_brackets, "khoản 2 Điều 107")

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
        return _timed(c, on, others, rules, Basis.COURT_DECISION, rules.court_light_months, rules.court_brackets, "khoản 2 Điều 71")
    return _timed(c, on, others, rules, Basis.AUTOMATIC, rules.automatic_light_months, rules.automatic_brackets, "khoản 2 Điều 70")


def _timed(
    c: Conviction,
    on: date,
    others: list[Conviction],
    rules: ExpungementRules,
    basis: Basis,
    light: int,
    brackets: tuple[Bracket, ...],
    clause_ref: str,
) -> ExpungementResult:
    refs = [f"BLHS {clause_ref}"]
    found = _bracket(c, light, brackets)
    if found is None:
        return ExpungementResult(
            c.id, False, None, Basis.NOT_APPLICABLE,
            f"Hình phạt chính ({_penalty_text(c)}) không thuộc trường hợp nào tại {clause_ref} BLHS (hoặc thiếu thời hạn tù); cần xem xét thủ công.",
        )
    wait, point = found
    period_ref = f"điểm {point} {clause_ref} BLHS"
    period_txt = f"thời hạn {fmt_months(wait)} (hình phạt chính đã tuyên: {_penalty_text(c)}; {period_ref})"
    t0, t0_what = principal_start(c)
    notes: list[str] = []
    if t0 is None:
        return ExpungementResult(
            c.id, False, None, basis,
            f"Chưa chấp hành xong hình phạt chính / chưa hết thời gian thử thách án treo nên chưa bắt đầu tính {period_txt}.",
            period_months=wait, blocked_by=("chưa chấp hành xong hình phạt chính",), legal_refs=tuple(refs),
        )

    minor = basis is Basis.MINOR_AUTOMATIC
    obligations, missing = (None, []) if minor else _obligations_done(c, t0)

    def due_from(start: date) -> date:
        if obligations is None:
            return _period_end(start, wait, rules)
        if rules.late_obligations_policy == "restart_period" and obligations > start:
            return _period_end(obligations, wait, rules)
        return max(_period_end(start, wait, rules), _after(obligations, rules))

    start = t0
    due = due_from(start)
    used: set[str] = set()
    blocked_new: Conviction | None = None
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
        n_t0, _ = principal_start(n)
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
        if n_t0 > start:
            start = n_t0
        due = max(due, due_from(start))

    note_txt = ("; " + "; ".join(notes)) if notes else ""
    special_from = None
    if not minor:
        num, den = rules.special_fraction
        special_from = _period_end(start, wait * num // den, rules)

    if blocked_new is not None:
        return ExpungementResult(
            c.id, False, None, basis,
            f"Phạm tội mới (bản án {blocked_new.id}) khi chưa được xóa án tích; thời hạn {fmt_months(wait)} sẽ tính lại từ ngày "
            f"chấp hành xong hình phạt chính của bản án mới (khoản 2 Điều 73 BLHS), hiện chưa xác định{note_txt}.",
            start_date=None, period_months=wait, blocked_by=(f"bản án mới {blocked_new.id} chưa chấp hành xong",),
            legal_refs=tuple(dict.fromkeys(refs + ["BLHS Điều 73 khoản 2"])),
        )

    base_txt = f"{t0_what} {fmt_date(t0)}" if start == t0 else f"ngày chấp hành xong bản án mới {fmt_date(start)}"

    # Court decision present (art. 71 / 72), possibly earlier than an automatic date.
    decision = c.court_expungement_on if c.court_expungement_on is not None and c.court_expungement_on <= on else None
    decision_basis = Basis.SPECIAL if c.court_expungement_article == 72 else Basis.COURT_DECISION
    decision_ref = "BLHS Điều 72" if decision_basis is Basis.SPECIAL else "BLHS Điều 71"

    if basis is Basis.COURT_DECISION:
        eligible = due
        if missing:
            eligible = None
        refusals = sorted(d for d in c.court_refusals if d <= on)
        if refusals and eligible is not None:
            first_wait, later_wait = rules.refusal_wait_months
            after = add_months(refusals[-1], first_wait if len(refusals) == 1 else later_wait)
            eligible = max(eligible, after)
            notes.append(f"bị bác đơn lần {len(refusals)} ngày {fmt_date(refusals[-1])}: được nộp lại từ {fmt_date(after)} (khoản 4 Điều 71)")
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
    if not missing and due <= on:
        if decision is not None and decision < due:
            return ExpungementResult(
                c.id, True, decision, decision_basis,
                f"Được Tòa án quyết định xóa án tích ngày {fmt_date(decision)} ({decision_ref}) trước thời điểm đương nhiên xóa án tích {fmt_date(due)}.",
                start_date=start, period_months=wait, special_eligible_from=special_from, legal_refs=(decision_ref, *refs),
            )
        extra = ""
        if obligations is not None and _after(obligations, rules) == due and due != _period_end(start, wait, rules):
            extra = f"; hình phạt bổ sung/quyết định khác của bản án chấp hành xong ngày {fmt_date(obligations)} sau khi hết thời hạn nên tính từ ngày đó"
        return ExpungementResult(
            c.id, True, due, basis,
            f"Đương nhiên được xóa án tích theo {article_name} BLHS: {period_txt} kể từ {base_txt}, không phạm tội mới; "
            f"được xóa án tích từ ngày {fmt_date(due)}{extra}{note_txt}.",
            start_date=start, period_months=wait, special_eligible_from=special_from, legal_refs=tuple(dict.fromkeys(refs)),
        )
    if decision is not None:
        return ExpungementResult(
            c.id, True, decision, decision_basis,
            f"Được Tòa án quyết định xóa án tích ngày {fmt_date(decision)} ({decision_ref}).",
            start_date=start, period_months=wait, special_eligible_from=special_from, legal_refs=(decision_ref, *refs),
        )
    if missing:
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
