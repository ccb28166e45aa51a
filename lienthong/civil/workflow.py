"""A small persisted state-machine engine for linked procedures.

A procedure (:class:`ProcedureDef`) is an ordered list of steps (:class:`StepDef`). Each step has an
actor (``citizen``: waits for the parent/relative; ``agency``: waits for an officer or agency
client; ``auto``: a function run by the engine) and the names of the steps it comes ``after``.
A step becomes active when every step it comes after is ``done`` or ``skipped``.

Step states: ``pending`` -> ``waiting_citizen`` (citizen steps) or ``in_progress`` (agency and
automatic steps) -> ``done`` / ``skipped`` / ``failed``.

* Deadlines: when a step becomes active its legal deadline is computed from the versioned rule in
  force that day (:mod:`lienthong.civil.rules`), in working days (15:00 cutoff) or calendar days
  from the date of birth/death. A step with ``starts_clock`` also starts the whole-procedure
  deadline (the dossier is complete when the citizen confirms).
* Automatic steps run inside a SAVEPOINT: an exception rolls back only that step's writes, records
  the error and schedules a retry with exponential backoff (:func:`rules.retry_delay_s`); after
  ``max_attempts`` the step is ``failed`` (an officer may retry it). Other steps are never blocked
  by it except those declared ``after`` it: a failed BHYT card leaves the registration done.
* Officer decisions: an automatic step that finds the data on the platform insufficient for a legal
  decision raises :class:`Handoff` (e.g. the funeral allowance of a pensioner, whose pension is not
  on the platform): it stays ``in_progress`` with no next attempt and ``result.awaiting_officer``; an
  officer completes it (``officer_may_complete``) as ``done`` or ``skipped``. Such steps are listed on
  the officers' dashboard (:func:`overdue_clause`) and never retried.
* Notifications: ``civil.notification`` outbox events with Vietnamese text, to the parent /
  relatives, when a step waits for them, when each step finishes or fails, and when the case ends.
* Optimistic concurrency: cases and steps carry a ``version`` (SQLAlchemy ``version_id_col``); every
  transition bumps the case's version, so two concurrent transitions of one case cannot both commit
  (the loser gets :class:`~lienthong.errors.Conflict`). :func:`advance_due` claims each step the same
  way, so several runners can work side by side.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from lienthong.civil import rules
from lienthong.civil.models import Counter, ProcedureCase, ProcedureStep
from lienthong.errors import Conflict
from lienthong.events.outbox import record_event
from lienthong.workdays import VN_TZ

log = logging.getLogger(__name__)

ACTIVE = ("waiting_citizen", "in_progress")

STATE_NAMES = {
    "pending": "Chờ bước trước", "waiting_citizen": "Chờ công dân xác nhận", "in_progress": "Đang xử lý",
    "done": "Hoàn thành", "failed": "Lỗi, cần xử lý", "skipped": "Không áp dụng",
}


AWAITING_OFFICER_NAME = "Chờ cán bộ quyết định"


class Skip(Exception):
    """Raised by an automatic step that does not apply (e.g. not eligible): the step is ``skipped``.

    ``quiet``: no notification (a step the family did not ask for)."""

    def __init__(self, reason: str, result: dict | None = None, *, quiet: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.result = result or {}
        self.quiet = quiet


class Handoff(Exception):
    """Raised by an automatic step whose decision needs an officer: the step waits for one (its writes are kept)."""

    def __init__(self, reason: str, result: dict | None = None):
        super().__init__(reason)
        self.reason = reason
        self.result = result or {}


def awaiting_officer(st: ProcedureStep) -> bool:
    return st.actor == "auto" and st.state == "in_progress" and bool((st.result or {}).get("awaiting_officer"))


def state_name(st: ProcedureStep) -> str:
    return AWAITING_OFFICER_NAME if awaiting_officer(st) else STATE_NAMES[st.state]


StepFn = Callable[[Session, ProcedureCase, ProcedureStep, datetime], dict | None]
TextFn = Callable[[ProcedureCase, ProcedureStep], str]


@dataclass(frozen=True)
class StepDef:
    name: str
    title: str  # Vietnamese
    actor: str  # citizen, agency, auto
    after: tuple[str, ...] = ()
    run: StepFn | None = None  # automatic steps
    done_text: TextFn | None = None  # notification when done (None: a generic text)
    wait_text: TextFn | None = None  # notification when the step starts waiting for the citizen
    starts_clock: bool = False
    officer_may_complete: bool = False  # a citizen step an officer may also complete (death: commune), or an
    # automatic step that handed its decision to an officer (:class:`Handoff`)
    max_attempts: int = rules.DEFAULT_MAX_ATTEMPTS


@dataclass(frozen=True)
class ProcedureDef:
    name: str
    title: str
    steps: tuple[StepDef, ...]
    recipients: Callable[[ProcedureCase], list[str]]
    done_text: TextFn

    def step(self, name: str) -> StepDef:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)


PROCEDURES: dict[str, ProcedureDef] = {}


def register_procedure(proc: ProcedureDef) -> ProcedureDef:
    names = [s.name for s in proc.steps]
    if len(set(names)) != len(names):
        raise ValueError("duplicate step names")
    for i, s in enumerate(proc.steps):
        if s.actor not in ("citizen", "agency", "auto"):
            raise ValueError(f"bad actor {s.actor}")
        if s.actor == "auto" and s.run is None:
            raise ValueError(f"automatic step {s.name} needs run")
        if any(a not in names[:i] for a in s.after):
            raise ValueError(f"step {s.name} must come after earlier steps only")
    PROCEDURES[proc.name] = proc
    return proc


def procedure(case: ProcedureCase) -> ProcedureDef:
    return PROCEDURES[case.procedure]


# --- formatting -------------------------------------------------------------------------------------------------


def short_id(case: ProcedureCase) -> str:
    return case.id[:8].upper()


# --- notifications ----------------------------------------------------------------------------------------------


def notify(session: Session, case: ProcedureCase, step: str | None, text: str, now: datetime,
           recipients: list[str] | None = None) -> int:
    """One ``civil.notification`` event per recipient (the parent / relatives of the case)."""
    targets = recipients if recipients is not None else procedure(case).recipients(case)
    for pid in dict.fromkeys(p for p in targets if p):
        record_event(session, "civil.notification", {
            "case_id": case.id, "procedure": case.procedure, "step": step, "recipient_personal_id": pid,
            "text": text, "at": now.isoformat(),
        })
    return len(targets)


def _generic_done(proc: ProcedureDef, case: ProcedureCase, sdef: StepDef) -> str:
    return f"Hồ sơ {proc.title.lower()} số {short_id(case)}: đã hoàn thành bước “{sdef.title}”."


# --- creation and activation ----------------------------------------------------------------------------------------


def create_case(session: Session, proc_name: str, *, source_key: str, now: datetime, **fields) -> tuple[ProcedureCase, bool]:
    """Create a case with its steps (pending) and activate the first ones; idempotent on ``source_key``.

    Returns (case, created).
    """
    existing = session.scalars(select(ProcedureCase).where(ProcedureCase.source_key == source_key)).first()
    if existing is not None:
        return existing, False
    proc = PROCEDURES[proc_name]
    case = ProcedureCase(id=str(uuid.uuid4()), procedure=proc_name, status="open", source_key=source_key,
                         created_at=now, updated_at=now, **fields)
    for i, s in enumerate(proc.steps):
        case.steps.append(ProcedureStep(seq=i, name=s.name, actor=s.actor, after=list(s.after), state="pending",
                                        attempts=0, max_attempts=s.max_attempts, result={}))
    session.add(case)
    session.flush()
    activate_ready(session, case, now)
    return case, True


def get_step(case: ProcedureCase, name: str) -> ProcedureStep:
    for st in case.steps:
        if st.name == name:
            return st
    raise KeyError(name)


def _set_deadline(case: ProcedureCase, step: ProcedureStep | None, now: datetime) -> tuple[datetime | None, str | None]:
    day = now.astimezone(VN_TZ).date()
    variant = "verification" if (case.data or {}).get("verification") else None
    rule = rules.rule_for(case.procedure, step.name if step else None, day, variant=variant)
    if rule is None:
        return None, None
    return rules.due_at(rule, now, anchor=case.event_date), rule.basis


def activate_ready(session: Session, case: ProcedureCase, now: datetime) -> list[ProcedureStep]:
    """Start every pending step whose predecessors are done/skipped; update the case status."""
    proc = procedure(case)
    started: list[ProcedureStep] = []
    states = {s.name: s.state for s in case.steps}
    for st in case.steps:
        if st.state != "pending" or not all(states[a] in ("done", "skipped") for a in st.after):
            continue
        sdef = proc.step(st.name)
        st.started_at = now
        st.due_at, st.due_basis = _set_deadline(case, st, now)
        if st.actor == "citizen":
            st.state = "waiting_citizen"
            if sdef.wait_text:
                notify(session, case, st.name, sdef.wait_text(case, st), now)
        else:
            st.state = "in_progress"
            if st.actor == "auto":
                st.next_attempt_at = now
        states[st.name] = st.state
        started.append(st)
    _update_status(session, case, now)
    return started


def _update_status(session: Session, case: ProcedureCase, now: datetime) -> None:
    states = [s.state for s in case.steps]
    if case.status == "done":
        return
    if all(s in ("done", "skipped") for s in states):
        case.status = "done"
        case.closed_at = now
        notify(session, case, None, procedure(case).done_text(case, case.steps[-1]), now)
    elif any(s == "failed" for s in states):
        case.status = "attention"
    else:
        case.status = "open"
    case.updated_at = now


def check_version(case: ProcedureCase, expected: int | None) -> None:
    if expected is not None and expected != case.version:
        raise Conflict(f"hồ sơ đã được cập nhật bởi người khác (phiên bản {case.version}); vui lòng tải lại")


def recompute_case_deadline(case: ProcedureCase) -> None:
    """Recompute the whole-procedure deadline from the receipt time (e.g. after verification was required)."""
    if case.received_at is not None:
        received = case.received_at if case.received_at.tzinfo else case.received_at.replace(tzinfo=VN_TZ)
        case.due_at, case.due_basis = _set_deadline(case, None, received)


def complete_manual(session: Session, case: ProcedureCase, step_name: str, *, by: str, result: dict,
                    now: datetime, officer: bool = False, outcome: str = "done",
                    reason: str | None = None) -> ProcedureStep:
    """Complete a citizen or agency step (or an automatic step awaiting an officer's decision: ``outcome``
    ``done`` or ``skipped`` with ``reason``), then activate and run what follows."""
    proc = procedure(case)
    st = get_step(case, step_name)
    sdef = proc.step(step_name)
    allowed = ("waiting_citizen",) if st.actor == "citizen" else ("in_progress",)
    if outcome not in ("done", "skipped") or (outcome == "skipped" and not reason):
        raise ValueError("outcome must be done, or skipped with a reason")
    if st.actor == "auto" and not (officer and sdef.officer_may_complete and awaiting_officer(st)):
        raise Conflict("bước này do hệ thống tự động thực hiện")
    if st.actor == "citizen" and officer and not sdef.officer_may_complete:
        raise Conflict("bước này do công dân xác nhận")
    if st.actor == "agency" and not officer:
        raise Conflict("bước này do cơ quan có thẩm quyền thực hiện")
    if st.state not in allowed:
        raise Conflict(f"bước “{sdef.title}” không ở trạng thái chờ xử lý ({STATE_NAMES[st.state]})")
    if st.actor == "auto":
        result = {**result, "awaiting_officer": False}
    _finish(session, case, st, sdef, outcome, result, now, by=by, reason=reason)
    if sdef.starts_clock and case.received_at is None:
        case.received_at = now
        case.due_at, case.due_basis = _set_deadline(case, None, now)
    activate_ready(session, case, now)
    flush_or_conflict(session)
    run_ready(session, case, now)
    return st


def flush_or_conflict(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("hồ sơ vừa được cập nhật bởi người khác; vui lòng tải lại") from None


def _finish(session: Session, case: ProcedureCase, st: ProcedureStep, sdef: StepDef, state: str, result: dict,
            now: datetime, *, by: str | None = None, reason: str | None = None, quiet: bool = False) -> None:
    proc = procedure(case)
    st.state = state
    st.finished_at = now
    st.next_attempt_at = None
    st.result = {**(st.result or {}), **(result or {})}
    st.done_by = (by or "")[:64] or None
    if state == "done":
        st.last_error = None
        text = sdef.done_text(case, st) if sdef.done_text else _generic_done(proc, case, sdef)
    elif state == "skipped":
        st.result = {**st.result, "reason": reason}
        text = f"Hồ sơ {proc.title.lower()} số {short_id(case)}: bước “{sdef.title}” không áp dụng: {reason}."
    else:
        text = (f"Hồ sơ {proc.title.lower()} số {short_id(case)}: bước “{sdef.title}” chưa thực hiện được. "
                f"Cơ quan có thẩm quyền đang xử lý; các bước khác không bị ảnh hưởng.")
    if not quiet:
        notify(session, case, st.name, text, now)
    case.updated_at = now


# --- automatic steps ------------------------------------------------------------------------------------------------


def ensure_transaction(session: Session) -> None:
    """Make sure a real transaction is open before a SAVEPOINT.

    pysqlite only sends BEGIN before a data-changing statement; a SAVEPOINT sent first would open
    the transaction itself and its RELEASE would commit it. An UPDATE that matches no row makes
    pysqlite send BEGIN (PostgreSQL: a no-op in the already open transaction).
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Counter).where(Counter.name == "").values(value=Counter.value)
                        .execution_options(synchronize_session=False))


def run_step(session: Session, case: ProcedureCase, st: ProcedureStep, now: datetime) -> str:
    """One attempt of an automatic step, isolated in a SAVEPOINT. Returns the new state."""
    ensure_transaction(session)
    proc = procedure(case)
    sdef = proc.step(st.name)
    st.attempts = (st.attempts or 0) + 1
    skip: Skip | None = None
    handoff: Handoff | None = None
    try:
        with session.begin_nested():
            try:
                result = sdef.run(session, case, st, now) or {}
            except Skip as exc:  # a decision that the step does not apply: its writes are kept
                skip, result = exc, {}
            except Handoff as exc:  # a decision left to an officer: its writes are kept
                handoff, result = exc, {}
            session.flush()
    except Exception as exc:  # isolate: the step's writes are rolled back, the case goes on
        message = getattr(exc, "message", None) or getattr(exc, "detail", None) or str(exc) or exc.__class__.__name__
        st.last_error = f"{exc.__class__.__name__}: {message}"[:2000]
        log.warning("civil step %s of case %s failed (attempt %s): %s", st.name, case.id, st.attempts, st.last_error)
        if st.attempts >= st.max_attempts:
            _finish(session, case, st, sdef, "failed", {}, now)
            _update_status(session, case, now)
        else:
            st.next_attempt_at = now + timedelta(seconds=rules.retry_delay_s(st.attempts))
            case.updated_at = now
        return st.state
    if handoff is not None:
        st.next_attempt_at = None
        st.last_error = None
        st.result = {**(st.result or {}), **handoff.result, "awaiting_officer": True, "reason": handoff.reason}
        case.updated_at = now
        notify(session, case, st.name, f"Hồ sơ {proc.title.lower()} số {short_id(case)}: bước “{sdef.title}” đang chờ "
                                       f"cán bộ có thẩm quyền xác minh, quyết định: {handoff.reason}.", now)
    elif skip is not None:
        _finish(session, case, st, sdef, "skipped", skip.result, now, by="system", reason=skip.reason, quiet=skip.quiet)
    else:
        _finish(session, case, st, sdef, "done", result, now, by="system")
    return st.state


def _due(st: ProcedureStep, now: datetime) -> bool:
    at = st.next_attempt_at
    return st.actor == "auto" and st.state == "in_progress" and at is not None and at <= now


def run_ready(session: Session, case: ProcedureCase, now: datetime, *, max_rounds: int = 20) -> int:
    """Run the case's automatic steps that are due, and those they unlock. Returns attempts made."""
    attempts = 0
    for _ in range(max_rounds):
        due = [st for st in case.steps if _due(st, now)]
        if not due:
            break
        for st in due:
            run_step(session, case, st, now)
            attempts += 1
        activate_ready(session, case, now)
    flush_or_conflict(session)
    return attempts


def retry_failed(session: Session, case: ProcedureCase, step_name: str, now: datetime, *, by: str) -> ProcedureStep:
    """An officer restarts a failed automatic step (attempts reset)."""
    st = get_step(case, step_name)
    if st.actor != "auto" or st.state != "failed":
        raise Conflict("chỉ thực hiện lại được bước tự động đang ở trạng thái lỗi")
    st.state, st.attempts, st.next_attempt_at, st.finished_at = "in_progress", 0, now, None
    st.result = {**(st.result or {}), "retried_by": by}
    _update_status(session, case, now)
    if case.status == "attention":
        case.status = "open"
    flush_or_conflict(session)
    run_ready(session, case, now)
    return st


@dataclass
class AdvanceReport:
    attempted: int = 0
    done: int = 0
    failed: int = 0
    retrying: int = 0
    skipped_busy: int = 0
    cases: list[str] = field(default_factory=list)


def advance_due(session: Session, now: datetime, *, limit: int = 200) -> AdvanceReport:
    """Run every automatic step whose attempt is due at ``now`` (the runner; the caller commits).

    Each step is claimed with an optimistic version bump in its own SAVEPOINT: a step another
    runner changed meanwhile is left to it.
    """
    report = AdvanceReport()
    ensure_transaction(session)
    ids = list(session.scalars(
        select(ProcedureStep.id).where(ProcedureStep.actor == "auto", ProcedureStep.state == "in_progress",
                                       ProcedureStep.next_attempt_at.is_not(None),
                                       ProcedureStep.next_attempt_at <= now)
        .order_by(ProcedureStep.next_attempt_at, ProcedureStep.id).limit(limit)))
    for step_id in ids:
        st = session.get(ProcedureStep, step_id, populate_existing=True)
        if st is None or not _due(st, now):
            continue
        case = st.case
        try:
            with session.begin_nested():
                st.next_attempt_at = now  # claim: UPDATE ... WHERE version = <read version>
                case.updated_at = now
                session.flush()
        except StaleDataError:
            report.skipped_busy += 1
            session.expire_all()
            continue
        before = {s.id: s.state for s in case.steps}
        report.attempted += run_ready(session, case, now)
        for s in case.steps:
            if s.actor == "auto" and (before.get(s.id) != s.state or s.id == step_id):
                if s.state == "done":
                    report.done += 1
                elif s.state == "failed":
                    report.failed += 1
                elif s.state == "in_progress" and s.last_error:
                    report.retrying += 1
        report.cases.append(case.id)
    return report


# --- overdue ----------------------------------------------------------------------------------------------------------


def overdue_clause(now: datetime):
    """SQL condition: a step past its deadline that is still open, a failed step, or an automatic step
    waiting for an officer's decision (in progress with no next attempt: :class:`Handoff`)."""
    return or_(
        (ProcedureStep.state.in_(("waiting_citizen", "in_progress", "pending")) & ProcedureStep.due_at.is_not(None)
         & (ProcedureStep.due_at < now)),
        ProcedureStep.state == "failed",
        (ProcedureStep.actor == "auto") & (ProcedureStep.state == "in_progress") & ProcedureStep.next_attempt_at.is_(None),
    )


def is_overdue(step: ProcedureStep, now: datetime) -> bool:
    due = step.due_at
    return step.state == "failed" or (step.state in ACTIVE and due is not None and due < now)
