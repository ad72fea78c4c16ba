"""branch_rating: the branch's yearly rating, proposed by the software and confirmed by the committee

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 15:54:56
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "branch_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column(
            "proposed_grade",
            sa.Enum(
                "good", "fairly_good", "average", "poor", name="ratinggrade", native_enum=False, length=32
            ),
            nullable=True,
        ),
        sa.Column("proposal", sa.JSON(), nullable=False),
        sa.Column("proposed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "confirmed_grade",
            sa.Enum(
                "good", "fairly_good", "average", "poor", name="ratinggrade", native_enum=False, length=32
            ),
            nullable=True,
        ),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("change_reason", sa.String(length=500), nullable=True),
        sa.Column(
            "created_at",
            models.base.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["org_unit.id"],
            name=op.f("fk_branch_rating_branch_id_org_unit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["person.id"],
            name=op.f("fk_branch_rating_confirmed_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branch_rating")),
        sa.UniqueConstraint("branch_id", "year", name=op.f("uq_branch_rating_branch_id_year")),
    )
    with op.batch_alter_table("branch_rating", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_branch_rating_branch_id"), ["branch_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("branch_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_branch_rating_branch_id"))

    op.drop_table("branch_rating")
