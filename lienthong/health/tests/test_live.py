"""Live updates (server-sent events) through a real uvicorn server, on SQLite and PostgreSQL;
the feed's handling of out-of-order commits on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from test_book_fixtures import HOSPITAL, OTHER_PID, PID, add_visit, citizen, seed_facilities

from lienthong.db import get_engine, session_factory
from lienthong.health import live
from lienthong.health.models import Visit, VisitVersion
from lienthong.testing_browser import free_port, live_uvicorn

@pytest.fixture
def server(db_url, tmp_path):
    with live_uvicorn("lienthong.app:create_app", free_port(), tmp_path / "uvicorn.log") as base:
        yield base


class Reader(threading.Thread):
    """Reads one SSE stream in the background, timestamping each event."""

    def __init__(self, url: str, headers: dict):
        super().__init__(daemon=True)
        self.url, self.headers = url, headers
        self.events: list[tuple[float, str, str | None, dict]] = []  # (received, event, id, data)
        self.comments = 0
        self.status: int | None = None
        self.error: BaseException | None = None
        self._stop = threading.Event()

    def run(self):
        try:
            with httpx.stream("GET", self.url, headers=self.headers, timeout=httpx.Timeout(5, read=30)) as r:
                self.status = r.status_code
                event, eid, data = None, None, []
                for line in r.iter_lines():
                    if self._stop.is_set():
                        return
                    if line.startswith(":"):
                        self.comments += 1
                    elif line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("id:"):
                        eid = line[3:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif line == "" and (event or data):
                        self.events.append((time.time(), event or "message", eid, json.loads("\n".join(data))))
                        event, eid, data = None, None, []
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            if not self._stop.is_set():
                self.error = exc

    def wait_for(self, kind: str, count: int = 1, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events if e[1] == kind]
            if len(found) >= count:
                return found
            if self.error:
                raise self.error
            time.sleep(0.01)
        raise AssertionError(f"no {count} '{kind}' events within {timeout}s: {self.events}")

    def stop(self):
        self._stop.set()


def test_new_visit_is_pushed_within_a_second(server, bearer):
    seed_facilities()
    old = add_visit(PID, HOSPITAL, "LK-OLD", datetime.now(UTC) - timedelta(days=3))
    headers = bearer(citizen())
    reader = Reader(server + "/api/v1/me/health/events", headers)
    reader.start()
    try:
        ready = reader.wait_for("ready")[0]
        assert reader.status == 200
        with session_factory()() as s:
            old_version = s.query(VisitVersion.id).filter(VisitVersion.visit_id == old).scalar()
        assert ready[2] == str(old_version)  # resume point: the latest version already in the book

        add_visit(OTHER_PID, HOSPITAL, "LK-OTHER", datetime.now(UTC))  # someone else's: not pushed
        committed = time.time()
        vid = add_visit(PID, HOSPITAL, "LK-NEW", datetime.now(UTC), main_icd="I10")
        received, _, eid, data = reader.wait_for("visit", timeout=5)[0]
        latency = received - committed
        assert latency < 1.0, f"pushed after {latency:.3f}s"
        assert data["visit_id"] == vid and data["ma_lk"] == "LK-NEW" and data["personal_id"] == PID
        assert data["facility_name"] == "Bệnh viện Bạch Mai" and data["version"] == 1
        assert [e[3]["ma_lk"] for e in reader.events if e[1] == "visit"] == ["LK-NEW"]

        # A resubmission (version 2 of the same visit) is pushed too.
        with session_factory()() as s, s.begin():
            v = s.get(Visit, vid)
            v.version = 2
            s.add(VisitVersion(visit_id=vid, version=2, content_hash="b" * 64, record={}))
        second = reader.wait_for("visit", count=2, timeout=5)[1]
        assert second[3]["visit_id"] == vid and second[3]["version"] == 2 and int(second[2]) > int(eid)
    finally:
        reader.stop()

    # Resume: reconnecting with Last-Event-ID replays what came after it, then goes on live.
    resumed = Reader(server + "/api/v1/me/health/events", {**headers, "Last-Event-ID": str(old_version)})
    resumed.start()
    try:
        replay = resumed.wait_for("visit", count=2)
        assert [(e[3]["ma_lk"], e[3]["version"]) for e in replay] == [("LK-NEW", 1), ("LK-NEW", 2)]
        resumed.wait_for("ready")
    finally:
        resumed.stop()


def test_events_need_a_citizen(server, bearer):
    from test_book_fixtures import facility

    r = httpx.get(server + "/api/v1/me/health/events", headers=bearer(facility()), timeout=5)
    assert r.status_code == 403
    assert httpx.get(server + "/api/v1/me/health/events", timeout=5).status_code == 401


def test_reconnect_after_last_subscriber_left(server, bearer):
    seed_facilities()
    reader = Reader(server + "/api/v1/me/health/events", bearer(citizen()))
    reader.start()
    reader.wait_for("ready")
    reader.stop()
    # A later connection still works (the feed restarts after the last subscriber left).
    again = Reader(server + "/api/v1/me/health/events", bearer(citizen()))
    again.start()
    try:
        again.wait_for("ready")
        vid = add_visit(PID, HOSPITAL, "LK-AGAIN", datetime.now(UTC))
        assert again.wait_for("visit")[0][3]["visit_id"] == vid
    finally:
        again.stop()


def test_keepalive_and_disconnect_in_process(db_url):
    """Keep-alive comments while idle; closing the stream (client gone) unsubscribes from the feed."""
    seed_facilities()

    async def scenario():
        gone = False

        async def is_disconnected():
            return gone

        stream = live.visit_events(PID, last_event_id=None, is_disconnected=is_disconnected, keepalive=0.3)
        chunks = [await stream.__anext__() for _ in range(2)]
        assert chunks[0].startswith("retry:") and "event: ready" in chunks[1]
        assert live.feed_for().subscribers == 1
        assert await asyncio.wait_for(stream.__anext__(), 2) == ": keep-alive\n\n"
        await stream.aclose()  # what Starlette does when the client disconnects
        assert live.feed_for().subscribers == 0

        stream = live.visit_events(PID, last_event_id=None, is_disconnected=is_disconnected, keepalive=0.2)
        await stream.__anext__()
        await stream.__anext__()
        gone = True  # noticed at the next keep-alive tick: the stream ends by itself
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(stream.__anext__(), 2)
        assert live.feed_for().subscribers == 0

    asyncio.run(scenario())


class _Collect(live.Subscriber):
    def push(self, item):
        self.items.append(item)


def test_feed_sees_late_commits_with_lower_ids(pg_url):
    """Two ingest transactions: the one with the lower version id commits last; both are delivered."""
    seed_facilities()
    vid = add_visit(PID, HOSPITAL, "LK-BASE", datetime.now(UTC))
    feed = live.VisitFeed(pg_url)
    sub = _Collect(PID, loop=None)  # type: ignore[arg-type]
    sub.items = []
    feed._subs[PID] = {sub}
    feed._cursor = feed._max_id()

    engine = get_engine(pg_url)
    slow = engine.connect()
    tx = slow.begin()
    low = slow.execute(text("INSERT INTO health_visit_versions (visit_id, version, content_hash, record, received_at) "
                            "VALUES (:v, 2, :h, '{}', now()) RETURNING id"), {"v": vid, "h": "c" * 64}).scalar_one()
    with engine.begin() as fast:
        high = fast.execute(text("INSERT INTO health_visit_versions (visit_id, version, content_hash, record, received_at) "
                                 "VALUES (:v, 3, :h, '{}', now()) RETURNING id"), {"v": vid, "h": "d" * 64}).scalar_one()
    assert low < high
    feed.poll_once()
    assert [i["event_id"] for i in sub.items] == [high] and low in feed._gaps
    tx.commit()
    slow.close()
    feed.poll_once()
    assert [i["event_id"] for i in sub.items] == [high, low] and not feed._gaps
    feed.poll_once()
    assert len(sub.items) == 2
