"""The outbox inspection route (admin only), on a small app of its own (both databases)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from lienthong.audit.models import AuditEntry
from lienthong.db import unit_of_work
from lienthong.errors import install_error_handlers
from lienthong.events.bus import MessageBus
from lienthong.events.outbox import record_event
from lienthong.events.relay import relay_once
from lienthong.events.routes import router as events_router
from lienthong.identity.principal import Principal

AN = Principal(kind="citizen", subject="001099000001", personal_id="001099000001", assurance_level=2)
ADMIN = Principal(kind="admin", subject="001080000009", personal_id="001080000009", assurance_level=2)
OFFICER = Principal(kind="officer", subject="001085000007", personal_id="001085000007", assurance_level=2,
                    province_code=1)
FACILITY = Principal(kind="facility", subject="bv-bach-mai", facility_code="01001",
                     scopes=frozenset({"population.read", "directory.read"}))


@pytest.fixture
def api(db_url):
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(events_router)
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def test_anonymous_is_rejected(api):
    assert api.get("/api/v1/events/outbox").status_code == 401


def test_outbox_listing_for_admins(api, bearer, db_url):
    with unit_of_work(db_url) as s:
        for i in range(3):
            record_event(s, "population.citizen.registered", {"personal_id": f"00109900001{i}"})
    bus = MessageBus()
    bus.register("population.>", lambda s, e: None, name="indexer")
    assert relay_once(db_url, nats_url="", bus=bus, batch=2) == 2
    with unit_of_work(db_url) as s:
        record_event(s, "population.citizen.died", {"personal_id": "001099000010"})

    h = bearer(ADMIN)
    r = api.get("/api/v1/events/outbox", headers=h)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["topic"] for i in items] == ["population.citizen.died"] + ["population.citizen.registered"] * 3
    assert [i["pending"] for i in items] == [True, True, False, False]
    assert items[3]["deliveries"][0]["target"] == "handler:indexer" and items[3]["deliveries"][0]["delivered_at"]
    assert items[3]["payload"] == {"personal_id": "001099000010"} and items[0]["deliveries"] == []

    pending = api.get("/api/v1/events/outbox", params={"pending": "true"}, headers=h).json()["items"]
    assert [i["seq"] for i in pending] == [items[0]["seq"], items[1]["seq"]]
    page = api.get("/api/v1/events/outbox", params={"limit": 1, "before": items[1]["seq"]}, headers=h).json()
    assert [i["seq"] for i in page["items"]] == [items[2]["seq"]] and page["next_before"] == items[2]["seq"]
    by_topic = api.get("/api/v1/events/outbox", params={"topic": "population.citizen.died"}, headers=h).json()
    assert len(by_topic["items"]) == 1

    for p in (AN, OFFICER, FACILITY):
        assert api.get("/api/v1/events/outbox", headers=bearer(p)).status_code == 403
    with unit_of_work(db_url) as s:
        reads = s.scalars(select(AuditEntry).where(AuditEntry.resource == "events.outbox")).all()
    assert len(reads) == 4 and all(e.actor_id == ADMIN.subject for e in reads)
