"""rate windows shared by several relays

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-03 07:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_window_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("inflight", sa.Boolean(), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_window_event")),
    )
    with op.batch_alter_table("rate_window_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_window_event_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_rate_window_event_holder"), ["holder"], unique=False)
        batch_op.create_index("ix_rate_window_event_key_at", ["key", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rate_window_event", schema=None) as batch_op:
        batch_op.drop_index("ix_rate_window_event_key_at")
        batch_op.drop_index(batch_op.f("ix_rate_window_event_holder"))
        batch_op.drop_index(batch_op.f("ix_rate_window_event_at"))
    op.drop_table("rate_window_event")
