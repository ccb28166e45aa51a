from __future__ import annotations

import pytest

from lienthong.identity.principal import Principal

ADMIN = Principal(kind="admin", subject="079090000001", name="Quản trị Trần Thị B", personal_id="079090000001",
                  assurance_level=2)
OFFICER = Principal(kind="officer", subject="001090000002", name="Cán bộ Lê Văn C", personal_id="001090000002",
                    assurance_level=2, province_code=1)
CITIZEN = Principal(kind="citizen", subject="001090000003", name="Phạm Văn D", personal_id="001090000003",
                    assurance_level=2)


def ops_app():
    """The platform app with the ops routers (added here until the lead wires them into create_app)."""
    from lienthong.app import create_app
    from lienthong.ops.routes import api_router, web_router

    app = create_app()
    paths = {path for path, _ in iter_routes(app.routes)}
    if "/api/v1/ops/stats" not in paths:
        app.include_router(api_router)
    if "/thong-ke" not in paths:
        app.include_router(web_router)
    return app


def iter_routes(routes, prefix=""):
    """(full path, APIRoute), descending into lazily included routers (as tests/test_route_policy.py)."""
    from fastapi.routing import APIRoute

    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            yield from iter_routes(route.original_router.routes, prefix + route.include_context.prefix)


@pytest.fixture
def ops_client(db_url):
    from fastapi.testclient import TestClient

    with TestClient(ops_app(), base_url="http://testserver") as c:
        yield c
