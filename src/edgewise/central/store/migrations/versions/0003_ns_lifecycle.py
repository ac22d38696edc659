"""network service instances and their life-cycle operation occurrences

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ns_instances",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("nsd_info_id", sa.String(length=36), nullable=False),
        sa.Column("nsd_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=1024), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("flavour_id", sa.String(length=255), nullable=True),
        sa.Column("site_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["nsd_info_id"], ["catalog_items.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ns_instances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ns_instances_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_ns_instances_nsd_info_id"), ["nsd_info_id"])
    op.create_table(
        "ns_lcm_op_occs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("ns_instance_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("operation", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state_entered_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operation_params", sa.JSON(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("sites_done", sa.Integer(), nullable=False),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["ns_instance_id"], ["ns_instances.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ns_lcm_op_occs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ns_lcm_op_occs_ns_instance_id"), ["ns_instance_id"])
        batch_op.create_index(batch_op.f("ix_ns_lcm_op_occs_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_ns_lcm_op_occs_state"), ["state"])


def downgrade() -> None:
    op.drop_table("ns_lcm_op_occs")
    op.drop_table("ns_instances")
