"""meetings: the 党员活动日's fixed day and the 4+X / 7+X menu items recorded in a 主题党日's minutes

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("minutes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("menu_done", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("menu_extra", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("minutes", schema=None) as batch_op:
        batch_op.drop_column("menu_extra")
        batch_op.drop_column("menu_done")
