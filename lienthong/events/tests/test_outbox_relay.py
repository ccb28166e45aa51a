"""Transactional outbox, in-process bus and relay (database-agnostic behaviour, both databases)."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from lienthong.db import unit_of_work, utcnow
from lienthong.events.bus import MessageBus, envelope, topic_matches
from lienthong.events.models import OutboxDelivery, OutboxEvent
from lienthong.events.outbox import record_event
from lienthong.events.relay import backoff_s, relay_once, run_relay
from lienthong.facilities.models import Agency


def _events(url):
    with unit_of_work(url) as s:
        return {e.event_id: e for e in s.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))}


def _record(url, topic, payload) -> str:
    with unit_of_work(url) as s:
        return record_event(s, topic, payload).event_id


def _make_due(url) -> None:
    """Pretend the backoff delay has passed."""
    with unit_of_work(url) as s:
        s.execute(update(OutboxDelivery).where(OutboxDelivery.next_attempt_at.is_not(None))
                  .values(next_attempt_at=utcnow() - timedelta(seconds=1)))


@pytest.mark.parametrize(("pattern", "topic", "expected"), [
    ("population.citizen.registered", "population.citizen.registered", True),
    ("population.*", "population.citizen", True),
    ("population.*", "population.citizen.registered", False),
    ("population.*.registered", "population.citizen.registered", True),
    ("population.*.registered", "population.citizen.died", False),
    ("population.>", "population.citizen", True),
    ("population.>", "population.citizen.registered", True),
    ("population.>", "population", False),
    (">", "anything.at.all", True),
    ("*", "population", True),
    ("*", "population.citizen", False),
    ("population", "population.citizen", False),
    ("population.citizen", "population", False),
    ("health.>", "population.citizen", False),
])
def test_topic_matching(pattern, topic, expected):
    assert topic_matches(pattern, topic) is expected


@pytest.mark.parametrize("pattern", ["population.>.x", "bad topic", "a..b", "", "a.b*"])
def test_bad_patterns_rejected(pattern):
    with pytest.raises(ValueError):
        MessageBus().register(pattern, lambda s, e: None, name="x")


def test_one_name_one_subscription():
    bus = MessageBus()

    def h(session, event):
        pass

    bus.register("a.*", h)
    with pytest.raises(ValueError):
        bus.register("b.*", h)  # would share one delivery record
    bus.register("b.*", h, name="h-for-b")
    assert [s.name for s in bus.handlers_for("b.x")] == ["h-for-b"]


def test_register_exist_ok_is_idempotent_for_the_same_name_and_pattern():
    bus = MessageBus()

    def h(session, event):
        pass

    bus.register("a.x", h, name="h")
    with pytest.raises(ValueError):
        bus.register("a.x", h, name="h")
    bus.register("a.x", h, name="h", exist_ok=True)
    assert [s.name for s in bus.handlers_for("a.x")] == ["h"]
    with pytest.raises(ValueError):  # same name, other pattern: still refused
        bus.register("b.x", h, name="h", exist_ok=True)


def test_outbox_row_commits_and_rolls_back_with_the_data(db_url):
    with pytest.raises(RuntimeError):
        with unit_of_work(db_url) as s:
            s.add(Agency(code="CA-TEST", name="Công an tỉnh thử", kind="police"))
            record_event(s, "facilities.agency.created", {"code": "CA-TEST"})
            s.flush()
            raise RuntimeError("fails after the writes")
    with unit_of_work(db_url) as s:
        assert s.get(Agency, "CA-TEST") is None
        assert s.scalars(select(OutboxEvent)).all() == []

    with unit_of_work(db_url) as s:
        s.add(Agency(code="CA-TEST", name="Công an tỉnh thử", kind="police"))
        record_event(s, "facilities.agency.created", {"code": "CA-TEST"})
    with unit_of_work(db_url) as s:
        assert s.get(Agency, "CA-TEST") is not None
        [event] = s.scalars(select(OutboxEvent)).all()
        assert event.topic == "facilities.agency.created" and event.payload == {"code": "CA-TEST"}
        assert event.published_at is None and event.attempts == 0


def test_record_event_rejects_bad_topics(db_url):
    with unit_of_work(db_url) as s:
        for bad in ("", "has space"):
            with pytest.raises(ValueError):
                record_event(s, bad, {})


def test_envelope_is_json(db_url):
    eid = _record(db_url, "population.citizen.registered", {"personal_id": "001099012345", "tên": "Nguyễn Văn A"})
    event = _events(db_url)[eid]
    env = json.loads(json.dumps(envelope(event), ensure_ascii=False))
    assert env["event_id"] == eid and env["topic"] == "population.citizen.registered"
    assert env["payload"] == {"personal_id": "001099012345", "tên": "Nguyễn Văn A"}
    assert env["occurred_at"].startswith(str(utcnow().year))


def test_relay_delivers_each_event_once_in_order(db_url):
    bus = MessageBus()
    seen: list[tuple[str, str]] = []
    wild: list[str] = []

    @bus.subscribe("population.citizen.*")
    def on_citizen(session, event):
        seen.append((event["event_id"], event["payload"]["n"]))

    @bus.subscribe("population.>")
    def on_population(session, event):
        wild.append(event["topic"])

    ids = [_record(db_url, "population.citizen.registered", {"n": str(i)}) for i in range(5)]
    other = _record(db_url, "population.household.split", {"n": "h"})
    unrouted = _record(db_url, "health.visit.closed", {"n": "x"})  # no subscriber: published anyway

    assert relay_once(db_url, nats_url="", bus=bus) == 7
    assert seen == [(eid, str(i)) for i, eid in enumerate(ids)]
    assert sorted(wild) == sorted(["population.citizen.registered"] * 5 + ["population.household.split"])
    # nothing left: later passes deliver nothing again
    assert relay_once(db_url, nats_url="", bus=bus) == 0
    assert relay_once(db_url, nats_url="", bus=bus) == 0
    assert len(seen) == 5 and len(wild) == 6

    events = _events(db_url)
    assert all(e.published_at is not None and e.attempts == 0 for e in events.values())
    with unit_of_work(db_url) as s:
        rows = s.scalars(select(OutboxDelivery)).all()
    targets = {(r.event_id, r.target) for r in rows}
    assert len(rows) == 11 and all(r.delivered_at is not None and r.attempts == 1 for r in rows)
    assert (other, "handler:" + on_population.__module__ + "." + on_population.__qualname__) in targets
    assert not any(r.event_id == unrouted for r in rows)


def test_relay_batch_limit(db_url):
    bus = MessageBus()
    got: list[str] = []
    bus.register("t.>", lambda s, e: got.append(e["payload"]["i"]), name="collector")
    for i in range(7):
        _record(db_url, "t.x", {"i": i})
    assert relay_once(db_url, nats_url="", bus=bus, batch=3) == 3
    assert got == [0, 1, 2]
    assert relay_once(db_url, nats_url="", bus=bus, batch=3) == 3
    assert relay_once(db_url, nats_url="", bus=bus, batch=3) == 1
    assert got == list(range(7))


def test_handler_writes_commit_with_its_delivery(db_url):
    bus = MessageBus()
    calls = {"n": 0}

    @bus.subscribe("facilities.agency.requested")
    def create_agency(session, event):
        calls["n"] += 1
        session.add(Agency(code=event["payload"]["code"], name="Sở Tư pháp", kind="justice"))
        record_event(session, "facilities.agency.created", {"code": event["payload"]["code"]})
        session.flush()
        if calls["n"] == 1:
            raise ConnectionError("downstream unavailable")  # the agency and the new event roll back

    _record(db_url, "facilities.agency.requested", {"code": "STP-01"})
    assert relay_once(db_url, nats_url="", bus=bus) == 0
    with unit_of_work(db_url) as s:
        assert s.get(Agency, "STP-01") is None
        assert [e.topic for e in s.scalars(select(OutboxEvent))] == ["facilities.agency.requested"]
    _make_due(db_url)
    assert relay_once(db_url, nats_url="", bus=bus) == 1
    # the event the handler wrote was committed with it and goes out on the next pass
    assert [(e.topic, e.published_at is None) for e in _events(db_url).values()] == [
        ("facilities.agency.requested", False), ("facilities.agency.created", True)]
    assert relay_once(db_url, nats_url="", bus=bus) == 1
    with unit_of_work(db_url) as s:
        assert s.get(Agency, "STP-01").name == "Sở Tư pháp"
    assert calls["n"] == 2


def test_failing_handler_is_retried_and_does_not_block_others(db_url):
    bus = MessageBus()
    good: list[str] = []
    flaky_calls: list[str] = []
    fail_for: set[str] = set()

    @bus.subscribe("population.>")
    def good_handler(session, event):
        good.append(event["event_id"])

    @bus.subscribe("population.>")
    def flaky_handler(session, event):
        flaky_calls.append(event["event_id"])
        if event["event_id"] in fail_for:
            raise ValueError("dịch vụ chưa sẵn sàng")

    first = _record(db_url, "population.citizen.registered", {"i": 1})
    second = _record(db_url, "population.citizen.registered", {"i": 2})
    third = _record(db_url, "population.citizen.died", {"i": 3})
    fail_for.add(first)

    # The first event fails in one handler; the later ones go through in the same pass.
    assert relay_once(db_url, nats_url="", bus=bus) == 2
    assert good == [first, second, third]
    events = _events(db_url)
    assert events[first].published_at is None and events[first].attempts == 1
    assert "flaky_handler" in events[first].last_error and "dịch vụ chưa sẵn sàng" in events[first].last_error
    assert events[second].published_at is not None and events[third].published_at is not None
    with unit_of_work(db_url) as s:
        failed = s.scalars(select(OutboxDelivery).where(OutboxDelivery.delivered_at.is_(None))).all()
    assert len(failed) == 1 and failed[0].event_id == first and failed[0].attempts == 1
    assert failed[0].next_attempt_at is not None

    # Backoff: not retried before it is due.
    assert relay_once(db_url, nats_url="", bus=bus) == 0
    assert flaky_calls.count(first) == 1

    # Still failing: attempts grow, the backoff doubles.
    _make_due(db_url)
    assert relay_once(db_url, nats_url="", bus=bus) == 0
    assert flaky_calls.count(first) == 2
    with unit_of_work(db_url) as s:
        row = s.get(OutboxDelivery, (first, failed[0].target))
        assert row.attempts == 2 and row.delivered_at is None
        assert s.get(OutboxEvent, events[first].seq).attempts == 2

    # Fixed: delivered to the flaky handler only; the good handler is not called again.
    fail_for.clear()
    _make_due(db_url)
    assert relay_once(db_url, nats_url="", bus=bus) == 1
    assert good == [first, second, third]
    assert flaky_calls.count(first) == 3 and flaky_calls.count(second) == 1
    event = _events(db_url)[first]
    assert event.published_at is not None and event.attempts == 2
    with unit_of_work(db_url) as s:
        row = s.get(OutboxDelivery, (first, failed[0].target))
        assert row.delivered_at is not None and row.attempts == 3 and row.next_attempt_at is None
    assert relay_once(db_url, nats_url="", bus=bus) == 0


def test_backoff_grows_and_is_capped():
    delays = [backoff_s(n) for n in range(0, 20)]
    assert delays[0] == 0 and delays[1] == 1 and delays[2] == 2 and delays[3] == 4
    assert all(b >= a for a, b in zip(delays, delays[1:]))
    assert delays[-1] == 600
    # a destination down for weeks keeps failing: ~1,000 attempts used to overflow the float (crash)
    assert backoff_s(1100) == backoff_s(10**6) == 600


def test_concurrent_deliveries_of_one_event_run_the_handler_once(db_url):
    """Two relays racing on the same event and handler (possible on SQLite, which has no SKIP LOCKED)."""
    bus = MessageBus()
    calls: list[str] = []
    gate = threading.Barrier(2)

    def slow(session, event):
        calls.append(threading.current_thread().name)
        session.add(Agency(code="CA-RACE", name="Công an thử", kind="police"))
        session.flush()
        time.sleep(0.3)

    bus.register("race.>", slow, name="slow")
    eid = _record(db_url, "race.start", {})
    env = envelope(_events(db_url)[eid])
    [sub] = bus.handlers_for("race.start")
    results = []

    def run():
        gate.wait()
        results.append(bus.deliver(sub, env, db_url))

    threads = [threading.Thread(target=run, name=f"relay-{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(calls) == 1
    assert sorted(r.skipped for r in results) == [False, True] and all(r.ok for r in results)
    with unit_of_work(db_url) as s:
        assert s.get(Agency, "CA-RACE") is not None


def test_run_relay_loops_until_stopped(db_url):
    bus = MessageBus()
    got: list[int] = []
    bus.register("loop.>", lambda s, e: got.append(e["payload"]["i"]), name="loop")
    stop = threading.Event()
    thread = threading.Thread(target=run_relay, kwargs=dict(url=db_url, nats_url="", interval_s=0.05,
                                                            stop=stop, bus=bus), daemon=True)
    thread.start()
    try:
        for i in range(3):
            _record(db_url, "loop.tick", {"i": i})
        deadline = time.monotonic() + 10
        while len(got) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert got == [0, 1, 2]
    assert all(e.published_at is not None for e in _events(db_url).values())


def test_a_pass_runs_each_handler_once_for_all_its_events(db_url, monkeypatch):
    """One unit of work per handler and pass, not per event."""
    from lienthong.events import bus as bus_module

    bus = MessageBus()
    got: list[int] = []
    bus.register("many.>", lambda s, e: got.append(e["payload"]["i"]), name="many")
    for i in range(50):
        _record(db_url, "many.x", {"i": i})
    opened = {"n": 0}
    real = bus_module.unit_of_work

    def counting(url=None):
        opened["n"] += 1
        return real(url)

    monkeypatch.setattr(bus_module, "unit_of_work", counting)
    assert relay_once(db_url, nats_url="", bus=bus) == 50
    assert got == list(range(50)) and opened["n"] == 1


def test_a_failure_in_the_middle_of_a_batch_holds_back_that_event_only(db_url):
    bus = MessageBus()
    calls: list[int] = []

    def handler(session, event):
        i = event["payload"]["i"]
        calls.append(i)
        session.add(Agency(code=f"AG-{i}", name="Cơ quan", kind="justice"))
        session.flush()
        if i == 3:
            raise ValueError("hỏng")

    bus.register("mid.>", handler, name="mid")
    for i in range(6):
        _record(db_url, "mid.x", {"i": i})
    assert relay_once(db_url, nats_url="", bus=bus) == 5
    # 0..2 ran, 3 failed (rolled back with them), then 0..2 and 4..5 were delivered without it
    assert calls == [0, 1, 2, 3, 0, 1, 2, 4, 5]
    with unit_of_work(db_url) as s:
        assert sorted(a.code for a in s.scalars(select(Agency))) == ["AG-0", "AG-1", "AG-2", "AG-4", "AG-5"]
        pending = s.scalars(select(OutboxEvent).where(OutboxEvent.published_at.is_(None))).all()
        assert [e.payload["i"] for e in pending] == [3] and "hỏng" in pending[0].last_error


def test_a_batch_handler_gets_the_list_and_falls_back_to_single_events(db_url):
    bus = MessageBus()
    batches: list[list[int]] = []
    singles: list[int] = []
    broken = {"on": False}

    def one(session, event):
        singles.append(event["payload"]["i"])

    def many(session, events):
        if broken["on"]:
            raise RuntimeError("lỗi lô")
        batches.append([e["payload"]["i"] for e in events])

    bus.register("vec.>", one, name="vec", batch=many)
    for i in range(4):
        _record(db_url, "vec.x", {"i": i})
    assert relay_once(db_url, nats_url="", bus=bus) == 4
    assert batches == [[0, 1, 2, 3]] and singles == []
    broken["on"] = True
    for i in range(4, 7):
        _record(db_url, "vec.x", {"i": i})
    assert relay_once(db_url, nats_url="", bus=bus) == 3
    assert singles == [4, 5, 6]


def test_run_relay_wakes_up_on_commit_on_postgresql(pg_url):
    """LISTEN/NOTIFY: with a 30 s idle interval the event is still delivered within a second."""
    bus = MessageBus()
    got: list[float] = []
    bus.register("wake.>", lambda s, e: got.append(time.monotonic()), name="wake")
    stop = threading.Event()
    thread = threading.Thread(target=run_relay, kwargs=dict(url=pg_url, nats_url="", interval_s=30, stop=stop,
                                                            bus=bus), daemon=True)
    thread.start()
    try:
        time.sleep(0.5)  # the relay is idle, listening
        committed = time.monotonic()
        _record(pg_url, "wake.up", {})
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        _record(pg_url, "wake.stop", {})  # wake it so it sees the stop
        thread.join(10)
    assert got and got[0] - committed < 1.0
    assert not thread.is_alive()
