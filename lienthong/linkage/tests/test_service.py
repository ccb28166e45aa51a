"""Jobs in the database (SQLite and PostgreSQL): registry export, write-back with provenance and
events, clerical review through the API and the officers' page, policy and audit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lienthong.audit.models import AuditEntry
from lienthong.db import unit_of_work
from lienthong.events.models import OutboxEvent
from lienthong.identity.principal import Principal
from lienthong.linkage import noise, service
from lienthong.linkage.models import LinkCandidate, LinkedRecord, LinkJob
from lienthong.linkage.registry import export_registry
from lienthong.population.models import Citizen, LegacyId, Residence

OFFICER = Principal(kind="officer", subject="cb-0001", name="Trần Văn Cán", assurance_level=2, province_code=1)
CITIZEN = Principal(kind="citizen", subject="001090000001", name="Lê Thị Dân", personal_id="001090000001",
                    assurance_level=2)


def _seed(registry) -> None:
    with unit_of_work() as s:
        for r in registry.to_pylist():
            full = " ".join(p for p in (r["family_name"], r["middle_name"], r["given_name"]) if p)
            s.add(Citizen(personal_id=r["personal_id"], family_name=r["family_name"], middle_name=r["middle_name"],
                          given_name=r["given_name"], full_name=full, birth_date=r["birth_date"], sex=r["sex"],
                          birth_place_code=r["birth_place_code"]))
        s.flush()
        for r in registry.to_pylist():
            if r["cmnd"]:
                s.add(LegacyId(personal_id=r["personal_id"], id_type="CMND9", number=r["cmnd"]))
            s.add(Residence(personal_id=r["personal_id"], kind="permanent", province_code=r["residence_province"],
                            valid_from=r["birth_date"]))


@pytest.fixture
def seeded(db_url):
    registry = noise.make_registry(400, seed=41)
    _seed(registry)
    dataset = noise.make_dataset(registry, 300, seed=42, level="high")
    return registry, dataset


def test_export_matches_the_registry(seeded):
    registry, _ = seeded
    with unit_of_work() as s:
        exported = export_registry(s)
    assert exported.schema == registry.schema
    assert exported.sort_by("personal_id").to_pylist() == registry.sort_by("personal_id").to_pylist()


def test_run_job_writes_links_events_candidates_and_audit(seeded, db_url):
    registry, dataset = seeded
    with unit_of_work() as s:
        out = service.run_job(s, OFFICER, dataset, mapping=noise.DATASET_MAPPING, dataset_name="lltp-cu",
                              thresholds=(0.99, 0.2), u_max_pairs=2e5)
        job_id = out.job.id
    counts = out.result.counts()
    assert counts["accepted"] > 150 and counts["review"] > 0
    with unit_of_work() as s:
        job = s.get(LinkJob, job_id)
        assert (job.status, job.accepted, job.review, job.no_match) == ("done", counts["accepted"],
                                                                         counts["review"], counts["no_match"])
        links = s.scalars(select(LinkedRecord).where(LinkedRecord.job_id == job_id)).all()
        assert len(links) == counts["accepted"] and all(r.method == "auto" and r.reviewer is None for r in links)
        truth = noise.truth(dataset)
        correct = sum(1 for r in links if truth[r.record_id] == r.personal_id)
        assert correct >= 0.99 * len(links)
        events = s.scalars(select(OutboxEvent).where(OutboxEvent.topic == "linkage.link.accepted")).all()
        assert len(events) == counts["accepted"]
        e = events[0].payload
        assert e["job_id"] == job_id and e["dataset"] == "lltp-cu" and e["method"] == "auto" and len(e["personal_id"]) == 12
        pending = s.scalar(select(func.count()).select_from(LinkCandidate).where(
            LinkCandidate.job_id == job_id, LinkCandidate.rank == 1, LinkCandidate.status == "pending"))
        assert pending == counts["review"]
        cand = s.scalars(select(LinkCandidate).where(LinkCandidate.job_id == job_id)).first()
        assert cand.record["so_ho_so"] == cand.record_id and "ho_ten" in cand.record
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "link", AuditEntry.resource_id == job_id)) == 1


@pytest.fixture
def app_client(seeded):
    from fastapi.testclient import TestClient

    from lienthong.app import create_app
    from lienthong.linkage.routes import router

    app = create_app()
    if not any(getattr(r, "path", None) == "/can-bo/doi-chieu" for r in app.routes):
        app.include_router(router)
    registry, dataset = seeded
    with unit_of_work() as s:
        job_id = service.run_job(s, OFFICER, dataset, mapping=noise.DATASET_MAPPING, dataset_name="lltp-cu",
                                 thresholds=(0.999, 0.05), u_max_pairs=2e5).job.id
    with TestClient(app, base_url="http://testserver") as c:
        yield c, job_id


def test_review_api_accept_and_reject(app_client, bearer):
    client, job_id = app_client
    h = bearer(OFFICER)
    r = client.get(f"/api/v1/linkage/review?job_id={job_id}&limit=5", headers=h)
    assert r.status_code == 200, r.text
    items = r.json()
    assert len(items) >= 2
    first, second = items[0]["candidate"], items[1]["candidate"]
    assert first["citizen"]["personal_id"] == first["personal_id"] and first["record"]
    r = client.post(f"/api/v1/linkage/candidates/{first['id']}/decision", json={"decision": "accept"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["reviewer"] == OFFICER.subject
    again = client.post(f"/api/v1/linkage/candidates/{first['id']}/decision", json={"decision": "reject"}, headers=h)
    assert again.status_code == 409
    r = client.post(f"/api/v1/linkage/candidates/{second['id']}/decision",
                    json={"decision": "reject", "reason": "khác ngày sinh"}, headers=h)
    assert r.status_code == 200
    bad = client.post(f"/api/v1/linkage/candidates/{second['id']}/decision", json={"decision": "maybe"}, headers=h)
    assert bad.status_code == 422
    with unit_of_work() as s:
        link = s.scalars(select(LinkedRecord).where(LinkedRecord.record_id == first["record_id"],
                                                    LinkedRecord.job_id == job_id)).one()
        assert (link.method, link.reviewer, link.personal_id) == ("clerical", OFFICER.subject, first["personal_id"])
        assert link.decision_id is not None
        ev = [e for e in s.scalars(select(OutboxEvent).where(OutboxEvent.topic == "linkage.link.accepted"))
              if e.payload["method"] == "clerical"]
        assert len(ev) == 1 and ev[0].payload["reviewer"] == OFFICER.subject
        statuses = {c.rank: c.status for c in s.scalars(select(LinkCandidate).where(
            LinkCandidate.job_id == job_id, LinkCandidate.record_id == second["record_id"]))}
        assert set(statuses.values()) == {"rejected"}
        # Every registry record shown to the clerk was an audited read.
        reads = s.scalars(select(AuditEntry).where(AuditEntry.action == "read", AuditEntry.resource == "citizen",
                                                   AuditEntry.actor_id == OFFICER.subject)).all()
        assert first["personal_id"] in {a.subject_id for a in reads}
        job = s.get(LinkJob, job_id)
        assert job.review >= 0
    jobs = client.get("/api/v1/linkage/jobs", headers=h).json()
    assert jobs[0]["id"] == job_id
    assert client.get(f"/api/v1/linkage/jobs/{job_id}", headers=h).json()["dataset"] == "lltp-cu"
    assert client.get("/api/v1/linkage/jobs/khong-co", headers=h).status_code == 404


def test_policy(app_client, bearer):
    client, _ = app_client
    assert client.get("/api/v1/linkage/review").status_code == 401
    assert client.get("/api/v1/linkage/review", headers=bearer(CITIZEN)).status_code == 403
    assert client.post("/api/v1/linkage/candidates/1/decision", json={"decision": "accept"},
                       headers=bearer(CITIZEN)).status_code == 403
    page = client.get("/can-bo/doi-chieu", follow_redirects=False)
    assert page.status_code == 303 and "/auth/login" in page.headers["location"]


def test_review_page_and_htmx_decision(app_client, bearer):
    client, job_id = app_client
    h = bearer(OFFICER)
    page = client.get(f"/can-bo/doi-chieu?job_id={job_id}", headers=h)
    assert page.status_code == 200
    html = page.text
    assert "Đối chiếu bản ghi với Cơ sở dữ liệu dân cư" in html and "Đúng người" in html and "Không phải" in html
    assert "Xác suất khớp" in html
    with unit_of_work() as s:
        cand = s.scalars(select(LinkCandidate).where(LinkCandidate.job_id == job_id, LinkCandidate.rank == 1,
                                                     LinkCandidate.status == "pending")).first()
        citizen = s.get(Citizen, cand.personal_id)
        cid, pid, dob = cand.id, cand.personal_id, citizen.birth_date.strftime("%d/%m/%Y")
    assert pid in html and dob in html  # dd/mm/yyyy
    r = client.post(f"/can-bo/doi-chieu/{cid}", data={"decision": "accept", "reason": ""}, headers=h)
    assert r.status_code == 200 and "Đã liên kết bản ghi" in r.text and pid in r.text
    r = client.post(f"/can-bo/doi-chieu/{cid}", data={"decision": "accept"}, headers=h)
    assert "đã được xử lý" in r.text


def test_review_candidates_keep_their_own_match_weight(seeded):
    """The runner-up of a review item is stored with its own weight (best weight - margin)."""
    import pyarrow as pa

    from lienthong.linkage import link as L

    registry, dataset = seeded
    best, second = registry.column("personal_id").to_pylist()[:2]
    record_id = dataset.column("so_ho_so").to_pylist()[0]
    decisions = pa.Table.from_pylist([{
        "record_id": record_id, "personal_id": best, "match_probability": 0.9, "match_weight": 7.5,
        "runner_up_id": second, "runner_up_probability": 0.6, "margin": 1.25, "outcome": "review"}],
        schema=L.DECISIONS_SCHEMA)
    result = L.LinkResult(decisions, (0.99, 0.5), 2.0)
    with unit_of_work() as s:
        job = LinkJob(id="job-weights", dataset="lltp-cu", source="(arrow table)", registry_source="(arrow table)",
                      backend="duckdb", mapping={}, accept_threshold=0.99, review_threshold=0.5, min_margin=2.0,
                      status="running", created_by=OFFICER.subject, records=1)
        s.add(job)
        s.flush()
        service.store_result(s, job, result, dataset, noise.DATASET_MAPPING)
    with unit_of_work() as s:
        cands = {c.rank: c for c in s.scalars(select(LinkCandidate).where(LinkCandidate.job_id == "job-weights"))}
        assert cands[1].personal_id == best and cands[1].match_weight == pytest.approx(7.5)
        assert cands[2].personal_id == second and cands[2].match_weight == pytest.approx(6.25)
        assert cands[1].record == cands[2].record and cands[1].record["so_ho_so"] == record_id
