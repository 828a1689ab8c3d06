"""Alembic environment: migrations run on the engine the caller hands over.

Offline (`alembic upgrade --sql`), they render their SQL for the dialect named in the
config's `dialect_name` attribute (or the `sqlalchemy.url` option) instead: the golden
SQL in `tests/migrations_sql/` is rendered this way, so that a migration that is edited
to emit other SQL fails the tests.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import bot.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config


def run_offline() -> None:
    """Write the migrations' SQL to the config's output instead of running it."""
    dialect_name = config.attributes.get("dialect_name")
    context.configure(
        url=None if dialect_name else config.get_main_option("sqlalchemy.url"),
        dialect_name=dialect_name,
        target_metadata=SQLModel.metadata,
        render_as_batch=dialect_name == "sqlite",
        compare_type=True,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations on the caller's engine (or the configured database's)."""
    engine = config.attributes.get("engine")
    if engine is None:
        from bot.settings import get_settings
        from bot.store.engine import make_engine

        engine = make_engine(get_settings().database_url)

    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
