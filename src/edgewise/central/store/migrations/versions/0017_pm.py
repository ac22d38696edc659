"""NS performance management (issue 14): PM jobs, their reports, thresholds (store.pm_tables)

Revision ID: 0017
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0013"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _tenant() -> sa.Column[str]:
    return sa.Column(
        "tenant_id", sa.String(length=36),
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True,
    )  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "pm_jobs",
        sa.Column("id", sa.String(length=36), primary_key=True),
        _tenant(),
        sa.Column("object_type", sa.String(length=8), nullable=False),
        sa.Column("object_ids", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("collection_period", sa.Integer(), nullable=False),
        sa.Column("reporting_period", sa.Integer(), nullable=False),
        sa.Column("reporting_boundary", TZ, nullable=True),
        sa.Column("next_collection_at", TZ, nullable=True),
        sa.Column("samples", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    with op.batch_alter_table("pm_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pm_jobs_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_pm_jobs_next_collection_at"), ["next_collection_at"])
    op.create_table(
        "pm_reports",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column(
            "job_id", sa.String(length=36),
            sa.ForeignKey("pm_jobs.id", ondelete="CASCADE"), nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("ready_at", TZ, nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
    )  # fmt: skip
    with op.batch_alter_table("pm_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pm_reports_job_id"), ["job_id"])
    op.create_table(
        "pm_thresholds",
        sa.Column("id", sa.String(length=36), primary_key=True),
        _tenant(),
        sa.Column("object_type", sa.String(length=8), nullable=False),
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("metric", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("hysteresis", sa.Float(), nullable=False),
        sa.Column("crossed", sa.String(length=4), nullable=True),
        sa.Column("seen_at", TZ, nullable=True),
        sa.Column("evaluated_at", TZ, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    with op.batch_alter_table("pm_thresholds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pm_thresholds_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_pm_thresholds_evaluated_at"), ["evaluated_at"])


def downgrade() -> None:
    op.drop_table("pm_thresholds")
    op.drop_table("pm_reports")
    op.drop_table("pm_jobs")
