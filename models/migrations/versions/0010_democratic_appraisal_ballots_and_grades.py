"""appraisal: 民主评议党员 self-assessments, ballots and grades

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRADE = sa.Enum(
    "excellent", "qualified", "basically_qualified", "unqualified", name="grade", native_enum=False, length=32
)
HANDLING = sa.Enum("rectify", "persuade", "remove", name="handling", native_enum=False, length=32)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(
            name,
            models.base.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        )
        for name in ("created_at", "updated_at")
    ]


def upgrade() -> None:
    op.create_table(
        "appraisal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("opens_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("proposed_on", sa.Date(), nullable=True),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("proposed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", models.base.UTCDateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["org_unit.id"], name=op.f("fk_appraisal_branch_id_org_unit"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["person.id"],
            name=op.f("fk_appraisal_decided_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"],
            ["person.id"],
            name=op.f("fk_appraisal_opened_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"],
            ["person.id"],
            name=op.f("fk_appraisal_proposed_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appraisal")),
        sa.UniqueConstraint("branch_id", "year", name=op.f("uq_appraisal_branch_id_year")),
    )
    op.create_table(
        "appraisal_member",
        sa.Column("appraisal_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("probationary", sa.Boolean(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("has_voted", sa.Boolean(), nullable=False),
        sa.Column("self_assessment", sa.Text(), nullable=True),
        sa.Column("self_assessed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appraisal_id"],
            ["appraisal.id"],
            name=op.f("fk_appraisal_member_appraisal_id_appraisal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_appraisal_member_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("appraisal_id", "person_id", name=op.f("pk_appraisal_member")),
    )
    with op.batch_alter_table("appraisal_member", schema=None) as batch_op:
        batch_op.create_index("ix_appraisal_member_person", ["person_id"], unique=False)
    # No voter, no time, a random key and (SQLite) no rowid: see models/appraisal.py.
    op.create_table(
        "appraisal_ballot",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("appraisal_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("grade", GRADE, nullable=False),
        sa.ForeignKeyConstraint(
            ["appraisal_id"],
            ["appraisal.id"],
            name=op.f("fk_appraisal_ballot_appraisal_id_appraisal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["person.id"],
            name=op.f("fk_appraisal_ballot_subject_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appraisal_ballot")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("appraisal_ballot", schema=None) as batch_op:
        batch_op.create_index("ix_appraisal_ballot_subject", ["appraisal_id", "subject_id"], unique=False)
    op.create_table(
        "appraisal_grade",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appraisal_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("proposed_grade", GRADE, nullable=True),
        sa.Column("proposed_handling", HANDLING, nullable=True),
        sa.Column("decided_grade", GRADE, nullable=True),
        sa.Column("decided_handling", HANDLING, nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["appraisal_id"],
            ["appraisal.id"],
            name=op.f("fk_appraisal_grade_appraisal_id_appraisal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["org_unit.id"],
            name=op.f("fk_appraisal_grade_branch_id_org_unit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_appraisal_grade_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appraisal_grade")),
        sa.UniqueConstraint(
            "appraisal_id", "person_id", name=op.f("uq_appraisal_grade_appraisal_id_person_id")
        ),
    )
    with op.batch_alter_table("appraisal_grade", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appraisal_grade_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("appraisal_grade", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appraisal_grade_person_id"))
    op.drop_table("appraisal_grade")
    with op.batch_alter_table("appraisal_ballot", schema=None) as batch_op:
        batch_op.drop_index("ix_appraisal_ballot_subject")
    op.drop_table("appraisal_ballot")
    with op.batch_alter_table("appraisal_member", schema=None) as batch_op:
        batch_op.drop_index("ix_appraisal_member_person")
    op.drop_table("appraisal_member")
    op.drop_table("appraisal")
