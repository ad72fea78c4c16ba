"""ledger exports built in the background: the job row and its finished file in chunks

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 14:42:17
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_export",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),  # null: the whole of the requester's scope
        sa.Column("ledger", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=False),
        sa.Column("scope_key", sa.Text(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["person.id"],
            name=op.f("fk_ledger_export_requested_by_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_ledger_export_unit_id_org_unit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_export")),
    )
    with op.batch_alter_table("ledger_export", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_export_requester", ["requested_by", "unit_id"], unique=False)
        batch_op.create_index("ix_ledger_export_status", ["status", "id"], unique=False)

    op.create_table(
        "ledger_export_chunk",
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["ledger_export.id"],
            name=op.f("fk_ledger_export_chunk_export_id_ledger_export"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("export_id", "seq", name=op.f("pk_ledger_export_chunk")),
    )


def downgrade() -> None:
    op.drop_table("ledger_export_chunk")
    with op.batch_alter_table("ledger_export", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_export_status")
        batch_op.drop_index("ix_ledger_export_requester")

    op.drop_table("ledger_export")
