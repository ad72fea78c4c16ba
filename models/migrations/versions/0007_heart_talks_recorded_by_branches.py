"""谈心谈话: the talks a branch records (who, when, topic), one row per talk and one per participant

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 15:08:07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "heart_talk",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("people_key", sa.String(length=200), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", models.base.UTCDateTime(timezone=True), nullable=False),
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
            ["branch_id"], ["org_unit.id"], name=op.f("fk_heart_talk_branch_id_org_unit"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["person.id"],
            name=op.f("fk_heart_talk_recorded_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_heart_talk")),
        sa.UniqueConstraint(
            "branch_id", "held_on", "people_key", name=op.f("uq_heart_talk_branch_id_held_on_people_key")
        ),
    )
    op.create_table(
        "heart_talk_person",
        sa.Column("talk_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_heart_talk_person_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["talk_id"],
            ["heart_talk.id"],
            name=op.f("fk_heart_talk_person_talk_id_heart_talk"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("talk_id", "person_id", name=op.f("pk_heart_talk_person")),
    )
    with op.batch_alter_table("heart_talk_person", schema=None) as batch_op:
        batch_op.create_index("ix_heart_talk_person_person", ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("heart_talk_person", schema=None) as batch_op:
        batch_op.drop_index("ix_heart_talk_person_person")

    op.drop_table("heart_talk_person")
    op.drop_table("heart_talk")
