import pytest

from lienthong.identity import policy


@pytest.fixture
def system_reads_registry(monkeypatch):
    """The automatic check reads the registry as the SYSTEM principal (``population.read``).

    The policy table does not list kind ``system`` yet; this fixture adds it exactly as the policy
    change requested in the judicial report would, and is a no-op once that change is made.
    """
    rule = policy.RULES["population.read"]
    if "system" not in rule.kinds:
        from dataclasses import replace

        monkeypatch.setitem(policy.RULES, "population.read", replace(rule, kinds=rule.kinds | {"system"}))
    yield


@pytest.fixture
def system_refused(monkeypatch):
    rule = policy.RULES["population.read"]
    from dataclasses import replace

    monkeypatch.setitem(policy.RULES, "population.read", replace(rule, kinds=rule.kinds - {"system"}))
    yield


def _paths(routes, prefix=""):
    from fastapi.routing import APIRoute

    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path
        elif hasattr(route, "original_router"):
            yield from _paths(route.original_router.routes, prefix + route.include_context.prefix)


@pytest.fixture
def client(db_url):
    """The application, with the judicial routers added if app.py does not include them yet."""
    from fastapi.testclient import TestClient

    from lienthong.app import create_app
    from lienthong.judicial import routes, web

    app = create_app()
    if "/api/v1/judicial/keys" not in set(_paths(app.routes)):
        app.include_router(routes.router)
        app.include_router(web.router)
    with TestClient(app, base_url="http://testserver") as c:
        yield c
