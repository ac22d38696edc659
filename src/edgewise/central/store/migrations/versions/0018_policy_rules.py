"""real-time policy rules (issue 14 §3): a site's and a tenant's rules (store.policy_tables)

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_rules",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("scope_key", sa.String(length=48), nullable=False),
        sa.Column("site_id", sa.String(length=36), nullable=True),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("scope_key", "name"),
    )
    with op.batch_alter_table("policy_rules", schema=None) as batch_op:
        for column in ("scope_key", "site_id", "tenant_id"):
            batch_op.create_index(batch_op.f(f"ix_policy_rules_{column}"), [column])


def downgrade() -> None:
    op.drop_table("policy_rules")
