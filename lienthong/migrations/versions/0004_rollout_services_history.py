"""Rollout tracker: services, pre-2025 provinces as history, dated snapshots, signal proposals

Existing tracker rows become the criminal-record certificate service (the one the tracker's fields
were modelled on: letter 3546/TCTTKĐA), unit set vn34, recorded; existing changes take effect on
the Vietnam date they were made and count as manual edits.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
TS = sa.DateTime(timezone=True)

# Kept in step with lienthong.ops.service.BUILTIN_SERVICES (that list is re-ensured at run time).
BUILTIN = [
    ('judicial_vneid', 'Cấp Phiếu lý lịch tư pháp trên VNeID', 1),
    ('health_book', 'Sổ sức khỏe điện tử', 2),
    ('birth_linked', 'Liên thông thủ tục khai sinh', 3),
    ('death_linked', 'Liên thông thủ tục khai tử', 4),
    ('medical_kiosk', 'Ki-ốt y tế', 5),
]


def upgrade() -> None:
    services = op.create_table(
        'ops_rollout_services',
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('builtin', sa.Boolean(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('created_by', sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_ops_rollout_services')),
    )
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    op.bulk_insert(services, [{'key': k, 'name': n, 'description': '', 'builtin': True, 'position': p,
                               'created_at': now, 'created_by': None} for k, n, p in BUILTIN])

    # Units: service, unit set, basis. Existing rows: the criminal-record service, today's provinces.
    with op.batch_alter_table('ops_rollout_units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_key', sa.String(length=40), nullable=False,
                                      server_default='judicial_vneid'))
        batch_op.add_column(sa.Column('unit_set', sa.String(length=4), nullable=False, server_default='vn34'))
        batch_op.add_column(sa.Column('basis', sa.String(length=8), nullable=False, server_default='recorded'))
    with op.batch_alter_table('ops_rollout_units', schema=None) as batch_op:
        batch_op.alter_column('service_key', server_default=None)
        batch_op.alter_column('unit_set', server_default=None)
        batch_op.alter_column('basis', server_default=None)
        batch_op.drop_constraint('province_facility', type_='unique')
        batch_op.drop_index('uq_ops_rollout_units_province_only', sqlite_where=sa.text('facility_code IS NULL'),
                            postgresql_where=sa.text('facility_code IS NULL'))
        batch_op.create_index('uq_ops_rollout_units_province_only', ['service_key', 'unit_set', 'province_code'],
                              unique=True, sqlite_where=sa.text('facility_code IS NULL'),
                              postgresql_where=sa.text('facility_code IS NULL'))
        batch_op.create_index('ix_ops_rollout_units_service', ['service_key', 'unit_set'], unique=False)
        batch_op.create_unique_constraint('uq_ops_rollout_units_service_unit',
                                          ['service_key', 'unit_set', 'province_code', 'facility_code'])
        batch_op.create_foreign_key(op.f('fk_ops_rollout_units_service_key_ops_rollout_services'),
                                    'ops_rollout_services', ['service_key'], ['key'])
        batch_op.create_check_constraint(op.f('ck_ops_rollout_units_unit_set'), "unit_set IN ('vn34','vn63')")
        batch_op.create_check_constraint(op.f('ck_ops_rollout_units_basis'), "basis IN ('recorded','derived')")

    # Changes: the day each took effect and where it came from.
    with op.batch_alter_table('ops_rollout_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effective_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('source', sa.String(length=8), nullable=False, server_default='manual'))
        batch_op.add_column(sa.Column('source_ref', sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE ops_rollout_changes SET effective_on = (at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date")
    else:
        op.execute("UPDATE ops_rollout_changes SET effective_on = date(substr(at, 1, 19), '+7 hours')")
    with op.batch_alter_table('ops_rollout_changes', schema=None) as batch_op:
        batch_op.alter_column('effective_on', existing_type=sa.Date(), nullable=False)
        batch_op.alter_column('source', server_default=None)
        batch_op.create_index(op.f('ix_ops_rollout_changes_effective_on'), ['effective_on'], unique=False)
        batch_op.create_check_constraint(op.f('ck_ops_rollout_changes_source'),
                                         "source IN ('manual','import','merger','signal')")

    op.create_table(
        'ops_rollout_snapshots',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service_key', sa.String(length=40), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('unit_set', sa.String(length=4), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('source_url', sa.String(length=500), nullable=True),
        sa.Column('verified', sa.Boolean(), nullable=False),
        sa.Column('verification', sa.Text(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('imported_at', TS, nullable=False),
        sa.Column('imported_by', sa.String(length=120), nullable=False),
        sa.CheckConstraint("kind IN ('table','figures')", name=op.f('ck_ops_rollout_snapshots_kind')),
        sa.ForeignKeyConstraint(['service_key'], ['ops_rollout_services.key'],
                                name=op.f('fk_ops_rollout_snapshots_service_key_ops_rollout_services')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ops_rollout_snapshots')),
        sa.UniqueConstraint('service_key', 'as_of', 'kind', name='uq_ops_rollout_snapshots_service_date_kind'),
    )
    op.create_table(
        'ops_rollout_snapshot_rows',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('snapshot_id', sa.Integer(), nullable=False),
        sa.Column('row_no', sa.Integer(), nullable=False),
        sa.Column('province_code', sa.Integer(), nullable=False),
        sa.Column('province_label', sa.String(length=120), nullable=False),
        sa.Column('cells', JSON, nullable=False),
        sa.Column('values', JSON, nullable=False),
        sa.Column('uncertain', JSON, nullable=False),
        sa.ForeignKeyConstraint(['snapshot_id'], ['ops_rollout_snapshots.id'], ondelete='CASCADE',
                                name=op.f('fk_ops_rollout_snapshot_rows_snapshot_id_ops_rollout_snapshots')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ops_rollout_snapshot_rows')),
        sa.UniqueConstraint('snapshot_id', 'province_code', name='uq_ops_rollout_snapshot_rows_province'),
    )
    op.create_index(op.f('ix_ops_rollout_snapshot_rows_snapshot_id'), 'ops_rollout_snapshot_rows', ['snapshot_id'])
    op.create_table(
        'ops_rollout_figures',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('snapshot_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.Column('value', sa.Integer(), nullable=False),
        sa.Column('of', sa.Integer(), nullable=True),
        sa.Column('qualifier', sa.String(length=8), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.CheckConstraint("qualifier IN ('exact','at_least')", name=op.f('ck_ops_rollout_figures_qualifier')),
        sa.ForeignKeyConstraint(['snapshot_id'], ['ops_rollout_snapshots.id'], ondelete='CASCADE',
                                name=op.f('fk_ops_rollout_figures_snapshot_id_ops_rollout_snapshots')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ops_rollout_figures')),
        sa.UniqueConstraint('snapshot_id', 'key', name='uq_ops_rollout_figures_key'),
    )
    op.create_index(op.f('ix_ops_rollout_figures_snapshot_id'), 'ops_rollout_figures', ['snapshot_id'])
    op.create_table(
        'ops_rollout_proposals',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('signal', sa.String(length=40), nullable=False),
        sa.Column('proposed', JSON, nullable=False),
        sa.Column('evidence', JSON, nullable=False),
        sa.Column('observed_at', TS, nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('decided_at', TS, nullable=True),
        sa.Column('decided_by', sa.String(length=120), nullable=True),
        sa.Column('decided_by_name', sa.String(length=160), nullable=False),
        sa.Column('decision_note', sa.Text(), nullable=False),
        sa.CheckConstraint("state IN ('pending','confirmed','rejected')", name=op.f('ck_ops_rollout_proposals_state')),
        sa.ForeignKeyConstraint(['unit_id'], ['ops_rollout_units.id'], ondelete='CASCADE',
                                name=op.f('fk_ops_rollout_proposals_unit_id_ops_rollout_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ops_rollout_proposals')),
        sa.UniqueConstraint('unit_id', 'signal', name='uq_ops_rollout_proposals_unit_signal'),
    )
    op.create_index(op.f('ix_ops_rollout_proposals_state'), 'ops_rollout_proposals', ['state'])
    op.create_index(op.f('ix_ops_rollout_proposals_unit_id'), 'ops_rollout_proposals', ['unit_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_ops_rollout_proposals_unit_id'), table_name='ops_rollout_proposals')
    op.drop_index(op.f('ix_ops_rollout_proposals_state'), table_name='ops_rollout_proposals')
    op.drop_table('ops_rollout_proposals')
    op.drop_index(op.f('ix_ops_rollout_figures_snapshot_id'), table_name='ops_rollout_figures')
    op.drop_table('ops_rollout_figures')
    op.drop_index(op.f('ix_ops_rollout_snapshot_rows_snapshot_id'), table_name='ops_rollout_snapshot_rows')
    op.drop_table('ops_rollout_snapshot_rows')
    op.drop_table('ops_rollout_snapshots')

    # Only the criminal-record service's current provinces fit the one-service schema.
    keep = "service_key = 'judicial_vneid' AND unit_set = 'vn34'"
    op.execute(f"DELETE FROM ops_rollout_changes WHERE unit_id IN (SELECT id FROM ops_rollout_units WHERE NOT ({keep}))")
    op.execute(f"DELETE FROM ops_rollout_units WHERE NOT ({keep})")
    with op.batch_alter_table('ops_rollout_changes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_ops_rollout_changes_source'), type_='check')
        batch_op.drop_index(op.f('ix_ops_rollout_changes_effective_on'))
        batch_op.drop_column('source_ref')
        batch_op.drop_column('source')
        batch_op.drop_column('effective_on')
    with op.batch_alter_table('ops_rollout_units', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_ops_rollout_units_basis'), type_='check')
        batch_op.drop_constraint(op.f('ck_ops_rollout_units_unit_set'), type_='check')
        batch_op.drop_constraint(op.f('fk_ops_rollout_units_service_key_ops_rollout_services'), type_='foreignkey')
        batch_op.drop_constraint('uq_ops_rollout_units_service_unit', type_='unique')
        batch_op.drop_index('ix_ops_rollout_units_service')
        batch_op.drop_index('uq_ops_rollout_units_province_only', sqlite_where=sa.text('facility_code IS NULL'),
                            postgresql_where=sa.text('facility_code IS NULL'))
        batch_op.create_index('uq_ops_rollout_units_province_only', ['province_code'], unique=True,
                              sqlite_where=sa.text('facility_code IS NULL'),
                              postgresql_where=sa.text('facility_code IS NULL'))
        batch_op.create_unique_constraint('province_facility', ['province_code', 'facility_code'])
        batch_op.drop_column('basis')
        batch_op.drop_column('unit_set')
        batch_op.drop_column('service_key')
    op.drop_table('ops_rollout_services')
