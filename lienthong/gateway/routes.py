"""Health data gateway: facilities submit QĐ 130/4750 envelopes and read their receipts.

``POST /api/v1/gateway/xml130``: the raw request body is the GIAMDINHHS file
(``Content-Type: application/xml``, ``text/xml`` or ``application/octet-stream``). The body is
streamed to a temporary file under ``<state_dir>/uploads`` (never held in memory) up to
``LIENTHONG_GATEWAY_MAX_BYTES`` (default 2 GiB; 413 above), then parsed, validated and stored in
chunks (constant memory; large files are validated by worker processes).
Processing is synchronous: the response is the final receipt. The envelope's MACSKCB must be the
caller's facility (403). Per-dossier problems are in the receipt (valid dossiers are accepted); a
broken envelope is 400 (with the receipt when some dossiers were already stored).

``GET /api/v1/gateway/batches/{id}``: a receipt; facilities see only their own. A batch interrupted
by a database outage is marked ``failed`` as soon as the database is back; one still ``receiving``
without progress for :data:`~lienthong.health.ingest.STALE_AFTER` (its process died) is marked
``failed`` by the periodic sweep or when read. Resubmitting the same file completes it without
duplicates.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from lienthong.config import get_settings
from lienthong.db import utcnow
from lienthong.deps import get_db
from lienthong.gateway.upload import capped_stream
from lienthong.health.ingest import STALE_AFTER, fail_interrupted, receipt
from lienthong.health.models import IngestBatch
from lienthong.identity.policy import Target, authorize, requires
from lienthong.identity.principal import Principal

router = APIRouter(prefix="/api/v1/gateway", tags=["gateway"])

DEFAULT_MAX_BYTES = 2 * 1024 ** 3
ACCEPTED_TYPES = ("application/xml", "text/xml", "application/octet-stream")
RECEIPT_MAX_ERRORS = 1_000


def max_upload_bytes() -> int:
    try:
        return int(os.environ.get("LIENTHONG_GATEWAY_MAX_BYTES", DEFAULT_MAX_BYTES))
    except ValueError:
        return DEFAULT_MAX_BYTES


def _error(status_code: int, code: str, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}, **extra}, status_code=status_code)


async def _spool(request: Request, limit: int) -> str | JSONResponse:
    """Stream the body into a temporary file; its path, or an error response (413: PayloadTooLarge)."""
    chunks = capped_stream(request, limit, "Tệp")
    # Under the state directory rather than /tmp, which may be a RAM-backed tmpfs.
    upload_dir = Path(get_settings().state_dir) / "uploads"
    upload_dir.mkdir(parents=True, exist_ok=True)
    fd, path = tempfile.mkstemp(prefix="xml130-", suffix=".xml", dir=upload_dir)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                out.write(chunk)
    except BaseException:
        if os.path.exists(path):
            os.unlink(path)
        raise
    if size == 0:
        os.unlink(path)
        return _error(400, "empty_body", "Nội dung yêu cầu trống: gửi tệp hồ sơ XML trong thân yêu cầu")
    return path


@router.post("/xml130", summary="Submit a QĐ 130/4750 claim envelope (GIAMDINHHS)")
async def submit_xml130(request: Request, filename: str | None = None,
                        principal: Principal = Depends(requires("health.submit"))):
    # The envelope's MACSKCB is checked against the caller's facility (authorize + 403) by
    # ingest_xml130 as soon as the header is read, before anything is stored.
    if not principal.facility_code:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "ứng dụng chưa gắn với cơ sở khám chữa bệnh")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ACCEPTED_TYPES:
        return _error(415, "unsupported_media_type",
                      "Content-Type phải là application/xml, text/xml hoặc application/octet-stream")
    spooled = await _spool(request, max_upload_bytes())
    if isinstance(spooled, JSONResponse):
        return spooled
    try:
        from lienthong.health.xml_mapping import ingest_xml130

        batch = await run_in_threadpool(ingest_xml130, spooled, principal, filename=filename)
    finally:
        os.unlink(spooled)
    body = receipt(batch, max_errors=RECEIPT_MAX_ERRORS)
    if batch.status == "failed":
        first = next((e for e in body["errors"] if e.get("table") == "GIAMDINHHS"), None)
        return JSONResponse({"error": {"code": first["code"] if first else "invalid_envelope",
                                       "message": first["message"] if first else "Tệp hồ sơ không hợp lệ"},
                             "receipt": body}, status_code=400)
    return body


@router.get("/batches/{batch_id}", summary="A submission receipt")
def get_batch(batch_id: str, principal: Principal = Depends(requires("health.receipts")),
              db: Session = Depends(get_db)):
    batch = db.get(IngestBatch, batch_id) if len(batch_id) <= 36 else None
    if batch is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "không tìm thấy lượt gửi dữ liệu")
    if principal.kind == "facility" and batch.facility_code != principal.facility_code:
        # Do not reveal other facilities' batch ids.
        raise HTTPException(status.HTTP_404_NOT_FOUND, "không tìm thấy lượt gửi dữ liệu")
    authorize(principal, "health.receipts", Target(facility_code=batch.facility_code))
    beat = batch.updated_at or batch.received_at
    if batch.status == "receiving" and beat is not None and utcnow() - beat > STALE_AFTER:
        # an interrupted ingest (its process died) not swept yet: marked failed with the request
        fail_interrupted(batch)
        db.flush()
    return receipt(batch, max_errors=RECEIPT_MAX_ERRORS)
