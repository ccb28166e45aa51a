"""The FastAPI application: every context's routes, the web shell and the dev IdP."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from lienthong import __version__
from lienthong.config import get_settings
from lienthong.errors import install_error_handlers
from lienthong.limits import install_request_limits

STATIC_DIR = Path(__file__).parent / "web" / "static"


def create_app() -> FastAPI:
    settings = get_settings()

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        from lienthong import procs

        procs.die_with_parent_if_worker()
        stop = None
        if settings.background_jobs:
            from lienthong import jobs

            thread, stop = jobs.start_in_thread(settings.database_url)
        yield
        if stop is not None:
            stop.set()
            thread.join(timeout=5)
        from lienthong.health.xml_mapping import shutdown_workers

        shutdown_workers(wait=False)

    app = FastAPI(
        lifespan=lifespan,
        title="lienthong",
        version=__version__,
        description=(
            "Citizen data exchange platform (Project 06). Every endpoint needs a Bearer token: "
            "citizens and staff get one by logging in (OpenID Connect), service clients by the "
            "OAuth2 client-credentials grant at /oauth/token."
        ),
    )
    install_error_handlers(app)
    from lienthong.web import unavailable

    unavailable.install(app)
    install_request_limits(app)
    from lienthong.identity.csrf import SameOriginMiddleware
    from lienthong.web.admission import AdmissionMiddleware

    app.add_middleware(SameOriginMiddleware)
    app.add_middleware(AdmissionMiddleware)  # outermost: a request waits before anything else runs

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict:
        return {"status": "ok", "version": __version__}

    from lienthong.audit.routes import router as audit_router
    from lienthong.civil.driver_health import router as driver_health_router
    from lienthong.civil.routes import router as civil_router
    from lienthong.events.routes import router as events_router
    from lienthong.facilities.routes import router as facilities_router
    from lienthong.gateway.fhir_routes import router as fhir_router
    from lienthong.gateway.routes import router as gateway_router
    from lienthong.geo.routes import router as geo_router
    from lienthong.health.routes import router as health_router
    from lienthong.identity.routes import router as identity_router
    from lienthong.insurance.routes import router as insurance_router
    from lienthong.judicial.routes import router as judicial_router
    from lienthong.judicial.web import router as judicial_web_router
    from lienthong.linkage.routes import router as linkage_router
    from lienthong.notifications.routes import router as notifications_router
    from lienthong.ops.routes import api_router as ops_api_router, web_router as ops_web_router
    from lienthong.population.routes import router as population_router
    from lienthong.web.routes import install_web_handlers, router as web_router

    app.include_router(geo_router)
    app.include_router(population_router)
    app.include_router(facilities_router)
    app.include_router(audit_router)
    app.include_router(events_router)
    app.include_router(gateway_router)
    app.include_router(fhir_router)
    app.include_router(civil_router)
    app.include_router(driver_health_router)
    app.include_router(insurance_router)
    app.include_router(linkage_router)
    app.include_router(health_router)
    app.include_router(ops_api_router)
    app.include_router(ops_web_router)
    app.include_router(judicial_router)
    app.include_router(judicial_web_router)
    app.include_router(notifications_router)
    app.include_router(identity_router)
    if settings.dev_idp_enabled and not settings.oidc_issuer:
        from lienthong.identity.dev_idp import router as dev_idp_router

        app.include_router(dev_idp_router)
    app.include_router(web_router)
    install_web_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
