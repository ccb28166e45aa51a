"""Alembic environment: runs on SQLite (batch mode) and PostgreSQL."""

from __future__ import annotations

from alembic import context

from lienthong.db import get_engine, normalize_url
from lienthong.models import metadata

config = context.config


def run_migrations_online() -> None:
    url = normalize_url(config.get_main_option("sqlalchemy.url"))
    connectable = config.attributes.get("connection")
    if connectable is None:
        connectable = get_engine(url)
        with connectable.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # Batch operations re-create a table on SQLite (copy, drop, rename); with foreign keys
                # enforced, dropping a parent table would first delete its children's rows (cascade).
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            try:
                _run(connection)
                connection.commit()
            finally:
                if sqlite:
                    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():  # pragma: no cover
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
