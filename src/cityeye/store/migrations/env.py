"""Alembic environment: runs on the engine cityeye hands it (see ``store.db.migrate``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from cityeye.store.tables import metadata

config = context.config
engine = config.attributes.get("engine") or create_engine(
    str(config.get_main_option("sqlalchemy.url"))
)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
