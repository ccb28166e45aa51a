"""Writing and reading the notification inbox.

Handlers call :func:`deliver` inside the unit of work the bus gives them; routes call the read and
mark functions with the caller's :class:`Principal`. A citizen only ever sees their own entries:
another person's notification is reported as not found, so identifiers cannot be probed.

Reading one's own inbox is not written to the audit log: the entries are messages to the citizen,
built from events whose underlying accesses are audited by their own contexts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from lienthong.db import aware, utcnow
from lienthong.errors import DomainError, NotFound
from lienthong.identity.policy import Target, authorize
from lienthong.identity.principal import Principal
from lienthong.notifications.models import Notification

ACTION = "notifications.read"
PAGE_SIZE = 50
MAX_PAGE = 200


# --- formatting -----------------------------------------------------------------------------------------------------


def parse_time(value) -> datetime | None:
    """An ISO timestamp from an event payload (or a datetime) as an aware datetime; None if absent/bad."""
    if isinstance(value, datetime):
        return aware(value)
    if not value:
        return None
    try:
        return aware(datetime.fromisoformat(str(value)))
    except ValueError:
        return None


# --- writing --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    link: str | None = None


def deliver(session: Session, event: dict, personal_id: str | None, message: Message) -> Notification | None:
    """Store ``message`` in ``personal_id``'s inbox for ``event`` (an envelope); once per event and recipient.

    Returns the new row, or None when there is no recipient or the recipient already has it.
    """
    if not personal_id:
        return None
    existing = session.scalar(select(Notification.id).where(Notification.event_id == event["event_id"],
                                                            Notification.personal_id == personal_id))
    if existing is not None:
        return None
    row = Notification(personal_id=personal_id, topic=event["topic"][:128], title=message.title[:200],
                       body=message.body, link=(message.link or None) and message.link[:300],
                       event_id=event["event_id"], created_at=parse_time(event.get("occurred_at")) or utcnow())
    session.add(row)
    session.flush()
    return row


def deliver_many(session: Session, items: list[tuple[dict, str | None, Message]]) -> int:
    """:func:`deliver` for many ``(event, personal_id, message)`` at once: one query for the copies
    recipients already have, one bulk insert. Returns how many rows were written."""
    wanted = [(event, pid, m) for event, pid, m in items if pid]
    if not wanted:
        return 0
    have: set[tuple[str, str]] = set()
    ids = sorted({event["event_id"] for event, _, _ in wanted})
    for i in range(0, len(ids), 500):
        have.update(session.execute(select(Notification.event_id, Notification.personal_id)
                                    .where(Notification.event_id.in_(ids[i:i + 500]))).all())
    rows = []
    for event, pid, m in wanted:
        key = (event["event_id"], pid)
        if key in have:
            continue
        have.add(key)
        rows.append({"personal_id": pid, "topic": event["topic"][:128], "title": m.title[:200], "body": m.body,
                     "link": (m.link or None) and m.link[:300], "event_id": event["event_id"],
                     "created_at": parse_time(event.get("occurred_at")) or utcnow(), "read_at": None})
    if rows:
        session.execute(insert(Notification), rows)
    return len(rows)


# --- reading --------------------------------------------------------------------------------------------------------


def _own(principal: Principal) -> str:
    if not principal.personal_id:
        raise DomainError("tài khoản này không gắn với công dân", field="personal_id")
    authorize(principal, ACTION, Target(personal_id=principal.personal_id))
    return principal.personal_id


def inbox(session: Session, principal: Principal, *, unread: bool | None = None, before: int | None = None,
          limit: int = PAGE_SIZE) -> list[Notification]:
    """The caller's notifications, newest first; ``before`` is the id cursor of the previous page."""
    pid = _own(principal)
    limit = max(1, min(limit, MAX_PAGE))
    stmt = select(Notification).where(Notification.personal_id == pid)
    if unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    if before is not None:
        stmt = stmt.where(Notification.id < before)
    return list(session.scalars(stmt.order_by(Notification.id.desc()).limit(limit)))


def unread_count(session: Session, principal: Principal) -> int:
    pid = _own(principal)
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.personal_id == pid, Notification.read_at.is_(None))) or 0


def mark_read(session: Session, principal: Principal, notification_id: int, now: datetime | None = None) -> Notification:
    """Mark one of the caller's notifications read (idempotent: the first read time is kept)."""
    pid = _own(principal)
    row = session.get(Notification, notification_id)
    if row is None or row.personal_id != pid:
        raise NotFound("không tìm thấy thông báo", field="id")
    if row.read_at is None:
        row.read_at = now or utcnow()
        session.flush()
    return row


def mark_all_read(session: Session, principal: Principal, now: datetime | None = None) -> int:
    """Mark every unread notification of the caller read; returns how many changed."""
    pid = _own(principal)
    return session.execute(
        update(Notification).where(Notification.personal_id == pid, Notification.read_at.is_(None))
        .values(read_at=now or utcnow()).execution_options(synchronize_session=False)
    ).rowcount or 0
