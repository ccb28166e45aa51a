"""Request limits applied before any route runs: hostile requests get a clear 4xx, early.

* Request bodies are capped (``LIENTHONG_REQUEST_MAX_BODY_BYTES``, default 1 MiB): a declared
  ``Content-Length`` above the cap is refused with 413 before anything is read; a chunked body is
  counted while it arrives and refused as soon as it passes the cap (never read into memory whole).
  The gateway's upload endpoints (:data:`STREAMING_PREFIXES`) stream to disk with their own, much
  larger caps and are not limited here.
* Query strings are capped in length (414) and in number of parameters (400).
* NUL characters, which no field of this platform may contain (and PostgreSQL text cannot store),
  are refused with 422 in the path, the query string, JSON bodies (``\\u0000``) and form bodies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from lienthong.errors import error_body

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_QUERY_BYTES = 16 * 1024
DEFAULT_MAX_QUERY_PARAMS = 200

# Upload endpoints that stream their body themselves, with their own size caps.
STREAMING_PREFIXES: tuple[str, ...] = ("/api/v1/gateway/xml130", "/api/v1/gateway/fhir")

# A JSON ``\u0000`` escape (not itself an escaped backslash followed by "u0000").
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


async def _reply(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps(error_body(code, message), ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value
    return None


class RequestLimits:
    """Pure ASGI middleware enforcing the limits described in the module docstring."""

    def __init__(self, app, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 max_query_bytes: int = DEFAULT_MAX_QUERY_BYTES, max_query_params: int = DEFAULT_MAX_QUERY_PARAMS,
                 streaming_prefixes: tuple[str, ...] = STREAMING_PREFIXES):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_query_bytes = max_query_bytes
        self.max_query_params = max_query_params
        self.streaming_prefixes = streaming_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query: bytes = scope.get("query_string") or b""
        if len(query) > self.max_query_bytes:
            await _reply(send, 414, "uri_too_long",
                         f"Chuỗi truy vấn quá dài (tối đa {self.max_query_bytes:,} byte)")
            return
        if query and query.count(b"&") + 1 > self.max_query_params:
            await _reply(send, 400, "too_many_parameters",
                         f"Quá nhiều tham số truy vấn (tối đa {self.max_query_params})")
            return
        path: str = scope.get("path") or ""
        if "\x00" in path or b"\x00" in query or b"%00" in query:
            await _reply(send, 422, "nul_character", "Đường dẫn hoặc tham số truy vấn chứa ký tự NUL không hợp lệ")
            return
        if path.startswith(self.streaming_prefixes):
            await self.app(scope, receive, send)
            return

        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_body_bytes
            except ValueError:
                await _reply(send, 400, "bad_content_length", "Tiêu đề Content-Length không hợp lệ")
                return
            if too_large:
                await _reply(send, 413, "payload_too_large",
                             f"Nội dung yêu cầu vượt quá kích thước tối đa {self.max_body_bytes:,} byte")
                return

        # Read the (bounded) body first, so that it can be checked before the route sees it.
        chunks: list[bytes] = []
        size = 0
        more = True
        disconnected: Message | None = None
        has_body = (scope.get("method") in ("POST", "PUT", "PATCH") or declared not in (None, b"0")
                    or _header(scope, b"transfer-encoding") is not None)
        if has_body:
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    disconnected = message
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body_bytes:
                    await _reply(send, 413, "payload_too_large",
                                 f"Nội dung yêu cầu vượt quá kích thước tối đa {self.max_body_bytes:,} byte")
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
            content_type = (_header(scope, b"content-type") or b"").lower()
            if body and ((b"json" in content_type and (b"\x00" in body or _JSON_NUL.search(body)))
                         or (b"x-www-form-urlencoded" in content_type and (b"\x00" in body or b"%00" in body))):
                await _reply(send, 422, "nul_character", "Nội dung yêu cầu chứa ký tự NUL không hợp lệ")
                return
        else:
            body = None

        if body is None:
            await self.app(scope, receive, send)
            return

        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            if disconnected is not None:
                return disconnected
            return await receive()

        await self.app(scope, replay, send)


def install_request_limits(app) -> None:
    from lienthong.config import get_settings

    s = get_settings()
    app.add_middleware(RequestLimits, max_body_bytes=s.request_max_body_bytes,
                       max_query_bytes=s.request_max_query_bytes, max_query_params=s.request_max_query_params)
