"""user names unique per tenant (and among operators), no longer across the whole central

Revision ID: 0009
Revises: 0008

A name taken in one tenant no longer answers 409 in another (an existence oracle). Roles need
no data change: `tenant` stays a tenant user, and `tenant-admin` (a new value of the same
column) is given only by an operator or a tenant admin, so existing tenant users keep no more
than a tenant user may do.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}  # names SQLite's unnamed constraint
OPERATORS_ONLY = sa.text("tenant_id IS NULL")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("users", naming_convention=NAMES) as batch_op:
            batch_op.drop_constraint("uq_users_name", type_="unique")
            batch_op.create_unique_constraint("uq_users_tenant_name", ["tenant_id", "name"])
    else:
        op.drop_constraint("users_name_key", "users", type_="unique")
        op.create_unique_constraint("uq_users_tenant_name", "users", ["tenant_id", "name"])
    op.create_index(
        "uq_users_operator_name", "users", ["name"], unique=True,
        sqlite_where=OPERATORS_ONLY, postgresql_where=OPERATORS_ONLY,
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("uq_users_operator_name", "users")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("uq_users_tenant_name", type_="unique")
        batch_op.create_unique_constraint("users_name_key", ["name"])
