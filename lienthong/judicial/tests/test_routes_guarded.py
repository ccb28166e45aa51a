"""Every judicial route uses the policy (or is one of the deliberately public ones), and every
judicial rule of the policy is used by some route."""

from fastapi import FastAPI

from lienthong.identity import policy
from lienthong.judicial import routes, web
from lienthong.testing import iter_api_routes, route_actions


def test_judicial_routes_guarded_and_rules_used():
    app = FastAPI()
    app.include_router(routes.router)
    app.include_router(web.router)
    used, public = set(), []
    for path, route in iter_api_routes(app.routes):
        acts = route_actions(route.dependant)
        used.update(acts)
        if not acts:
            assert path in policy.PUBLIC_PAGES or path.startswith(policy.PUBLIC_PATHS), path
            public.append(path)
    assert sorted(public) == ["/api/v1/judicial/keys", "/api/v1/judicial/verify/{cert_id}", "/tra-cuu-phieu/{cert_id}"]
    assert {a for a in policy.RULES if a.startswith("judicial.")} == used
