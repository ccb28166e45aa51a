"""Every route is either deliberately public or guarded by the one authorization policy."""

from lienthong.identity import policy
from lienthong.testing import iter_api_routes, route_actions


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
        actions = route_actions(route.dependant)
        assert all(a in policy.RULES for a in actions)
        if not actions:
            unguarded.append(f"{sorted(route.methods)} {path}")
    assert unguarded == []


def test_every_rule_is_used(db_url):
    used = set()
    for _path, route in _routes():
        used.update(route_actions(route.dependant))
    assert set(policy.RULES) - used == set()
