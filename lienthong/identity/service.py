"""Identity service: service clients (OAuth2 client credentials), staff accounts, and turning an
authenticated person or client into a :class:`Principal`."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.config import get_settings
from lienthong.errors import Conflict, DomainError, NotFound
from lienthong.facilities.models import Agency, Facility
from lienthong.geo import units
from lienthong.identity.models import ServiceClient, StaffAccount
from lienthong.identity.policy import RULES
from lienthong.identity.principal import Principal
from lienthong.identity.secrets import check_secret, hash_secret, new_secret
from lienthong.population.ids import parse_personal_id

CLIENT_KINDS = ("facility", "agency")
STAFF_ROLES = ("officer", "admin")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked against when the client id is unknown, so that the response time does not reveal
    which client ids exist."""
    return hash_secret(new_secret())


def known_scopes() -> frozenset[str]:
    """Every OAuth2 scope the authorization policy knows about."""
    return frozenset(rule.scope for rule in RULES.values() if rule.scope)


def client_scopes(client: ServiceClient) -> frozenset[str]:
    return frozenset(client.scopes.split())


# --- service clients -----------------------------------------------------------------------------


def create_service_client(session: Session, *, client_id: str, name: str, kind: str,
                          facility_code: str | None = None, agency_code: str | None = None,
                          province_code: int | None = None, scopes) -> tuple[ServiceClient, str]:
    """Register a machine client; returns it with its plaintext secret (shown this once only)."""
    if kind not in CLIENT_KINDS:
        raise DomainError("loại ứng dụng phải là 'facility' (cơ sở khám chữa bệnh) hoặc 'agency' (cơ quan)",
                          field="kind")
    scope_set = sorted(set(scopes or ()))
    if not scope_set:
        raise DomainError("cần cấp ít nhất một phạm vi (scope) cho ứng dụng", field="scopes")
    unknown = sorted(set(scope_set) - known_scopes())
    if unknown:
        raise DomainError(f"phạm vi (scope) không tồn tại: {', '.join(unknown)}", field="scopes")

    if kind == "facility":
        if not facility_code:
            raise DomainError("ứng dụng của cơ sở khám chữa bệnh phải có mã cơ sở (facility_code)", field="facility_code")
        if agency_code:
            raise DomainError("ứng dụng của cơ sở khám chữa bệnh không được gắn với cơ quan (agency_code)",
                              field="agency_code")
        facility = session.get(Facility, facility_code)
        if facility is None:
            raise NotFound(f"không tìm thấy cơ sở khám chữa bệnh {facility_code}", field="facility_code")
        if not facility.active:
            raise DomainError(f"cơ sở khám chữa bệnh {facility_code} đã ngừng hoạt động", field="facility_code")
        owner_province = facility.province_code
    else:
        if not agency_code:
            raise DomainError("ứng dụng của cơ quan phải có mã cơ quan (agency_code)", field="agency_code")
        if facility_code:
            raise DomainError("ứng dụng của cơ quan không được gắn với cơ sở khám chữa bệnh (facility_code)",
                              field="facility_code")
        agency = session.get(Agency, agency_code)
        if agency is None:
            raise NotFound(f"không tìm thấy cơ quan {agency_code}", field="agency_code")
        if not agency.active:
            raise DomainError(f"cơ quan {agency_code} đã ngừng hoạt động", field="agency_code")
        owner_province = agency.province_code

    if province_code is None:
        province_code = owner_province
    elif owner_province is not None and province_code != owner_province:
        raise DomainError(
            f"tỉnh/thành phố {province_code} không khớp tỉnh/thành phố của đơn vị sở hữu ({owner_province})",
            field="province_code",
        )
    else:
        units.province(province_code)

    if session.get(ServiceClient, client_id) is not None:
        raise Conflict(f"mã ứng dụng {client_id} đã tồn tại", field="client_id")
    secret = new_secret()
    client = ServiceClient(
        client_id=client_id, secret_hash=hash_secret(secret), name=name, kind=kind,
        facility_code=facility_code if kind == "facility" else None,
        agency_code=agency_code if kind == "agency" else None,
        province_code=province_code, scopes=" ".join(scope_set), active=True,
    )
    session.add(client)
    session.flush()
    return client, secret


def list_service_clients(session: Session) -> list[ServiceClient]:
    return list(session.scalars(select(ServiceClient).order_by(ServiceClient.client_id)))


def authenticate_client(session: Session, client_id: str, secret: str) -> ServiceClient | None:
    """The active client with these credentials, or None."""
    client = session.get(ServiceClient, client_id) if client_id else None
    if client is None or not client.active:
        check_secret(secret, _dummy_hash())
        return None
    return client if check_secret(secret, client.secret_hash) else None


def client_principal(client: ServiceClient, scopes: frozenset[str]) -> Principal:
    return Principal(
        kind=client.kind,  # type: ignore[arg-type]
        subject=client.client_id,
        name=client.name,
        facility_code=client.facility_code,
        agency_code=client.agency_code,
        province_code=client.province_code,
        scopes=scopes,
    )


# --- staff accounts ------------------------------------------------------------------------------


def create_staff_account(session: Session, *, personal_id: str, role: str, province_code: int | None = None,
                         agency_code: str | None = None) -> StaffAccount:
    """Make a person an officer (acting for one province) or a national administrator."""
    info = parse_personal_id(personal_id, frozenset(get_settings().abroad_id_prefixes))
    personal_id = info.number
    if role not in STAFF_ROLES:
        raise DomainError("vai trò phải là 'officer' (cán bộ) hoặc 'admin' (quản trị viên)", field="role")
    if role == "officer" and province_code is None:
        raise DomainError("cán bộ phải được gắn với một tỉnh/thành phố (province_code)", field="province_code")
    if role == "admin" and province_code is not None:
        raise DomainError("quản trị viên hoạt động ở cấp quốc gia, không gắn với tỉnh/thành phố", field="province_code")
    if province_code is not None:
        units.province(province_code)
    if agency_code:
        agency = session.get(Agency, agency_code)
        if agency is None:
            raise NotFound(f"không tìm thấy cơ quan {agency_code}", field="agency_code")
        if role == "officer" and agency.province_code is not None and agency.province_code != province_code:
            raise DomainError(
                f"cơ quan {agency_code} thuộc tỉnh/thành phố {agency.province_code}, không phải {province_code}",
                field="agency_code",
            )
    if session.get(StaffAccount, personal_id) is not None:
        raise Conflict(f"số định danh {personal_id} đã có tài khoản cán bộ", field="personal_id")
    staff = StaffAccount(personal_id=personal_id, role=role, province_code=province_code,
                         agency_code=agency_code or None, active=True)
    session.add(staff)
    session.flush()
    return staff


def list_staff_accounts(session: Session) -> list[StaffAccount]:
    return list(session.scalars(select(StaffAccount).order_by(StaffAccount.personal_id)))


def person_principal(session: Session, *, personal_id: str, name: str, assurance_level: int) -> Principal:
    """The principal of a person who has just logged in: an officer or administrator when an
    active staff account exists for the personal ID, otherwise a citizen."""
    staff = session.get(StaffAccount, personal_id)
    if staff is not None and staff.active:
        return Principal(kind=staff.role, subject=personal_id, name=name, personal_id=personal_id,  # type: ignore[arg-type]
                         assurance_level=assurance_level, province_code=staff.province_code,
                         agency_code=staff.agency_code)
    return Principal(kind="citizen", subject=personal_id, name=name, personal_id=personal_id,
                     assurance_level=assurance_level)
