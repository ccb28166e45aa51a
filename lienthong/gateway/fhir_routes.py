"""HTTP routes of the FHIR R4 adapter.

* ``POST /api/v1/gateway/fhir``: a facility client submits a Bundle (``application/fhir+json``);
  the answer is the submission receipt (same shape as the XML 130 gateway's).
* ``GET /api/v1/me/health/ips``: a citizen's International Patient Summary, a FHIR document Bundle.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from lienthong.config import get_settings
from lienthong.deps import get_db
from lienthong.errors import DomainError
from lienthong.gateway.fhir import ips, mapping
from lienthong.gateway.upload import capped_stream
from lienthong.identity.policy import Target, authorize, forbidden, requires
from lienthong.identity.principal import Principal

router = APIRouter(tags=["fhir"])

FHIR_JSON = "application/fhir+json"
_ACCEPTED_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")


def process_submission(db: Session, principal: Principal, body: bytes,
                       settings: mapping.FhirSettings | None = None) -> dict:
    """Map, store and receipt one Bundle (in the caller's transaction)."""
    from lienthong.health import ingest

    settings = settings or mapping.get_fhir_settings()
    if not principal.facility_code:
        raise forbidden("tài khoản không gắn với cơ sở khám chữa bệnh")
    bundle = mapping.load_bundle(body, settings)
    result = mapping.map_bundle(bundle, facility_code=principal.facility_code, settings=settings,
                                abroad_prefixes=get_settings().abroad_id_prefixes)
    if result.only_foreign:
        others = ", ".join(sorted(result.foreign_facilities))
        raise forbidden(f"Bundle chỉ chứa đợt khám của cơ sở khác ({others}); "
                        f"tài khoản được cấp cho cơ sở {principal.facility_code}")
    batch = ingest.new_batch(db, principal, source=mapping.SOURCE, filename=None)
    ingest.store_visits(db, batch, result.records)
    ingest.add_rejections(batch, dossiers=result.encounters, rejected=result.rejected,
                          errors=[e.as_dict() for e in result.errors])
    ingest.finish_batch(db, principal, batch)
    receipt = ingest.receipt(batch, max_errors=settings.max_errors)
    receipt["bundle_type"] = result.bundle_type
    receipt["encounters"] = result.encounters
    return receipt


@router.post("/api/v1/gateway/fhir", summary="Submit visit data as an HL7 FHIR R4 Bundle",
             description="Body: a FHIR R4 Bundle (transaction, batch, collection or message) in JSON. "
                         "Each Encounter is one visit of the authenticated facility; the answer is the "
                         "submission receipt with per-resource errors.")
async def submit_bundle(request: Request, principal: Principal = Depends(requires("health.submit")),
                        db: Session = Depends(get_db)):
    if not principal.facility_code:
        raise forbidden("ứng dụng chưa gắn với cơ sở khám chữa bệnh")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _ACCEPTED_TYPES:
        return JSONResponse({"error": {"code": "unsupported_media_type",
                                       "message": f"Content-Type phải là {FHIR_JSON} hoặc application/json"}},
                            status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
    settings = mapping.get_fhir_settings()
    body = b"".join([chunk async for chunk in capped_stream(request, settings.max_bytes, "Bundle")])
    return await run_in_threadpool(process_submission, db, principal, body, settings)


@router.get("/api/v1/me/health/ips", summary="The logged-in citizen's International Patient Summary (FHIR)",
            response_class=JSONResponse,
            responses={200: {"content": {FHIR_JSON: {}}, "description": "A FHIR R4 document Bundle"}})
def my_patient_summary(principal: Principal = Depends(requires("health.book.read")), db: Session = Depends(get_db)):
    if not principal.personal_id:
        raise DomainError("tài khoản này không gắn với công dân", field="personal_id")
    authorize(principal, "health.book.read", Target(personal_id=principal.personal_id))
    from lienthong.audit.service import record

    document = ips.build_ips(db, principal.personal_id, fallback_name=principal.name)
    record(db, principal, "read", "health.ips", subject_id=principal.personal_id,
           purpose="công dân xem bản tóm tắt sức khỏe (IPS) của mình",
           detail={"entries": len(document["entry"]), "bundle_id": document["id"]})
    return JSONResponse(document, media_type=FHIR_JSON)
