"""Alembic's entry point for the service's store: applies `versions/` to the connection that
`service.db.Database.open()` (or `python -m service.migrate`) hands over."""

from __future__ import annotations

from alembic import context

from service.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("service migrations run through `python -m service.migrate` (make migrate) or the service's start")

# render_as_batch: SQLite alters a table by copying it, which batch mode does for us.
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
