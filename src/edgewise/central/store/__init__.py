"""The central's store: SQLAlchemy tables, engine set-up and Alembic migrations."""
