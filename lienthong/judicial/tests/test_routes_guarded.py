"""Every judicial route uses the policy (or is one of the deliberately public ones), and every
judicial rule of the policy is used by some route."""

from fastapi import FastAPI
from fastapi.routing import APIRoute

from lienthong.identity import policy
from lienthong.judicial import routes, web


def _actions(dependant):
    found = []
    for dep in dependant.dependencies:
        if getattr(dep.call, "__lienthong_action__", None):
            found.append(dep.call.__lienthong_action__)
        found += _actions(dep)
    return found


def _walk(routes_, prefix=""):
    for r in routes_:
        if isinstance(r, APIRoute):
            yield prefix + r.path, r
        elif hasattr(r, "original_router"):
            yield from _walk(r.original_router.routes, prefix + r.include_context.prefix)


def test_judicial_routes_guarded_and_rules_used():
    app = FastAPI()
    app.include_router(routes.router)
    app.include_router(web.router)
    used, public = set(), []
    for path, route in _walk(app.routes):
        acts = _actions(route.dependant)
        used.update(acts)
        if not acts:
            assert path in policy.PUBLIC_PAGES or path.startswith(policy.PUBLIC_PATHS), path
            public.append(path)
    assert sorted(public) == ["/api/v1/judicial/keys", "/api/v1/judicial/verify/{cert_id}", "/tra-cuu-phieu/{cert_id}"]
    assert {a for a in policy.RULES if a.startswith("judicial.")} == used
