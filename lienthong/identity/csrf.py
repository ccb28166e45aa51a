"""Cross-site request forgery defence for the cookie-authenticated web pages.

The session cookie is SameSite=Lax, so browsers do not attach it to cross-site POSTs. On top of
that, an unsafe request that carries the session cookie (and no Bearer token) must come from this
site: when the browser says where it comes from (``Origin``, else ``Referer``), that origin must be
this server's (its Host header or the configured base URL). Requests without either header are
not from a browser page and are allowed (API clients use Bearer tokens anyway).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from lienthong.config import get_settings
from lienthong.errors import error_body
from lienthong.identity.policy import SESSION_COOKIE

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


class SameOriginMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        cookies = headers.get("cookie", "")
        if "authorization" in headers or f"{SESSION_COOKIE}=" not in cookies:
            await self.app(scope, receive, send)
            return
        claimed = headers.get("origin")
        if claimed is None and "referer" in headers:
            claimed = _origin(headers["referer"]) or "null"
        if claimed is None:
            await self.app(scope, receive, send)
            return
        allowed = {_origin(get_settings().base_url)}
        host = headers.get("host")
        if host:
            scheme = scope.get("scheme", "http")
            allowed.add(f"{scheme}://{host}".lower())
        if claimed.lower() not in allowed:
            response = JSONResponse(error_body("cross_site_request", "yêu cầu từ trang web khác bị từ chối"),
                                    status_code=403)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
