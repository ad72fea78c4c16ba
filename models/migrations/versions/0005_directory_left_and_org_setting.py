"""chat accounts that left the platform's directory; organisation-wide settings (the start month);
the index behind invalidated_meeting_ids

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 11:50:00
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

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
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.create_index("ix_observation_outcome_meeting", ["outcome", "meeting_id"], unique=False)
    start = _start_month_of_an_existing_install()
    if start is not None:
        op.execute(
            sa.text("INSERT INTO org_setting (key, value) VALUES ('start_month', :value)").bindparams(
                value=start
            )
        )


def _start_month_of_an_existing_install() -> str | None:
    """An installation upgraded to this version keeps running its months: the first month it scored,
    or else the month after its people were first added (what the first roster import sets now).
    A new, empty database gets none: its first roster import sets it."""
    conn = op.get_bind()
    first_scored = conn.execute(sa.text("SELECT min(month) FROM monthly_score")).scalar()
    if first_scored is not None:
        return str(first_scored)[:7]
    first_person = conn.execute(sa.text("SELECT min(created_at) FROM person")).scalar()
    if first_person is None:
        return None
    day = first_person if isinstance(first_person, datetime) else datetime.fromisoformat(str(first_person))
    day = (day + timedelta(hours=8)).date()  # the default zone; a day's error matters only at a month end
    return f"{day.year + day.month // 12}-{day.month % 12 + 1:02d}"


def downgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index("ix_observation_outcome_meeting")
    op.drop_table("org_setting")
    with op.batch_alter_table("chat_account", schema=None) as batch_op:
        batch_op.drop_column("left_directory_at")
