"""HTTP API and the clerical review page for record linkage.

``router`` carries both: the JSON API under ``/api/v1/linkage`` (jobs, review queue, decisions)
and the officers' page ``/can-bo/doi-chieu`` (side-by-side records, HTMX accept/reject). Every
route uses the policy (``linkage.run`` / ``linkage.review``); every registry record shown is an
audited read and every decision an audited update.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from lienthong.deps import get_db
from lienthong.errors import DomainError
from lienthong.identity.policy import requires
from lienthong.identity.principal import Principal
from lienthong.linkage import service
from lienthong.web import routes as web
from lienthong.web.templating import make_templates, page_renderer
from lienthong.params import RowId

templates = make_templates(Path(__file__).parent / "templates")

OUTCOME_NAMES = {"accepted": "Tự động chấp nhận", "review": "Chờ đối chiếu", "no_match": "Không khớp"}

router = APIRouter()


# --- API ------------------------------------------------------------------------------------------


class JobOut(BaseModel):
    id: str
    dataset: str
    source: str
    backend: str
    status: str
    records: int
    accepted: int
    review: int
    no_match: int
    pairs_scored: int
    accept_threshold: float
    review_threshold: float
    min_margin: float
    timings: dict
    created_by: str


class CandidateOut(BaseModel):
    id: int
    job_id: str
    record_id: str
    personal_id: str
    rank: int
    match_probability: float
    status: str
    record: dict
    citizen: dict | None = None


class ReviewOut(BaseModel):
    candidate: CandidateOut
    alternatives: list[CandidateOut]


class DecisionIn(BaseModel):
    decision: Literal["accept", "reject"]
    reason: str = Field("", max_length=500)


class DecisionOut(BaseModel):
    id: int
    candidate_id: int
    decision: str
    reviewer: str


def _job(job) -> JobOut:
    return JobOut(**{k: getattr(job, k) for k in JobOut.model_fields})


def _citizen(c) -> dict | None:
    if c is None:
        return None
    return {"personal_id": c.personal_id, "full_name": c.full_name, "birth_date": c.birth_date.isoformat(),
            "sex": c.sex, "birth_place_code": c.birth_place_code, "status": c.status}


def _cand(c, citizen=None) -> CandidateOut:
    return CandidateOut(id=c.id, job_id=c.job_id, record_id=c.record_id, personal_id=c.personal_id, rank=c.rank,
                        match_probability=c.match_probability, status=c.status, record=c.record or {},
                        citizen=_citizen(citizen))


@router.get("/api/v1/linkage/jobs", response_model=list[JobOut], tags=["linkage"])
def api_jobs(_: Principal = Depends(requires("linkage.run")), db: Session = Depends(get_db)):
    return [_job(j) for j in service.list_jobs(db)]


@router.get("/api/v1/linkage/jobs/{job_id}", response_model=JobOut, tags=["linkage"])
def api_job(job_id: str, _: Principal = Depends(requires("linkage.run")), db: Session = Depends(get_db)):
    return _job(service.get_job(db, job_id))


@router.get("/api/v1/linkage/review", response_model=list[ReviewOut], tags=["linkage"])
def api_review(job_id: str | None = Query(None), limit: int = Query(20, ge=1, le=200),
               purpose: str = Query("đối chiếu bản ghi cũ với dữ liệu dân cư", min_length=3),
               principal: Principal = Depends(requires("linkage.review")), db: Session = Depends(get_db)):
    items = service.review_queue(db, principal, job_id=job_id, limit=limit, purpose=purpose)
    return [ReviewOut(candidate=_cand(i.candidate, i.citizen), alternatives=[_cand(c, z) for c, z in i.alternatives])
            for i in items]


@router.post("/api/v1/linkage/candidates/{candidate_id}/decision", response_model=DecisionOut, tags=["linkage"])
def api_decide(candidate_id: RowId, body: DecisionIn, principal: Principal = Depends(requires("linkage.review")),
               db: Session = Depends(get_db)):
    row = service.decide(db, principal, candidate_id, body.decision, body.reason)
    return DecisionOut(id=row.id, candidate_id=row.candidate_id, decision=row.decision, reviewer=row.reviewer)


# --- web page -------------------------------------------------------------------------------------


_render = page_renderer(templates, outcome_names=OUTCOME_NAMES)


@router.get("/can-bo/doi-chieu", response_class=HTMLResponse, include_in_schema=False)
def review_page(request: Request, job_id: str | None = Query(None),
                principal: Principal = Depends(web.web_requires("linkage.review")), db: Session = Depends(get_db)):
    items = service.review_queue(db, principal, job_id=job_id, limit=20)
    return _render(request, "linkage_review.html", items=items, jobs=service.list_jobs(db, 10), job_id=job_id)


@router.post("/can-bo/doi-chieu/{candidate_id}", response_class=HTMLResponse, include_in_schema=False)
def review_decide(request: Request, candidate_id: RowId, decision: str = Form(...), reason: str = Form(""),
                  principal: Principal = Depends(web.web_requires("linkage.review")), db: Session = Depends(get_db)):
    try:
        row = service.decide(db, principal, candidate_id, decision, reason)
    except DomainError as exc:
        return _render(request, "linkage_decided.html", 200, error=exc.message, decision=None,
                       candidate_id=candidate_id)
    cand = service.get_candidate(db, row.candidate_id)
    return _render(request, "linkage_decided.html", error=None, decision=row.decision, cand=cand,
                   candidate_id=candidate_id)
