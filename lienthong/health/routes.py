"""HTTP routes of the health book: the citizen's own book (API, web page, live events), consent
shares, facility reads under consent or emergency, and referral decisions. ``router`` holds them
all; every route declares its policy action."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from lienthong.deps import get_db
from lienthong.health import book as book_service
from lienthong.health import consent, live, referrals
from lienthong.health import reminders as _reminders  # noqa: F401  (registers the bus handler)
from lienthong.identity.policy import forbidden, requires
from lienthong.identity.principal import Principal
from lienthong.web import routes as web
from lienthong.web.templating import make_templates, page_renderer
from lienthong.params import RowId

router = APIRouter(tags=["health-book"])

templates = make_templates(Path(__file__).parent / "templates")


def _vnnum(value: float | None) -> str:
    if value is None:
        return ""
    return (f"{value:.3f}".rstrip("0").rstrip(".")).replace(".", ",")


templates.env.filters.update(vnnum=_vnnum)


def _own_id(principal: Principal) -> str:
    if not principal.personal_id:
        raise forbidden("tài khoản này không gắn với công dân")
    return principal.personal_id


# --- citizen: the book ------------------------------------------------------------------------------

@router.get("/api/v1/me/health", response_model=book_service.HealthBook)
def my_health_book(page_size: int = Query(book_service.VISIT_PAGE, ge=1, le=book_service.MAX_VISIT_PAGE),
                   principal: Principal = Depends(requires("health.book.read")), db: Session = Depends(get_db)):
    book = book_service.health_book(db, principal, _own_id(principal), purpose="công dân xem sổ sức khỏe của mình",
                                    page_size=page_size)
    # Serialized here, in this thread: the book is already a validated HealthBook, and FastAPI's
    # response_model pass would validate it again in a second trip through the thread pool.
    return Response(book.model_dump_json(), media_type="application/json")


@router.get("/api/v1/me/health/visits", response_model=book_service.VisitPage)
def my_visits(before: str | None = Query(None, max_length=64),
              size: int = Query(book_service.VISIT_PAGE, ge=1, le=book_service.MAX_VISIT_PAGE),
              principal: Principal = Depends(requires("health.book.read")), db: Session = Depends(get_db)):
    return book_service.visit_page(db, principal, _own_id(principal), before=before, size=size,
                                   purpose="công dân xem lịch sử khám chữa bệnh")


@router.get("/api/v1/me/health/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
def my_health_events(request: Request, last_event_id: str | None = Header(None),
                     principal: Principal = Depends(requires("health.book.read")), db: Session = Depends(get_db)):
    """Server-sent events: ``visit`` when a visit of this citizen is accepted (ids resume with Last-Event-ID)."""
    pid = _own_id(principal)
    from lienthong.audit import service as audit

    audit.record(db, principal, "read", book_service.RESOURCE, resource_id=pid, subject_id=pid,
                 purpose="công dân nhận cập nhật trực tiếp sổ sức khỏe", detail={"part": "events"})
    db.commit()
    stream = live.visit_events(pid, last_event_id=live.parse_last_event_id(last_event_id),
                               is_disconnected=request.is_disconnected)
    return StreamingResponse(stream, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# --- citizen: consent shares ------------------------------------------------------------------------

@router.post("/api/v1/me/health/shares", response_model=consent.ShareCreated, status_code=201)
def create_share(data: consent.ShareIn, principal: Principal = Depends(requires("health.share.manage")),
                 db: Session = Depends(get_db)):
    return consent.create_share(db, principal, data)


@router.get("/api/v1/me/health/shares", response_model=list[consent.ShareOut])
def list_shares(principal: Principal = Depends(requires("health.share.manage")), db: Session = Depends(get_db)):
    return consent.list_shares(db, principal)


@router.delete("/api/v1/me/health/shares/{share_id}", response_model=consent.ShareOut)
def revoke_share(share_id: str, principal: Principal = Depends(requires("health.share.manage")),
                 db: Session = Depends(get_db)):
    return consent.revoke_share(db, principal, share_id)


# --- facilities: consented and emergency reads ---------------------------------------------------------

@router.post("/api/v1/health/shared/intake", response_model=consent.IntakeSummary)
def shared_intake(data: consent.TokenIn, principal: Principal = Depends(requires("health.shared.read")),
                  db: Session = Depends(get_db)):
    return consent.shared_intake(db, principal, data)


@router.post("/api/v1/health/shared/lab-results", response_model=consent.SharedLabResults)
def shared_lab_results(data: consent.TokenIn, principal: Principal = Depends(requires("health.shared.read")),
                       db: Session = Depends(get_db)):
    return consent.shared_lab_results(db, principal, data)


@router.post("/api/v1/health/emergency-access", response_model=consent.IntakeSummary)
def emergency_access(data: consent.EmergencyIn, principal: Principal = Depends(requires("health.emergency")),
                     db: Session = Depends(get_db)):
    return consent.emergency_access(db, principal, data)


# --- facilities: referrals ----------------------------------------------------------------------------

@router.get("/api/v1/health/referrals/incoming", response_model=list[referrals.IncomingReferral])
def incoming_referrals(status: Literal["issued", "accepted", "rejected"] | None = Query("issued"),
                       limit: int = Query(referrals.INCOMING_LIMIT, ge=1, le=referrals.INCOMING_LIMIT),
                       principal: Principal = Depends(requires("health.referral.decide")),
                       db: Session = Depends(get_db)):
    return referrals.incoming(db, principal, status=status, limit=limit)


@router.post("/api/v1/health/referrals/{referral_id}/accept", response_model=referrals.DecisionOut)
def accept_referral(referral_id: RowId, data: referrals.DecisionIn | None = None,
                    principal: Principal = Depends(requires("health.referral.decide")), db: Session = Depends(get_db)):
    return referrals.decide(db, principal, referral_id, accept=True, reason=data.note if data else None)


@router.post("/api/v1/health/referrals/{referral_id}/reject", response_model=referrals.DecisionOut)
def reject_referral(referral_id: RowId, data: referrals.RejectIn,
                    principal: Principal = Depends(requires("health.referral.decide")), db: Session = Depends(get_db)):
    return referrals.decide(db, principal, referral_id, accept=False, reason=data.reason)


# --- web pages --------------------------------------------------------------------------------------

_render = page_renderer(templates)


@router.get("/so-suc-khoe", response_class=HTMLResponse, include_in_schema=False)
def health_book_page(request: Request, principal: Principal = Depends(web.web_requires("health.book.read")),
                     db: Session = Depends(get_db)):
    if not principal.personal_id:
        return web.render(request, "error.html", 403, message="Tài khoản này không gắn với công dân.")
    book = book_service.health_book(db, principal, principal.personal_id, purpose="công dân xem sổ sức khỏe của mình")
    shares = consent.list_shares(db, principal, limit=20)
    return _render(request, "health_book.html", book=book, page=book.visits, shares=shares,
                   scope_names=consent.SCOPE_NAMES)


@router.get("/so-suc-khoe/luot-kham", response_class=HTMLResponse, include_in_schema=False)
def health_book_visits(request: Request, before: str | None = Query(None, max_length=64),
                       principal: Principal = Depends(web.web_requires("health.book.read")),
                       db: Session = Depends(get_db)):
    if not principal.personal_id:
        return web.render(request, "error.html", 403, message="Tài khoản này không gắn với công dân.")
    page = book_service.visit_page(db, principal, principal.personal_id, before=before,
                                   purpose="công dân xem lịch sử khám chữa bệnh")
    return _render(request, "health_visit_rows.html", page=page)
