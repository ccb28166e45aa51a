"""In-process message bus: handlers subscribe to event topics and are run by the outbox relay.

Topics are dotted (``population.citizen.registered``); subscriptions use NATS-style wildcards:
``*`` matches exactly one token, ``>`` (last token only) matches one or more trailing tokens::

    from lienthong.events.bus import subscribe

    @subscribe("population.citizen.*")
    def index_citizen(session, event):
        ...  # event = {"event_id", "topic", "occurred_at", "payload"}

The relay hands each handler the events of a pass in one unit of work (:meth:`MessageBus.deliver_batch`):
the delivery rows (:class:`~lienthong.events.models.OutboxDelivery`) of all of them are claimed in
that transaction, so the handler's writes and the "delivered" marks commit or roll back together:
a handler takes effect once per event, even when the event is retried because another handler (or
NATS) failed, and even with several relays running. When the handler raises on one event, the
transaction is rolled back, that event is recorded as failed (the relay retries it later with
exponential backoff) and the others are delivered again without it. A handler registered with
``batch=`` gets the whole list in one call (one query for all events instead of one per event);
if it raises, the events are delivered one by one with the per-event handler. Handlers must not
commit the session, and must not act outside the database (they can be run again after a rollback).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lienthong.db import unit_of_work, utcnow
from lienthong.events.models import OutboxDelivery, OutboxEvent

log = logging.getLogger(__name__)

Handler = Callable[[Session, dict], object]

_TOKEN = re.compile(r"^[A-Za-z0-9_\-]+$")


def _check_pattern(pattern: str) -> list[str]:
    tokens = pattern.split(".")
    for i, tok in enumerate(tokens):
        if tok == ">":
            if i != len(tokens) - 1:
                raise ValueError(f"'>' must be the last token: {pattern!r}")
        elif tok != "*" and not _TOKEN.match(tok):
            raise ValueError(f"bad topic pattern {pattern!r}")
    return tokens


def topic_matches(pattern: str, topic: str) -> bool:
    """NATS subject matching: ``a.*`` matches ``a.b``; ``a.>`` matches ``a.b`` and ``a.b.c``."""
    p = pattern.split(".")
    t = topic.split(".")
    for i, tok in enumerate(p):
        if tok == ">":
            return len(t) > i
        if i >= len(t):
            return False
        if tok != "*" and tok != t[i]:
            return False
    return len(p) == len(t)


def envelope(event: OutboxEvent) -> dict:
    """The JSON-serialisable form of an event, as given to handlers and published to NATS."""
    occurred = event.occurred_at
    return {
        "event_id": event.event_id,
        "topic": event.topic,
        "occurred_at": occurred.isoformat() if isinstance(occurred, datetime) else str(occurred),
        "payload": event.payload,
    }


BatchHandler = Callable[[Session, list[dict]], object]


@dataclass(frozen=True)
class Subscription:
    pattern: str
    handler: Handler
    name: str
    batch: BatchHandler | None = None  # optional vectorised form: batch(session, events)

    @property
    def target(self) -> str:
        return f"handler:{self.name}"


@dataclass
class Delivery:
    """Outcome of delivering one event to one handler."""

    target: str
    ok: bool
    skipped: bool = False  # already delivered earlier (or by a concurrent relay)
    error: str | None = None


def _handler_name(handler: Handler) -> str:
    module = getattr(handler, "__module__", None) or "?"
    qual = getattr(handler, "__qualname__", None) or getattr(handler, "__name__", None) or repr(handler)
    return f"{module}.{qual}"


def _describe(exc: BaseException) -> str:
    text = f"{exc.__class__.__name__}: {exc}"
    return text if len(text) <= 2000 else text[:1997] + "..."


@dataclass
class MessageBus:
    """A registry of topic subscriptions. The relay uses the module-level :data:`bus` unless given another."""

    _subs: list[Subscription] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def register(self, topic_pattern: str, handler: Handler, *, name: str | None = None,
                 exist_ok: bool = False, batch: BatchHandler | None = None) -> Handler:
        """Subscribe ``handler(session, event)`` to topics matching ``topic_pattern``.

        ``name`` identifies the handler's delivery records; it defaults to the handler's module
        and qualified name and must stay stable across releases (renaming it redelivers events
        that are still pending). ``exist_ok``: a subscription of the same name to the same pattern
        is already there -> keep it and return (idempotent installation) instead of raising.
        ``batch(session, events)``: the same effect as ``handler`` on each event, for a list at once.
        """
        _check_pattern(topic_pattern)
        sub = Subscription(topic_pattern, handler, name or _handler_name(handler), batch)
        if len(sub.target) > 200:
            raise ValueError(f"handler name too long: {sub.name!r}")
        with self._lock:
            if any(s.name == sub.name and s.pattern == sub.pattern for s in self._subs):
                if exist_ok:
                    return handler
                raise ValueError(f"{sub.name} is already subscribed to {topic_pattern!r}")
            if any(s.name == sub.name for s in self._subs):
                # Two patterns under one name would share one delivery record.
                raise ValueError(f"handler name {sub.name!r} is already used; pass name=")
            self._subs.append(sub)
        return handler

    def subscribe(self, topic_pattern: str, *, name: str | None = None) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`register`."""

        def decorate(handler: Handler) -> Handler:
            return self.register(topic_pattern, handler, name=name)

        return decorate

    def unregister(self, handler: Handler) -> None:
        with self._lock:
            self._subs = [s for s in self._subs if s.handler is not handler]

    def clear(self) -> None:
        with self._lock:
            self._subs = []

    def handlers_for(self, topic: str) -> list[Subscription]:
        with self._lock:
            return [s for s in self._subs if topic_matches(s.pattern, topic)]

    def deliver(self, sub: Subscription, event: dict, url: str | None = None) -> Delivery:
        """Run one handler for one event in its own unit of work, exactly once.

        The delivery row is claimed first (``UPDATE ... WHERE delivered_at IS NULL`` or
        ``INSERT``): on PostgreSQL this locks the row, on SQLite it takes the write lock, so a
        concurrent relay either waits and then sees the event as delivered, or fails on the
        primary key and rolls back its handler's writes.
        """
        key = {"event_id": event["event_id"], "target": sub.target}
        try:
            with unit_of_work(url) as session:
                now = utcnow()
                claimed = session.execute(
                    update(OutboxDelivery)
                    .where(OutboxDelivery.event_id == key["event_id"], OutboxDelivery.target == key["target"],
                           OutboxDelivery.delivered_at.is_(None))
                    .values(delivered_at=now, attempts=OutboxDelivery.attempts + 1, next_attempt_at=None)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if not claimed:
                    exists = session.scalar(
                        select(OutboxDelivery.delivered_at).where(
                            OutboxDelivery.event_id == key["event_id"], OutboxDelivery.target == key["target"])
                    )
                    if exists is not None:
                        return Delivery(sub.target, ok=True, skipped=True)
                    session.add(OutboxDelivery(**key, delivered_at=now, attempts=1))
                    session.flush()
                sub.handler(session, event)
            return Delivery(sub.target, ok=True)
        except IntegrityError:
            if self._delivered(key, url):
                return Delivery(sub.target, ok=True, skipped=True)
            log.exception("handler %s failed on event %s", sub.name, key["event_id"])
            return Delivery(sub.target, ok=False, error="IntegrityError in handler")
        except Exception as exc:  # a handler failure must never stop the relay
            log.warning("handler %s failed on event %s: %s", sub.name, key["event_id"], _describe(exc))
            return Delivery(sub.target, ok=False, error=_describe(exc))

    def deliver_batch(self, sub: Subscription, events: list[dict], url: str | None = None) -> dict[str, str]:
        """Run one handler for a list of events in one unit of work, each event exactly once.

        Returns ``{event_id: error}`` for the events that failed (the others are delivered, now
        or earlier). See the module docstring for what happens on a failure."""
        errors: dict[str, str] = {}
        todo = list(events)
        while todo:
            if len(todo) == 1:
                result = self.deliver(sub, todo[0], url)
                if not result.ok:
                    errors[todo[0]["event_id"]] = result.error or "lỗi không rõ"
                return errors
            failed_at: list[int] = []
            try:
                with unit_of_work(url) as session:
                    claimed = _claim_deliveries(session, sub.target, [e["event_id"] for e in todo])
                    run = [e for e in todo if e["event_id"] in claimed]
                    if sub.batch is not None:
                        if run:
                            sub.batch(session, run)
                    else:
                        index = {e["event_id"]: i for i, e in enumerate(todo)}
                        for e in run:
                            failed_at[:] = [index[e["event_id"]]]
                            sub.handler(session, e)
                        failed_at.clear()  # a failure from here on is the commit's
                return errors
            except Exception as exc:  # a handler failure must never stop the relay
                if not failed_at:  # the batch form, the claim or the commit failed: one by one
                    log.warning("handler %s failed on a batch of %d events (%s); delivering one by one",
                                sub.name, len(todo), _describe(exc))
                    for e in todo:
                        result = self.deliver(sub, e, url)
                        if not result.ok:
                            errors[e["event_id"]] = result.error or "lỗi không rõ"
                    return errors
                bad = todo.pop(failed_at[0])
                log.warning("handler %s failed on event %s: %s", sub.name, bad["event_id"], _describe(exc))
                errors[bad["event_id"]] = _describe(exc)
        return errors

    @staticmethod
    def _delivered(key: dict, url: str | None) -> bool:
        with unit_of_work(url) as session:
            return session.scalar(
                select(OutboxDelivery.delivered_at).where(
                    OutboxDelivery.event_id == key["event_id"], OutboxDelivery.target == key["target"])
            ) is not None


CLAIM_CHUNK = 500


def _claim_deliveries(session: Session, target: str, event_ids: list[str]) -> set[str]:
    """Claim ``target``'s delivery rows of ``event_ids`` in this transaction; returns the ids to run
    (those not delivered before). One ``INSERT ... ON CONFLICT DO UPDATE ... WHERE not delivered
    RETURNING`` per chunk: a row delivered earlier (or by a concurrent relay, once it commits) is
    left out; on PostgreSQL a row being claimed by a concurrent transaction is waited for."""
    t = OutboxDelivery.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    now = utcnow()
    claimed: set[str] = set()
    for i in range(0, len(event_ids), CLAIM_CHUNK):
        chunk = event_ids[i:i + CLAIM_CHUNK]
        stmt = upsert(t).values([{"event_id": e, "target": target, "delivered_at": now, "attempts": 1}
                                 for e in chunk])
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.event_id, t.c.target],
            set_={"delivered_at": stmt.excluded.delivered_at, "attempts": t.c.attempts + 1, "next_attempt_at": None},
            where=t.c.delivered_at.is_(None)).returning(t.c.event_id)
        claimed.update(session.scalars(stmt))
    return claimed


bus = MessageBus()
"""The application's bus: contexts subscribe their handlers here at import time."""

register = bus.register
subscribe = bus.subscribe
