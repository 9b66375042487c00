"""Alembic environment: riskkit passes an open connection in ``config.attributes``."""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - riskkit always passes one
    raise RuntimeError("riskkit runs its migrations with an open connection")
context.configure(connection=connection, target_metadata=None, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
