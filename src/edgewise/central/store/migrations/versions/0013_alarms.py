"""alarms (issue 14): one row per alarm, active or cleared (store.alarm_tables)

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alarms",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("component", sa.String(length=255), nullable=False),
        sa.Column("active_key", sa.String(length=300), nullable=True, unique=True),
        sa.Column(
            "tenant_id", sa.String(length=36),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True,
        ),
        sa.Column(
            "site_id", sa.String(length=36),
            sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=True,
        ),
        sa.Column("managed_object_type", sa.String(length=12), nullable=False),
        sa.Column("managed_object_id", sa.String(length=36), nullable=False),
        sa.Column("vnf_instance_id", sa.String(length=36), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("probable_cause", sa.String(length=128), nullable=False),
        sa.Column("fault_type", sa.String(length=64), nullable=False),
        sa.Column("fault_details", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("event_time", TZ, nullable=False),
        sa.Column("raised_at", TZ, nullable=False),
        sa.Column("changed_at", TZ, nullable=True),
        sa.Column("cleared_at", TZ, nullable=True),
        sa.Column("ack_state", sa.String(length=16), nullable=False),
        sa.Column("acknowledged_at", TZ, nullable=True),
        sa.Column("is_root_cause", sa.Boolean(), nullable=False),
        sa.Column(
            "root_alarm_id", sa.String(length=36),
            sa.ForeignKey("alarms.id", ondelete="SET NULL"), nullable=True,
        ),
    )  # fmt: skip
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.create_index("ix_alarms_kind_cleared", ["kind", "cleared_at"])
        batch_op.create_index(batch_op.f("ix_alarms_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_alarms_site_id"), ["site_id"])
        batch_op.create_index(batch_op.f("ix_alarms_managed_object_id"), ["managed_object_id"])
        batch_op.create_index(batch_op.f("ix_alarms_root_alarm_id"), ["root_alarm_id"])


def downgrade() -> None:
    op.drop_table("alarms")
