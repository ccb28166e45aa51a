"""The outbox relay: delivers committed outbox rows to in-process handlers and NATS JetStream.

One pass (:meth:`Relay.run_once`, up to ``batch`` events):

1. takes the oldest unpublished, due rows in ``seq`` order: on PostgreSQL with ``SELECT ... FOR NO
   KEY UPDATE SKIP LOCKED``, so several relays can run side by side, each taking different rows
   (``NO KEY`` so handlers may still insert rows that reference them); on SQLite with a plain
   ``SELECT``;
2. gives each in-process handler (:mod:`lienthong.events.bus`) all of its events of the pass in one
   unit of work (``MessageBus.deliver_batch``): one transaction per handler and pass, not per event;
   the handlers run side by side (up to :data:`PARALLEL_DELIVERIES` threads), and
3. at the same time, when a NATS URL is configured, publishes the events to JetStream (subject ``<prefix>.<topic>``,
   header ``Nats-Msg-Id: <event_id>`` so that a re-publication after a crash is dropped by
   JetStream's duplicate window) asynchronously: all of them are sent in order without waiting,
   with up to :data:`MAX_IN_FLIGHT` acknowledgements outstanding, then the acks are collected;
4. marks the rows that every destination has (for NATS: acked) ``published_at`` with one bulk
   update; a failed destination increments ``attempts``, stores ``last_error`` and is retried after
   an exponential backoff, without holding up the other events.

The relay's own writes are applied at the end of the pass, in the transaction that holds the row
locks (on SQLite this keeps the database write lock free while handlers run). A crash before
that commit re-delivers the batch: handlers are protected by their delivery rows, NATS by the
message id. Events reach each destination in ``seq`` order, except that an event whose delivery
failed is retried after later ones went through.

:func:`run_relay` loops: passes back to back while there is a backlog; when idle it waits for the
next commit of outbox rows (PostgreSQL: ``LISTEN lienthong_outbox``, notified by a statement trigger
on ``outbox``, migration 0006) or ``interval_s`` at most.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, bindparam, exists, select, update
from sqlalchemy.orm import Session

from lienthong.config import get_settings
from lienthong.db import normalize_url, session_factory, utcnow
from lienthong.events.bus import MessageBus, Subscription, bus as default_bus, envelope
from lienthong.events.models import OutboxDelivery, OutboxEvent
from lienthong.retry import backoff_delay

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 600.0
DEFAULT_SUBJECT_PREFIX = "lienthong"
DEFAULT_BATCH = 1000
MAX_IN_FLIGHT = 1000  # JetStream publishes awaiting their ack
PARALLEL_DELIVERIES = 4  # handlers' transactions (and the JetStream publication) run side by side
NOTIFY_CHANNEL = "lienthong_outbox"


def backoff_s(attempts: int) -> float:
    """Delay before retry number ``attempts + 1``: 1 s, 2 s, 4 s, ... capped at 10 minutes."""
    return backoff_delay(attempts, BACKOFF_BASE_S, BACKOFF_MAX_S)


def encode(event) -> bytes:
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
        js = nc.jetstream(timeout=self.timeout_s, publish_async_max_pending=MAX_IN_FLIGHT)
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
        """Publish in order without waiting for each ack; ``{event_id: None}`` when acked (new or
        duplicate), else the error."""
        results: dict[str, str | None] = {}
        try:
            await self._connect()
        except Exception as exc:
            err = f"NATS: {exc.__class__.__name__}: {exc}"
            return {event_id: err for event_id, _, _ in items}
        futures: list[tuple[str, asyncio.Future]] = []
        failed: str | None = None
        for event_id, subject, body in items:
            if failed:  # the connection failed: later events wait for the next pass
                results[event_id] = failed
                continue
            try:
                fut = await self._js.publish_async(subject, body, wait_stall=self.timeout_s, stream=self.stream,
                                                   headers={"Nats-Msg-Id": event_id})
                futures.append((event_id, fut))
            except Exception as exc:
                failed = f"NATS: {exc.__class__.__name__}: {exc}"
                results[event_id] = failed
        if futures:
            await asyncio.wait([f for _, f in futures], timeout=self.timeout_s)
        for event_id, fut in futures:
            if not fut.done():
                fut.cancel()
                results[event_id] = "NATS: no acknowledgement within the timeout"
            elif fut.cancelled():
                results[event_id] = "NATS: publish cancelled"
            elif fut.exception() is not None:
                exc = fut.exception()
                results[event_id] = f"NATS: {exc.__class__.__name__}: {exc}"
            elif fut.result().stream != self.stream:
                results[event_id] = f"NATS: acked by stream {fut.result().stream!r}"
            else:
                results[event_id] = None
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
    seq: int
    errors: dict[str, str] = field(default_factory=dict)  # target -> error


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
        self._listener = None
        self._threads: ThreadPoolExecutor | None = None
        self.last_claimed = 0  # events taken by the last pass (published or not)

    def _pool(self) -> ThreadPoolExecutor:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(max_workers=PARALLEL_DELIVERIES,
                                               thread_name_prefix=f"{threading.current_thread().name}/delivery")
        return self._threads

    def close(self) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._threads = None
        if self.publisher is not None:
            self.publisher.close()
        if self._listener is not None:
            try:
                self._listener.close()
            except Exception:
                pass
            self._listener = None

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _claim(self, session: Session, batch: int) -> list:
        now = utcnow()
        t = OutboxEvent.__table__
        backing_off = exists().where(and_(
            OutboxDelivery.event_id == t.c.event_id,
            OutboxDelivery.delivered_at.is_(None),
            OutboxDelivery.next_attempt_at > now,
        ))
        stmt = (select(t.c.seq, t.c.event_id, t.c.topic, t.c.payload, t.c.occurred_at, t.c.attempts)
                .where(t.c.published_at.is_(None), ~backing_off)
                .order_by(t.c.seq)
                .limit(batch))
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True, key_share=True, of=t)
        return list(session.execute(stmt))

    def run_once(self, batch: int = DEFAULT_BATCH) -> int:
        """One pass; returns the number of events marked published (``last_claimed``: taken)."""
        session = session_factory(self.url)()
        try:
            events = self._claim(session, batch)
            self.last_claimed = len(events)
            if not events:
                session.rollback()
                return 0
            ids = [e.event_id for e in events]
            delivered: set[tuple[str, str]] = set()
            if any(e.attempts for e in events):  # only retried events can have been delivered somewhere
                for i in range(0, len(ids), 500):
                    delivered.update((eid, tgt) for eid, tgt in session.execute(
                        select(OutboxDelivery.event_id, OutboxDelivery.target).where(
                            OutboxDelivery.event_id.in_(ids[i:i + 500]), OutboxDelivery.delivered_at.is_not(None))
                    ).all())

            outcomes = {e.event_id: _Outcome(e.seq) for e in events}
            envs = {e.event_id: envelope(e) for e in events}
            per_sub: dict[str, tuple[Subscription, list[dict]]] = {}
            subs_of_topic: dict[str, list[Subscription]] = {}
            for e in events:
                subs = subs_of_topic.get(e.topic)
                if subs is None:
                    subs = subs_of_topic[e.topic] = self.bus.handlers_for(e.topic)
                for sub in subs:
                    if (e.event_id, sub.target) not in delivered:
                        per_sub.setdefault(sub.name, (sub, []))[1].append(envs[e.event_id])
            # The handlers (one transaction each) and the JetStream publication are independent: they
            # run side by side, so a pass takes as long as the slowest of them, not their sum.
            publishing = None
            if self.publisher is not None:
                target = self.publisher.target
                prefix = self.publisher.subject_prefix
                todo = [(e.event_id, subject_for(e.topic, prefix),
                         json.dumps(envs[e.event_id], ensure_ascii=False, separators=(",", ":"),
                                    default=str).encode())
                        for e in events if (e.event_id, target) not in delivered]
                publishing = self._pool().submit(self.publisher.publish, todo)
            handling = [(sub, self._pool().submit(self.bus.deliver_batch, sub, todo, self.url))
                        for sub, todo in per_sub.values()]
            for sub, future in handling:
                for event_id, error in future.result().items():
                    outcomes[event_id].errors[sub.target] = error
            nats_done: list[str] = []
            if publishing is not None:
                for event_id, error in publishing.result().items():
                    if error is None:
                        nats_done.append(event_id)
                    else:
                        outcomes[event_id].errors[self.publisher.target] = error

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
        t = OutboxEvent.__table__
        done = [o.seq for o in outcomes.values() if not o.errors]
        for i in range(0, len(done), 1000):
            session.execute(update(t).where(t.c.seq.in_(done[i:i + 1000])).values(published_at=now))
        failed = {eid: o for eid, o in outcomes.items() if o.errors}
        if not failed:
            return len(done)
        # Rare path: events that must be retried for some destination.
        target = self.publisher.target if self.publisher else None
        keys = {(eid, target) for eid in nats_done if eid in failed}
        keys |= {(eid, tgt) for eid, o in failed.items() for tgt in o.errors}
        existing: dict[tuple[str, str], OutboxDelivery] = {}
        eids = sorted(failed)
        for i in range(0, len(eids), 500):
            for row in session.scalars(select(OutboxDelivery).where(OutboxDelivery.event_id.in_(eids[i:i + 500]))):
                existing[(row.event_id, row.target)] = row
        for eid in nats_done:  # NATS has it: not published again when the event is retried
            if eid not in failed:
                continue
            row = existing.get((eid, target))
            if row is None:
                session.add(OutboxDelivery(event_id=eid, target=target, delivered_at=now, attempts=1))
            else:
                row.delivered_at, row.attempts, row.next_attempt_at = now, row.attempts + 1, None
        for eid, outcome in failed.items():
            for tgt, error in outcome.errors.items():
                row = existing.get((eid, tgt))
                if row is None:
                    row = OutboxDelivery(event_id=eid, target=tgt, attempts=0)
                    session.add(row)
                    existing[(eid, tgt)] = row
                row.attempts = (row.attempts or 0) + 1
                row.last_error = _truncate(error)
                row.next_attempt_at = now + timedelta(seconds=backoff_s(row.attempts))
        session.execute(
            update(t).where(t.c.seq == bindparam("b_seq")).values(
                attempts=t.c.attempts + 1, last_error=bindparam("b_error"))
            .execution_options(synchronize_session=False),
            [{"b_seq": o.seq, "b_error": _truncate("; ".join(f"{k}: {v}" for k, v in sorted(o.errors.items())))}
             for o in failed.values()])
        session.flush()
        return len(done)

    # -- waiting for work ---------------------------------------------------------------------------------

    def wait(self, timeout: float, stop: threading.Event | None = None) -> None:
        """Sleep until new outbox rows are committed (PostgreSQL ``NOTIFY``) or ``timeout`` passes."""
        url = normalize_url(self.url or get_settings().database_url)
        if not url.startswith("postgresql"):
            (stop.wait if stop is not None else _sleep)(timeout)
            return
        try:
            if self._listener is None:
                import psycopg

                self._listener = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                                                 autocommit=True, connect_timeout=5)
                self._listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
            for _ in self._listener.notifies(timeout=timeout, stop_after=1):
                pass
        except Exception:  # no listener (database away): plain sleep, reconnect next time
            log.debug("outbox LISTEN unavailable", exc_info=True)
            if self._listener is not None:
                try:
                    self._listener.close()
                except Exception:
                    pass
                self._listener = None
            (stop.wait if stop is not None else _sleep)(timeout)


def _sleep(seconds: float) -> None:
    threading.Event().wait(seconds)


def relay_once(url: str | None = None, *, nats_url: str | None = None, batch: int = DEFAULT_BATCH,
               stream: str | None = None, subject_prefix: str | None = None,
               bus: MessageBus | None = None) -> int:
    """Deliver up to ``batch`` pending events once; returns how many were marked published.

    ``nats_url`` defaults to ``settings.nats_url`` (empty: in-process handlers only; pass ``""``
    to disable NATS explicitly), ``stream`` to ``settings.nats_stream``.
    """
    with Relay(url, nats_url=nats_url, stream=stream, subject_prefix=subject_prefix, bus=bus) as relay:
        return relay.run_once(batch)


def run_relay(url: str | None = None, *, nats_url: str | None = None, interval_s: float = 0.5,
              stop: threading.Event | None = None, batch: int = DEFAULT_BATCH, stream: str | None = None,
              subject_prefix: str | None = None, bus: MessageBus | None = None) -> None:
    """Relay until ``stop`` is set: passes back to back while there is a backlog, else wait for the
    next outbox commit (PostgreSQL) or ``interval_s``.

    A failing pass (database or NATS down) is logged and retried after ``interval_s``; the NATS
    connection is kept across passes.
    """
    stop = stop or threading.Event()
    with Relay(url, nats_url=nats_url, stream=stream, subject_prefix=subject_prefix, bus=bus) as relay:
        while not stop.is_set():
            try:
                relay.run_once(batch)
                backlog = relay.last_claimed >= batch
            except Exception:
                log.exception("outbox relay pass failed")
                stop.wait(interval_s)
                continue
            if not backlog and not stop.is_set():
                relay.wait(interval_s, stop)
