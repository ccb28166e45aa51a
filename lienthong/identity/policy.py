"""The authorization policy: one table of rules, used by every route.

A route declares its action with ``Depends(requires("population.read"))``; that checks the caller
may perform the action at all (kind, scope, assurance level) and returns the :class:`Principal`.
Where the decision depends on the record (whose data, which province, which facility), the
route's service call passes a :class:`Target` to :func:`authorize`.

Routes outside this policy are listed in :data:`PUBLIC_PATHS`; a test walks the app and fails on
any other route without a ``requires`` dependency.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request, status

from lienthong.identity.principal import Principal
from lienthong.identity.tokens import InvalidToken, verify_access_token

SESSION_COOKIE = "lt_session"

PEOPLE = ("citizen", "officer", "admin")


@dataclass(frozen=True)
class Rule:
    """Who may perform an action.

    * ``kinds``: principal kinds allowed at all;
    * ``scope``: for machine clients (facility, agency), the OAuth2 scope they must hold;
    * ``own_only``: kinds limited to records about themselves (their personal ID);
    * ``province_only``: kinds limited to records in their own province;
    * ``facility_only``: kinds limited to their own facility's records;
    * ``min_assurance``: least VNeID level for people (2 = in-person verified).
    """

    kinds: frozenset[str]
    scope: str | None = None
    own_only: frozenset[str] = frozenset({"citizen"})
    province_only: frozenset[str] = frozenset({"officer", "agency"})
    facility_only: frozenset[str] = frozenset({"facility"})
    min_assurance: int = 1
    description: str = ""


def _r(*kinds: str, **kw) -> Rule:
    return Rule(kinds=frozenset(kinds), **kw)


RULES: dict[str, Rule] = {
    # Population registry
    # A facility reads the registry only as a principal bound to one citizen, minted by the health
    # context from a valid consent share or an emergency access (client-credentials tokens carry
    # no personal ID, so own_only refuses them).
    # "system" is the platform's own automatic processing (e.g. the criminal-record check).
    "population.read": _r("citizen", "officer", "admin", "agency", "facility", "system", scope="population.read",
                          own_only=frozenset({"citizen", "facility"}),
                          description="read a citizen's registry record"),
    "population.search": _r("officer", "admin", "agency", scope="population.read",
                            description="search the registry"),
    "population.write": _r("officer", "admin", "agency", scope="population.write",
                           description="register or change a citizen's data"),
    # Facilities and agencies
    "directory.read": _r(*PEOPLE, "facility", "agency", scope="directory.read", own_only=frozenset(),
                         province_only=frozenset(), facility_only=frozenset(),
                         description="read the facility and agency registry"),
    "directory.write": _r("admin", description="manage facilities and agencies"),
    # Service clients and staff
    "identity.manage": _r("admin", description="manage service clients and staff accounts"),
    # Audit log
    "audit.read": _r("citizen", "admin", description="read audit entries (citizens: about themselves)"),
    "audit.verify": _r("admin", description="verify the audit hash chain"),
    # Health gateway and health book
    "health.submit": _r("facility", scope="health.submit",
                        description="submit visit data (XML 130/4750, FHIR) for one's own facility"),
    "health.receipts": _r("facility", "admin", scope="health.submit", description="read submission receipts"),
    "health.book.read": _r("citizen", description="a citizen reads their own health book"),
    "health.share.manage": _r("citizen", description="create or revoke consent shares of one's health book"),
    "health.shared.read": _r("facility", scope="health.read",
                             description="read a consenting citizen's intake summary / lab results"),
    "health.emergency": _r("facility", scope="health.emergency",
                           description="emergency access without consent (flagged, audited)"),
    "health.referral.decide": _r("facility", scope="health.submit",
                                 description="accept or reject a referral addressed to one's facility"),
    # Judicial records and criminal-record certificates (Law 28/2009, Law 107/2025)
    "judicial.feed": _r("agency", "admin", scope="judicial.feed", province_only=frozenset(),
                        description="courts and enforcement bodies submit convictions, enforcement and decisions"),
    "judicial.record.read": _r("officer", "admin", description="look up a person's judicial record (audited)"),
    "judicial.apply": _r("citizen", min_assurance=2,
                         description="apply for one's own criminal-record certificate (level-2 account)"),
    "judicial.application.read": _r("citizen", "officer", "admin",
                                    description="read an application (citizens: their own; officers: their province)"),
    "judicial.review": _r("officer", description="review, approve or reject applications of one's province"),
    "judicial.certificate.revoke": _r("officer", "admin", description="revoke an issued certificate"),
    # Linked civil procedures, driver health certificates, social insurance
    "civil.read": _r("citizen", "officer", "admin", description="read a civil procedure case"),
    "civil.act": _r("officer", "agency", scope="civil.act", description="perform an agency step of a procedure"),
    "civil.confirm": _r("citizen", min_assurance=2, description="a parent/relative confirms a pre-filled procedure"),
    "civil.dashboard": _r("officer", "admin", description="overdue-case dashboard"),
    "driver_health.read": _r("agency", "officer", "admin", scope="driver_health.read", province_only=frozenset(),
                             description="check a valid driver health certificate for licence renewal"),
    "insurance.book.read": _r("citizen", description="a citizen reads their social insurance book"),
    "insurance.write": _r("agency", "admin", scope="insurance.write", province_only=frozenset(),
                          description="social insurance records contribution periods"),
    "insurance.funeral.decide": _r("officer", "agency", "admin", scope="insurance.write", province_only=frozenset({"officer"}),
                                   description="decide a funeral allowance the contribution history cannot decide "
                                               "(pension, work accident; Luật BHXH 2024 Điều 85.1.b-c)"),
    # Record linkage of legacy registers
    "linkage.run": _r("officer", "admin", province_only=frozenset(), description="run a linkage job"),
    "linkage.review": _r("officer", "admin", province_only=frozenset(), description="clerical review of candidate links"),
    # Operations
    "ops.read": _r("officer", "admin", province_only=frozenset(), description="rollout tracker, kiosks, statistics"),
    "ops.manage": _r("admin", description="update rollout status and kiosk registry"),
    "ops.confirm": _r("officer", "admin", description="confirm or reject a rollout change proposed by a live signal "
                                                      "(officers: their province)"),
    # Events
    "events.read": _r("admin", description="inspect the event outbox"),
    # Notification inbox
    "notifications.read": _r("citizen", description="read one's own notifications"),
}


class PolicyError(HTTPException):
    pass


def unauthenticated(detail: str = "cần đăng nhập") -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def forbidden(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=detail)


def require_facility(principal: Principal) -> str:
    """The facility code of a facility client; 403 for a caller not bound to a facility."""
    if not principal.facility_code:
        raise forbidden("ứng dụng này không gắn với cơ sở khám chữa bệnh nào")
    return principal.facility_code


def principal_from_request(request: Request) -> Principal | None:
    """The caller, from a Bearer token or the web session cookie; None when anonymous."""
    header = request.headers.get("authorization", "")
    token = None
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value:
            raise unauthenticated("chỉ chấp nhận Authorization: Bearer <token>")
        token = value.strip()
    else:
        token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return verify_access_token(token)
    except InvalidToken as exc:
        raise unauthenticated(str(exc)) from None


def check_action(principal: Principal, action: str) -> Rule:
    rule = RULES.get(action)
    if rule is None:  # a programming error, caught by tests
        raise RuntimeError(f"unknown action {action!r}")
    if principal.kind not in rule.kinds:
        raise forbidden(f"vai trò '{principal.kind}' không được phép: {action}")
    if principal.kind in ("facility", "agency"):
        if rule.scope and rule.scope not in principal.scopes:
            raise forbidden(f"thiếu phạm vi (scope) '{rule.scope}'")
    elif principal.is_person and principal.assurance_level < rule.min_assurance:
        raise forbidden(f"cần tài khoản định danh điện tử mức {rule.min_assurance}")
    return rule


@dataclass(frozen=True)
class Target:
    """What a request touches, for record-level decisions."""

    personal_id: str | None = None
    province_code: int | None = None
    facility_code: str | None = None


def authorize(principal: Principal, action: str, target: Target | None = None) -> None:
    """Raise 403 unless ``principal`` may perform ``action`` on ``target``."""
    rule = check_action(principal, action)
    if target is None:
        return
    if principal.kind in rule.own_only and target.personal_id != principal.personal_id:
        raise forbidden("chỉ được truy cập dữ liệu của chính mình")
    if principal.kind in rule.province_only:
        if principal.province_code is None or target.province_code != principal.province_code:
            raise forbidden("dữ liệu thuộc tỉnh/thành phố khác")
    if principal.kind in rule.facility_only and target.facility_code is not None:
        if target.facility_code != principal.facility_code:
            raise forbidden("dữ liệu thuộc cơ sở khám chữa bệnh khác")


def requires(action: str):
    """FastAPI dependency: the authenticated caller, allowed to perform ``action``."""
    if action not in RULES:
        raise RuntimeError(f"unknown action {action!r}")

    def dependency(request: Request) -> Principal:
        principal = principal_from_request(request)
        if principal is None:
            raise unauthenticated()
        check_action(principal, action)
        request.state.principal = principal
        return principal

    dependency.__lienthong_action__ = action  # type: ignore[attr-defined]
    dependency.__name__ = f"requires_{action.replace('.', '_')}"
    return dependency


def optional_principal(request: Request) -> Principal | None:
    """For public web pages that change with login (home page): the caller or None."""
    try:
        return principal_from_request(request)
    except HTTPException:
        return None


optional_principal.__lienthong_public__ = True  # type: ignore[attr-defined]

# Paths that are deliberately public (prefix match). Everything else must use ``requires``.
PUBLIC_PATHS: tuple[str, ...] = (
    "/healthz",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/static",
    "/dev-idp",
    "/.well-known",
    "/auth/",
    "/oauth/token",
    "/api/v1/geo",  # administrative units are public reference data
    "/api/v1/judicial/verify", "/api/v1/judicial/keys",  # certificate verification and signing keys
)

# Public web pages (exact paths) that render for anonymous visitors.
PUBLIC_PAGES: tuple[str, ...] = ("/", "/dang-nhap", "/tra-cuu-phieu/{cert_id}")
