"""Fixtures for the notification inbox tests: the handlers on the bus and a relay pass."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def inbox_handlers():
    """The notification handlers on the application bus (as ``jobs.load_contexts`` does)."""
    from lienthong.notifications import handlers

    handlers.install()
    yield handlers


@pytest.fixture
def relay(db_url):
    """``relay()`` runs outbox relay passes until nothing is pending (in-process handlers only)."""
    from lienthong.events.relay import relay_once

    def run() -> int:
        total = 0
        for _ in range(10):
            n = relay_once(db_url, nats_url="")
            total += n
            if n == 0:
                break
        return total

    return run
