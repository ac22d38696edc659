"""what each site ran before an NS LCM operation, for its rollback

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ns_lcm_op_occs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("ns_lcm_op_occs", schema=None) as batch_op:
        batch_op.drop_column("previous")
