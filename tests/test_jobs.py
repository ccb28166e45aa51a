"""The background worker loop (``lienthong.jobs.run_forever``): outbox relay plus periodic jobs."""

from __future__ import annotations

import threading
import time

from lienthong import jobs
from lienthong.db import unit_of_work
from lienthong.events import relay
from lienthong.events.bus import bus
from lienthong.events.outbox import record_event


def test_run_forever_relays_with_one_relay_for_its_lifetime(db_url, monkeypatch):
    made: list[relay.Relay] = []

    class CountingRelay(relay.Relay):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(relay, "Relay", CountingRelay)
    got: list[int] = []

    def handler(session, event):
        got.append(event["payload"]["i"])

    bus.register("jobs-test.tick", handler, name="tests.jobs.tick")
    stop = threading.Event()
    thread = threading.Thread(target=jobs.run_forever, args=(db_url,),
                              kwargs={"stop": stop, "relay_interval_s": 0.02, "nats_url": ""}, daemon=True)
    thread.start()
    try:
        for i in range(3):
            with unit_of_work(db_url) as s:
                record_event(s, "jobs-test.tick", {"i": i})
            time.sleep(0.1)  # several passes between events
        deadline = time.monotonic() + 10
        while len(got) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(10)
        bus.unregister(handler)
    assert not thread.is_alive()
    assert got == [0, 1, 2]
    assert len(made) == 1
