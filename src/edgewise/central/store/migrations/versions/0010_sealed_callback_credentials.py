"""subscriptions' callback credentials sealed at rest (services.credentials)

Revision ID: 0010
Revises: 0009

Rows stored before hold `paramsBasic` in clear: each is sealed with the `seal` that
`engine.migrate` was given (the central's credentials key). A store with no such rows needs none.
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

subscriptions = sa.table(
    "lccn_subscriptions", sa.column("id", sa.String), sa.column("authentication", sa.JSON)
)


def upgrade() -> None:
    seal = context.config.attributes.get("seal")
    rows = (
        op.get_bind().execute(sa.select(subscriptions.c.id, subscriptions.c.authentication)).all()
    )
    clear = [(i, auth) for i, auth in rows if isinstance(auth, dict) and "paramsBasic" in auth]
    if not clear:
        return
    if seal is None:
        raise RuntimeError(
            f"{len(clear)} subscriptions hold callback credentials in clear and no key was "
            "given to seal them (engine.migrate(engine, seal))"
        )
    for subscription_id, authentication in clear:
        op.get_bind().execute(
            subscriptions.update()
            .where(subscriptions.c.id == subscription_id)
            .values(authentication=seal(authentication))
        )


def downgrade() -> None:
    """Sealed credentials stay sealed: an older central sends no credentials with them."""
