"""FastAPI dependencies shared by all contexts."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session

from lienthong.db import unit_of_work


def get_db() -> Iterator[Session]:
    """A unit of work per request: committed when the route returns, rolled back on error."""
    with unit_of_work() as session:
        yield session
