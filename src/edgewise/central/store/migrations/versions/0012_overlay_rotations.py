"""overlay key rotations under way (orchestrator.rotations) and the revisions they wait for

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "overlay_key_rotations",
        sa.Column("overlay_id", sa.String(length=36), primary_key=True),
        sa.Column("site_id", sa.String(length=36), primary_key=True),
        sa.Column("next_public_key", sa.String(length=44), nullable=False),
        sa.Column("phase", sa.String(length=8), nullable=False),
        sa.Column("link", sa.String(length=64), nullable=True),
        sa.Column("switched", sa.JSON(), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["overlay_id", "site_id"],
            ["overlay_members.overlay_id", "overlay_members.site_id"],
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "overlay_rotation_waits",
        sa.Column("overlay_id", sa.String(length=36), primary_key=True),
        sa.Column("rotating_site_id", sa.String(length=36), primary_key=True),
        sa.Column("site_id", sa.String(length=36), primary_key=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["overlay_id", "rotating_site_id"],
            ["overlay_key_rotations.overlay_id", "overlay_key_rotations.site_id"],
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
    )
    with op.batch_alter_table("overlay_rotation_waits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_overlay_rotation_waits_site_id"), ["site_id"])


def downgrade() -> None:
    op.drop_table("overlay_rotation_waits")
    op.drop_table("overlay_key_rotations")
