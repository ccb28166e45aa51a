"""FastAPI dependencies shared by all contexts."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session

from lienthong.db import session_factory


def get_db() -> Iterator[Session]:
    """A unit of work per request: committed when the route returns, rolled back on error."""
    session = session_factory()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
