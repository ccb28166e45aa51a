"""The outbox relay: delivers committed outbox rows to in-process handlers and NATS JetStream.

One pass (:func:`relay_once`):

1. takes up to ``batch`` unpublished, due rows in ``seq`` order — on PostgreSQL with
   ``SELECT ... FOR NO KEY UPDATE SKIP LOCKED``, so several relays can run side by side, each
   taking different rows (``NO KEY`` so handlers may still insert rows that reference them);
   on SQLite with a plain ``SELECT``;
2. for each event, delivers it to every destination that has not had it yet: each matching
   in-process handler (:mod:`lienthong.events.bus`, own unit of work) and, when a NATS URL is
   configured, the JetStream stream (subject ``<prefix>.<topic>``, header ``Nats-Msg-Id:
   <event_id>`` so that a re-publication after a crash is dropped by JetStream's duplicate
   window);
3. marks the row ``published_at`` once every destination has it (for NATS: after the publish
   ack); a failed destination increments ``attempts``, stores ``last_error`` and is retried
   after an exponential backoff, without holding up the other events.

The relay's own writes are applied at the end of the pass, in the transaction that holds the row
locks (on SQLite this keeps the database write lock free while handlers run). A crash before
that commit re-delivers the batch: handlers are protected by their delivery rows, NATS by the
message id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from lienthong.config import get_settings
from lienthong.db import session_factory, utcnow
from lienthong.events.bus import MessageBus, bus as default_bus, envelope
from lienthong.events.models import OutboxDelivery, OutboxEvent
from lienthong.retry import backoff_delay

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 600.0
DEFAULT_SUBJECT_PREFIX = "lienthong"


def backoff_s(attempts: int) -> float:
    """Delay before retry number ``attempts + 1``: 1 s, 2 s, 4 s, ... capped at 10 minutes."""
    return backoff_delay(attempts, BACKOFF_BASE_S, BACKOFF_MAX_S)


def encode(event: OutboxEvent) -> bytes:
    return json.dumps(envelope(event), ensure_ascii=False, separators=(",", ":"), default=str).encode()


def subject_for(topic: str, prefix: str = DEFAULT_SUBJECT_PREFIX) -> str:
    return f"{prefix}.{topic}"


def _truncate(text: str, limit: int = 4000) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class NatsPublisher:
    """A JetStream connection driven from synchronous code through a private event loop."""

    def __init__(self, url: str, stream: str, subject_prefix: str, timeout_s: float = 5.0):
        self.url = url
        self.stream = stream
        self.subject_prefix = subject_prefix
        self.timeout_s = timeout_s
        self._loop = asyncio.new_event_loop()
        self._nc = None
        self._js = None

    @property
    def target(self) -> str:
        return f"nats:{self.stream}"

    def _run(self, coro):
        return self._loop.run_until_complete(coro)

    async def _connect(self) -> None:
        import nats
        from nats.js.api import StreamConfig
        from nats.js.errors import NotFoundError

        if self._nc is not None and self._nc.is_connected:
            return
        await self._aclose()
        nc = await nats.connect(self.url, connect_timeout=self.timeout_s, max_reconnect_attempts=2,
                                allow_reconnect=True, name="lienthong-outbox-relay")
        js = nc.jetstream(timeout=self.timeout_s)
        wanted = f"{self.subject_prefix}.>"
        try:
            info = await js.stream_info(self.stream)
            if wanted not in (info.config.subjects or []):
                info.config.subjects = [*(info.config.subjects or []), wanted]
                await js.update_stream(info.config)
        except NotFoundError:
            await js.add_stream(StreamConfig(name=self.stream, subjects=[wanted]))
        self._nc, self._js = nc, js

    async def _publish(self, items: list[tuple[str, str, bytes]]) -> dict[str, str | None]:
        """Publish in order; ``{event_id: None}`` when acked (new or duplicate), else the error."""
        results: dict[str, str | None] = {}
        try:
            await self._connect()
        except Exception as exc:
            err = f"NATS: {exc.__class__.__name__}: {exc}"
            return {event_id: err for event_id, _, _ in items}
        failed: str | None = None
        for event_id, subject, body in items:
            if failed:  # once the connection fails, keep order: later events wait for the next pass
                results[event_id] = failed
                continue
            try:
                ack = await self._js.publish(subject, body, stream=self.stream,
                                             headers={"Nats-Msg-Id": event_id})
                if ack.stream != self.stream:
                    raise RuntimeError(f"acked by stream {ack.stream!r}")
                results[event_id] = None
            except Exception as exc:
                failed = f"NATS: {exc.__class__.__name__}: {exc}"
                results[event_id] = failed
        return results

    def publish(self, items: list[tuple[str, str, bytes]]) -> dict[str, str | None]:
        return self._run(self._publish(items))

    async def _aclose(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None:
            try:
                await nc.drain()
            except Exception:
                try:
                    await nc.close()
                except Exception:
                    pass

    def close(self) -> None:
        if not self._loop.is_closed():
            self._run(self._aclose())
            self._loop.close()


@dataclass
class _Outcome:
    event: OutboxEvent
    errors: dict[str, str]  # target -> error
    done: bool


class Relay:
    """A relay bound to one database and (optionally) one NATS server; reusable across passes."""

    def __init__(self, url: str | None = None, *, nats_url: str | None = None, stream: str | None = None,
                 subject_prefix: str | None = None, bus: MessageBus | None = None):
        settings = get_settings()
        self.url = url
        self.bus = bus or default_bus
        nats_url = nats_url if nats_url is not None else settings.nats_url
        self.publisher: NatsPublisher | None = None
        if nats_url:
            # ``nats_subject_prefix`` is optional in Settings; "lienthong" matches the documented subjects.
            prefix = subject_prefix or getattr(settings, "nats_subject_prefix", "") or DEFAULT_SUBJECT_PREFIX
            self.publisher = NatsPublisher(nats_url, stream or settings.nats_stream, prefix)

    def close(self) -> None:
        if self.publisher is not None:
            self.publisher.close()

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _claim(self, session: Session, batch: int) -> list[OutboxEvent]:
        now = utcnow()
        backing_off = exists().where(and_(
            OutboxDelivery.event_id == OutboxEvent.event_id,
            OutboxDelivery.delivered_at.is_(None),
            OutboxDelivery.next_attempt_at > now,
        ))
        stmt = (select(OutboxEvent)
                .where(OutboxEvent.published_at.is_(None), ~backing_off)
                .order_by(OutboxEvent.seq)
                .limit(batch))
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True, key_share=True, of=OutboxEvent)
        return list(session.scalars(stmt))

    def run_once(self, batch: int = 500) -> int:
        """One pass; returns the number of events marked published."""
        session = session_factory(self.url)()
        try:
            events = self._claim(session, batch)
            if not events:
                session.rollback()
                return 0
            ids = [e.event_id for e in events]
            delivered: set[tuple[str, str]] = set()
            for i in range(0, len(ids), 500):
                delivered.update((eid, tgt) for eid, tgt in session.execute(
                    select(OutboxDelivery.event_id, OutboxDelivery.target).where(
                        OutboxDelivery.event_id.in_(ids[i:i + 500]), OutboxDelivery.delivered_at.is_not(None))
                ).all())

            outcomes: dict[str, _Outcome] = {}
            for event in events:
                env = envelope(event)
                errors: dict[str, str] = {}
                for sub in self.bus.handlers_for(event.topic):
                    if (event.event_id, sub.target) in delivered:
                        continue
                    result = self.bus.deliver(sub, env, self.url)
                    if not result.ok:
                        errors[sub.target] = result.error or "lỗi không rõ"
                outcomes[event.event_id] = _Outcome(event, errors, done=False)

            nats_done: list[str] = []
            if self.publisher is not None:
                target = self.publisher.target
                prefix = self.publisher.subject_prefix
                todo = [(e.event_id, subject_for(e.topic, prefix), encode(e))
                        for e in events if (e.event_id, target) not in delivered]
                for event_id, error in self.publisher.publish(todo).items():
                    if error is None:
                        nats_done.append(event_id)
                    else:
                        outcomes[event_id].errors[target] = error

            published = self._record(session, outcomes, nats_done)
            session.commit()
            return published
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _record(self, session: Session, outcomes: dict[str, _Outcome], nats_done: list[str]) -> int:
        now = utcnow()
        target = self.publisher.target if self.publisher else None
        failed_keys = [(eid, t) for eid, o in outcomes.items() for t in o.errors]
        existing: dict[tuple[str, str], OutboxDelivery] = {}
        keys = [(eid, target) for eid in nats_done] + failed_keys
        if keys:
            eids = sorted({k[0] for k in keys})
            for i in range(0, len(eids), 500):
                for row in session.scalars(select(OutboxDelivery).where(OutboxDelivery.event_id.in_(eids[i:i + 500]))):
                    existing[(row.event_id, row.target)] = row
        for eid in nats_done:
            row = existing.get((eid, target))
            if row is None:
                session.add(OutboxDelivery(event_id=eid, target=target, delivered_at=now, attempts=1))
            else:
                row.delivered_at, row.attempts, row.next_attempt_at = now, row.attempts + 1, None
        published = 0
        for eid, outcome in outcomes.items():
            event = outcome.event
            if not outcome.errors:
                event.published_at = now
                published += 1
                continue
            for tgt, error in outcome.errors.items():
                row = existing.get((eid, tgt))
                if row is None:
                    row = OutboxDelivery(event_id=eid, target=tgt, attempts=0)
                    session.add(row)
                row.attempts = (row.attempts or 0) + 1
                row.last_error = _truncate(error)
                row.next_attempt_at = now + timedelta(seconds=backoff_s(row.attempts))
            event.attempts = (event.attempts or 0) + 1
            event.last_error = _truncate("; ".join(f"{t}: {e}" for t, e in sorted(outcome.errors.items())))
        session.flush()
        return published


def relay_once(url: str | None = None, *, nats_url: str | None = None, batch: int = 500,
               stream: str | None = None, subject_prefix: str | None = None,
               bus: MessageBus | None = None) -> int:
    """Deliver up to ``batch`` pending events once; returns how many were marked published.

    ``nats_url`` defaults to ``settings.nats_url`` (empty: in-process handlers only; pass ``""``
    to disable NATS explicitly), ``stream`` to ``settings.nats_stream``.
    """
    with Relay(url, nats_url=nats_url, stream=stream, subject_prefix=subject_prefix, bus=bus) as relay:
        return relay.run_once(batch)


def run_relay(url: str | None = None, *, nats_url: str | None = None, interval_s: float = 0.5,
              stop: threading.Event | None = None, batch: int = 500, stream: str | None = None,
              subject_prefix: str | None = None, bus: MessageBus | None = None) -> None:
    """Relay until ``stop`` is set: passes back to back while there is work, else every ``interval_s``.

    A failing pass (database or NATS down) is logged and retried after ``interval_s``; the NATS
    connection is kept across passes.
    """
    stop = stop or threading.Event()
    with Relay(url, nats_url=nats_url, stream=stream, subject_prefix=subject_prefix, bus=bus) as relay:
        while not stop.is_set():
            try:
                n = relay.run_once(batch)
            except Exception:
                log.exception("outbox relay pass failed")
                n = 0
            if n < batch:
                stop.wait(interval_s)
