"""observer rating: the observers' yearly rating and training

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRADE = sa.Enum(
    "excellent", "competent", "basic", "incompetent", name="observergrade", native_enum=False, length=32
)


def _timestamps() -> list[sa.Column]:
    return [
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
    ]


def upgrade() -> None:
    op.create_table(
        "observer_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("observer_id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("proposed_grade", GRADE, nullable=True),
        sa.Column("proposal", sa.JSON(), nullable=False),
        sa.Column("proposed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_grade", GRADE, nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("change_reason", sa.String(length=500), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["committee_id"],
            ["org_unit.id"],
            name=op.f("fk_observer_rating_committee_id_org_unit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["person.id"],
            name=op.f("fk_observer_rating_confirmed_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["observer_id"],
            ["person.id"],
            name=op.f("fk_observer_rating_observer_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observer_rating")),
        sa.UniqueConstraint(
            "observer_id",
            "committee_id",
            "year",
            name=op.f("uq_observer_rating_observer_id_committee_id_year"),
        ),
    )
    with op.batch_alter_table("observer_rating", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_observer_rating_committee_id"), ["committee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_observer_rating_observer_id"), ["observer_id"], unique=False)

    op.create_table(
        "observer_training",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("hours", sa.Numeric(precision=4, scale=1), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["person.id"],
            name=op.f("fk_observer_training_recorded_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_unit.id"],
            name=op.f("fk_observer_training_unit_id_org_unit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observer_training")),
    )
    with op.batch_alter_table("observer_training", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_observer_training_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "observer_training_attendee",
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("observer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["observer_id"],
            ["person.id"],
            name=op.f("fk_observer_training_attendee_observer_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["training_id"],
            ["observer_training.id"],
            name=op.f("fk_observer_training_attendee_training_id_observer_training"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("training_id", "observer_id", name=op.f("pk_observer_training_attendee")),
    )
    with op.batch_alter_table("observer_training_attendee", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_observer_training_attendee_observer_id"), ["observer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("observer_training_attendee", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observer_training_attendee_observer_id"))
    op.drop_table("observer_training_attendee")
    with op.batch_alter_table("observer_training", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observer_training_unit_id"))
    op.drop_table("observer_training")
    with op.batch_alter_table("observer_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observer_rating_observer_id"))
        batch_op.drop_index(batch_op.f("ix_observer_rating_committee_id"))
    op.drop_table("observer_rating")
