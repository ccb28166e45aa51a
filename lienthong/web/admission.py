"""Admission control: at most ``LIENTHONG_DB_POOL_SIZE`` requests are processed at a time per server
process; the others wait their turn, first come first served, before any of their code runs.

Why: a blocking route holds its database connection from its first query until the request's unit
of work commits, which FastAPI does after the response is serialized, in a second trip through the
thread pool. When more requests are in flight than the pool has connections, the requests holding
connections wait for threads while the threads wait for connections, until the pool times out: the
"pool exhausted" 500s at 50 concurrent readers. Letting in only as many requests as there are pooled
connections removes that wait; the queue ahead of it is fair, and one that waits longer than
``LIENTHONG_REQUEST_QUEUE_TIMEOUT_S`` is answered 503 (overloaded) with Retry-After.

Long-lived requests do not take a place: uploads to the gateway (hospital files, up to minutes),
server-sent event streams, static files and the liveness probe; they use the pool's overflow.
"""

from __future__ import annotations

import anyio

from lienthong.config import get_settings

EXEMPT_PREFIXES = ("/static/", "/healthz", "/api/v1/gateway/", "/api/v1/me/health/events")
OVERLOAD_MESSAGE = ("Hệ thống đang quá tải, yêu cầu của bạn chưa được xử lý. Vui lòng thử lại sau ít phút.")


class AdmissionMiddleware:
    def __init__(self, app, limit: int | None = None, timeout_s: float | None = None,
                 exempt: tuple[str, ...] = EXEMPT_PREFIXES):
        settings = get_settings()
        self.app = app
        self.limit = limit or settings.db_pool_size
        self.timeout_s = timeout_s if timeout_s is not None else settings.request_queue_timeout_s
        self.exempt = exempt
        self._sem: anyio.Semaphore | None = None
        self.waiting = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        if self._sem is None:
            self._sem = anyio.Semaphore(self.limit)
        self.waiting += 1
        try:
            with anyio.move_on_after(self.timeout_s) as scope_timeout:
                await self._sem.acquire()
        finally:
            self.waiting -= 1
        if scope_timeout.cancelled_caught:
            await self._overloaded(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._sem.release()

    async def _overloaded(self, scope, receive, send) -> None:
        from starlette.requests import Request

        from lienthong.web import unavailable

        response = unavailable.response(Request(scope, receive), message=OVERLOAD_MESSAGE,
                                        title="Hệ thống đang quá tải", code="overloaded")
        await response(scope, receive, send)
