"""Property-based fuzzing of the whole HTTP API: hostile input is a clear 4xx, never a 500.

Design
------
* Requests come from two generators, both driven by Hypothesis with ``derandomize=True`` (the same
  examples on every run) and a small ``max_examples`` per operation so the module stays fast:

  - the OpenAPI operations (``app.openapi()``), through schemathesis: positive cases (valid by the
    schema) and negative cases (wrong types, out-of-range numbers, missing fields), and each case
    additionally has one of its path/query/body values replaced by a hostile value
    (:data:`HOSTILE`: overlong, NUL and control characters, SQL-ish, unicode, huge and negative
    integers, wrong types, deeply nested JSON);
  - the web pages and forms excluded from the schema, walked from the app's routes, with hostile
    values for their path, query and form parameters.

* Every request is sent with Starlette's ``TestClient`` to ``create_app()`` configured like the
  ``client`` fixture, on a PostgreSQL database (the stricter of the two: NUL bytes, integer
  overflow) seeded with 200 synthetic citizens, as each principal in :data:`PRINCIPALS` and
  anonymously.

* Checked for every response: never a 5xx nor an unhandled exception; anonymous callers never get
  a 2xx outside the public paths; 4xx bodies are JSON with an error message (``detail`` or
  ``error.message``) or an HTML page. All failures of a principal are collected and reported
  together (one line each: operation, status, request, exception) instead of stopping at the first.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.generation import GenerationMode  # noqa: E402

# Examples per operation and principal (deterministic): the module runs in well under a minute.
# Raise them locally (e.g. 30 and 15, about 3 minutes) for a deeper search.
MAX_EXAMPLES = 8
WEB_MAX_EXAMPLES = 5

HOSTILE: list[Any] = [
    "",
    " ",
    "x" * 10_000,
    "\x00",
    "abc\x00def",
    "\x01\x02\x1b[31m\x7f",
    "\r\nX-Injected: 1",
    "' OR 1=1 --",
    "'; DROP TABLE citizens; --",
    "%00%27%22",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
    "Nguyễn Văn Ân 🙂 \u202e\ufeff",
    "\ud800",  # lone surrogate (not encodable in UTF-8)
    "9" * 40,
    "-1",
    "0",
    "1e309",
    "NaN",
    "2024-02-30",
    "9999-99-99",
    "-0001-01-01",
    "001099000001' --",
    2**31,
    2**63,
    -(2**63) - 1,
    10**100,
    -1,
    0,
    1.5,
    float("inf"),
    True,
    None,
    [],
    {},
    ["a", 1, None],
    {"$where": "1"},
]


def _deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": [value]}
    return value


HOSTILE_BODIES: list[Any] = HOSTILE + [_deep(200), [[[[[[[[[[[]]]]]]]]]]], "x" * 100_000]

# Raw request bodies for the operations whose body is not described by the schema (XML, FHIR, forms).
HOSTILE_RAW: list[bytes] = [
    b"",
    b"\x00" * 64,
    b"{",
    b"not json at all",
    b'{"resourceType": "Bundle", "entry": "x"}',
    b'{"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": {"resourceType": 1}}]}',
    b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><GIAMDINHHS>&e;</GIAMDINHHS>",
    (b"<?xml version='1.0'?><!DOCTYPE l [<!ENTITY a 'aaaaaaaaaa'>"
     + b"".join(b"<!ENTITY " + c + b" '" + (b"&" + p + b";") * 10 + b"'>"
                for p, c in zip([b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h"],
                                [b"b", b"c", b"d", b"e", b"f", b"g", b"h", b"i"]))
     + b"]><GIAMDINHHS>&i;</GIAMDINHHS>"),
    b"<GIAMDINHHS><THONGTINHOSO><DANHSACHHOSO><HOSO><FILEHOSO><LOAIHOSO>XML1</LOAIHOSO>"
    b"<NOIDUNGFILE>!!!not base64!!!</NOIDUNGFILE></FILEHOSO></HOSO></DANHSACHHOSO></THONGTINHOSO></GIAMDINHHS>",
    "x=\u00ff\u0000".encode("utf-8"),
]


@dataclass
class Failure:
    who: str
    what: str
    status: int | None
    request: str
    detail: str = ""

    def __str__(self) -> str:
        return f"[{self.who}] {self.what} -> {self.status}: {self.request}{(' | ' + self.detail) if self.detail else ''}"


@dataclass
class Env:
    url: str
    app: Any
    client: Any
    principals: dict[str, Any] = field(default_factory=dict)
    citizen_pid: str = ""
    facility_code: str = ""


def _principals(db_url: str) -> tuple[dict[str, Any], str, str]:
    from sqlalchemy import select

    from lienthong.db import session_factory
    from lienthong.facilities.models import Facility
    from lienthong.identity.principal import Principal
    from lienthong.population.models import Citizen

    with session_factory(db_url)() as db:
        pid = db.scalar(select(Citizen.personal_id).order_by(Citizen.personal_id).limit(1))
        officer_pid = db.scalar(select(Citizen.personal_id).order_by(Citizen.personal_id.desc()).limit(1))
        fac = db.scalar(select(Facility.code).where(Facility.province_code == 1).order_by(Facility.code).limit(1))
    assert pid and fac, "seeding produced no citizen or facility"
    return {
        "admin": Principal(kind="admin", subject="001080000011", name="Quản trị", personal_id="001080000011",
                           assurance_level=2),
        "officer": Principal(kind="officer", subject=officer_pid, name="Cán bộ", personal_id=officer_pid,
                             assurance_level=2, province_code=1),
        "citizen": Principal(kind="citizen", subject=pid, name="Công dân", personal_id=pid, assurance_level=2),
        "facility": Principal(kind="facility", subject=f"fac-{fac}", name="Bệnh viện", facility_code=fac,
                              province_code=1,
                              scopes=frozenset({"health.submit", "health.read", "health.emergency",
                                                "directory.read"})),
        "agency": Principal(kind="agency", subject="agency-fuzz", name="Cơ quan", agency_code="CA-01", province_code=1,
                            scopes=frozenset({"judicial.feed", "population.read", "insurance.write", "civil.act",
                                              "driver_health.read"})),
        "anonymous": None,
    }, pid, fac


@pytest.fixture(scope="module")
def fuzz_env(pg_database, tmp_path_factory) -> Iterator[Env]:
    from fastapi.testclient import TestClient

    from lienthong.app import create_app
    from lienthong.demo.seed import seed_database
    from lienthong.testing import clean, configure

    with pytest.MonkeyPatch.context() as mp:
        configure(mp, tmp_path_factory.mktemp("fuzz"), pg_database)
        seed_database(pg_database, citizens=200, analyze=False)
        principals, pid, fac = _principals(pg_database)
        app = create_app()
        with TestClient(app, base_url="http://testserver", raise_server_exceptions=True,
                        follow_redirects=False) as client:
            yield Env(pg_database, app, client, principals, pid, fac)
        clean(pg_database)


def _headers(principal) -> dict[str, str]:
    if principal is None:
        return {}
    from lienthong.identity.tokens import issue_access_token

    return {"Authorization": f"Bearer {issue_access_token(principal)}"}


def _is_public(path_template: str) -> bool:
    from lienthong.identity import policy

    return path_template in policy.PUBLIC_PAGES or path_template.startswith(policy.PUBLIC_PATHS)


def _error_body_ok(response) -> bool:
    ctype = response.headers.get("content-type", "")
    if ctype.startswith("text/html"):
        return bool(response.text.strip())
    try:
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    if isinstance(body.get("detail"), (str, list)) and body["detail"]:
        return True
    err = body.get("error")
    if isinstance(err, dict) and isinstance(err.get("message"), str) and err["message"]:
        return True
    # OAuth2 token endpoint errors (RFC 6749 §5.2)
    return isinstance(body.get("error"), str)


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"...({len(text)} chars)"


def _send(env: Env, who: str, what: str, path_template: str, failures: list[Failure], **kw) -> None:
    """Send one request and record what violates the rules."""
    request = _short({k: v for k, v in kw.items() if k != "headers"})
    try:
        r = env.client.request(**kw)
    except Exception as exc:  # an unhandled exception inside the app (would be a 500)
        import httpx

        if isinstance(exc, httpx.InvalidURL) or (isinstance(exc, UnicodeEncodeError)
                                                 and "surrogates not allowed" in str(exc)):
            return  # the client refuses to build this request (URL too long, lone surrogate): not an app bug
        tb = traceback.extract_tb(exc.__traceback__)
        where = next((f"{f.filename.split('/lienthong/', 1)[-1]}:{f.lineno}" for f in reversed(tb)
                      if "/lienthong/" in f.filename and "/.venv/" not in f.filename), "?")
        failures.append(Failure(who, what, None, request, f"{type(exc).__name__}: {str(exc)[:200]} at {where}"))
        return
    if r.status_code >= 500:
        failures.append(Failure(who, what, r.status_code, request, r.text[:200]))
    elif who == "anonymous" and 200 <= r.status_code < 300 and not _is_public(path_template):
        failures.append(Failure(who, what, r.status_code, request, "anonymous caller got a 2xx"))
    elif 400 <= r.status_code < 500 and not _error_body_ok(r):
        failures.append(Failure(who, what, r.status_code, request, f"4xx body without a message: {r.text[:120]!r}"))


# --- OpenAPI operations -----------------------------------------------------------------------------

# Server-sent event stream: a successful call never ends, so only callers refused up front are sent.
STREAMING = {("GET", "/api/v1/me/health/events")}
# Operations whose body is read raw (no requestBody in the schema): also sent HOSTILE_RAW bodies.
RAW_BODY = {("POST", "/api/v1/gateway/xml130"), ("POST", "/api/v1/gateway/fhir")}


def _schema(app):
    return schemathesis.openapi.from_dict(app.openapi())


def _operations(app) -> list:
    ops = []
    for result in _schema(app).get_all_operations():
        op = result.ok()
        ops.append(op)
    return ops


def _transport_to_httpx(kwargs: dict) -> dict:
    """schemathesis serializes cases for `requests`; translate to the httpx-based TestClient."""
    out = {"method": kwargs["method"], "url": kwargs["url"], "headers": dict(kwargs.get("headers") or {}),
           "params": kwargs.get("params")}
    if "json" in kwargs:
        out["content"] = json.dumps(kwargs["json"], allow_nan=True).encode()
        out["headers"].setdefault("Content-Type", "application/json")
    elif "data" in kwargs:
        data = kwargs["data"]
        if isinstance(data, (bytes, str)):
            out["content"] = data
        elif data is not None:
            out["data"] = data
    if kwargs.get("files"):
        out["files"] = kwargs["files"]
    return out


def _mutate(case, choice: Any, target: int) -> None:
    """Replace one path/query/body value of ``case`` by a hostile one."""
    slots: list[tuple[str, str | None]] = []
    for part in ("path_parameters", "query"):
        values = getattr(case, part, None) or {}
        slots += [(part, name) for name in values]
    body = getattr(case, "body", None)
    if isinstance(body, dict):
        slots += [("body", name) for name in body]
    elif body is not None and not isinstance(body, type(None)) and case.media_type:
        slots.append(("body", None))
    if not slots:
        return
    part, name = slots[target % len(slots)]
    if part == "body":
        if name is None:
            case.body = choice
        else:
            case.body[name] = choice
    else:
        value = choice
        if isinstance(value, (dict, list)) or value is None:
            value = json.dumps(value)
        elif isinstance(value, bool):
            value = str(value).lower()
        elif isinstance(value, float):
            value = repr(value)
        getattr(case, part)[name] = value


PRINCIPAL_NAMES = ["admin", "officer", "citizen", "facility", "agency", "anonymous"]


@pytest.mark.parametrize("who", PRINCIPAL_NAMES)
def test_openapi_operations_never_500(fuzz_env: Env, who: str):
    env = fuzz_env
    principal = env.principals[who]
    headers = _headers(principal)
    failures: list[Failure] = []
    for op in _operations(env.app):
        method, path = op.method.upper(), op.path
        if (method, path) in STREAMING and who not in ("anonymous", "facility", "agency", "officer"):
            continue
        what = f"{method} {path}"
        strategy = st.one_of(op.as_strategy(GenerationMode.POSITIVE), op.as_strategy(GenerationMode.NEGATIVE))

        @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy, hostile=st.sampled_from(HOSTILE_BODIES), target=st.integers(0, 50),
               mutate=st.booleans())
        def run(case, hostile, target, mutate):
            if mutate:
                _mutate(case, hostile, target)
            try:
                kwargs = case.as_transport_kwargs(base_url="http://testserver")
            except (TypeError, ValueError, UnicodeError):
                return  # schemathesis cannot serialize this mutation into a request
            kwargs = _transport_to_httpx(kwargs)
            kwargs["headers"].pop("Authorization", None)
            kwargs["headers"].update(headers)
            _send(env, who, what, path, failures, **kwargs)

        run()
        if (method, path) in RAW_BODY:
            for raw in HOSTILE_RAW:
                _send(env, who, what + " (raw)", path, failures, method=method, url=path, content=raw,
                      headers={**headers, "Content-Type": "application/xml"})
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(sorted({str(f) for f in failures}))


# --- web pages and forms (not in the OpenAPI schema) -----------------------------------------------

def _web_routes(app) -> list[tuple[str, str, list[str], list[str], list[str]]]:
    from lienthong.testing import iter_api_routes

    found = []
    for path, route in iter_api_routes(app.routes):
        if route.include_in_schema:
            continue
        d = route.dependant

        def names(params):
            return [p.alias or p.name for p in params]

        def deep(dep, attr):
            out = list(getattr(dep, attr))
            for sub in dep.dependencies:
                out += deep(sub, attr)
            return out

        for method in sorted(route.methods):
            found.append((method, path, names(deep(d, "path_params")), names(deep(d, "query_params")),
                          names(deep(d, "body_params"))))
    return found


_text = st.one_of(st.sampled_from([h for h in HOSTILE if isinstance(h, str) and h != "\ud800"]),
                  st.text(max_size=40), st.integers(-(2**70), 2**70).map(str))


@pytest.mark.parametrize("who", PRINCIPAL_NAMES)
def test_web_pages_never_500(fuzz_env: Env, who: str):
    env = fuzz_env
    headers = _headers(env.principals[who])
    failures: list[Failure] = []
    for method, path, path_params, query_params, form_params in _web_routes(env.app):
        what = f"{method} {path}"

        @settings(max_examples=WEB_MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(pv=st.fixed_dictionaries({n: _text for n in path_params}),
               qv=st.fixed_dictionaries({n: _text for n in query_params}),
               fv=st.fixed_dictionaries({n: _text for n in form_params}))
        def run(pv, qv, fv):
            from urllib.parse import quote

            url = path
            for name, value in pv.items():
                url = url.replace("{" + name + "}", quote(value, safe="") or "x")
            kw: dict[str, Any] = {"method": method, "url": url, "params": qv, "headers": dict(headers)}
            if form_params and method == "POST":
                kw["data"] = fv
            _send(env, who, what, path, failures, **kw)

        run()
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(sorted({str(f) for f in failures}))
