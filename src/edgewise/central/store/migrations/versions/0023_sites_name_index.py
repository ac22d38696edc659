"""an operator's sites list pages by (name, id) without a sort (issue 15, the portals' sites
list at 10,000 sites): index ix_sites_name_id

Revision ID: 0023
Revises: 0022
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_sites_name_id", "sites", ["name", "id"])


def downgrade() -> None:
    op.drop_index("ix_sites_name_id", table_name="sites")
