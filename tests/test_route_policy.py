"""Every route is either deliberately public or guarded by the one authorization policy."""

from fastapi.routing import APIRoute

from lienthong.identity import policy


def iter_api_routes(routes, prefix=""):
    """(full path, APIRoute) for every API route, descending into included routers
    (FastAPI >= 0.16x includes routers lazily)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            yield from iter_api_routes(route.original_router.routes, prefix + route.include_context.prefix)


def _actions(dependant):
    found = []
    for dep in dependant.dependencies:
        call = dep.call
        if getattr(call, "__lienthong_action__", None):
            found.append(call.__lienthong_action__)
        found += _actions(dep)
    return found


def _routes():
    from lienthong.app import create_app

    routes = list(iter_api_routes(create_app().routes))
    assert len(routes) > 30  # the walk really found the routers
    return routes


def test_every_route_is_guarded_or_public(db_url):
    unguarded = []
    for path, route in _routes():
        if path in policy.PUBLIC_PAGES or path.startswith(policy.PUBLIC_PATHS):
            continue
        actions = _actions(route.dependant)
        assert all(a in policy.RULES for a in actions)
        if not actions:
            unguarded.append(f"{sorted(route.methods)} {path}")
    assert unguarded == []


def test_every_rule_is_used(db_url):
    used = set()
    for _path, route in _routes():
        used.update(_actions(route.dependant))
    assert set(policy.RULES) - used == set()
