"""Constrained types for values taken at the API boundary (path, query, body fields).

Used as annotations (``province_code: ProvinceCode | None = None``, or inside ``Annotated[..., Query()]``)
so that out-of-range values are a 422 from validation rather than an overflow in the database
(PostgreSQL ``integer`` is 32-bit, ``bigint`` 64-bit).
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

# Province codes (34-set and 63-set codes are both two digits; 3-digit ID prefixes are strings).
ProvinceCode = Annotated[int, Ge(1), Le(99)]
# Identifiers of rows with an ``integer`` primary key.
RowId = Annotated[int, Ge(1), Le(INT32_MAX)]
# Identifiers or sequence numbers of ``bigint`` columns (audit seq, outbox seq, paging cursors).
BigRowId = Annotated[int, Ge(1), Le(INT64_MAX)]
# Paging offsets.
Offset = Annotated[int, Ge(0), Le(INT32_MAX)]
# Optimistic-concurrency row versions.
Version = Annotated[int, Ge(0), Le(INT32_MAX)]
# Ward / commune codes (five digits in the national table; unknown codes get the geo module's message).
WardCode = Annotated[int, Ge(1), Le(INT32_MAX)]
