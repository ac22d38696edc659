"""NS scaling and NSD version changes: each NS instance's scale status, and what an
operation makes of its NS instance when it completes

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
        batch_op.add_column(sa.Column("outcome", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ns_lcm_op_occs", schema=None) as batch_op:
        batch_op.drop_column("outcome")
    with op.batch_alter_table("ns_instances", schema=None) as batch_op:
        batch_op.drop_column("scale_status")
