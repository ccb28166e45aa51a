"""audit log as a transparency log: insert-only entries, sequencer, Merkle tree, signed checkpoints

Existing entries (the hash chain) keep their hashes and are given the first positions of the tree
in their order (``leaf_index``); the chain head row keeps their count, last hash and MAC, and gains
the tree state, which the sequencer builds over them on its first pass. ``seq`` becomes an
auto-incremented insertion id.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == 'postgresql'
    with op.batch_alter_table('audit_log') as batch:
        batch.alter_column('prev_hash', existing_type=sa.String(64), nullable=True)
        batch.add_column(sa.Column('nonce', sa.String(32), nullable=True))
        batch.add_column(sa.Column('mac', sa.String(64), nullable=True))
        batch.add_column(sa.Column('leaf_index', sa.BigInteger(), nullable=True))
        batch.drop_index('ix_audit_log_subject_id')
    if pg:
        # seq becomes an insertion id from a sequence (SQLite: INTEGER PRIMARY KEY already is one).
        op.execute("CREATE SEQUENCE audit_log_seq_seq OWNED BY audit_log.seq")
        op.execute("SELECT setval('audit_log_seq_seq', COALESCE((SELECT max(seq) FROM audit_log), 0) + 1, false)")
        op.execute("ALTER TABLE audit_log ALTER COLUMN seq SET DEFAULT nextval('audit_log_seq_seq')")
        op.execute("UPDATE audit_log AS a SET leaf_index = r.n - 1 FROM "
                   "(SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM audit_log) AS r WHERE a.seq = r.seq")
    else:
        seqs = [r[0] for r in bind.execute(sa.text("SELECT seq FROM audit_log ORDER BY seq"))]
        if seqs:
            bind.execute(sa.text("UPDATE audit_log SET leaf_index = :i WHERE seq = :s"),
                         [{"i": i, "s": s} for i, s in enumerate(seqs)])
    op.create_index('ix_audit_log_subject_seq', 'audit_log', ['subject_id', 'seq'])
    op.create_index('uq_audit_log_leaf_index', 'audit_log', ['leaf_index'], unique=True)
    op.create_index('ix_audit_log_unsequenced', 'audit_log', ['seq'], postgresql_where=sa.text('leaf_index IS NULL'),
                    sqlite_where=sa.text('leaf_index IS NULL'))

    with op.batch_alter_table('audit_head') as batch:
        batch.add_column(sa.Column('tree_size', sa.BigInteger(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('tree_root', sa.String(64), nullable=True))
        batch.add_column(sa.Column('frontier', JSON, nullable=True))
        batch.add_column(sa.Column('tree_mac', sa.String(64), nullable=True))

    op.create_table(
        'audit_tree_nodes',
        sa.Column('level', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('hash', sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint('level', 'idx', name=op.f('pk_audit_tree_nodes')),
    )
    op.create_table(
        'audit_checkpoints',
        sa.Column('tree_size', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('root', sa.String(64), nullable=False),
        sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('tree_size', name=op.f('pk_audit_checkpoints')),
    )


def downgrade() -> None:
    # Entries written since this revision have no chain hash: they keep an empty prev_hash, and
    # the chain verification of the older code reports them.
    bind = op.get_bind()
    pg = bind.dialect.name == 'postgresql'
    op.drop_table('audit_checkpoints')
    op.drop_table('audit_tree_nodes')
    with op.batch_alter_table('audit_head') as batch:
        batch.drop_column('tree_mac')
        batch.drop_column('frontier')
        batch.drop_column('tree_root')
        batch.drop_column('tree_size')
    op.drop_index('ix_audit_log_unsequenced', table_name='audit_log')
    op.drop_index('uq_audit_log_leaf_index', table_name='audit_log')
    op.drop_index('ix_audit_log_subject_seq', table_name='audit_log')
    if pg:
        op.execute("ALTER TABLE audit_log ALTER COLUMN seq DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS audit_log_seq_seq")
    op.execute("UPDATE audit_log SET prev_hash = '' WHERE prev_hash IS NULL")
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_column('leaf_index')
        batch.drop_column('mac')
        batch.drop_column('nonce')
        batch.alter_column('prev_hash', existing_type=sa.String(64), nullable=False)
        batch.create_index('ix_audit_log_subject_id', ['subject_id'], unique=False)
