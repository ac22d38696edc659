"""link_history (issue 14 §1): sites' link telemetry in minute, hour and day buckets
(store.telemetry_tables)

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    figures = [
        column
        for figure in ("latency", "loss", "jitter")
        for column in (
            sa.Column(f"{figure}_n", sa.Integer(), nullable=False),
            sa.Column(f"{figure}_min", sa.Float(), nullable=True),
            sa.Column(f"{figure}_max", sa.Float(), nullable=True),
            sa.Column(f"{figure}_sum", sa.Float(), nullable=True),
        )
    ]
    op.create_table(
        "link_history",
        sa.Column(
            "site_id", sa.String(length=36),
            sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True,
        ),
        sa.Column("link", sa.String(length=64), primary_key=True),
        sa.Column("period", sa.Integer(), primary_key=True),
        sa.Column("start", sa.BigInteger(), primary_key=True),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("up", sa.Integer(), nullable=False),
        sa.Column("degraded", sa.Integer(), nullable=False),
        sa.Column("down", sa.Integer(), nullable=False),
        *figures,
        sa.Column("dirty", sa.Boolean(), nullable=False),
        sqlite_with_rowid=False,
    )  # fmt: skip
    op.create_index("ix_link_history_period_start", "link_history", ["period", "start"])
    op.create_index(
        "ix_link_history_dirty",
        "link_history",
        ["period", "start"],
        sqlite_where=sa.text("dirty = 1"),
        postgresql_where=sa.text("dirty"),
    )


def downgrade() -> None:
    op.drop_table("link_history")
