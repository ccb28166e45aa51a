"""The relay against a real NATS JetStream server, and concurrent relays on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections import Counter

import pytest
from sqlalchemy import select

from lienthong.config import reset_settings_cache
from lienthong.db import unit_of_work
from lienthong.events.bus import MessageBus
from lienthong.events.models import OutboxDelivery, OutboxEvent
from lienthong.events.outbox import record_event
from lienthong.events.relay import Relay, relay_once

pytestmark = pytest.mark.nats


@pytest.fixture
def jetstream(nats_url, monkeypatch):
    """A unique stream name (through the settings) and subject prefix; the stream is deleted afterwards."""
    suffix = uuid.uuid4().hex[:10]
    stream = f"LT_TEST_{suffix}"
    prefix = f"lt_test_{suffix}"
    monkeypatch.setenv("LIENTHONG_NATS_STREAM", stream)
    reset_settings_cache()
    yield {"url": nats_url, "stream": stream, "prefix": prefix}

    async def cleanup():
        import nats
        from nats.js.errors import NotFoundError

        nc = await nats.connect(nats_url)
        try:
            await nc.jetstream().delete_stream(stream)
        except NotFoundError:
            pass
        finally:
            await nc.close()

    asyncio.run(cleanup())
    reset_settings_cache()


def _stream_messages(js_info: dict) -> list[tuple[str, dict, dict]]:
    """Every message on the test stream, read by an ephemeral pull consumer: (subject, headers, body)."""

    async def read():
        import nats
        from nats.errors import TimeoutError as NatsTimeout

        nc = await nats.connect(js_info["url"])
        try:
            js = nc.jetstream()
            info = await js.stream_info(js_info["stream"])
            sub = await js.pull_subscribe(f"{js_info['prefix']}.>", durable=None, stream=js_info["stream"])
            out = []
            while len(out) < info.state.messages:
                try:
                    msgs = await sub.fetch(100, timeout=2)
                except NatsTimeout:
                    break
                for m in msgs:
                    out.append((m.subject, dict(m.headers or {}), json.loads(m.data)))
                    await m.ack()
            return out
        finally:
            await nc.close()

    return asyncio.run(read())


def _publish_raw(js_info: dict, subject: str, body: bytes, msg_id: str):
    async def pub():
        import nats

        nc = await nats.connect(js_info["url"])
        try:
            return await nc.jetstream().publish(subject, body, headers={"Nats-Msg-Id": msg_id},
                                                stream=js_info["stream"])
        finally:
            await nc.close()

    return asyncio.run(pub())


def _record(url, topic, payload) -> str:
    with unit_of_work(url) as s:
        return record_event(s, topic, payload).event_id


def test_events_arrive_on_jetstream(db_url, jetstream):
    bus = MessageBus()
    local: list[str] = []
    bus.register("population.>", lambda s, e: local.append(e["event_id"]), name="local")
    ids = [_record(db_url, "population.citizen.registered", {"personal_id": f"00109901234{i}", "họ_tên": "Trần Thị B"})
           for i in range(3)]
    ids.append(_record(db_url, "population.citizen.died", {"personal_id": "001099012340"}))

    # stream name from the settings (LIENTHONG_NATS_STREAM), created on first use
    assert relay_once(db_url, nats_url=jetstream["url"], subject_prefix=jetstream["prefix"], bus=bus) == 4
    assert local == ids
    msgs = _stream_messages(jetstream)
    assert [m[2]["event_id"] for m in msgs] == ids
    assert [m[1]["Nats-Msg-Id"] for m in msgs] == ids
    assert msgs[0][0] == f"{jetstream['prefix']}.population.citizen.registered"
    assert msgs[3][0] == f"{jetstream['prefix']}.population.citizen.died"
    assert msgs[0][2]["payload"] == {"personal_id": "001099012340", "họ_tên": "Trần Thị B"}
    assert msgs[0][2]["topic"] == "population.citizen.registered" and "T" in msgs[0][2]["occurred_at"]

    with unit_of_work(db_url) as s:
        events = s.scalars(select(OutboxEvent).order_by(OutboxEvent.seq)).all()
        targets = Counter(d.target for d in s.scalars(select(OutboxDelivery)))
    assert all(e.published_at is not None for e in events)
    # a NATS delivery row is kept only for an event that must be retried elsewhere; handlers keep theirs
    assert targets == {"handler:local": 4}
    # nothing is published twice
    assert relay_once(db_url, nats_url=jetstream["url"], subject_prefix=jetstream["prefix"], bus=bus) == 0
    assert len(_stream_messages(jetstream)) == 4


def test_crash_between_publish_and_mark_is_deduplicated(db_url, jetstream, monkeypatch):
    eid = _record(db_url, "population.citizen.registered", {"personal_id": "001099000001"})

    def crash(self, session, outcomes, nats_done):
        raise SystemExit("relay killed after the publish ack, before marking the row")

    with monkeypatch.context() as m:
        m.setattr(Relay, "_record", crash)
        with pytest.raises(SystemExit):
            relay_once(db_url, nats_url=jetstream["url"], subject_prefix=jetstream["prefix"], bus=MessageBus())
    with unit_of_work(db_url) as s:
        [event] = s.scalars(select(OutboxEvent)).all()
        assert event.published_at is None  # the mark was lost with the crash
    assert len(_stream_messages(jetstream)) == 1

    # The restarted relay publishes the same event again: JetStream drops the duplicate.
    assert relay_once(db_url, nats_url=jetstream["url"], subject_prefix=jetstream["prefix"], bus=MessageBus()) == 1
    msgs = _stream_messages(jetstream)
    assert [m[2]["event_id"] for m in msgs] == [eid]
    with unit_of_work(db_url) as s:
        assert s.scalars(select(OutboxEvent)).one().published_at is not None

    # The server reports the duplicate explicitly for the same Nats-Msg-Id.
    ack = _publish_raw(jetstream, f"{jetstream['prefix']}.population.citizen.registered", b"{}", eid)
    assert ack.duplicate is True
    assert len(_stream_messages(jetstream)) == 1


def test_unreachable_nats_leaves_events_pending(db_url, jetstream):
    bus = MessageBus()
    local: list[str] = []
    bus.register("population.>", lambda s, e: local.append(e["event_id"]), name="local")
    eid = _record(db_url, "population.citizen.registered", {"personal_id": "001099000002"})

    assert relay_once(db_url, nats_url="nats://127.0.0.1:1", subject_prefix=jetstream["prefix"], bus=bus) == 0
    with unit_of_work(db_url) as s:
        event = s.scalars(select(OutboxEvent)).one()
        assert event.published_at is None and event.attempts == 1
        assert event.last_error.startswith(f"nats:{jetstream['stream']}: NATS:")
        # the backoff applies to the event as a whole; make it due
        for d in s.scalars(select(OutboxDelivery)):
            d.next_attempt_at = None
    assert local == [eid]  # the in-process handler got it; it will not get it again

    assert relay_once(db_url, nats_url=jetstream["url"], subject_prefix=jetstream["prefix"], bus=bus) == 1
    assert local == [eid]
    assert [m[2]["event_id"] for m in _stream_messages(jetstream)] == [eid]


def test_existing_stream_gets_the_subjects(db_url, jetstream):
    async def make():
        import nats

        nc = await nats.connect(jetstream["url"])
        try:
            await nc.jetstream().add_stream(name=jetstream["stream"], subjects=[f"{jetstream['prefix']}_other.>"])
        finally:
            await nc.close()

    asyncio.run(make())
    eid = _record(db_url, "x.y", {})
    assert relay_once(db_url, nats_url=jetstream["url"], subject_prefix=jetstream["prefix"], bus=MessageBus()) == 1
    assert [m[2]["event_id"] for m in _stream_messages(jetstream)] == [eid]


def test_two_concurrent_relays_on_postgresql_deliver_each_event_once(pg_url, jetstream):
    n_events = 300
    with unit_of_work(pg_url) as s:
        for i in range(n_events):
            record_event(s, "population.citizen.registered", {"i": i})

    bus = MessageBus()
    lock = threading.Lock()
    handled: list[tuple[str, str]] = []

    @bus.subscribe("population.>", name="counter")
    def counter(session, event):
        with lock:
            handled.append((event["event_id"], threading.current_thread().name.split("/")[0]))  # the relay's

    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def relay_loop():
        try:
            start.wait()
            with Relay(pg_url, nats_url=jetstream["url"], subject_prefix=jetstream["prefix"], bus=bus) as relay:
                idle = 0
                while idle < 3:
                    idle = idle + 1 if relay.run_once(batch=10) == 0 else 0
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=relay_loop, name=f"relay-{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    counts = Counter(eid for eid, _ in handled)
    assert len(counts) == n_events and set(counts.values()) == {1}
    # both relays did part of the work, side by side
    assert set(Counter(name for _, name in handled)) == {"relay-0", "relay-1"}
    with unit_of_work(pg_url) as s:
        assert all(e.published_at is not None for e in s.scalars(select(OutboxEvent)))
    msgs = _stream_messages(jetstream)
    assert len(msgs) == n_events and len({m[2]["event_id"] for m in msgs}) == n_events


def test_a_large_backlog_is_published_in_order_with_acks_in_flight(pg_url, jetstream):
    with unit_of_work(pg_url) as s:
        ids = [record_event(s, "population.citizen.registered", {"i": i}).event_id for i in range(1500)]
    with Relay(pg_url, nats_url=jetstream["url"], subject_prefix=jetstream["prefix"], bus=MessageBus()) as relay:
        assert relay.run_once(batch=1000) == 1000
        assert relay.run_once(batch=1000) == 500
    msgs = _stream_messages(jetstream)
    assert [m[2]["event_id"] for m in msgs] == ids
