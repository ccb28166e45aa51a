"""Who is calling: the one value every authorization decision is made on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PrincipalKind = Literal["citizen", "officer", "admin", "facility", "agency", "system"]


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    # Stable identifier: the personal ID for people, the client_id for service clients.
    subject: str
    name: str = ""
    personal_id: str | None = None
    assurance_level: int = 0  # VNeID level 1/2 for people; 0 for machines
    province_code: int | None = None  # officers and province-scoped clients
    facility_code: str | None = None
    agency_code: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def actor_type(self) -> str:
        return self.kind

    @property
    def is_person(self) -> bool:
        return self.kind in ("citizen", "officer", "admin")


SYSTEM = Principal(kind="system", subject="system", name="lienthong")
