"""Notification inbox: API for the logged-in citizen and the ``/thong-bao`` page (HTMX).

API (``requires("notifications.read")``, Bearer token or session cookie):

* ``GET /api/v1/me/notifications?unread=true|false&before=<id>&limit=`` — newest first;
* ``POST /api/v1/me/notifications/{id}/read`` — mark one read (404 if not the caller's);
* ``POST /api/v1/me/notifications/read-all`` — mark all read.

Pages: ``/thong-bao`` (inbox), ``/thong-bao/them`` (next page rows), ``/thong-bao/{id}/da-doc`` and
``/thong-bao/da-doc-tat-ca`` (mark read), ``/thong-bao/so-chua-doc`` (unread badge for the menu).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from lienthong.deps import get_db
from lienthong.params import INT64_MAX, BigRowId
from lienthong.identity.policy import requires
from lienthong.identity.principal import Principal
from lienthong.notifications import service
from lienthong.notifications.models import Notification
from lienthong.web import routes as web
from lienthong.web.templating import make_templates, page_renderer

ACTION = service.ACTION

router = APIRouter(tags=["notifications"])

templates = make_templates(Path(__file__).parent / "templates")


# --- API ------------------------------------------------------------------------------------------------------------


class NotificationOut(BaseModel):
    id: int
    topic: str
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, n: Notification) -> NotificationOut:
        return cls(id=n.id, topic=n.topic, title=n.title, body=n.body, link=n.link,
                   created_at=n.created_at,
                   read_at=n.read_at)


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    unread: int
    next_before: int | None


class ReadAllOut(BaseModel):
    marked: int
    unread: int


@router.get("/api/v1/me/notifications", response_model=NotificationPage,
            summary="The logged-in citizen's notifications, newest first")
def list_notifications(unread: bool | None = Query(None, description="true: only unread; false: only read"),
                       before: int | None = Query(None, ge=1, le=INT64_MAX, description="id cursor: entries older than this"),
                       limit: int = Query(service.PAGE_SIZE, ge=1, le=service.MAX_PAGE),
                       principal: Principal = Depends(requires(ACTION)), db: Session = Depends(get_db)):
    rows = service.inbox(db, principal, unread=unread, before=before, limit=limit)
    return NotificationPage(items=[NotificationOut.of(n) for n in rows], unread=service.unread_count(db, principal),
                            next_before=rows[-1].id if len(rows) == limit else None)


@router.post("/api/v1/me/notifications/read-all", response_model=ReadAllOut, summary="Mark every notification read")
def read_all(principal: Principal = Depends(requires(ACTION)), db: Session = Depends(get_db)):
    marked = service.mark_all_read(db, principal)
    return ReadAllOut(marked=marked, unread=service.unread_count(db, principal))


@router.post("/api/v1/me/notifications/{notification_id}/read", response_model=NotificationOut,
             summary="Mark one notification read")
def read_one(notification_id: BigRowId, principal: Principal = Depends(requires(ACTION)), db: Session = Depends(get_db)):
    return NotificationOut.of(service.mark_read(db, principal, notification_id))


# --- pages ----------------------------------------------------------------------------------------------------------


_render = page_renderer(templates)


def _page(db: Session, principal: Principal, before: int | None, unread_only: bool) -> dict:
    rows = service.inbox(db, principal, unread=True if unread_only else None, before=before)
    return {"items": rows, "unread_only": unread_only,
            "next_before": rows[-1].id if len(rows) == service.PAGE_SIZE else None}


def _no_citizen(request: Request) -> HTMLResponse:
    return web.render(request, "error.html", 403, message="Tài khoản này không gắn với công dân.")


@router.get("/thong-bao", response_class=HTMLResponse, include_in_schema=False)
def inbox_page(request: Request, chua_doc: bool = Query(False),
               principal: Principal = Depends(web.web_requires(ACTION)), db: Session = Depends(get_db)):
    if not principal.personal_id:
        return _no_citizen(request)
    return _render(request, "notifications.html", unread=service.unread_count(db, principal),
                   **_page(db, principal, None, chua_doc))


@router.get("/thong-bao/them", response_class=HTMLResponse, include_in_schema=False)
def inbox_more(request: Request, before: int = Query(ge=1), chua_doc: bool = Query(False),
               principal: Principal = Depends(web.web_requires(ACTION)), db: Session = Depends(get_db)):
    if not principal.personal_id:
        return _no_citizen(request)
    return _render(request, "notification_rows.html", **_page(db, principal, before, chua_doc))


@router.get("/thong-bao/so-chua-doc", response_class=HTMLResponse, include_in_schema=False)
def unread_badge(request: Request, principal: Principal = Depends(web.web_requires(ACTION)),
                 db: Session = Depends(get_db)):
    n = service.unread_count(db, principal) if principal.personal_id else 0
    return HTMLResponse(f'<span class="badge" title="{n} thông báo chưa đọc">{n}</span>' if n else "")


@router.post("/thong-bao/da-doc-tat-ca", include_in_schema=False)
def inbox_read_all(request: Request, principal: Principal = Depends(web.web_requires(ACTION)),
                   db: Session = Depends(get_db)):
    if not principal.personal_id:
        return _no_citizen(request)
    service.mark_all_read(db, principal)
    return RedirectResponse("/thong-bao", status_code=303)


@router.post("/thong-bao/{notification_id}/da-doc", response_class=HTMLResponse, include_in_schema=False)
def inbox_read_one(notification_id: BigRowId, request: Request, principal: Principal = Depends(web.web_requires(ACTION)),
                   db: Session = Depends(get_db)):
    if not principal.personal_id:
        return _no_citizen(request)
    n = service.mark_read(db, principal, notification_id)
    if request.headers.get("hx-request") != "true":
        return RedirectResponse("/thong-bao", status_code=303)
    return _render(request, "notification_item.html", n=n)
