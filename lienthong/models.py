"""Imports every context's models so that ``Base.metadata`` is complete (Alembic, tests)."""

from lienthong.audit import models as _audit  # noqa: F401
from lienthong.civil import models as _civil  # noqa: F401
from lienthong.events import models as _events  # noqa: F401
from lienthong.facilities import models as _facilities  # noqa: F401
from lienthong.health import models as _health  # noqa: F401
from lienthong.identity import models as _identity  # noqa: F401
from lienthong.insurance import models as _insurance  # noqa: F401
from lienthong.judicial import models as _judicial  # noqa: F401
from lienthong.ops import models as _ops  # noqa: F401
from lienthong.population import models as _population  # noqa: F401
from lienthong.linkage import models as _linkage  # noqa: F401
from lienthong.notifications import models as _notifications  # noqa: F401
from lienthong.db import Base

metadata = Base.metadata
