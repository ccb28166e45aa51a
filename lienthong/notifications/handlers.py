"""Bus handlers: events that concern a citizen become Vietnamese messages in their inbox.

Each handler reads the event payload and, where the payload is not enough (a facility's name, an
application's owner or deadline), looks it up read-only in the owning context's tables. The bus runs
each handler once per event in its own unit of work; :func:`service.deliver` additionally keeps one
row per event and recipient.

Events deliberately not turned into notifications: ``health.book.closed`` (the recipient would be
the deceased; relatives are told by the death procedure's ``civil.notification``), death
certificates (same reason), ``insurance.card.issued`` / ``insurance.funeral_allowance.decided``
(the person is a newborn or deceased; the parent/relatives get the procedure's notifications),
``judicial.application.overdue`` (an internal escalation) and ``judicial.record.changed``
(court feed; the citizen sees its effect through their applications).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from lienthong.events.bus import bus
from lienthong.notifications.service import Message, deliver, deliver_many, parse_time
from lienthong.web.dates import vndate, vntime, vntimedate

HEALTH_BOOK = "/so-suc-khoe"
AUDIT_PAGE = "/nhat-ky"


def _facility(session: Session, code: str | None, known: str | None = None) -> str:
    from lienthong.health.book import facility_names

    if known:
        return known
    if not code:
        return "cơ sở khám chữa bệnh"
    return facility_names(session, [code]).get(code) or f"cơ sở khám chữa bệnh mã {code}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# --- civil procedures -----------------------------------------------------------------------------------------------


def on_civil_notification(session: Session, event: dict) -> None:
    """The procedure already wrote the Vietnamese text and names the recipient."""
    from lienthong.civil.workflow import PROCEDURES

    p = event["payload"]
    proc = PROCEDURES.get(p.get("procedure") or "")
    title = proc.title if proc else "Thủ tục liên thông"
    case_id = p.get("case_id")
    deliver(session, event, p.get("recipient_personal_id"),
            Message(title=title, body=p.get("text") or "Hồ sơ thủ tục của bạn có cập nhật mới.",
                    link=f"/thu-tuc/{case_id}" if case_id else "/thu-tuc"))


# --- health ---------------------------------------------------------------------------------------------------------


def on_appointment_reminder(session: Session, event: dict) -> None:
    p = event["payload"]
    at = parse_time(p.get("appointment_at"))
    day = p.get("appointment_date") or vndate(at)
    time = p.get("appointment_time") or vntime(at)
    where = _facility(session, p.get("facility_code"), p.get("facility_name"))
    number = f" (giấy hẹn số {p['number']})" if p.get("number") else ""
    deliver(session, event, p.get("personal_id"), Message(
        title="Nhắc lịch tái khám",
        body=f"Bạn có lịch tái khám lúc {time} ngày {day} tại {where}{number}. "
             "Vui lòng mang theo căn cước và thẻ bảo hiểm y tế (nếu có).",
        link=HEALTH_BOOK))


def on_emergency_access(session: Session, event: dict) -> None:
    p = event["payload"]
    where = _facility(session, p.get("facility_code"))
    when = vntimedate(p.get("at") or event.get("occurred_at"))
    reason = (p.get("reason") or "").strip()
    deliver(session, event, p.get("personal_id"), Message(
        title="Truy cập khẩn cấp sổ sức khỏe",
        body=f"{where} đã xem tóm tắt sổ sức khỏe của bạn theo thủ tục cấp cứu (không cần bạn chia sẻ) "
             f"lúc {when}." + (f" Lý do được ghi nhận: {reason}." if reason else "")
             + " Lượt truy cập đã được ghi vào nhật ký; nếu bạn thấy không đúng, hãy liên hệ cơ sở "
               "hoặc cơ quan quản lý y tế.",
        link=AUDIT_PAGE))


def _visit_message(p: dict, where: str, admitted_at) -> Message:
    day = f" ngày {vndate(admitted_at)}" if admitted_at else ""
    if (p.get("version") or 1) > 1:
        return Message(
            title=f"Cập nhật lượt khám tại {where}",
            body=f"{where} đã gửi bản điều chỉnh (lần {p['version']}) dữ liệu lượt khám{day} của bạn; "
                 "sổ sức khỏe điện tử đã được cập nhật.",
            link=HEALTH_BOOK)
    return Message(
        title=f"Có lượt khám mới tại {where}",
        body=f"Lượt khám{day} tại {where} đã được cập nhật vào sổ sức khỏe điện tử của bạn.",
        link=HEALTH_BOOK)


def on_visit_accepted(session: Session, event: dict) -> None:
    on_visit_accepted_batch(session, [event])


def on_visit_accepted_batch(session: Session, events: list[dict]) -> None:
    """Visits accepted from a whole ingest chunk: facility names, admission times (when the event
    does not carry them) and existing copies are looked up once for the list."""
    from sqlalchemy import select

    from lienthong.health.book import facility_names
    from lienthong.health.models import Visit

    wanted = [e for e in events if (e.get("payload") or {}).get("personal_id")]
    if not wanted:
        return
    names = facility_names(session, [e["payload"].get("facility_code") for e in wanted])
    missing = sorted({e["payload"]["visit_id"] for e in wanted
                      if not e["payload"].get("admitted_at") and e["payload"].get("visit_id") is not None})
    admitted = {}
    for i in range(0, len(missing), 500):
        admitted.update(session.execute(select(Visit.id, Visit.admitted_at)
                                        .where(Visit.id.in_(missing[i:i + 500]))).all())
    items = []
    for e in wanted:
        p = e["payload"]
        code = p.get("facility_code")
        where = names.get(code) if code else None
        where = where or (f"cơ sở khám chữa bệnh mã {code}" if code else "cơ sở khám chữa bệnh")
        at = parse_time(p.get("admitted_at")) if p.get("admitted_at") else admitted.get(p.get("visit_id"))
        items.append((e, p["personal_id"], _visit_message(p, where, at)))
    deliver_many(session, items)


def on_referral_decided(session: Session, event: dict) -> None:
    p = event["payload"]
    to = _facility(session, p.get("to_facility"))
    sender = _facility(session, p.get("from_facility"))
    day = vndate(p.get("decided_at") or event.get("occurred_at"))
    number = p.get("number") or ""
    if event["topic"].endswith(".accepted"):
        message = Message(
            title="Giấy chuyển tuyến đã được tiếp nhận",
            body=f"{to} đã tiếp nhận giấy chuyển tuyến số {number} của bạn (do {sender} cấp) ngày {day}.",
            link=HEALTH_BOOK)
    else:
        reason = (p.get("reason") or "").strip()
        message = Message(
            title="Giấy chuyển tuyến bị từ chối",
            body=f"{to} đã từ chối tiếp nhận giấy chuyển tuyến số {number} của bạn (do {sender} cấp) ngày {day}."
                 + (f" Lý do: {reason}." if reason else "")
                 + f" Bạn hãy liên hệ {sender} để được hướng dẫn chuyển đến cơ sở khác.",
            link=HEALTH_BOOK)
    deliver(session, event, p.get("personal_id"), message)


def on_health_certificate(session: Session, event: dict) -> None:
    on_health_certificates(session, [event])


def on_health_certificates(session: Session, events: list[dict]) -> None:
    """Certificates issued in a whole ingest chunk: facility names and existing copies looked up once."""
    from lienthong.health.book import CERTIFICATE_KINDS, facility_names

    wanted = [e for e in events if (e.get("payload") or {}).get("kind") != "death"]  # the subject is the deceased
    if not wanted:
        return
    names = facility_names(session, [e["payload"].get("facility_code") for e in wanted])
    items = []
    for e in wanted:
        p = e["payload"]
        name = CERTIFICATE_KINDS.get(p.get("kind"), "Giấy tờ y tế")
        code = p.get("facility_code")
        where = (names.get(code) if code else None) or (f"cơ sở khám chữa bệnh mã {code}" if code
                                                        else "cơ sở khám chữa bệnh")
        number = f" số {p['number']}" if p.get("number") else ""
        items.append((e, p.get("personal_id"), Message(
            title=f"Đã cấp {_lower_first(name)}",
            body=f"{where} đã cấp {_lower_first(name)}{number} ngày {vndate(p.get('issued_at'))}; "
                 "giấy đã có trong sổ sức khỏe điện tử của bạn.",
            link=HEALTH_BOOK)))
    deliver_many(session, items)


# --- judicial records -----------------------------------------------------------------------------------------------


def _application(session: Session, app_id: str | None):
    from lienthong.judicial.models import Application

    return session.get(Application, app_id) if app_id else None


def _app_link(app_id: str) -> str:
    return f"/ly-lich-tu-phap/ho-so/{app_id}"


def on_judicial_application(session: Session, event: dict) -> None:
    """``judicial.application.submitted|review|rejected``: the payload names the application only."""
    p = event["payload"]
    app = _application(session, p.get("application_id"))
    if app is None:
        return
    what = f"Phiếu lý lịch tư pháp số {app.kind}"
    status = event["topic"].rsplit(".", 1)[-1]
    if status == "submitted":
        message = Message(
            title=f"Đã tiếp nhận yêu cầu cấp {what}",
            body=f"Yêu cầu cấp {what} của bạn (mục đích: {app.purpose}) đã được tiếp nhận ngày "
                 f"{vndate(app.submitted_at)}. Hạn trả kết quả: {vndate(app.due_at)}.",
            link=_app_link(app.id))
    elif status == "review":
        due = p.get("due_at") or app.due_at
        message = Message(
            title=f"Yêu cầu cấp {what} đang được xem xét",
            body=f"Yêu cầu cấp {what} nộp ngày {vndate(app.submitted_at)} cần cán bộ xem xét, xác minh thêm. "
                 f"Hạn giải quyết: {vndate(due)}.",
            link=_app_link(app.id))
    elif status == "rejected":
        reason = (app.decision_reason or "").strip()
        message = Message(
            title=f"Yêu cầu cấp {what} bị từ chối",
            body=f"Yêu cầu cấp {what} nộp ngày {vndate(app.submitted_at)} đã bị từ chối"
                 + (f" ngày {vndate(app.decided_at)}" if app.decided_at else "")
                 + (f". Lý do: {reason}." if reason else "."),
            link=_app_link(app.id))
    else:  # pragma: no cover - only the three topics are subscribed
        return
    deliver(session, event, app.personal_id, message)


def on_judicial_certificate(session: Session, event: dict) -> None:
    """``judicial.certificate.issued|revoked``."""
    from lienthong.judicial.models import Certificate

    p = event["payload"]
    cert = session.get(Certificate, p.get("certificate_id")) if p.get("certificate_id") else None
    if cert is None:
        return
    number = cert.record_number
    if event["topic"].endswith(".issued"):
        app = _application(session, cert.application_id)
        postal = " Bản giấy sẽ được gửi qua bưu chính." if app is not None and app.delivery_postal else ""
        message = Message(
            title=f"Đã cấp Phiếu lý lịch tư pháp số {cert.kind}",
            body=f"Phiếu lý lịch tư pháp số {cert.kind}, số {number}, đã được {cert.agency_name} cấp ngày "
                 f"{vndate(cert.issued_at)}. Bạn có thể tải bản điện tử trên trang hồ sơ.{postal}",
            link=_app_link(cert.application_id))
    else:
        reason = (cert.revoke_reason or "").strip()
        message = Message(
            title=f"Phiếu lý lịch tư pháp số {number} đã bị thu hồi",
            body=f"Phiếu lý lịch tư pháp số {number} cấp ngày {vndate(cert.issued_at)} đã bị thu hồi"
                 + (f" ngày {vndate(cert.revoked_at)}" if cert.revoked_at else "")
                 + (f". Lý do: {reason}" if reason else "")
                 + ". Phiếu này không còn giá trị sử dụng.",
            link=_app_link(cert.application_id))
    deliver(session, event, cert.personal_id or p.get("personal_id"), message)


# --- subscriptions --------------------------------------------------------------------------------------------------

# Vectorised forms, for the topics a hospital's ingest produces in bulk.
BATCH = {"notifications.health.visit": on_visit_accepted_batch,
         "notifications.health.certificate": on_health_certificates}

SUBSCRIPTIONS: list[tuple[str, Callable, str]] = [
    ("civil.notification", on_civil_notification, "notifications.civil"),
    ("health.appointment.reminder", on_appointment_reminder, "notifications.health.appointment_reminder"),
    ("health.emergency_access", on_emergency_access, "notifications.health.emergency_access"),
    ("health.visit.accepted", on_visit_accepted, "notifications.health.visit"),
    ("health.referral.accepted", on_referral_decided, "notifications.health.referral_accepted"),
    ("health.referral.rejected", on_referral_decided, "notifications.health.referral_rejected"),
    ("health.certificate.issued", on_health_certificate, "notifications.health.certificate"),
    ("judicial.application.submitted", on_judicial_application, "notifications.judicial.submitted"),
    ("judicial.application.review", on_judicial_application, "notifications.judicial.review"),
    ("judicial.application.rejected", on_judicial_application, "notifications.judicial.rejected"),
    ("judicial.certificate.issued", on_judicial_certificate, "notifications.judicial.certificate_issued"),
    ("judicial.certificate.revoked", on_judicial_certificate, "notifications.judicial.certificate_revoked"),
]
"""(topic, handler, stable delivery name). Names must not change: they key the delivery records."""


def install() -> None:
    for topic, handler, name in SUBSCRIPTIONS:
        bus.register(topic, handler, name=name, exist_ok=True, batch=BATCH.get(name))


install()
