"""outbox: NOTIFY lienthong_outbox after each statement that inserts events (PostgreSQL)

The relay LISTENs on the channel and starts a pass as soon as new events are committed (the
notification is delivered at commit), instead of polling. A statement trigger: one notification per
INSERT or COPY, however many rows, and PostgreSQL folds identical notifications of one transaction.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("""
        CREATE OR REPLACE FUNCTION lienthong_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('lienthong_outbox', '');
            RETURN NULL;
        END $$
    """)
    op.execute("CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT "
               "EXECUTE FUNCTION lienthong_outbox_notify()")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS lienthong_outbox_notify()")
