"""Database plumbing: declarative base, engines and the unit of work.

The same models and migrations run on SQLite (embedded default) and PostgreSQL (production).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, create_engine, event, insert, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from lienthong.config import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON column: JSONB on PostgreSQL, JSON text on SQLite.
JsonType = JSON().with_variant(JSONB(), "postgresql")
# 64-bit surrogate key: BIGINT on PostgreSQL, INTEGER on SQLite (the only type SQLite autoincrements).
BigId = BigInteger().with_variant(Integer, "sqlite")


class UTCDateTime(TypeDecorator):
    """A point in time: ``timestamptz`` on PostgreSQL; on SQLite (no time zones) stored as UTC.

    Values are converted to UTC when written (a naive datetime is taken as UTC) and always read
    back timezone-aware, on both databases, so code never mixes naive and aware datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        return aware(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """A datetime as timezone-aware, a naive one being UTC (what :class:`UTCDateTime` stores on
    SQLite and hands back through this). ``None`` stays ``None``."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def next_counter_value(session: Session, model, name: str, *, start: int = 0) -> int:
    """Allocate the next value of the named counter row of ``model`` (columns ``name``, ``value``).

    The UPDATE row-locks the counter until commit, so concurrent allocations are race-free; a missing
    counter is created at ``start`` (in a savepoint, tolerating a concurrent creator) and incremented.
    """
    for _ in range(3):
        value = session.execute(update(model).where(model.name == name)
                                .values(value=model.value + 1).returning(model.value)).scalar()
        if value is not None:
            return int(value)
        try:
            with session.begin_nested():
                session.execute(insert(model).values(name=name, value=start))
        except IntegrityError:
            pass
    raise RuntimeError(f"could not allocate from counter {name}")


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        # The pool is sized and timed out deliberately (settings: db_pool_*): a request that cannot
        # get a connection within db_pool_timeout_s fails (503, lienthong.web.unavailable) instead
        # of waiting 30 s; a connection attempt gives up after db_connect_timeout_s; TCP keepalives
        # find a silently dropped connection within ~15 s; pre-ping replaces connections that died
        # while pooled (a database restart) before a request uses them.
        s = get_settings()
        engine = create_engine(
            url, pool_pre_ping=True, pool_size=s.db_pool_size, max_overflow=s.db_max_overflow,
            pool_timeout=s.db_pool_timeout_s,
            connect_args={"connect_timeout": s.db_connect_timeout_s, "keepalives": 1, "keepalives_idle": 5,
                          "keepalives_interval": 3, "keepalives_count": 3})
    return engine



def get_engine(url: str | None = None) -> Engine:
    url = normalize_url(url or get_settings().database_url)
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
        return _engines[url]


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


@contextmanager
def unit_of_work(url: str | None = None) -> Iterator[Session]:
    """One transaction: commit on success, roll back on error.

    Domain events written with :func:`lienthong.events.outbox.record_event` in this session are
    committed atomically with the data (transactional outbox).
    """
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
