"""Live updates of the health book: server-sent events pushed when a visit is accepted.

Every accepted visit version is a row of ``health_visit_versions`` (written by the ingest service
in the same transaction as the visit and its ``health.visit.accepted`` outbox event), so the
database itself is the feed and this works across processes and on SQLite and PostgreSQL alike.

One :class:`VisitFeed` per process and database polls that table every ``POLL_INTERVAL`` seconds
with a primary-key range query (``id > cursor``), however many clients are connected, and hands
each new version to the subscribers of its citizen (matched in memory). On PostgreSQL a sequence
value is taken at insert time but becomes visible at commit, so a lower id can appear after a
higher one: ids skipped by the cursor are remembered as *gaps* and re-queried for
``GAP_TTL`` seconds (rolled-back inserts leave permanent gaps, hence the expiry).

An SSE connection subscribes first, then catches up from its ``Last-Event-ID`` (or, on a fresh
connection, from the citizen's latest version) with a per-citizen indexed query, de-duplicating
by version id, so nothing committed around connection time is lost. Event ids are version ids.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lienthong.db import get_engine, normalize_url, session_factory
from lienthong.health.book import facility_names
from lienthong.health.models import Visit, VisitVersion

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.2
KEEPALIVE = 15.0
GAP_TTL = 60.0
MAX_GAPS = 10_000
BATCH = 5_000
RESET_CHECK = 5.0  # seconds between checks that the table was not emptied (ids restarted)


@dataclass(eq=False)
class Subscriber:
    personal_id: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)

    def push(self, item: dict) -> None:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # the subscriber's loop is closed: it is gone
            pass


def _item(row, names: dict[str, str]) -> dict:
    return {
        "event_id": row.vid, "visit_id": row.visit_id, "version": row.version, "personal_id": row.personal_id,
        "facility_code": row.facility_code, "facility_name": names.get(row.facility_code), "ma_lk": row.ma_lk,
        "admitted_at": row.admitted_at.isoformat(), "main_icd": row.main_icd,
        "accepted_at": row.received_at.isoformat(),
    }


def _columns():
    return (VisitVersion.id.label("vid"), VisitVersion.visit_id, VisitVersion.version, VisitVersion.received_at,
            Visit.personal_id, Visit.facility_code, Visit.ma_lk, Visit.admitted_at, Visit.main_icd)


def versions_for(session: Session, personal_id: str, after: int, limit: int = 100) -> list[dict]:
    """A citizen's accepted visit versions with id > ``after``, oldest first (catch-up/resume)."""
    rows = session.execute(
        select(*_columns()).join(Visit, Visit.id == VisitVersion.visit_id)
        .where(Visit.personal_id == personal_id, VisitVersion.id > after)
        .order_by(VisitVersion.id).limit(limit)
    ).all()
    names = facility_names(session, [r.facility_code for r in rows])
    return [_item(r, names) for r in rows]


def latest_version_id(session: Session, personal_id: str) -> int:
    return session.scalar(
        select(func.max(VisitVersion.id)).join(Visit, Visit.id == VisitVersion.visit_id)
        .where(Visit.personal_id == personal_id)
    ) or 0


class VisitFeed:
    """The per-process poller of one database; started by the first subscriber, stopped by the last."""

    def __init__(self, url: str, interval: float = POLL_INTERVAL):
        self.url = url
        self.interval = interval
        self._lock = threading.Lock()
        self._subs: dict[str, set[Subscriber]] = {}
        self._thread: threading.Thread | None = None
        self._cursor = 0
        self._gaps: dict[int, float] = {}  # id -> when first missed
        self._last_reset_check = 0.0
        self.polls = 0

    # -- subscribers --
    def subscribe(self, personal_id: str, loop: asyncio.AbstractEventLoop) -> Subscriber:
        """Blocking (does a query when the poller starts): call from a worker thread."""
        sub = Subscriber(personal_id, loop)
        with self._lock:
            self._subs.setdefault(personal_id, set()).add(sub)
            if self._thread is None:
                # Initialise the cursor before returning: every version committed after this
                # point is seen by the poller; earlier ones by the subscriber's catch-up query.
                self._cursor = self._max_id()
                self._gaps.clear()
                self._last_reset_check = time.monotonic()
                self._thread = threading.Thread(target=self._run, name="health-visit-feed", daemon=True)
                self._thread.start()
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            subs = self._subs.get(sub.personal_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.personal_id]

    @property
    def subscribers(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._subs.values())

    # -- polling --
    def _max_id(self) -> int:
        with get_engine(self.url).connect() as conn:
            return conn.execute(select(func.coalesce(func.max(VisitVersion.id), 0))).scalar_one()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._subs:
                    self._thread = None
                    return
            started = time.monotonic()
            try:
                self.poll_once()
            except Exception:  # keep serving: a transient database error must not end the feed
                log.exception("health visit feed poll failed")
                time.sleep(1.0)
            time.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    def poll_once(self) -> int:
        """One poll: dispatch new versions to subscribers; returns how many rows were seen."""
        now = time.monotonic()
        self.polls += 1
        if now - self._last_reset_check > RESET_CHECK:
            self._last_reset_check = now
            top = self._max_id()
            if top < self._cursor:  # table emptied / identity restarted (tests, restores)
                self._cursor, self._gaps = top, {}
        for gid, first in list(self._gaps.items()):
            if now - first > GAP_TTL:
                del self._gaps[gid]
        cond = VisitVersion.id > self._cursor
        if self._gaps:
            cond = or_(cond, VisitVersion.id.in_(sorted(self._gaps)[:1000]))
        with session_factory(self.url)() as session:
            rows = session.execute(
                select(*_columns()).join(Visit, Visit.id == VisitVersion.visit_id)
                .where(cond).order_by(VisitVersion.id).limit(BATCH)
            ).all()
            if not rows:
                return 0
            seen = {r.vid for r in rows}
            for gid in seen & self._gaps.keys():
                del self._gaps[gid]
            top = max(seen)
            if top > self._cursor:
                for missing in range(self._cursor + 1, top):
                    if missing not in seen and len(self._gaps) < MAX_GAPS:
                        self._gaps[missing] = now
                self._cursor = top
            with self._lock:
                wanted = [r for r in rows if r.personal_id in self._subs]
            if not wanted:
                return len(rows)
            names = facility_names(session, [r.facility_code for r in wanted])
        for r in wanted:
            item = _item(r, names)
            with self._lock:
                targets = list(self._subs.get(r.personal_id, ()))
            for sub in targets:
                sub.push(item)
        return len(rows)


_feeds: dict[str, VisitFeed] = {}
_feeds_lock = threading.Lock()


def feed_for(url: str | None = None) -> VisitFeed:
    from lienthong.config import get_settings

    key = normalize_url(url or get_settings().database_url)
    with _feeds_lock:
        if key not in _feeds:
            _feeds[key] = VisitFeed(key)
        return _feeds[key]


# --- the SSE stream -------------------------------------------------------------------------------

def sse(data: dict | str, *, event: str | None = None, id: int | None = None) -> str:
    lines = []
    if id is not None:
        lines.append(f"id: {id}")
    if event:
        lines.append(f"event: {event}")
    body = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    lines += [f"data: {line}" for line in body.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


def parse_last_event_id(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


async def visit_events(personal_id: str, *, last_event_id: int | None, is_disconnected: Callable,
                       url: str | None = None, keepalive: float = KEEPALIVE) -> AsyncIterator[str]:
    """The event stream of one citizen: ``ready`` (with the resume id), then ``visit`` per accepted version."""
    from starlette.concurrency import run_in_threadpool

    feed = feed_for(url)
    loop = asyncio.get_running_loop()
    sub = await run_in_threadpool(feed.subscribe, personal_id, loop)
    try:
        def start() -> tuple[int, list[dict]]:
            with session_factory(url)() as session:
                if last_event_id is not None:
                    return last_event_id, versions_for(session, personal_id, last_event_id)
                return latest_version_id(session, personal_id), []

        floor, backlog = await run_in_threadpool(start)
        sent: set[int] = set()
        yield "retry: 2000\n\n"
        for item in backlog:
            sent.add(item["event_id"])
            floor = max(floor, item["event_id"])
            yield sse(item, event="visit", id=item["event_id"])
        yield sse({"personal_id": personal_id, "last_event_id": floor}, event="ready", id=floor)
        while True:
            try:
                item = await asyncio.wait_for(sub.queue.get(), timeout=keepalive)
            except TimeoutError:
                if await is_disconnected():
                    return
                yield ": keep-alive\n\n"
                continue
            eid = item["event_id"]
            if eid in sent:
                continue
            sent.add(eid)
            if len(sent) > 10_000:
                sent = {e for e in sent if e > eid - 10_000}
            yield sse(item, event="visit", id=eid)
    finally:
        feed.unsubscribe(sub)
