"""auto-scaling rules say where they come from and may scale the NS by sites (issue 14 §4):
autoscale_rules.origin, scale_type, add_sites

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("autoscale_rules") as batch:
        batch.add_column(
            sa.Column("origin", sa.String(length=16), nullable=False, server_default="api")
        )
        batch.add_column(
            sa.Column(
                "scale_type", sa.String(length=16), nullable=False, server_default="SCALE_VNF"
            )
        )
        batch.add_column(sa.Column("add_sites", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("autoscale_rules") as batch:
        batch.drop_column("add_sites")
        batch.drop_column("scale_type")
        batch.drop_column("origin")
