"""In-process message bus: handlers subscribe to event topics and are run by the outbox relay.

Topics are dotted (``population.citizen.registered``); subscriptions use NATS-style wildcards:
``*`` matches exactly one token, ``>`` (last token only) matches one or more trailing tokens::

    from lienthong.events.bus import subscribe

    @subscribe("population.citizen.*")
    def index_citizen(session, event):
        ...  # event = {"event_id", "topic", "occurred_at", "payload"}

Each handler runs in its own unit of work. Before the handler is called its delivery row
(:class:`~lienthong.events.models.OutboxDelivery`) is claimed in that same transaction, so the
handler's writes and the "delivered" mark commit or roll back together: a handler takes effect
once per event, even when the event is retried because another handler (or NATS) failed, and
even with several relays running. A handler that raises is rolled back; the relay records the
failure and retries it later with exponential backoff. Handlers must not commit the session.
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


@dataclass(frozen=True)
class Subscription:
    pattern: str
    handler: Handler
    name: str

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
                 exist_ok: bool = False) -> Handler:
        """Subscribe ``handler(session, event)`` to topics matching ``topic_pattern``.

        ``name`` identifies the handler's delivery records; it defaults to the handler's module
        and qualified name and must stay stable across releases (renaming it redelivers events
        that are still pending). ``exist_ok``: a subscription of the same name to the same pattern
        is already there -> keep it and return (idempotent installation) instead of raising.
        """
        _check_pattern(topic_pattern)
        sub = Subscription(topic_pattern, handler, name or _handler_name(handler))
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

    @staticmethod
    def _delivered(key: dict, url: str | None) -> bool:
        with unit_of_work(url) as session:
            return session.scalar(
                select(OutboxDelivery.delivered_at).where(
                    OutboxDelivery.event_id == key["event_id"], OutboxDelivery.target == key["target"])
            ) is not None


bus = MessageBus()
"""The application's bus: contexts subscribe their handlers here at import time."""

register = bus.register
subscribe = bus.subscribe
