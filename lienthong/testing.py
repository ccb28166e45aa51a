"""Test support shared by the test suites (the root conftest and tests that start servers)."""

from __future__ import annotations

import uuid

from sqlalchemy import text


def clean(url: str) -> None:
    """Empty every table (between tests)."""
    from lienthong.db import get_engine
    from lienthong.models import metadata

    engine = get_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())


def configure(monkeypatch, tmp_path, url: str) -> None:
    """Point this process at ``url`` with a fresh secret and state directory."""
    from lienthong.config import reset_settings_cache
    from lienthong.identity.keys import secret_key

    monkeypatch.setenv("LIENTHONG_DATABASE_URL", url)
    monkeypatch.setenv("LIENTHONG_SECRET_KEY", "test-secret-" + uuid.uuid4().hex)
    monkeypatch.setenv("LIENTHONG_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("LIENTHONG_BASE_URL", "http://testserver")
    monkeypatch.delenv("LIENTHONG_OIDC_ISSUER", raising=False)
    monkeypatch.delenv("LIENTHONG_NATS_URL", raising=False)
    monkeypatch.setenv("LIENTHONG_BACKGROUND_JOBS", "false")  # tests drive the relay and jobs themselves
    reset_settings_cache()
    secret_key.cache_clear()


def iter_api_routes(routes, prefix: str = ""):
    """(full path, APIRoute) for every API route, descending into included routers
    (FastAPI >= 0.16x includes routers lazily)."""
    from fastapi.routing import APIRoute

    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            yield from iter_api_routes(route.original_router.routes, prefix + route.include_context.prefix)


def route_actions(dependant) -> list[str]:
    """The policy actions (``requires(action)``) a route's dependencies check, depth first."""
    found = []
    for dep in dependant.dependencies:
        action = getattr(dep.call, "__lienthong_action__", None)
        if action:
            found.append(action)
        found += route_actions(dep)
    return found
