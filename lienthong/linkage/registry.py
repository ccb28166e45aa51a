"""Export of the population registry for linkage (read-only on the population tables).

One row per citizen with the columns of :data:`lienthong.linkage.noise.REGISTRY_SCHEMA`: names,
birth date, sex, birth-registration province (63-set code), the most recent legacy CMND
(``legacy_ids``) and the province of the current residence. On PostgreSQL the rows are streamed
with ``COPY (...) TO STDOUT`` (CSV) straight into Arrow; elsewhere they are read with SQLAlchemy in
batches.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import text
from sqlalchemy.orm import Session

from lienthong.linkage.noise import REGISTRY_SCHEMA

EXPORT_SQL = """
SELECT c.personal_id, c.family_name, c.middle_name, c.given_name, c.birth_date, c.sex, c.birth_place_code,
       (SELECT l.number FROM legacy_ids l WHERE l.personal_id = c.personal_id
         ORDER BY (l.issued_on IS NULL), l.issued_on DESC, l.id DESC LIMIT 1) AS cmnd,
       (SELECT r.province_code FROM residences r WHERE r.personal_id = c.personal_id AND r.valid_to IS NULL
         ORDER BY (r.kind = 'permanent') DESC, r.valid_from DESC LIMIT 1) AS residence_province
FROM citizens c
ORDER BY c.personal_id
"""


def export_registry(session: Session, batch: int = 50_000) -> pa.Table:
    """The registry as an Arrow table (PostgreSQL: COPY; otherwise batched SELECT)."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        return _export_pg(session)
    cols: dict[str, list] = {f.name: [] for f in REGISTRY_SCHEMA}
    names = REGISTRY_SCHEMA.names
    result = session.execute(text(EXPORT_SQL)).yield_per(batch)
    for row in result:
        for name, value in zip(names, row):
            cols[name].append(value)
    if cols["birth_date"] and isinstance(cols["birth_date"][0], str):
        from datetime import date

        cols["birth_date"] = [date.fromisoformat(v[:10]) if v else None for v in cols["birth_date"]]
    return pa.table(cols, schema=REGISTRY_SCHEMA)


def _export_pg(session: Session) -> pa.Table:
    raw = session.connection().connection.driver_connection  # the psycopg connection of this transaction
    buf = io.BytesIO()
    with raw.cursor() as cur:
        with cur.copy(f"COPY ({EXPORT_SQL}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
            for chunk in copy:
                buf.write(chunk)
    buf.seek(0)
    table = pacsv.read_csv(
        buf,
        convert_options=pacsv.ConvertOptions(
            column_types={f.name: f.type for f in REGISTRY_SCHEMA}, strings_can_be_null=True,
            quoted_strings_can_be_null=False,  # PostgreSQL writes NULL unquoted and "" quoted
        ),
    )
    return table.select(REGISTRY_SCHEMA.names).cast(REGISTRY_SCHEMA)
