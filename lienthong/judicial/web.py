"""Web pages of the judicial record service (Vietnamese UI).

Citizens: ``/ly-lich-tu-phap`` (own applications), ``/ly-lich-tu-phap/yeu-cau`` (form pre-filled
from the population registry), ``/ly-lich-tu-phap/ho-so/{id}`` (status), PDF download.
Officers: ``/can-bo/ly-lich-tu-phap`` (queue of their province with SLA countdown, overdue first),
``/can-bo/ly-lich-tu-phap/{id}`` (case, record look-up, approve/reject), revocation.
Public: ``/tra-cuu-phieu/{id}`` (verification page the QR code points to).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from lienthong.db import utcnow
from lienthong.deps import get_db
from lienthong.errors import DomainError
from lienthong.identity.principal import Principal
from lienthong.judicial import schemas, service
from lienthong.judicial.rules.procedure import FeeCategory
from lienthong.web.routes import web_requires
from lienthong.web.templating import make_templates, page_renderer

templates = make_templates(Path(__file__).parent / "templates")
templates.env.globals.update(status_text=service.STATUS_TEXT, fee_text=service.FEE_CATEGORY_TEXT)



router = APIRouter(include_in_schema=False)

PURPOSES = [
    "Bổ sung hồ sơ tuyển dụng, công chức, viên chức",
    "Xin việc làm",
    "Du học",
    "Xin thị thực, định cư ở nước ngoài",
    "Kết hôn với người nước ngoài",
    "Kinh doanh ngành nghề có điều kiện",
    "Thành lập, quản lý doanh nghiệp",
    "Để biết thông tin lý lịch tư pháp của bản thân",
]


render = page_renderer(templates)


def _error(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, ValidationError):
        return "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
    return str(exc)


# Citizens ----------------------------------------------------------------------------------------
@router.get("/ly-lich-tu-phap", response_class=HTMLResponse)
def my_page(request: Request, principal: Principal = Depends(web_requires("judicial.application.read")),
            db: Session = Depends(get_db)):
    if not principal.personal_id:
        return render(request, "error.html", 403, message="Tài khoản này không gắn với công dân.")
    return render(request, "judicial_mine.html", apps=service.my_applications(db, principal))


@router.get("/ly-lich-tu-phap/yeu-cau", response_class=HTMLResponse)
def form_page(request: Request, principal: Principal = Depends(web_requires("judicial.apply")),
              db: Session = Depends(get_db)):
    try:
        ident = service.prefill(db, principal)
    except DomainError as exc:
        return render(request, "error.html", 422, message=exc.message)
    return render(request, "judicial_form.html", ident=ident, purposes=PURPOSES, fee_categories=list(FeeCategory),
                  error=None, form={})


@router.post("/ly-lich-tu-phap/yeu-cau", response_class=HTMLResponse)
def form_submit(request: Request, background: BackgroundTasks, kind: int = Form(...), purpose: str = Form(""),
                purpose_other: str = Form(""), include_ban_info: bool = Form(False),
                delivery_electronic: bool = Form(False), delivery_postal: bool = Form(False),
                postal_address: str = Form(""), email: str = Form(""), phone: str = Form(""),
                fee_category: str = Form("standard"),
                principal: Principal = Depends(web_requires("judicial.apply")), db: Session = Depends(get_db)):
    form = dict(kind=kind, purpose=purpose, purpose_other=purpose_other, include_ban_info=include_ban_info,
                delivery_electronic=delivery_electronic, delivery_postal=delivery_postal, postal_address=postal_address,
                email=email, phone=phone, fee_category=fee_category)
    try:
        body = schemas.ApplicationIn(
            kind=kind, purpose=(purpose_other.strip() or purpose), include_ban_info=include_ban_info and kind == 1,
            delivery_electronic=delivery_electronic, delivery_postal=delivery_postal,
            postal_address=postal_address or None, email=email or None, phone=phone or None, fee_category=fee_category)
        app = service.submit(db, principal, body)
    except (DomainError, ValidationError) as exc:
        db.rollback()
        ident = service.prefill(db, principal)
        return render(request, "judicial_form.html", 422, ident=ident, purposes=PURPOSES,
                      fee_categories=list(FeeCategory), error=_error(exc), form=form)
    db.commit()
    background.add_task(service.process_in_background, app.id)
    return RedirectResponse(f"/ly-lich-tu-phap/ho-so/{app.id}", status_code=303)


@router.get("/ly-lich-tu-phap/ho-so/{app_id}", response_class=HTMLResponse)
def status_page(request: Request, app_id: str, principal: Principal = Depends(web_requires("judicial.application.read")),
                db: Session = Depends(get_db)):
    try:
        app = service.get_application(db, principal, app_id, "công dân xem tình trạng hồ sơ của mình"
                                      if principal.kind == "citizen" else "cán bộ xem hồ sơ cấp Phiếu lý lịch tư pháp")
    except DomainError as exc:
        return render(request, "error.html", exc.status_code, message=exc.message)
    return render(request, "judicial_status.html", app=app, sla=service.remaining(app, utcnow()))


@router.get("/ly-lich-tu-phap/phieu/{cert_id}.pdf")
def pdf_download(cert_id: str, principal: Principal = Depends(web_requires("judicial.application.read")),
                 db: Session = Depends(get_db)):
    cert = service.get_certificate(db, principal, cert_id, purpose="tải Phiếu lý lịch tư pháp (PDF)")
    return Response(service.certificate_pdf(cert), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="phieu-lltp-{cert.id}.pdf"'})


# Officers ----------------------------------------------------------------------------------------
@router.get("/can-bo/ly-lich-tu-phap", response_class=HTMLResponse)
def queue_page(request: Request, principal: Principal = Depends(web_requires("judicial.review")),
               db: Session = Depends(get_db)):
    now = utcnow()
    apps = service.review_queue(db, principal, now)
    rows = [(a, service.remaining(a, now)) for a in apps]  # by due_at: the overdue ones come first
    notes = list(dict.fromkeys(n for a in apps for n in service.legal_notes(a)))
    return render(request, "judicial_queue.html", rows=rows, province=service.province_name(principal.province_code or 0),
                  legal_notes=notes)


@router.get("/can-bo/ly-lich-tu-phap/{app_id}", response_class=HTMLResponse)
def case_page(request: Request, app_id: str, principal: Principal = Depends(web_requires("judicial.review")),
              db: Session = Depends(get_db)):
    try:
        app = service.get_application(db, principal, app_id, "cán bộ xem hồ sơ cấp Phiếu lý lịch tư pháp")
        record = service.get_record(db, principal, app.personal_id, "xác minh hồ sơ cấp Phiếu lý lịch tư pháp")
    except DomainError as exc:
        return render(request, "error.html", exc.status_code, message=exc.message)
    return render(request, "judicial_case.html", app=app, sla=service.remaining(app, utcnow()), record=record, error=None,
                  legal_notes=service.legal_notes(app, record))


@router.post("/can-bo/ly-lich-tu-phap/{app_id}/quyet-dinh", response_class=HTMLResponse)
def case_decide(request: Request, app_id: str, decision: str = Form(...), reason: str = Form(""),
                principal: Principal = Depends(web_requires("judicial.review")), db: Session = Depends(get_db)):
    try:
        service.decide(db, principal, app_id, decision == "approve", reason)
    except DomainError as exc:
        db.rollback()
        return render(request, "error.html", exc.status_code, message=exc.message)
    return RedirectResponse(f"/can-bo/ly-lich-tu-phap/{app_id}", status_code=303)


@router.post("/can-bo/ly-lich-tu-phap/phieu/{cert_id}/thu-hoi", response_class=HTMLResponse)
def revoke_form(request: Request, cert_id: str, reason: str = Form(""),
                principal: Principal = Depends(web_requires("judicial.certificate.revoke")), db: Session = Depends(get_db)):
    try:
        cert = service.revoke(db, principal, cert_id, reason)
    except DomainError as exc:
        db.rollback()
        return render(request, "error.html", exc.status_code, message=exc.message)
    return RedirectResponse(f"/can-bo/ly-lich-tu-phap/{cert.application_id}", status_code=303)


# Public ------------------------------------------------------------------------------------------
@router.get("/tra-cuu-phieu/{cert_id}", response_class=HTMLResponse)
def verify_page(request: Request, cert_id: str, db: Session = Depends(get_db)):
    try:
        result = service.verify_public(db, cert_id)
    except DomainError:
        return render(request, "judicial_verify.html", 404, result=None, cert_id=cert_id, principal=None)
    return render(request, "judicial_verify.html", result=result, cert_id=cert_id, principal=None)
