from __future__ import annotations

from lienthong.identity.principal import Principal

ADMIN = Principal(kind="admin", subject="079090000001", name="Quản trị Trần Thị B", personal_id="079090000001",
                  assurance_level=2)
OFFICER = Principal(kind="officer", subject="001090000002", name="Cán bộ Lê Văn C", personal_id="001090000002",
                    assurance_level=2, province_code=1)
CITIZEN = Principal(kind="citizen", subject="001090000003", name="Phạm Văn D", personal_id="001090000003",
                    assurance_level=2)
