"""subscriptions of every SOL005 API in one table: the API each belongs to

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lccn_subscriptions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("api", sa.String(length=8), nullable=False, server_default="nslcm")
        )


def downgrade() -> None:
    op.execute("DELETE FROM lccn_subscriptions WHERE api <> 'nslcm'")
    with op.batch_alter_table("lccn_subscriptions", schema=None) as batch_op:
        batch_op.drop_column("api")
