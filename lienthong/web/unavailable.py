"""503 Service Unavailable while the database cannot be reached.

A request that fails because the database is away (connection refused, reset or timed out; the
pool found no free connection within ``LIENTHONG_DB_POOL_TIMEOUT_S``; the server shutting down or
cancelling the statement; SQLite's database locked) is answered ``503`` with ``Retry-After`` and a
Vietnamese message: an HTML page for browsers (``Accept: text/html``), the API's JSON error body
for everyone else. Any other database error stays a 500: it is a bug, not an outage.

Self-contained on purpose (its own small page, no template or database access), so it works when
nothing else does.
"""

from __future__ import annotations

import logging
import sqlite3

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import exc as sa_exc

from lienthong.config import get_settings

log = logging.getLogger(__name__)

CODE = "service_unavailable"
MESSAGE = ("Hệ thống tạm thời không kết nối được cơ sở dữ liệu. Dữ liệu của bạn không bị ảnh hưởng; "
           "vui lòng thử lại sau ít phút.")
TITLE = "Dịch vụ tạm thời gián đoạn"

PAGE = """<!doctype html>
<html lang="vi">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{retry}">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.4rem}}p{{line-height:1.5}}.muted{{color:#666;font-size:.9rem}}</style></head>
<body><h1>{title}</h1><p>{message}</p>
<p class="muted">Trang sẽ tự tải lại sau {retry} giây. Mã lỗi: 503.</p>
<p><a href="">Thử lại ngay</a></p></body></html>
"""

_SQLITE_OUTAGE = ("database is locked", "unable to open database", "disk i/o error", "database table is locked")


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` means "the database cannot serve this now" rather than a bug."""
    if isinstance(exc, sa_exc.TimeoutError):  # pool exhausted for db_pool_timeout_s
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    orig = getattr(exc, "orig", exc)
    try:
        import psycopg

        if isinstance(orig, (psycopg.OperationalError, psycopg.InterfaceError)):
            return True
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pass
    if isinstance(orig, sqlite3.OperationalError):
        text = str(orig).lower()
        return any(s in text for s in _SQLITE_OUTAGE)
    return False


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def response(request: Request, *, message: str = MESSAGE, title: str = TITLE,
             code: str = CODE) -> HTMLResponse | JSONResponse:
    retry = get_settings().unavailable_retry_after_s
    headers = {"Retry-After": str(retry), "Cache-Control": "no-store"}
    if wants_html(request):
        return HTMLResponse(PAGE.format(title=title, message=message, retry=retry), status_code=503, headers=headers)
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=503, headers=headers)


def install(app: FastAPI) -> None:
    async def handler(request: Request, exc: Exception):
        if not is_outage(exc):
            raise exc
        log.warning("database unavailable on %s %s: %s: %s", request.method, request.url.path,
                    exc.__class__.__name__, str(exc).splitlines()[0] if str(exc) else "")
        return response(request)

    for cls in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError):
        app.add_exception_handler(cls, handler)
    try:
        import psycopg

        app.add_exception_handler(psycopg.OperationalError, handler)
        app.add_exception_handler(psycopg.InterfaceError, handler)
    except ImportError:  # pragma: no cover
        pass
