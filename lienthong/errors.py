"""Domain errors and their HTTP mapping: bad input is a clear 4xx, never a 500."""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from lienthong.facilities.rules import InvalidFacilityCode
from lienthong.geo.units import UnknownUnit
from lienthong.population.ids import InvalidPersonalId


log = logging.getLogger(__name__)

# SQLSTATE codes of "data exception" errors that a value sent by the caller can cause (a number out
# of the column's range, a string too long for it, an unparsable date/number, a NUL character).
INPUT_DATA_ERRORS: dict[str, str] = {
    "22003": "giá trị số vượt quá phạm vi cho phép",
    "22001": "chuỗi ký tự vượt quá độ dài cho phép",
    "22008": "ngày giờ nằm ngoài phạm vi cho phép",
    "22007": "định dạng ngày giờ không hợp lệ",
    "22P02": "giá trị không đúng định dạng",
    "22021": "chuỗi chứa ký tự không hợp lệ",
    "22P05": "chuỗi chứa ký tự không hợp lệ",
}


def input_data_error_message(exc: DataError) -> str | None:
    """The Vietnamese message for a database data error caused by an input value, else None."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in INPUT_DATA_ERRORS:
        return INPUT_DATA_ERRORS[sqlstate]
    if sqlstate is None and "NUL (0x00)" in str(orig):  # psycopg refuses it before sending
        return "chuỗi chứa ký tự NUL không hợp lệ"
    return None


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


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


def error_body(code: str, message: str, field: str | None = None) -> dict:
    """The JSON body of every API error: ``{"error": {"code", "message"[, "field"]}}``."""
    err = {"code": code, "message": message}
    if field:
        err["field"] = field
    return {"error": err}


MAX_ECHOED_INPUT = 200


def _json_safe(value):
    """Validation errors echo the input: make it valid, bounded JSON (1e309 parses to inf)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str) and len(value) > MAX_ECHOED_INPUT:
        return value[:MAX_ECHOED_INPUT] + "…"
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError):
        # FastAPI's default handler, except that it cannot fail on non-finite numbers in the input.
        return JSONResponse({"detail": _json_safe(jsonable_encoder(exc.errors()))}, status_code=422)

    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError):
        return JSONResponse(error_body(exc.code, exc.message, exc.field), status_code=exc.status_code)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError):
        # A safety net: such values should be refused at the API boundary (Pydantic constraints,
        # lienthong.params). Logged with the stack so the missing validation gets fixed; any other
        # data error is a bug and stays a 500.
        message = input_data_error_message(exc)
        log.error("input value refused by the database on %s %s (validate it at the API boundary)",
                  request.method, request.url.path, exc_info=exc)
        if message is None:
            raise exc
        return JSONResponse(error_body("invalid_value", f"Dữ liệu không hợp lệ: {message}"), status_code=422)

    @app.exception_handler(InvalidPersonalId)
    async def _pid(_request: Request, exc: InvalidPersonalId):
        return JSONResponse(error_body("invalid_personal_id", str(exc), "personal_id"), status_code=422)

    @app.exception_handler(InvalidFacilityCode)
    async def _facility(_request: Request, exc: InvalidFacilityCode):
        return JSONResponse(error_body("invalid_facility_code", str(exc), "code"), status_code=422)

    @app.exception_handler(UnknownUnit)
    async def _unit(_request: Request, exc: UnknownUnit):
        return JSONResponse(error_body("unknown_administrative_unit", str(exc)), status_code=422)
