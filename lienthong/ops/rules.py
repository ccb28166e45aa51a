"""Rules of the rollout tracker: pure functions over plain values, no database.

1. **Reading the official status table.** The appendix of letter 3546/TCTTKĐA of the Project 06
   working group (07/10/2024), "Tình trạng triển khai cấp phiếu lý lịch tư pháp trên VNeID", has one
   row per pre-2025 province: integration-test (devtest) batch and dates, deployment status,
   source-code and system security assurance, and PV06 progress (machine installed / access
   granted). :func:`read_letter_row` turns one transcribed row into tracker values; the cells the scan
   leaves uncertain are named in the row's ``uncertain`` column and stay marked.
2. **Merged provinces.** From 01/07/2025 (NQ 202/2025/QH15) 63 provinces became 34; a new province
   that was formed from several has no status of its own until someone records one. :func:`derive`
   computes it from its members' last state under a named :class:`MergerRule`.
3. **Live signals** (:data:`SIGNALS`) propose a status change; an officer confirms it.
4. **The letter's summary figures** (:data:`SUMMARY`) computed from the rows and compared with the
   totals printed above the table (:func:`compare`), with the uncertain cells as the explanation.

Contested readings are named parameters (environment or arguments), never silent choices:

- ``ACCESS_IMPLIES_MACHINE`` (default True): the PV06 column holds one stage per province, "Đã truy
  cập" being past "Đã có máy" — the printed totals count each province once among "machine
  installed 19, no machine 1, access granted 43" (19 + 1 + 43 = 63), so a province with access also
  has its machine.
- ``LIENTHONG_OPS_MERGER_RULE`` = ``weakest`` (default) | ``strongest``: see :class:`MergerRule`.
- ``LIENTHONG_OPS_SIGNAL_NEEDS_CHECKLIST`` = ``false`` (default) | ``true``: whether a change proposed
  by a live signal must also satisfy the manual checklist (both security assessments passed,
  machine, access) before an officer can confirm it. See :func:`signal_needs_checklist`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from lienthong.geo.units import fold

STATUSES = ("not_started", "testing", "test_done", "production", "completed")
ASSESSMENTS = ("not_started", "in_progress", "passed", "failed")
STATUS_RANK = {s: i for i, s in enumerate(STATUSES)}
STATUS_LABELS = {"not_started": "Chưa bắt đầu", "testing": "Đang kiểm thử", "test_done": "Đã kiểm thử xong",
                 "production": "Đã đưa vào vận hành", "completed": "Hoàn thành"}
# For "the weakest of the members": a failed assessment is below one not yet started.
ASSESSMENT_RANK = {"failed": 0, "not_started": 1, "in_progress": 2, "passed": 3}

# The tracked state of one unit (what a derivation or a letter row produces).
STATE_FIELDS = ("test_batch", "test_start", "test_end", "status", "source_assessment", "system_assessment",
                "machine_ready", "access_granted", "production_date")
DEFAULT_STATE = {"test_batch": None, "test_start": None, "test_end": None, "status": "not_started",
                 "source_assessment": "not_started", "system_assessment": "not_started", "machine_ready": False,
                 "access_granted": False, "production_date": None}


def rank(status: str) -> int:
    return STATUS_RANK[status]


DATE_FIELDS = ("test_start", "test_end", "production_date")


def values_to_json(values: dict) -> dict:
    """Tracker values with dates as ISO text (JSON columns, API)."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def values_from_json(values: dict) -> dict:
    out = dict(values)
    for k in DATE_FIELDS:
        if isinstance(out.get(k), str):
            out[k] = date.fromisoformat(out[k])
    return out


# --- 1. the official table ----------------------------------------------------------------------

LETTER_COLUMNS = ("stt", "province_old", "devtest_batch", "devtest_from", "devtest_to", "deployment_status",
                  "code_security", "system_security", "system_security_note", "pv06_progress", "uncertain")
# Which tracker fields a letter column fills (for marking uncertain values).
COLUMN_FIELDS = {
    "devtest_batch": ("test_batch",), "devtest_from": ("test_start",), "devtest_to": ("test_end",),
    "deployment_status": ("status",), "code_security": ("source_assessment",),
    "system_security": ("system_assessment",), "system_security_note": ("note",),
    "pv06_progress": ("machine_ready", "access_granted"), "province_old": ("province",),
}

# Deployment status as the letter writes it (matched without diacritics or case).
LETTER_STATUS = {
    "": "not_started",
    "chua trien khai": "not_started",
    "dang tien hanh devtest": "testing",
    "dang devtest": "testing",
    "da devtest xong": "test_done",
    # "deploying the official service": no row of the 07/10/2024 table reads so (see SUMMARY).
    "dang trien khai": "production",
    "dang trien khai chinh thuc": "production",
    "dang trien khai dich vu chinh thuc": "production",
    "da hoan thanh trien khai": "completed",
}
# Security assurance columns: "Đã đảm bảo" (ensured) or empty (not ensured yet).
LETTER_SECURITY = {"": "not_started", "chua dam bao": "not_started", "da dam bao": "passed",
                   "khong dam bao": "failed", "khong dat": "failed"}
ACCESS_IMPLIES_MACHINE = True
# PV06 progress -> (machine_ready, access_granted)
LETTER_PV06 = {"": (False, False), "chua co may": (False, False), "da co may": (True, False),
               "da truy cap": (ACCESS_IMPLIES_MACHINE, True)}

LETTER_STATUS_TEXT = {"not_started": "Chưa triển khai", "testing": "Đang tiến hành devtest",
                      "test_done": "Đã devtest xong", "production": "Đang triển khai chính thức",
                      "completed": "Đã hoàn thành triển khai"}


class LetterError(ValueError):
    """A row of the table that cannot be read; ``column`` names the cell."""

    def __init__(self, message: str, column: str | None = None):
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(frozen=True)
class LetterRow:
    row_no: int
    province: str  # as written in the letter
    values: dict  # tracker state (STATE_FIELDS) plus "note"
    cells: dict  # the raw cells
    uncertain: frozenset[str] = frozenset()  # letter columns that are a best reading

    def uncertain_fields(self) -> set[str]:
        return {f for c in self.uncertain for f in COLUMN_FIELDS.get(c, ())}


def _lookup(table: dict, text: str, column: str):
    key = fold(text or "")
    if key not in table:
        raise LetterError(f"giá trị không nhận biết được ở cột {column}: {text!r}", column)
    return table[key]


def _date(text: str, column: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        from datetime import datetime

        try:
            return datetime.strptime(text, "%d/%m/%Y").date()
        except ValueError:
            raise LetterError(f"ngày không hợp lệ ở cột {column}: {text!r}", column) from None


def read_letter_row(cells: dict[str, str]) -> LetterRow:
    """One transcribed row of the table -> tracker values (pure; raises :class:`LetterError`)."""
    missing = [c for c in LETTER_COLUMNS if c not in cells]
    if missing:
        raise LetterError(f"thiếu cột: {', '.join(missing)}", missing[0])
    try:
        row_no = int(str(cells["stt"]).strip())
    except ValueError:
        raise LetterError(f"số thứ tự không hợp lệ: {cells['stt']!r}", "stt") from None
    province = (cells["province_old"] or "").strip()
    if not province:
        raise LetterError("thiếu tên tỉnh/thành phố", "province_old")
    batch_text = (cells["devtest_batch"] or "").strip()
    if batch_text and not batch_text.isdigit():
        raise LetterError(f"đợt kiểm thử không hợp lệ: {batch_text!r}", "devtest_batch")
    batch = int(batch_text) if batch_text else None
    if batch is not None and not 1 <= batch <= 99:
        raise LetterError(f"đợt kiểm thử phải từ 1 đến 99: {batch}", "devtest_batch")
    start, end = _date(cells["devtest_from"], "devtest_from"), _date(cells["devtest_to"], "devtest_to")
    if start and end and start > end:
        raise LetterError("ngày kết thúc kiểm thử trước ngày bắt đầu", "devtest_to")
    machine, access = _lookup(LETTER_PV06, cells["pv06_progress"], "pv06_progress")
    note_text = (cells["system_security_note"] or "").strip()
    values = {
        "test_batch": batch, "test_start": start, "test_end": end,
        "status": _lookup(LETTER_STATUS, cells["deployment_status"], "deployment_status"),
        "source_assessment": _lookup(LETTER_SECURITY, cells["code_security"], "code_security"),
        "system_assessment": _lookup(LETTER_SECURITY, cells["system_security"], "system_security"),
        "machine_ready": machine, "access_granted": access, "production_date": None,
        "note": f"ATTT hệ thống: {note_text}" if note_text else "",
    }
    uncertain = frozenset(c.strip() for c in (cells["uncertain"] or "").split(";") if c.strip())
    unknown = uncertain - set(LETTER_COLUMNS)
    if unknown:
        raise LetterError(f"cột không chắc chắn không tồn tại: {', '.join(sorted(unknown))}", "uncertain")
    raw = {c: (cells[c] or "").strip() for c in LETTER_COLUMNS}
    return LetterRow(row_no, province, values, raw, uncertain)


# --- 2. merged provinces ------------------------------------------------------------------------


class MergerRule(StrEnum):
    """How a merged province's status follows from its members' (contested: a named parameter).

    * ``weakest`` (default): the new province is at the least advanced state of its members. A
      service runs "in the province" only when it runs in every part of it: after the merger one
      provincial system and one agency serve all former areas, and a citizen of a former province
      whose part is not connected cannot use it. Assessments count as passed only when every member
      passed; machine and access only when every member had them; test dates span all members.
    * ``strongest``: the most advanced member (the new province has *started* wherever one part
      has) — optimistic, useful to see where the capability exists.
    """

    WEAKEST = "weakest"
    STRONGEST = "strongest"


RULE_TEXT = {
    MergerRule.WEAKEST: "trạng thái thấp nhất trong các tỉnh cũ hợp thành: tỉnh mới chỉ đạt một bước khi mọi địa bàn "
                        "cũ đều đã đạt (đánh giá ATTT đạt, máy chủ và quyền truy cập khi tất cả đều có)",
    MergerRule.STRONGEST: "trạng thái cao nhất trong các tỉnh cũ hợp thành: tỉnh mới đạt một bước khi có ít nhất một "
                          "địa bàn cũ đã đạt",
}
RULE_LABEL = {MergerRule.WEAKEST: "thấp nhất", MergerRule.STRONGEST: "cao nhất"}
MERGER_RULE_ENV = "LIENTHONG_OPS_MERGER_RULE"


def merger_rule() -> MergerRule:
    raw = os.environ.get(MERGER_RULE_ENV, "").strip().lower() or MergerRule.WEAKEST.value
    try:
        return MergerRule(raw)
    except ValueError:
        raise ValueError(f"{MERGER_RULE_ENV} must be one of {[r.value for r in MergerRule]}, got {raw!r}") from None


@dataclass(frozen=True)
class MemberState:
    code: int  # 63-set code
    name: str
    values: dict | None  # tracked state before the merger; None: no record for this member


@dataclass(frozen=True)
class Derived:
    values: dict  # STATE_FIELDS
    rule: MergerRule
    text: str  # the rule, in Vietnamese
    members: tuple[MemberState, ...]
    deciding: tuple[str, ...]  # names of the members that set the status

    @property
    def explanation(self) -> str:
        parts = ", ".join(f"{m.name}: {STATUS_LABELS[m.values['status']]}"
                          if m.values is not None else f"{m.name}: chưa có dữ liệu" for m in self.members)
        return f"Suy ra từ {len(self.members)} tỉnh cũ ({parts}) theo quy tắc «{RULE_LABEL[self.rule]}»: {self.text}."


def derive(members: Sequence[MemberState], rule: MergerRule = MergerRule.WEAKEST) -> Derived:
    """The state of a merged unit from its members' last states (see :class:`MergerRule`).

    A member without a record counts as not started under ``weakest`` and is ignored under
    ``strongest`` (unless no member has a record)."""
    if not members:
        raise ValueError("a merged unit has at least one member")
    rule = MergerRule(rule)
    known = [m for m in members if m.values is not None]
    states = [{**DEFAULT_STATE, **(m.values or {})} for m in members] if rule is MergerRule.WEAKEST else (
        [{**DEFAULT_STATE, **m.values} for m in known] or [dict(DEFAULT_STATE)])
    pick = min if rule is MergerRule.WEAKEST else max
    every = all if rule is MergerRule.WEAKEST else any
    status = pick((s["status"] for s in states), key=rank)
    out = {
        "status": status,
        "source_assessment": pick((s["source_assessment"] for s in states), key=ASSESSMENT_RANK.__getitem__),
        "system_assessment": pick((s["system_assessment"] for s in states), key=ASSESSMENT_RANK.__getitem__),
        "machine_ready": every(bool(s["machine_ready"]) for s in states),
        "access_granted": every(bool(s["access_granted"]) for s in states),
    }
    batches = [s["test_batch"] for s in states if s["test_batch"] is not None]
    # weakest: the province finished testing with its last batch; strongest: with its first
    out["test_batch"] = (max(batches) if rule is MergerRule.WEAKEST else min(batches)) if batches else None
    starts = [s["test_start"] for s in states if s["test_start"]]
    ends = [s["test_end"] for s in states if s["test_end"]]
    out["test_start"] = min(starts) if starts else None
    if rule is MergerRule.WEAKEST:
        out["test_end"] = max(ends) if ends and len(ends) == len(states) else None
    else:
        out["test_end"] = min(ends) if ends else None
    prods = [s["production_date"] for s in states if s["production_date"]]
    if rank(status) >= rank("production") and prods:
        out["production_date"] = max(prods) if rule is MergerRule.WEAKEST else min(prods)
    else:
        out["production_date"] = None
    deciding = tuple(m.name for m, s in zip(members if rule is MergerRule.WEAKEST else known, states)
                     if s["status"] == status)
    return Derived(out, rule, RULE_TEXT[rule], tuple(members), deciding)


# --- 3. live signals ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    """A fact observed in another context that moves a service forward in a province.

    ``proposes`` are the values the signal is evidence of: live data (or a certificate, or a
    deployed kiosk) in a province means the service is in operation there, and it could not run
    without the province's machine and access to the platform. It does not prove the security
    assessments, which stay as recorded."""

    key: str
    service_key: str
    label: str  # what was observed, in Vietnamese
    proposes: dict = field(default_factory=lambda: {"status": "production", "machine_ready": True,
                                                     "access_granted": True})


SIGNALS: dict[str, Signal] = {s.key: s for s in (
    Signal("health.first_data", "health_book",
           "Cơ sở khám chữa bệnh trong tỉnh gửi dữ liệu được tiếp nhận lần đầu"),
    Signal("judicial.first_certificate", "judicial_vneid",
           "Phiếu lý lịch tư pháp đầu tiên được cấp cho hồ sơ của tỉnh"),
    Signal("kiosk.deployed", "medical_kiosk", "Ki-ốt y tế đầu tiên được triển khai tại cơ sở trong tỉnh"),
)}


def proposal_values(signal: Signal, current: dict, observed_on: date) -> dict | None:
    """The changes a signal proposes to a unit in ``current`` state, or None when the unit is
    already at (or past) the proposed status. ``production_date`` is the day the signal was seen."""
    target = signal.proposes.get("status")
    if target is not None and rank(current["status"]) >= rank(target):
        return None
    out = {k: v for k, v in signal.proposes.items() if current.get(k) != v}
    if target in ("production", "completed") and not current.get("production_date"):
        out["production_date"] = observed_on
    return out or None


SIGNAL_CHECKLIST_ENV = "LIENTHONG_OPS_SIGNAL_NEEDS_CHECKLIST"


def signal_needs_checklist() -> bool:
    """Whether a signal-proposed change must pass the manual checklist to be confirmed.

    Default false: the tracker records what is true — live data proves the service runs — and an
    incomplete checklist is then shown as a gap to close ("đang vận hành nhưng chưa đủ …") rather
    than hiding the fact. Set true to keep the checklist a hard gate for every change."""
    return os.environ.get(SIGNAL_CHECKLIST_ENV, "").strip().lower() in ("1", "true", "yes")


def checklist_missing(values: dict) -> list[str]:
    """What a unit lacks for production/completed (the manual rule of the tracker)."""
    missing = []
    if values.get("source_assessment") != "passed":
        missing.append("đánh giá an toàn thông tin mã nguồn đạt")
    if values.get("system_assessment") != "passed":
        missing.append("đánh giá an toàn thông tin hệ thống đạt")
    if not values.get("machine_ready"):
        missing.append("máy chủ sẵn sàng")
    if not values.get("access_granted"):
        missing.append("đã cấp quyền truy cập")
    return missing


# --- 4. the letter's summary figures ------------------------------------------------------------


@dataclass(frozen=True)
class FigureDef:
    key: str
    label: str
    group: str  # "status", "pv06" (each partitions the rows) or "body" (figures of the letter's text)
    columns: tuple[str, ...]  # the letter columns the figure reads
    test: Callable[[dict], bool]


SUMMARY: tuple[FigureDef, ...] = (
    FigureDef("testing", "Đang tiến hành devtest", "status", ("deployment_status",),
              lambda v: v["status"] == "testing"),
    FigureDef("test_done", "Đã devtest xong", "status", ("deployment_status",),
              lambda v: v["status"] == "test_done"),
    FigureDef("production", "Đang triển khai dịch vụ chính thức", "status", ("deployment_status",),
              lambda v: v["status"] == "production"),
    FigureDef("completed", "Đã hoàn thành triển khai", "status", ("deployment_status",),
              lambda v: v["status"] == "completed"),
    FigureDef("machine", "Đã có máy (chưa truy cập)", "pv06", ("pv06_progress",),
              lambda v: v["machine_ready"] and not v["access_granted"]),
    FigureDef("no_machine", "Chưa có máy", "pv06", ("pv06_progress",),
              lambda v: not v["machine_ready"] and not v["access_granted"]),
    FigureDef("access", "Đã truy cập", "pv06", ("pv06_progress",), lambda v: v["access_granted"]),
    FigureDef("integrated", "Đã tích hợp trên môi trường kiểm thử (devtest xong trở lên)", "body",
              ("deployment_status",), lambda v: rank(v["status"]) >= rank("test_done")),
    FigureDef("security_ready", "Đã đảm bảo an ninh, an toàn (cả mã nguồn và hệ thống)", "body",
              ("code_security", "system_security"),
              lambda v: v["source_assessment"] == "passed" and v["system_assessment"] == "passed"),
)
VERDICT_LABELS = {"match": "Khớp", "within_uncertain": "Do ô không rõ", "unexplained": "Chưa giải thích được",
                  "not_printed": "Không có số in"}
GROUP_LABELS = {"status": "Tình trạng triển khai", "pv06": "Tiến độ PV06 (máy, quyền truy cập)",
                "body": "Số liệu trong nội dung công văn"}


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    group: str
    computed: int  # every cell counted as read
    certain: int  # rows that satisfy it with none of the figure's cells uncertain
    uncertain_rows: tuple[str, ...]  # provinces whose cells for this figure are uncertain
    printed: int | None = None
    qualifier: str = "exact"
    verdict: str = "not_printed"  # match | within_uncertain | unexplained | not_printed
    explanation: str = ""

    @property
    def possible(self) -> tuple[int, int]:
        """The range the true figure can take when every uncertain cell could read otherwise."""
        return self.certain, self.certain + len(self.uncertain_rows)

    @property
    def difference(self) -> int | None:
        return None if self.printed is None else self.computed - self.printed


def summarise(rows: Iterable[LetterRow]) -> dict[str, Figure]:
    """The summary figures computed from the table's rows."""
    rows = list(rows)
    out = {}
    for fd in SUMMARY:
        unsure = [r for r in rows if set(fd.columns) & r.uncertain]
        out[fd.key] = Figure(
            fd.key, fd.label, fd.group,
            computed=sum(1 for r in rows if fd.test(r.values)),
            certain=sum(1 for r in rows if fd.test(r.values) and not set(fd.columns) & r.uncertain),
            uncertain_rows=tuple(r.province for r in sorted(unsure, key=lambda r: r.row_no)))
    return out


def _names(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" và {len(names) - limit} tỉnh khác" if len(names) > limit else "")


def compare(rows: Iterable[LetterRow], printed: dict[str, tuple[int, str]]) -> list[Figure]:
    """Computed figures beside the printed ones (``printed``: key -> (value, qualifier)), each with a
    verdict and a Vietnamese explanation. ``qualifier`` "at_least" means the letter printed "≥ n"."""
    rows = list(rows)
    figures = summarise(rows)
    group_totals = {}
    for g in ("status", "pv06"):
        keys = [fd.key for fd in SUMMARY if fd.group == g]
        if all(k in printed for k in keys):
            group_totals[g] = (sum(figures[k].computed for k in keys), sum(printed[k][0] for k in keys))
    out = []
    for fd in SUMMARY:
        f = figures[fd.key]
        if fd.key not in printed:
            out.append(f)
            continue
        value, qualifier = printed[fd.key]
        lo, hi = f.possible
        if (f.computed == value) or (qualifier == "at_least" and f.computed >= value):
            verdict = "match"
            text = "Khớp với số in trong công văn."
        elif lo <= value <= hi or (qualifier == "at_least" and hi >= value):
            verdict = "within_uncertain"
            unsure = [r for r in rows if set(fd.columns) & r.uncertain]
            counted = [r.province for r in unsure if fd.test(r.values)]
            others = [r for r in unsure if not fd.test(r.values)]
            text = (f"Bảng đọc được {f.computed}, công văn in {value}. Số thật nằm trong khoảng {lo}–{hi}: {f.certain} "
                    f"hàng đọc rõ, cộng tối đa {len(unsure)} hàng có ô không đọc rõ trên bản quét; số in nằm trong "
                    f"khoảng đó, nên chênh lệch do các ô mất chữ, không phải do thiếu tỉnh.")
            if value < f.computed:
                text += (f" Các hàng được đếm nhưng ô không rõ: {_names(counted)} ({len(counted)}); bỏ chúng ra còn "
                         f"{f.certain}" + (" — đúng bằng số in." if f.certain == value else "."))
            else:
                gap = value - f.computed
                text += (f" Các hàng có ô không rõ, đang đọc là giá trị khác: {_names([r.province for r in others])} "
                         f"({len(others)}); theo số in, {gap} trong số đó là «{fd.label}»")
                text += (": số hàng không rõ đúng bằng số thiếu, nên nếu chỉ các ô được đánh dấu là đọc sai thì chính "
                         "các hàng này." if gap == len(others) else "; bản quét không cho biết hàng nào.")
                if fd.group == "status" and fd.key in ("production", "completed"):
                    secure = sum(1 for r in others if r.values["source_assessment"] == "passed"
                                 and r.values["system_assessment"] == "passed")
                    access = sum(1 for r in others if r.values["access_granted"])
                    text += (f" Trong {len(others)} hàng đó, {secure} hàng đã đảm bảo cả hai đánh giá ATTT (điều kiện "
                             f"để triển khai chính thức) và {access} hàng đã truy cập.")
        else:
            verdict = "unexplained"
            text = (f"Bảng đọc được {f.computed}, công văn in {value}; các ô không đọc rõ chỉ giải thích được "
                    f"khoảng {lo}–{hi}. Cần đối chiếu lại bản gốc.")
        if fd.group in group_totals and verdict != "match":
            c, p = group_totals[fd.group]
            text += (f" Tổng của nhóm «{GROUP_LABELS[fd.group]}» bằng nhau ({c} = {p})." if c == p else
                     f" Tổng của nhóm «{GROUP_LABELS[fd.group]}» khác nhau ({c} ≠ {p}).")
        out.append(Figure(f.key, f.label, f.group, f.computed, f.certain, f.uncertain_rows, value, qualifier,
                          verdict, text))
    return out
