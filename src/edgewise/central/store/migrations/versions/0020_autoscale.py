"""auto-scaling rules (issue 14 §4): store.autoscale_tables

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.create_table(
        "autoscale_rules",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("ns_instance_id", sa.String(length=36), nullable=False),
        sa.Column("vnf", sa.String(length=64), nullable=False),
        sa.Column("aspect_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("scale_out_above", sa.Float(), nullable=False),
        sa.Column("scale_in_below", sa.Float(), nullable=False),
        sa.Column("cooldown_s", sa.Integer(), nullable=False),
        sa.Column("min_level", sa.Integer(), nullable=False),
        sa.Column("max_level", sa.Integer(), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("evaluated_at", moment, nullable=False),
        sa.Column("counter", sa.Float(), nullable=True),
        sa.Column("counter_at", moment, nullable=True),
        sa.Column("scaled_at", moment, nullable=True),
        sa.Column("last_decision", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["ns_instance_id"], ["ns_instances.id"], ondelete="CASCADE"),
    )
    with op.batch_alter_table("autoscale_rules", schema=None) as batch_op:
        for column in ("tenant_id", "ns_instance_id", "evaluated_at"):
            batch_op.create_index(batch_op.f(f"ix_autoscale_rules_{column}"), [column])


def downgrade() -> None:
    op.drop_table("autoscale_rules")
