"""Reading an upload's body with a size cap (the gateway's XML 130 and FHIR endpoints stream their
bodies themselves, with caps far above the general request limit of :mod:`lienthong.limits`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request

from lienthong.errors import PayloadTooLarge


async def capped_stream(request: Request, limit: int, what: str) -> AsyncIterator[bytes]:
    """The body's chunks; :class:`PayloadTooLarge` (413) as soon as the body is known to exceed
    ``limit`` bytes: from a declared Content-Length before anything is read, else while counting."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"{what} vượt quá kích thước tối đa {limit:,} byte")
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"{what} vượt quá kích thước tối đa {limit:,} byte")
        yield chunk
