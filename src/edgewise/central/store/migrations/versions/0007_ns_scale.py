"""NS scaling: each NS instance's scale status, and what a SCALE operation leads to

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ns_instances", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scale_status", sa.JSON(), nullable=False, server_default="{}")
        )
    with op.batch_alter_table("ns_lcm_op_occs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scale_plan", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ns_lcm_op_occs", schema=None) as batch_op:
        batch_op.drop_column("scale_plan")
    with op.batch_alter_table("ns_instances", schema=None) as batch_op:
        batch_op.drop_column("scale_status")
