"""HTTP API of the judicial record service (``/api/v1/judicial``).

Feeds (agency clients with scope ``judicial.feed``): convictions, enforcement updates, expungement
decisions, bans: 201 when recorded, 200 when the same submission was already recorded.
Citizens: applications and certificates. Officers: review queue, decisions, record look-up,
revocation. Public: ``/verify/{id}`` and the signing keys ``/keys``.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lienthong.deps import get_db
from lienthong.identity.policy import requires
from lienthong.identity.principal import Principal
from lienthong.judicial import feed, schemas, service, signing

router = APIRouter(prefix="/api/v1/judicial", tags=["judicial"])


def _idempotent(db: Session, response: Response, call: Callable[[], tuple[object, bool]]) -> tuple[object, bool]:
    """Run a feed submission; a concurrent identical one losing the unique-key race is retried once
    and then finds the stored record."""
    try:
        with db.begin_nested():
            obj, created = call()
    except IntegrityError:
        obj, created = call()
    response.status_code = 201 if created else 200
    return obj, created


@router.post("/feed/convictions", response_model=schemas.FeedResult, status_code=201)
def post_conviction(body: schemas.ConvictionIn, response: Response,
                    principal: Principal = Depends(requires("judicial.feed")), db: Session = Depends(get_db)):
    c, created = _idempotent(db, response, lambda: feed.submit_conviction(db, principal, body))
    return schemas.FeedResult(id=c.id, created=created, personal_id=c.personal_id)


@router.post("/feed/enforcement", response_model=schemas.FeedResult, status_code=201)
def post_enforcement(body: schemas.EnforcementIn, response: Response,
                     principal: Principal = Depends(requires("judicial.feed")), db: Session = Depends(get_db)):
    ev, created = _idempotent(db, response, lambda: feed.submit_enforcement(db, principal, body))
    return schemas.FeedResult(id=str(ev.id), created=created, personal_id=body.conviction.personal_id)


@router.post("/feed/expungement-decisions", response_model=schemas.FeedResult, status_code=201)
def post_expungement(body: schemas.ExpungementDecisionIn, response: Response,
                     principal: Principal = Depends(requires("judicial.feed")), db: Session = Depends(get_db)):
    d, created = _idempotent(db, response, lambda: feed.submit_expungement(db, principal, body))
    return schemas.FeedResult(id=str(d.id), created=created, personal_id=body.conviction.personal_id)


@router.post("/feed/bans", response_model=schemas.FeedResult, status_code=201)
def post_ban(body: schemas.BanIn, response: Response,
             principal: Principal = Depends(requires("judicial.feed")), db: Session = Depends(get_db)):
    b, created = _idempotent(db, response, lambda: feed.submit_ban(db, principal, body))
    return schemas.FeedResult(id=str(b.id), created=created, personal_id=b.personal_id)


@router.get("/records/{personal_id}")
def get_record(personal_id: str, purpose: str = Query(min_length=3, max_length=300),
               principal: Principal = Depends(requires("judicial.record.read")), db: Session = Depends(get_db)):
    rec = service.get_record(db, principal, personal_id, purpose)
    results = rec["results"]
    out = []
    for c in rec["convictions"]:
        r = results.get(c.id) if isinstance(results, dict) else None
        out.append({
            "id": c.id, "court_code": c.court_code, "court_name": c.court_name, "judgment_number": c.judgment_number,
            "judgment_date": c.judgment_date, "legal_effect_date": c.legal_effect_date,
            "offences": [{"name": o.name, "article": o.article, "clause": o.clause, "point": o.point} for o in c.offences],
            "penalty_type": c.penalty_type, "term_months": c.term_months, "fine_vnd": c.fine_vnd, "suspended": c.suspended,
            "additional_penalties": [{"kind": a.kind, "months": a.months, "completed_on": a.completed_on} for a in c.additional_penalties],
            "civil_obligations": c.civil_obligations, "court_fee": c.court_fee, "enforcement_status": c.enforcement_status,
            "principal_completed_on": c.principal_completed_on, "verification_note": c.verification_note,
            "expunged": getattr(r, "expunged", None), "expunged_on": getattr(r, "since", None) if r and r.expunged else None,
            "expungement_reason": getattr(r, "reason", None),
        })
    return {"personal_id": personal_id, "on": rec["on"], "convictions": out,
            "bans": [{"content": b.content, "court_name": b.court_name, "decision_number": b.decision_number,
                      "decision_date": b.decision_date, "start_date": b.start_date, "duration_months": b.duration_months,
                      "end_date": b.end_date} for b in rec["bans"]],
            "error": results.get("error") if isinstance(results, dict) and "error" in results else None,
            "legal_notes": rec.get("notes", [])}


@router.post("/applications", response_model=schemas.ApplicationOut, status_code=201)
def post_application(body: schemas.ApplicationIn, background: BackgroundTasks,
                     principal: Principal = Depends(requires("judicial.apply")), db: Session = Depends(get_db)):
    app = service.submit(db, principal, body)
    out = service.to_out(app, with_events=False)
    db.commit()  # the automatic check runs after the response, on committed data
    background.add_task(service.process_in_background, app.id)
    return out


@router.get("/applications", response_model=list[schemas.ApplicationOut])
def list_my_applications(principal: Principal = Depends(requires("judicial.application.read")),
                         db: Session = Depends(get_db)):
    return [service.to_out(a, with_events=False) for a in service.my_applications(db, principal)]


@router.get("/applications/{app_id}", response_model=schemas.ApplicationOut)
def get_application(app_id: str, principal: Principal = Depends(requires("judicial.application.read")),
                    db: Session = Depends(get_db)):
    purpose = ("công dân xem tình trạng hồ sơ của mình" if principal.kind == "citizen"
               else "cán bộ xem hồ sơ cấp Phiếu lý lịch tư pháp")
    return service.to_out(service.get_application(db, principal, app_id, purpose))


@router.get("/review-queue", response_model=list[schemas.ApplicationOut])
def review_queue(principal: Principal = Depends(requires("judicial.review")), db: Session = Depends(get_db)):
    return [service.to_out(a, with_events=False) for a in service.review_queue(db, principal)]


@router.post("/applications/{app_id}/decision", response_model=schemas.ApplicationOut)
def decide(app_id: str, body: schemas.DecisionIn, principal: Principal = Depends(requires("judicial.review")),
           db: Session = Depends(get_db)):
    return service.to_out(service.decide(db, principal, app_id, body.approve, body.reason))


@router.get("/certificates/{cert_id}/pdf")
def certificate_pdf(cert_id: str, principal: Principal = Depends(requires("judicial.application.read")),
                    db: Session = Depends(get_db)):
    cert = service.get_certificate(db, principal, cert_id, purpose="tải Phiếu lý lịch tư pháp (PDF)")
    return Response(service.certificate_pdf(cert), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="phieu-lltp-{cert.id}.pdf"'})


@router.get("/certificates/{cert_id}/jws")
def certificate_jws(cert_id: str, principal: Principal = Depends(requires("judicial.application.read")),
                    db: Session = Depends(get_db)):
    cert = service.get_certificate(db, principal, cert_id, purpose="tải Phiếu lý lịch tư pháp điện tử (JWS)")
    return Response(cert.jws, media_type="application/jose")


@router.post("/certificates/{cert_id}/revoke")
def revoke(cert_id: str, body: schemas.RevokeIn, principal: Principal = Depends(requires("judicial.certificate.revoke")),
           db: Session = Depends(get_db)):
    cert = service.revoke(db, principal, cert_id, body.reason)
    return {"certificate_id": cert.id, "record_number": cert.record_number, "revoked_at": cert.revoked_at}


# Public -------------------------------------------------------------------------------------------
@router.get("/verify/{cert_id}", response_model=schemas.VerificationOut)
def verify(cert_id: str, db: Session = Depends(get_db)):
    """Public: is this certificate genuine and still valid? (audited, minimal data)"""
    return service.verify_public(db, cert_id)


@router.get("/keys")
def keys():
    """Public: the JWK Set that verifies certificate signatures (ES256)."""
    return signing.public_jwks()
