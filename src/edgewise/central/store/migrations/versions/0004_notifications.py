"""NS life-cycle change subscriptions and the notification outbox

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lccn_subscriptions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("callback_uri", sa.String(length=2048), nullable=False),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("authentication", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("lccn_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lccn_subscriptions_tenant_id"), ["tenant_id"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=1024), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["lccn_subscriptions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_subscription_id"), ["subscription_id"])
        batch_op.create_index(batch_op.f("ix_notifications_state"), ["state"])
        batch_op.create_index(batch_op.f("ix_notifications_next_attempt_at"), ["next_attempt_at"])


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("lccn_subscriptions")
