"""projects: the quarterly progress bulletins and 排位赛 rankings per committee

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project_bulletin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Date(), nullable=False),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["committee_id"],
            ["org_unit.id"],
            name=op.f("fk_project_bulletin_committee_id_org_unit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["person.id"],
            name=op.f("fk_project_bulletin_confirmed_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_bulletin")),
        sa.UniqueConstraint("committee_id", "quarter", name=op.f("uq_project_bulletin_committee_id_quarter")),
    )
    with op.batch_alter_table("project_bulletin", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_bulletin_committee_id"), ["committee_id"], unique=False)

    op.create_table(
        "project_ranking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bulletin_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("due", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("late", sa.Integer(), nullable=False),
        sa.Column("months_reported", sa.Integer(), nullable=False),
        sa.Column("red_flags", sa.Integer(), nullable=False),
        sa.Column("snails", sa.Integer(), nullable=False),
        sa.Column("open_orders", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bulletin_id"],
            ["project_bulletin.id"],
            name=op.f("fk_project_ranking_bulletin_id_project_bulletin"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["secretary_project.id"],
            name=op.f("fk_project_ranking_project_id_secretary_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_ranking")),
        sa.UniqueConstraint(
            "bulletin_id", "project_id", name=op.f("uq_project_ranking_bulletin_id_project_id")
        ),
    )
    with op.batch_alter_table("project_ranking", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_ranking_bulletin_id"), ["bulletin_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_project_ranking_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("project_ranking", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_ranking_project_id"))
        batch_op.drop_index(batch_op.f("ix_project_ranking_bulletin_id"))

    op.drop_table("project_ranking")
    with op.batch_alter_table("project_bulletin", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_bulletin_committee_id"))

    op.drop_table("project_bulletin")
