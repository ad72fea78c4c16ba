"""meetings: a QR scan's chat receipt is queued by the relays, from the attendance rows still due one

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 23:10:24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows recorded before this revision had their receipt queued with them: none is due.
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("receipt_due", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(
            "ix_attendance_receipt_due",
            ["id"],
            unique=False,
            postgresql_where=sa.text("receipt_due"),
            sqlite_where=sa.text("receipt_due"),
        )


def downgrade() -> None:
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_attendance_receipt_due",
            postgresql_where=sa.text("receipt_due"),
            sqlite_where=sa.text("receipt_due"),
        )
        batch_op.drop_column("receipt_due")
