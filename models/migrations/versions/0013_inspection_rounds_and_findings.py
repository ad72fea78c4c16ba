"""inspection: 督查/巡查 lists, rounds, findings, rectifications, patrol draws, cross-checks and 包保联系

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inspection_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('list_kind', sa.Enum('supervision', 'patrol', 'cross', 'guidance', name='roundkind', native_enum=False, length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_item')),
    sa.UniqueConstraint('year', 'list_kind', 'title', name=op.f('uq_inspection_item_year_list_kind_title'))
    )
    op.create_table('inspection_liaison',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('committee_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['person.id'], name=op.f('fk_inspection_liaison_assigned_by_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['committee_id'], ['org_unit.id'], name=op.f('fk_inspection_liaison_committee_id_org_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_inspection_liaison_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_liaison')),
    sa.UniqueConstraint('person_id', 'committee_id', name=op.f('uq_inspection_liaison_person_id_committee_id'))
    )
    with op.batch_alter_table('inspection_liaison', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_liaison_committee_id'), ['committee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_liaison_person_id'), ['person_id'], unique=False)

    op.create_table('inspection_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('supervision', 'patrol', 'cross', 'guidance', name='roundkind', native_enum=False, length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('scope_kind', sa.String(length=16), nullable=False),
    sa.Column('target_kind', sa.String(length=16), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('month', sa.Date(), nullable=True),
    sa.Column('seed', sa.Integer(), nullable=True),
    sa.Column('share', sa.Float(), nullable=True),
    sa.Column('visible_from', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_inspection_round_created_by_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_inspection_round_unit_id_org_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_round'))
    )
    with op.batch_alter_table('inspection_round', schema=None) as batch_op:
        batch_op.create_index('ix_inspection_round_kind_month', ['kind', 'month'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_round_unit_id'), ['unit_id'], unique=False)

    op.create_table('inspection_round_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=True),
    sa.Column('checker_branch_id', sa.Integer(), nullable=True),
    sa.Column('visited_on', sa.Date(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['org_unit.id'], name=op.f('fk_inspection_round_unit_branch_id_org_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['checker_branch_id'], ['org_unit.id'], name=op.f('fk_inspection_round_unit_checker_branch_id_org_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['inspector_id'], ['person.id'], name=op.f('fk_inspection_round_unit_inspector_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['inspection_round.id'], name=op.f('fk_inspection_round_unit_round_id_inspection_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_round_unit')),
    sa.UniqueConstraint('round_id', 'branch_id', name=op.f('uq_inspection_round_unit_round_id_branch_id'))
    )
    with op.batch_alter_table('inspection_round_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_round_unit_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_round_unit_inspector_id'), ['inspector_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_round_unit_round_id'), ['round_id'], unique=False)

    op.create_table('inspection_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_unit_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('item_title', sa.String(length=200), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('photos', sa.JSON(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('corrected_by_id', sa.Integer(), nullable=True),
    sa.Column('corrected_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('correction_reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['org_unit.id'], name=op.f('fk_inspection_finding_branch_id_org_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['corrected_by_id'], ['person.id'], name=op.f('fk_inspection_finding_corrected_by_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['inspection_item.id'], name=op.f('fk_inspection_finding_item_id_inspection_item'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['person.id'], name=op.f('fk_inspection_finding_recorded_by_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_unit_id'], ['inspection_round_unit.id'], name=op.f('fk_inspection_finding_round_unit_id_inspection_round_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_finding')),
    sa.UniqueConstraint('round_unit_id', 'item_title', name=op.f('uq_inspection_finding_round_unit_id_item_title'))
    )
    with op.batch_alter_table('inspection_finding', schema=None) as batch_op:
        batch_op.create_index('ix_inspection_finding_branch', ['branch_id', 'recorded_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_finding_round_unit_id'), ['round_unit_id'], unique=False)

    op.create_table('inspection_rectification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'reported', 'closed', 'reopened', name='rectificationstatus', native_enum=False, length=32), nullable=False),
    sa.Column('report_note', sa.String(length=1000), nullable=True),
    sa.Column('reported_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('reopen_reason', sa.String(length=500), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['org_unit.id'], name=op.f('fk_inspection_rectification_branch_id_org_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['closed_by_id'], ['person.id'], name=op.f('fk_inspection_rectification_closed_by_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['finding_id'], ['inspection_finding.id'], name=op.f('fk_inspection_rectification_finding_id_inspection_finding'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['person.id'], name=op.f('fk_inspection_rectification_owner_id_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_rectification')),
    sa.UniqueConstraint('finding_id', name=op.f('uq_inspection_rectification_finding_id'))
    )
    with op.batch_alter_table('inspection_rectification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_rectification_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_rectification_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('ix_inspection_rectification_status_due', ['status', 'due_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('inspection_rectification', schema=None) as batch_op:
        batch_op.drop_index('ix_inspection_rectification_status_due')
        batch_op.drop_index(batch_op.f('ix_inspection_rectification_owner_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_rectification_branch_id'))

    op.drop_table('inspection_rectification')
    with op.batch_alter_table('inspection_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_finding_round_unit_id'))
        batch_op.drop_index('ix_inspection_finding_branch')

    op.drop_table('inspection_finding')
    with op.batch_alter_table('inspection_round_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_round_unit_round_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_round_unit_inspector_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_round_unit_branch_id'))

    op.drop_table('inspection_round_unit')
    with op.batch_alter_table('inspection_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_round_unit_id'))
        batch_op.drop_index('ix_inspection_round_kind_month')

    op.drop_table('inspection_round')
    with op.batch_alter_table('inspection_liaison', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_liaison_person_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_liaison_committee_id'))

    op.drop_table('inspection_liaison')
    op.drop_table('inspection_item')
