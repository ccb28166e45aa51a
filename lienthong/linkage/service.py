"""Linkage jobs in the database: run, store outcomes, clerical review, write-back with provenance.

* :func:`run_job` links a file to the registry (database export, or another file in generic mode)
  and stores the outcome: auto-accepted links as :class:`LinkedRecord` rows (method ``auto``) each
  with a ``linkage.link.accepted`` event; review items as :class:`LinkCandidate` rows (best candidate
  and runner-up) for the clerks; counts, thresholds and timings on the :class:`LinkJob`.
* :func:`review_queue` / :func:`decide` serve the clerical review page and API; every registry
  record shown to a clerk is an audited read, every decision an audited update.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.audit import service as audit
from lienthong.db import utcnow
from lienthong.errors import Conflict, DomainError, NotFound
from lienthong.events.outbox import record_event
from lienthong.identity.principal import Principal
from lienthong.linkage import link as L
from lienthong.linkage.models import LinkCandidate, LinkDecision, LinkedRecord, LinkJob
from lienthong.linkage.registry import export_registry
from lienthong.population.models import Citizen

TOPIC_ACCEPTED = "linkage.link.accepted"
RESOURCE = "linkage"
_BATCH = 5_000


def _json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _accepted_event(session: Session, job: LinkJob, record_id: str, personal_id: str, probability: float,
                    method: str, reviewer: str | None) -> None:
    record_event(session, TOPIC_ACCEPTED, {
        "job_id": job.id, "dataset": job.dataset, "record_id": record_id, "personal_id": personal_id,
        "match_probability": round(float(probability), 6), "method": method, "reviewer": reviewer,
    })


@dataclass
class JobOutcome:
    job: LinkJob
    result: L.LinkResult


def run_job(session: Session, principal: Principal, dataset: pa.Table | str | Path, *, mapping: dict[str, str],
            dataset_name: str, registry: pa.Table | str | Path | None = None,
            registry_mapping: dict[str, str] | None = None, backend: str = "duckdb",
            thresholds: tuple[float, float] = (0.95, 0.5), min_margin: float = 2.0,
            purpose: str = "liên kết dữ liệu đăng ký cũ với Cơ sở dữ liệu quốc gia về dân cư",
            progress: L.Progress | None = None, **link_options) -> JobOutcome:
    """Run a linkage job and store its outcome in ``session`` (the caller commits)."""
    say = progress or (lambda _m: None)
    source = str(dataset) if not isinstance(dataset, pa.Table) else "(arrow table)"
    if not isinstance(dataset, pa.Table):
        dataset = L.read_table(dataset)
    job = LinkJob(
        id=str(uuid.uuid4()), dataset=dataset_name, source=source,
        registry_source="database" if registry is None else (str(registry) if not isinstance(registry, pa.Table)
                                                               else "(arrow table)"),
        backend=backend, mapping={"dataset": mapping, "registry": registry_mapping or L.REGISTRY_MAPPING},
        accept_threshold=thresholds[0], review_threshold=thresholds[1], min_margin=min_margin,
        status="running", created_by=principal.subject, records=dataset.num_rows,
    )
    session.add(job)
    session.flush()
    if registry is None:
        say("Xuất dữ liệu dân cư")
        registry = export_registry(session)
    result = L.link_dataset(registry, dataset, mapping=mapping, registry_mapping=registry_mapping, backend=backend,
                            thresholds=thresholds, min_margin=min_margin, progress=progress, **link_options)
    say("Ghi kết quả")
    store_result(session, job, result, dataset, mapping)
    audit.record(session, principal, "link", RESOURCE, resource_id=job.id, purpose=purpose,
                 detail={"dataset": dataset_name, "records": job.records, "accepted": job.accepted,
                         "review": job.review, "no_match": job.no_match, "backend": backend})
    return JobOutcome(job, result)


def store_result(session: Session, job: LinkJob, result: L.LinkResult, dataset: pa.Table,
                 mapping: dict[str, str]) -> None:
    d = result.decisions
    rid = d.column("record_id").to_pylist()
    pid = d.column("personal_id").to_pylist()
    prob = d.column("match_probability").to_pylist()
    weight = d.column("match_weight").to_pylist()
    runner = d.column("runner_up_id").to_pylist()
    runner_p = d.column("runner_up_probability").to_pylist()
    margin = d.column("margin").to_pylist()  # best weight - runner-up weight
    outcome = d.column("outcome").to_pylist()
    review_ids = {rid[i] for i in range(len(rid)) if outcome[i] == "review"}
    # The original rows of review items, for the clerks.
    originals: dict[str, dict] = {}
    if review_ids:
        # only the review rows are turned into Python objects (not every column of the whole file)
        keys = [str(key).strip() for key in dataset.column(mapping["record_id"]).to_pylist()]
        rows = [i for i, k in enumerate(keys) if k in review_ids]
        for i, row in zip(rows, dataset.take(rows).to_pylist()):
            originals[keys[i]] = {name: _json_value(value) for name, value in row.items()}
    linked_rows: list[dict] = []
    pending_events = 0
    for i in range(len(rid)):
        if outcome[i] == "accepted":
            linked_rows.append({"job_id": job.id, "dataset": job.dataset, "record_id": rid[i], "personal_id": pid[i],
                                "match_probability": float(prob[i]), "method": "auto", "reviewer": None,
                                "linked_at": utcnow()})
            _accepted_event(session, job, rid[i], pid[i], prob[i], "auto", None)
            pending_events += 1
        elif outcome[i] == "review":
            session.add(LinkCandidate(job_id=job.id, record_id=rid[i], personal_id=pid[i], rank=1,
                                      match_probability=float(prob[i]), match_weight=float(weight[i]),
                                      record=originals.get(rid[i], {})))
            if runner[i]:
                session.add(LinkCandidate(job_id=job.id, record_id=rid[i], personal_id=runner[i], rank=2,
                                          match_probability=float(runner_p[i]),
                                          match_weight=float(weight[i] - margin[i]),
                                          record=originals.get(rid[i], {})))
            pending_events += 1
        if pending_events >= _BATCH:
            session.flush()
            session.expunge_all()
            session.add(job)
            pending_events = 0
        if len(linked_rows) >= _BATCH:
            session.execute(LinkedRecord.__table__.insert(), linked_rows)
            linked_rows = []
    if linked_rows:
        session.execute(LinkedRecord.__table__.insert(), linked_rows)
    counts = result.counts()
    job.accepted, job.review, job.no_match = counts["accepted"], counts["review"], counts["no_match"]
    job.pairs_scored = result.pairs_scored
    job.timings = {k: round(v, 3) for k, v in result.timings.items()}
    job.status = "done"
    job.finished_at = utcnow()
    session.flush()


# --- clerical review ------------------------------------------------------------------------------


@dataclass
class ReviewItem:
    candidate: LinkCandidate
    citizen: Citizen | None
    alternatives: list[tuple[LinkCandidate, Citizen | None]]
    job: LinkJob


def review_queue(session: Session, principal: Principal, *, job_id: str | None = None, limit: int = 20,
                 purpose: str = "đối chiếu bản ghi cũ với dữ liệu dân cư") -> list[ReviewItem]:
    """Pending review items (best candidate first, highest probability first), audited."""
    stmt = select(LinkCandidate).where(LinkCandidate.status == "pending", LinkCandidate.rank == 1)
    if job_id:
        stmt = stmt.where(LinkCandidate.job_id == job_id)
    stmt = stmt.order_by(LinkCandidate.match_probability.desc(), LinkCandidate.id).limit(limit)
    items: list[ReviewItem] = []
    for cand in session.scalars(stmt):
        items.append(_item(session, principal, cand, purpose))
    return items


def _item(session: Session, principal: Principal, cand: LinkCandidate, purpose: str) -> ReviewItem:
    others = session.scalars(select(LinkCandidate).where(
        LinkCandidate.job_id == cand.job_id, LinkCandidate.record_id == cand.record_id,
        LinkCandidate.id != cand.id).order_by(LinkCandidate.rank)).all()
    shown = [cand, *others]
    citizens: dict[str, Citizen | None] = {}
    for c in shown:
        citizen = session.get(Citizen, c.personal_id)
        citizens[c.personal_id] = citizen
        audit.record(session, principal, "read", "citizen", resource_id=c.personal_id, subject_id=c.personal_id,
                     purpose=purpose, detail={"linkage_job": cand.job_id, "record_id": cand.record_id})
    return ReviewItem(cand, citizens[cand.personal_id], [(o, citizens[o.personal_id]) for o in others],
                      session.get(LinkJob, cand.job_id))  # type: ignore[arg-type]


def get_candidate(session: Session, candidate_id: int) -> LinkCandidate:
    cand = session.get(LinkCandidate, candidate_id)
    if cand is None:
        raise NotFound("không tìm thấy cặp ứng viên")
    return cand


def decide(session: Session, principal: Principal, candidate_id: int, decision: str, reason: str = "") -> LinkDecision:
    """Accept (this candidate is the person) or reject (none of the record's candidates is).

    Accepting writes the link with provenance (method ``clerical``, reviewer) and the
    ``linkage.link.accepted`` event; the record's other candidates are superseded.
    """
    if decision not in ("accept", "reject"):
        raise DomainError("quyết định phải là 'accept' hoặc 'reject'")
    cand = get_candidate(session, candidate_id)
    if cand.status != "pending":
        raise Conflict("cặp ứng viên này đã được xử lý")
    job = session.get(LinkJob, cand.job_id)
    assert job is not None
    siblings = session.scalars(select(LinkCandidate).where(
        LinkCandidate.job_id == cand.job_id, LinkCandidate.record_id == cand.record_id)).all()
    already = session.scalar(select(func.count()).select_from(LinkedRecord).where(
        LinkedRecord.job_id == cand.job_id, LinkedRecord.record_id == cand.record_id))
    if already:
        raise Conflict("bản ghi này đã được liên kết")
    row = LinkDecision(candidate_id=cand.id, decision=decision, reviewer=principal.subject, reason=reason.strip())
    session.add(row)
    session.flush()
    if decision == "accept":
        for s in siblings:
            s.status = "accepted" if s.id == cand.id else "superseded"
        session.add(LinkedRecord(job_id=job.id, dataset=job.dataset, record_id=cand.record_id,
                                 personal_id=cand.personal_id, match_probability=cand.match_probability,
                                 method="clerical", reviewer=principal.subject, decision_id=row.id))
        _accepted_event(session, job, cand.record_id, cand.personal_id, cand.match_probability, "clerical",
                        principal.subject)
        job.accepted += 1
        job.review -= 1
    else:
        for s in siblings:
            s.status = "rejected"
        job.review -= 1
        job.no_match += 1
    audit.record(session, principal, "update", "link_candidate", resource_id=str(cand.id),
                 subject_id=cand.personal_id, purpose="quyết định đối chiếu bản ghi",
                 detail={"decision": decision, "job_id": job.id, "record_id": cand.record_id, "reason": reason})
    session.flush()
    return row


def list_jobs(session: Session, limit: int = 50) -> list[LinkJob]:
    return list(session.scalars(select(LinkJob).order_by(LinkJob.started_at.desc()).limit(limit)))


def get_job(session: Session, job_id: str) -> LinkJob:
    job = session.get(LinkJob, job_id)
    if job is None:
        raise NotFound("không tìm thấy phiên liên kết")
    return job


def write_output(path: str | Path, dataset: pa.Table, mapping: dict[str, str], result: L.LinkResult) -> Path:
    """The dataset with ``personal_id``, ``match_probability`` and ``outcome`` columns (CSV or Parquet).

    ``personal_id`` is filled for accepted links only; review and no-match rows keep it empty.
    """
    import duckdb

    p = Path(path)
    con = duckdb.connect()
    con.register("ds", dataset)
    con.register("dec", result.decisions)
    key = mapping["record_id"].replace('"', '""')
    rel = con.sql(f"""
        SELECT ds.*, CASE WHEN dec.outcome = 'accepted' THEN dec.personal_id END AS linked_personal_id,
               dec.personal_id AS best_candidate, dec.match_probability, dec.outcome
        FROM ds JOIN dec ON trim(CAST(ds."{key}" AS VARCHAR)) = dec.record_id
    """)
    target = str(p).replace("'", "''")
    if p.suffix.lower() in (".parquet", ".pq"):
        con.execute(f"COPY ({rel.sql_query()}) TO '{target}' (FORMAT parquet)")
    else:
        con.execute(f"COPY ({rel.sql_query()}) TO '{target}' (FORMAT csv, HEADER true)")
    con.close()
    return p
