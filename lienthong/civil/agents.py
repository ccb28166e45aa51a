"""The competent agencies that perform the automatic steps, as explicit principals.

The policy has no rule for ``kind="system"`` (``SYSTEM`` is refused everywhere), so automatic steps
act as the agency the law makes competent for them, with the scope that agency's client would hold
and the province of the case. Every call still goes through :func:`~lienthong.identity.policy.authorize`
(province checks included) and is audited under the agency's subject, e.g.
``civil-auto:cong-an:79`` ("Công an, xử lý liên thông tự động, tỉnh 79").
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from lienthong.civil.models import Counter
from lienthong.db import next_counter_value
from lienthong.identity.principal import Principal


def civil_status(province_code: int) -> Principal:
    """UBND cấp xã / civil-status software (Bộ Tư pháp): reads the registry to pre-fill the declaration."""
    return Principal(kind="agency", subject=f"civil-auto:ho-tich:{province_code}",
                     name="Phần mềm đăng ký hộ tịch (liên thông tự động)", agency_code="BTP",
                     province_code=province_code, scopes=frozenset({"population.read"}))


def police(province_code: int) -> Principal:
    """Công an (population and residence registration): personal ID, registry, residence."""
    return Principal(kind="agency", subject=f"civil-auto:cong-an:{province_code}",
                     name="Cơ quan đăng ký cư trú - Công an (liên thông tự động)", agency_code="BCA",
                     province_code=province_code, scopes=frozenset({"population.read", "population.write"}))


def social_insurance() -> Principal:
    """BHXH Việt Nam: BHYT cards and funeral allowance."""
    return Principal(kind="agency", subject="civil-auto:bhxh", name="Bảo hiểm xã hội (liên thông tự động)",
                     agency_code="BHXH", scopes=frozenset({"insurance.write"}))


def next_value(session: Session, name: str, *, start: int = 0) -> int:
    """Allocate the next value of a named civil counter (see :func:`lienthong.db.next_counter_value`)."""
    return next_counter_value(session, Counter, name, start=start)
