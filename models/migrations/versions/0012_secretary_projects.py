"""projects: 书记项目, their calls, reviewers, reviews, milestones, monthly progress, reminders, 红旗/蜗牛 picks and 督办单

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("per_secretary", sa.Integer(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
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
            ["set_by_id"], ["person.id"], name=op.f("fk_project_call_set_by_id_person"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_project_call_unit_id_org_unit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_call")),
        sa.UniqueConstraint("unit_id", "year", name=op.f("uq_project_call_unit_id_year")),
    )
    with op.batch_alter_table("project_call", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_call_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "secretary_project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("secretary_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("expected", sa.Text(), nullable=False),
        sa.Column("leaders", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "submitted",
                "returned",
                "pre_accepted",
                "accepted",
                "not_accepted",
                name="projectstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("submitted_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("prereviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("prereviewed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("return_reason", sa.String(length=500), nullable=True),
        sa.Column("return_count", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("decided_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rating_opens_on", sa.Date(), nullable=True),
        sa.Column("rating_closes_on", sa.Date(), nullable=True),
        sa.Column("rating_public", sa.Boolean(), nullable=False),
        sa.Column("satisfaction", sa.Float(), nullable=True),
        sa.Column("excellent_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("excellent_by_id", sa.Integer(), nullable=True),
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
            ["excellent_by_id"],
            ["person.id"],
            name=op.f("fk_secretary_project_excellent_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["prereviewed_by_id"],
            ["person.id"],
            name=op.f("fk_secretary_project_prereviewed_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["secretary_id"],
            ["person.id"],
            name=op.f("fk_secretary_project_secretary_id_person"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_unit.id"],
            name=op.f("fk_secretary_project_unit_id_org_unit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secretary_project")),
    )
    with op.batch_alter_table("secretary_project", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_secretary_project_secretary_id"), ["secretary_id"], unique=False)
        batch_op.create_index("ix_secretary_project_status_year", ["status", "year"], unique=False)
        batch_op.create_index("ix_secretary_project_unit_year", ["unit_id", "year"], unique=False)

    op.create_table(
        "project_milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["secretary_project.id"],
            name=op.f("fk_project_milestone_project_id_secretary_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_milestone")),
        sa.UniqueConstraint("project_id", "seq", name=op.f("uq_project_milestone_project_id_seq")),
    )
    with op.batch_alter_table("project_milestone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_milestone_project_id"), ["project_id"], unique=False)

    op.create_table(
        "project_pick",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column(
            "proposed_kind",
            sa.Enum("red_flag", "snail", name="pickkind", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column(
            "chosen_kind",
            sa.Enum("red_flag", "snail", name="pickkind", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["committee_id"],
            ["org_unit.id"],
            name=op.f("fk_project_pick_committee_id_org_unit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["person.id"],
            name=op.f("fk_project_pick_decided_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["secretary_project.id"],
            name=op.f("fk_project_pick_project_id_secretary_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_pick")),
        sa.UniqueConstraint(
            "committee_id", "month", "project_id", name=op.f("uq_project_pick_committee_id_month_project_id")
        ),
    )
    with op.batch_alter_table("project_pick", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_pick_committee_id"), ["committee_id"], unique=False)

    op.create_table(
        "project_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("rung", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("sent_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["secretary_project.id"],
            name=op.f("fk_project_reminder_project_id_secretary_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_reminder")),
        sa.UniqueConstraint(
            "project_id", "month", "rung", name=op.f("uq_project_reminder_project_id_month_rung")
        ),
    )
    op.create_table(
        "project_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column("scored_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["secretary_project.id"],
            name=op.f("fk_project_review_project_id_secretary_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["person.id"],
            name=op.f("fk_project_review_reviewer_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_review")),
        sa.UniqueConstraint(
            "project_id", "reviewer_id", name=op.f("uq_project_review_project_id_reviewer_id")
        ),
    )
    with op.batch_alter_table("project_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_review_project_id"), ["project_id"], unique=False)

    op.create_table(
        "project_reviewer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["project_call.id"],
            name=op.f("fk_project_reviewer_call_id_project_call"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_project_reviewer_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_reviewer")),
        sa.UniqueConstraint("call_id", "person_id", name=op.f("uq_project_reviewer_call_id_person_id")),
    )
    with op.batch_alter_table("project_reviewer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_reviewer_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_project_reviewer_person_id"), ["person_id"], unique=False)

    op.create_table(
        "project_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("addressee_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open", "reported", "closed", "reopened", name="orderstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("report_note", sa.String(length=1000), nullable=True),
        sa.Column("reported_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reopen_reason", sa.String(length=500), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("missed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("interview_at", models.base.UTCDateTime(timezone=True), nullable=True),
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
            ["addressee_id"],
            ["person.id"],
            name=op.f("fk_project_order_addressee_id_person"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"],
            ["person.id"],
            name=op.f("fk_project_order_issued_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["project_milestone.id"],
            name=op.f("fk_project_order_milestone_id_project_milestone"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["secretary_project.id"],
            name=op.f("fk_project_order_project_id_secretary_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_order")),
    )
    with op.batch_alter_table("project_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_order_project_id"), ["project_id"], unique=False)
        batch_op.create_index("ix_project_order_status_due", ["status", "due_on"], unique=False)

    op.create_table(
        "project_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=True),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("reported_by_id", sa.Integer(), nullable=True),
        sa.Column("reported_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["project_milestone.id"],
            name=op.f("fk_project_progress_milestone_id_project_milestone"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["secretary_project.id"],
            name=op.f("fk_project_progress_project_id_secretary_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reported_by_id"],
            ["person.id"],
            name=op.f("fk_project_progress_reported_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_progress")),
    )
    with op.batch_alter_table("project_progress", schema=None) as batch_op:
        batch_op.create_index("ix_project_progress_project_month", ["project_id", "month"], unique=False)

    op.create_table(
        "project_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("public_key", sa.String(length=64), nullable=True),
        sa.Column(
            "verdict",
            sa.Enum(
                "satisfied", "fairly", "dissatisfied", name="ratingverdict", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column("rated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_project_rating_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["secretary_project.id"],
            name=op.f("fk_project_rating_project_id_secretary_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_rating")),
        sa.UniqueConstraint("project_id", "person_id", name=op.f("uq_project_rating_project_id_person_id")),
        sa.UniqueConstraint("project_id", "public_key", name=op.f("uq_project_rating_project_id_public_key")),
    )
    with op.batch_alter_table("project_rating", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_rating_project_id"), ["project_id"], unique=False)

    op.create_table(
        "project_judge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["project_call.id"],
            name=op.f("fk_project_judge_call_id_project_call"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_project_judge_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_judge")),
        sa.UniqueConstraint("call_id", "person_id", name=op.f("uq_project_judge_call_id_person_id")),
    )
    with op.batch_alter_table("project_judge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_judge_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_project_judge_person_id"), ["person_id"], unique=False)

    op.create_table(
        "project_show_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("judge_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column("scored_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["judge_id"],
            ["person.id"],
            name=op.f("fk_project_show_score_judge_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["secretary_project.id"],
            name=op.f("fk_project_show_score_project_id_secretary_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_show_score")),
        sa.UniqueConstraint("project_id", "judge_id", name=op.f("uq_project_show_score_project_id_judge_id")),
    )
    with op.batch_alter_table("project_show_score", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_show_score_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("project_show_score", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_show_score_project_id"))

    op.drop_table("project_show_score")
    with op.batch_alter_table("project_judge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_judge_person_id"))
        batch_op.drop_index(batch_op.f("ix_project_judge_call_id"))

    op.drop_table("project_judge")
    with op.batch_alter_table("project_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_rating_project_id"))

    op.drop_table("project_rating")
    with op.batch_alter_table("project_progress", schema=None) as batch_op:
        batch_op.drop_index("ix_project_progress_project_month")

    op.drop_table("project_progress")
    with op.batch_alter_table("project_order", schema=None) as batch_op:
        batch_op.drop_index("ix_project_order_status_due")
        batch_op.drop_index(batch_op.f("ix_project_order_project_id"))

    op.drop_table("project_order")
    with op.batch_alter_table("project_reviewer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_reviewer_person_id"))
        batch_op.drop_index(batch_op.f("ix_project_reviewer_call_id"))

    op.drop_table("project_reviewer")
    with op.batch_alter_table("project_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_review_project_id"))

    op.drop_table("project_review")
    op.drop_table("project_reminder")
    with op.batch_alter_table("project_pick", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_pick_committee_id"))

    op.drop_table("project_pick")
    with op.batch_alter_table("project_milestone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_milestone_project_id"))

    op.drop_table("project_milestone")
    with op.batch_alter_table("secretary_project", schema=None) as batch_op:
        batch_op.drop_index("ix_secretary_project_unit_year")
        batch_op.drop_index("ix_secretary_project_status_year")
        batch_op.drop_index(batch_op.f("ix_secretary_project_secretary_id"))

    op.drop_table("secretary_project")
    with op.batch_alter_table("project_call", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_call_unit_id"))

    op.drop_table("project_call")
