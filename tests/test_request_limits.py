"""Hostile requests found by the API fuzzer (tests/test_fuzz_api.py): each is a clear 4xx."""

from __future__ import annotations

import anyio
import pytest

from lienthong.identity.principal import Principal

ADMIN = Principal(kind="admin", subject="001080000011", name="Quản trị", personal_id="001080000011", assurance_level=2)
OFFICER = Principal(kind="officer", subject="001085000007", name="Cán bộ", personal_id="001085000007",
                    assurance_level=2, province_code=1)
FACILITY = Principal(kind="facility", subject="bv", facility_code="01001", province_code=1,
                     scopes=frozenset({"health.submit"}))
JSON = {"Content-Type": "application/json"}


def _facility_body(code: str = "01999") -> bytes:
    return ('{"code": "%s", "name": "Bệnh viện thử", "tier": "central", "ownership": "public"}' % code).encode()


def test_declared_oversized_body_is_refused_before_reading(client, bearer):
    r = client.post("/api/v1/facilities", headers={**bearer(ADMIN), **JSON}, content=b"x" * (2 * 1024 * 1024))
    assert r.status_code == 413
    assert "kích thước tối đa" in r.json()["error"]["message"]


def test_chunked_oversized_body_is_refused_while_streaming(client, bearer):
    """Driven straight through ASGI: the app stops reading just past the cap (of 100 MB sent)."""
    app = client.app
    read = 0
    total = 100 * 1024 * 1024
    chunk = b" " * 65536
    sent: list[dict] = []

    async def receive():
        nonlocal read
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": read < total}

    async def send(message):
        sent.append(message)

    headers = [(b"host", b"testserver"), (b"content-type", b"application/json"), (b"transfer-encoding", b"chunked"),
               *[(k.lower().encode(), v.encode()) for k, v in bearer(ADMIN).items()]]
    scope = {"type": "http", "method": "POST", "path": "/api/v1/facilities", "raw_path": b"/api/v1/facilities",
             "query_string": b"", "headers": headers, "scheme": "http", "server": ("testserver", 80),
             "client": ("testclient", 1), "root_path": "", "http_version": "1.1", "asgi": {"version": "3.0"}}
    anyio.run(app, scope, receive, send)
    assert sent[0]["status"] == 413
    assert read < 2 * 1024 * 1024


def test_body_limit_is_configurable(client, bearer, monkeypatch):
    from fastapi.testclient import TestClient

    from lienthong.app import create_app
    from lienthong.config import reset_settings_cache

    monkeypatch.setenv("LIENTHONG_REQUEST_MAX_BODY_BYTES", "50")
    reset_settings_cache()
    with TestClient(create_app()) as small:
        r = small.post("/api/v1/facilities", headers={**bearer(ADMIN), **JSON}, content=_facility_body())
    assert r.status_code == 413


def test_gateway_uploads_keep_their_own_cap(client, bearer, monkeypatch):
    """The XML gateway streams to disk: a body above the JSON cap reaches it (and its own checks)."""
    monkeypatch.setenv("LIENTHONG_GATEWAY_MAX_BYTES", str(4 * 1024 * 1024))
    body = b"<GIAMDINHHS>" + b" " * (2 * 1024 * 1024) + b"</GIAMDINHHS>"
    r = client.post("/api/v1/gateway/xml130", headers={**bearer(FACILITY), "Content-Type": "application/xml"},
                    content=body)
    assert r.status_code not in (413,) and r.status_code < 500
    r = client.post("/api/v1/gateway/xml130", headers={**bearer(FACILITY), "Content-Type": "application/xml"},
                    content=b" " * (5 * 1024 * 1024))
    assert r.status_code == 413


def test_query_string_limits(client, bearer):
    r = client.get("/api/v1/facilities?" + "&".join("a=1" for _ in range(10_000)), headers=bearer(ADMIN))
    assert r.status_code == 414
    assert r.json()["error"]["code"] == "uri_too_long"
    r = client.get("/api/v1/facilities?" + "&".join("a" for _ in range(300)), headers=bearer(ADMIN))
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "too_many_parameters"
    assert client.get("/api/v1/facilities?limit=5&offset=0", headers=bearer(ADMIN)).status_code == 200


@pytest.mark.parametrize("url", ["/api/v1/facilities/01%0001", "/api/v1/linkage/jobs/a%00b",
                                 "/api/v1/facilities?q=a%00b", "/can-bo/doi-chieu?job_id=%00"])
def test_nul_in_path_or_query_is_422(client, bearer, url):
    r = client.get(url, headers=bearer(ADMIN))
    assert r.status_code == 422
    assert "NUL" in r.json()["error"]["message"]


def test_nul_in_json_or_form_body_is_422(client, bearer):
    r = client.post("/api/v1/facilities", headers={**bearer(ADMIN), **JSON}, content=_facility_body("01\\u0000"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "nul_character"
    # An escaped backslash followed by "u0000" is not a NUL: it reaches normal validation.
    r = client.post("/api/v1/facilities", headers={**bearer(ADMIN), **JSON}, content=_facility_body("0\\\\u0000"))
    assert r.status_code == 422 and "detail" in r.json()
    r = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "a\x00b",
                                          "client_secret": "x"})
    assert r.status_code == 422


@pytest.mark.parametrize("url", [
    "/api/v1/ops/rollout/2962355863",
    "/api/v1/facilities?offset=135645487559405650051072",
    "/api/v1/facilities?province_code=-9223372036854775809",
    "/api/v1/agencies?province_code=100",
    "/api/v1/civil/overdue?province_code=99999999999",
    "/api/v1/audit?before=9223372036854775808",
    "/api/v1/events/outbox?before=9223372036854775808",
    "/trien-khai/-1931881309649/lich-su",
])
def test_out_of_range_integers_are_422(client, bearer, url):
    r = client.get(url, headers=bearer(ADMIN if "ops" not in url and "trien-khai" not in url else OFFICER))
    assert r.status_code == 422, r.text


def test_out_of_range_ids_in_post_paths_are_422(client, bearer):
    r = client.post("/api/v1/health/referrals/909205436688930818752512/reject", headers=bearer(FACILITY),
                    json={"reason": "không phù hợp"})
    assert r.status_code == 422
    r = client.patch("/api/v1/ops/rollout/1", headers=bearer(ADMIN), json={"version": 2**40})
    assert r.status_code == 422


def test_malformed_personal_id_in_judicial_lookup_is_422_before_audit(client, bearer):
    r = client.get("/api/v1/judicial/records/[[[[[[[[[[[]]]]]]]]]]]", params={"purpose": "kiểm tra hồ sơ"},
                   headers=bearer(OFFICER))
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_personal_id"


def test_non_finite_numbers_in_validation_errors_do_not_break_the_response(client, bearer):
    r = client.post("/api/v1/insurance/contributions", headers={**bearer(ADMIN), **JSON},
                    content=b'{"personal_id": 1e309, "basis_vnd": -1e309}')
    assert r.status_code == 422
    assert isinstance(r.json()["detail"], list)


def test_data_error_handler_maps_input_errors_and_logs(caplog):
    """Safety net for values not yet validated at the boundary: 422 with a message, logged as an error."""
    import psycopg
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from sqlalchemy.exc import DataError

    from lienthong.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    class OutOfRange(psycopg.errors.NumericValueOutOfRange):
        pass

    @app.get("/range")
    def _range():
        raise DataError("SELECT 1", {}, psycopg.errors.NumericValueOutOfRange("integer out of range"))

    @app.get("/other")
    def _other():
        raise DataError("SELECT 1", {}, psycopg.errors.DivisionByZero("division by zero"))

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/range")
        assert r.status_code == 422
        assert r.json()["error"]["message"].startswith("Dữ liệu không hợp lệ")
        assert any("API boundary" in rec.getMessage() for rec in caplog.records)
        assert c.get("/other").status_code == 500  # a real bug is not masked
