"""life meeting: 组织生活会 steps per member and its minutes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "life_meeting_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("study_due", sa.Date(), nullable=False),
        sa.Column("opinions_due", sa.Date(), nullable=False),
        sa.Column("talks_due", sa.Date(), nullable=False),
        sa.Column("materials_due", sa.Date(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("set_at", models.base.UTCDateTime(timezone=True), nullable=False),
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
            name=op.f("fk_life_meeting_plan_branch_id_org_unit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"],
            ["person.id"],
            name=op.f("fk_life_meeting_plan_set_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_life_meeting_plan")),
        sa.UniqueConstraint("branch_id", "year", name=op.f("uq_life_meeting_plan_branch_id_year")),
    )
    with op.batch_alter_table("life_meeting_plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_life_meeting_plan_branch_id"), ["branch_id"], unique=False)

    op.create_table(
        "life_meeting_criticism",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("self_points", sa.Text(), nullable=False),
        sa.Column("received", sa.Text(), nullable=False),
        sa.Column("given", sa.Text(), nullable=False),
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
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_life_meeting_criticism_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_life_meeting_criticism_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["person.id"],
            name=op.f("fk_life_meeting_criticism_recorded_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_life_meeting_criticism")),
        sa.UniqueConstraint(
            "meeting_id", "person_id", name=op.f("uq_life_meeting_criticism_meeting_id_person_id")
        ),
    )
    with op.batch_alter_table("life_meeting_criticism", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_life_meeting_criticism_person_id"), ["person_id"], unique=False)

    op.create_table(
        "life_meeting_measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("content", sa.String(length=500), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
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
            ["created_by_id"],
            ["person.id"],
            name=op.f("fk_life_meeting_measure_created_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["done_by_id"],
            ["person.id"],
            name=op.f("fk_life_meeting_measure_done_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_life_meeting_measure_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["person.id"],
            name=op.f("fk_life_meeting_measure_owner_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_life_meeting_measure")),
    )
    with op.batch_alter_table("life_meeting_measure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_life_meeting_measure_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_life_meeting_measure_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "life_meeting_minutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
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
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_life_meeting_minutes_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["person.id"],
            name=op.f("fk_life_meeting_minutes_recorded_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_life_meeting_minutes")),
        sa.UniqueConstraint("meeting_id", name=op.f("uq_life_meeting_minutes_meeting_id")),
    )
    op.create_table(
        "life_meeting_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "step",
            sa.Enum("study", "opinions", "materials", name="lifestep", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("submitted_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
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
            ["done_by_id"],
            ["person.id"],
            name=op.f("fk_life_meeting_step_done_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_life_meeting_step_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["life_meeting_plan.id"],
            name=op.f("fk_life_meeting_step_plan_id_life_meeting_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_life_meeting_step")),
        sa.UniqueConstraint(
            "plan_id", "person_id", "step", name=op.f("uq_life_meeting_step_plan_id_person_id_step")
        ),
    )
    with op.batch_alter_table("life_meeting_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_life_meeting_step_person_id"), ["person_id"], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    with op.batch_alter_table("life_meeting_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_life_meeting_step_person_id"))

    op.drop_table("life_meeting_step")
    op.drop_table("life_meeting_minutes")
    with op.batch_alter_table("life_meeting_measure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_life_meeting_measure_owner_id"))
        batch_op.drop_index(batch_op.f("ix_life_meeting_measure_meeting_id"))

    op.drop_table("life_meeting_measure")
    with op.batch_alter_table("life_meeting_criticism", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_life_meeting_criticism_person_id"))

    op.drop_table("life_meeting_criticism")
    with op.batch_alter_table("life_meeting_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_life_meeting_plan_branch_id"))

    op.drop_table("life_meeting_plan")
    # ### end Alembic commands ###
