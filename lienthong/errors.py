"""Domain errors and their HTTP mapping: bad input is a clear 4xx, never a 500."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from lienthong.facilities.rules import InvalidFacilityCode
from lienthong.geo.units import UnknownUnit
from lienthong.population.ids import InvalidPersonalId


class DomainError(Exception):
    """Base for rule violations reported to the caller."""

    status_code = 422
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


def _body(code: str, message: str, field: str | None = None) -> dict:
    err = {"code": code, "message": message}
    if field:
        err["field"] = field
    return {"error": err}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError):
        return JSONResponse(_body(exc.code, exc.message, exc.field), status_code=exc.status_code)

    @app.exception_handler(InvalidPersonalId)
    async def _pid(_request: Request, exc: InvalidPersonalId):
        return JSONResponse(_body("invalid_personal_id", str(exc), "personal_id"), status_code=422)

    @app.exception_handler(InvalidFacilityCode)
    async def _facility(_request: Request, exc: InvalidFacilityCode):
        return JSONResponse(_body("invalid_facility_code", str(exc), "code"), status_code=422)

    @app.exception_handler(UnknownUnit)
    async def _unit(_request: Request, exc: UnknownUnit):
        return JSONResponse(_body("unknown_administrative_unit", str(exc)), status_code=422)
