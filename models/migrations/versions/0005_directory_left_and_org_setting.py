"""chat accounts that left the platform's directory; organisation-wide settings (the start month)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 11:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chat_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("left_directory_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "org_setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
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
        sa.PrimaryKeyConstraint("key", name=op.f("pk_org_setting")),
    )


def downgrade() -> None:
    op.drop_table("org_setting")
    with op.batch_alter_table("chat_account", schema=None) as batch_op:
        batch_op.drop_column("left_directory_at")
