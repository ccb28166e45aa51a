"""visit records stored once: health_visits.record dropped

Every accepted version of a visit already has its full record in health_visit_versions; the copy
in health_visits doubled the size of the two largest health tables and the work of every ingest.
``Visit.record`` now reads the current version's record.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
import sqlite3
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Safety net: a current version without its row in health_visit_versions (every ingest path
    # writes one; a hand-made row might not) keeps its record there.
    op.execute("""
        INSERT INTO health_visit_versions (visit_id, version, content_hash, batch_id, record, received_at)
        SELECT v.id, v.version, v.content_hash, v.batch_id, v.record, v.received_at
        FROM health_visits v
        WHERE NOT EXISTS (SELECT 1 FROM health_visit_versions x WHERE x.visit_id = v.id AND x.version = v.version)
    """)
    if op.get_bind().dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 35, 0):
        # No DROP COLUMN before SQLite 3.35 (e.g. Ubuntu 20.04): copy the table (env.py turns
        # foreign keys off for migrations, so the children's rows stay).
        with op.batch_alter_table("health_visits", recreate="always") as batch:
            batch.drop_column("record")
    else:
        op.execute("ALTER TABLE health_visits DROP COLUMN record")


def downgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
    op.add_column('health_visits', sa.Column('record', json_type, nullable=True))
    op.execute("""
        UPDATE health_visits SET record = COALESCE((
            SELECT x.record FROM health_visit_versions x
            WHERE x.visit_id = health_visits.id AND x.version = health_visits.version), '{}')
    """)
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('health_visits', 'record', nullable=False)
