"""health_visits.source_digest: identical resubmissions recognised before parsing

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Existing visits keep NULL: their next resubmission is parsed and validated as before.
    op.add_column('health_visits', sa.Column('source_digest', sa.String(length=64), nullable=True))
    op.create_index('ix_health_visits_source_digest', 'health_visits', ['source_digest'], postgresql_using='hash')


def downgrade() -> None:
    op.drop_index('ix_health_visits_source_digest', table_name='health_visits')
    with op.batch_alter_table('health_visits') as batch:
        batch.drop_column('source_digest')
