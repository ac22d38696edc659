"""SD-WAN: sites' WAN links, SLA profiles, application classes, steering policies and tenants'
bounds, overlays and their members, sites' reported link states and overlay keys

Revision ID: 0011
Revises: 0010
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _site(column: str = "site_id", *, key: bool = True) -> list[Any]:
    return [
        sa.Column(column, sa.String(length=36), nullable=not key, primary_key=key),
        sa.ForeignKeyConstraint([column], ["sites.id"], ondelete="CASCADE"),
    ]


def upgrade() -> None:
    op.create_table(
        "site_links",
        *_site(),
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
    )
    for table in ("sla_profiles", "app_classes"):
        op.create_table(
            table,
            sa.Column("name", sa.String(length=64), primary_key=True),
            sa.Column("spec", sa.JSON(), nullable=False),
        )
    op.create_table(
        "steering_policies",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("scope_key", sa.String(length=48), nullable=False),
        sa.Column("site_id", sa.String(length=36), nullable=True),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("class_name", sa.String(length=64), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("sla", sa.String(length=64), nullable=True),
        sa.Column("spread", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("scope_key", "class_name"),
    )
    with op.batch_alter_table("steering_policies", schema=None) as batch_op:
        for column in ("scope", "site_id", "tenant_id", "class_name"):
            batch_op.create_index(batch_op.f(f"ix_steering_policies_{column}"), [column])
    op.create_table(
        "steering_bounds",
        sa.Column("tenant_id", sa.String(length=36), primary_key=True),
        sa.Column("class_name", sa.String(length=64), primary_key=True),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("may_change_sla", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    )
    op.create_table(
        "overlays",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("topology", sa.String(length=16), nullable=False),
        sa.Column("prefix", sa.String(length=18), nullable=False),
        sa.Column("base_port", sa.Integer(), nullable=False),
        sa.Column("key_rotation_h", sa.Integer(), nullable=False),
        sa.Column("hubs", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("tenant_id"),
    )
    op.create_table(
        "overlay_members",
        sa.Column("overlay_id", sa.String(length=36), primary_key=True),
        *_site(),
        sa.Column("address", sa.String(length=15), nullable=False),
        sa.Column("links", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["overlay_id"], ["overlays.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("overlay_id", "address"),
    )
    with op.batch_alter_table("overlay_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_overlay_members_site_id"), ["site_id"])
    op.create_table(
        "site_overlay_keys",
        *_site(),
        sa.Column("tenant_id", sa.String(length=36), primary_key=True),
        sa.Column("public_key", sa.String(length=44), nullable=False),
        sa.Column("next_public_key", sa.String(length=44), nullable=True),
        sa.Column("reported_at", TZ, nullable=False),
    )
    op.create_table(
        "site_link_states",
        *_site(),
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("loss_percent", sa.Float(), nullable=True),
        sa.Column("jitter_ms", sa.Float(), nullable=True),
        sa.Column("address", sa.String(length=18), nullable=True),
        sa.Column("since", TZ, nullable=True),
        sa.Column("counters", sa.JSON(), nullable=False),
        sa.Column("reported_at", TZ, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "site_link_states",
        "site_overlay_keys",
        "overlay_members",
        "overlays",
        "steering_bounds",
        "steering_policies",
        "app_classes",
        "sla_profiles",
        "site_links",
    ):
        op.drop_table(table)
