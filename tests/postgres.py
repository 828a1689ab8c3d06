"""The test PostgreSQL database: migrated from empty once per run, emptied before each test."""

from __future__ import annotations

from sqlalchemy import text

from bot.store import Store

_migrated: set[str] = set()


def reset_postgres(url: str) -> str:
    """Empty every table of the database at `url` (migrating it from scratch on first use).

    The first use drops the schema and applies every Alembic migration, so the migrations
    themselves are tested on PostgreSQL; later tests truncate the tables, which is ten
    times quicker than migrating again and isolates them just as well.
    """
    store = Store(url, migrate=False)
    try:
        with store.engine.begin() as connection:
            # A connection left in a transaction by a test fails the reset instead of hanging it.
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            if url not in _migrated:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            else:
                tables = connection.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                        " AND tablename <> 'alembic_version'"
                    )
                ).scalars()
                names = ", ".join(f'"{name}"' for name in tables)
                if names:
                    connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        if url not in _migrated:
            Store(url).dispose()
            _migrated.add(url)
    finally:
        store.dispose()
    return url
