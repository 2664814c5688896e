"""Opening, migrating and closing the store (Tortoise on SQLite or PostgreSQL)."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext
from tortoise.migrations.executor import MigrationExecutor

from ticketdesk.internals.tortoise import init_store_for_every_task
from ticketdesk.models import MODEL_MODULES

log = logging.getLogger("ticketdesk.store")

APP_LABEL = "models"
MIGRATIONS_MODULE = "ticketdesk.models.migrations"


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise configuration for `database_url` (also what `tortoise makemigrations` reads)."""
    return {
        "connections": {"default": database_url},
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def open_store(database_url: str, *, migrate: bool) -> TortoiseContext:
    """Connect to the store (and apply pending migrations when `migrate`).

    Tortoise 1.x keeps its connections in a context variable; the store is opened in the ASGI
    lifespan task, so it is also installed as Tortoise's global fallback, which request tasks
    under uvicorn (started from other tasks) then find. One store per process at a time.
    """
    ctx = TortoiseContext()
    with ctx:
        await init_store_for_every_task(ctx, tortoise_config(database_url))
        try:
            if migrate:
                await apply_migrations(ctx, database_url)
        except BaseException:
            await ctx.close_connections()
            raise
    return ctx


# pg_advisory_lock key held while migrating: "tdmg" in ASCII.
MIGRATION_LOCK = 0x74646D67
# What the lock's own connection takes from the database URL (not the pool's settings).
LOCK_CREDENTIALS = ("host", "port", "user", "password", "database", "ssl")


async def apply_migrations(ctx: TortoiseContext, database_url: str) -> None:
    """Bring the store's schema up to the latest migration, one process at a time.

    On PostgreSQL a session advisory lock serialises every process that starts at once (workers,
    replicas): the first applies what is pending, the others then find nothing to do. An SQLite file
    belongs to one process.
    """
    db = ctx.db("default")
    executor = MigrationExecutor(db, tortoise_config("sqlite://:memory:")["apps"])
    if db.capabilities.dialect != "postgres":
        await executor.migrate()
        return
    # The lock lives on a connection of its own: holding one of the store's pool while the migrations
    # take others would hang a pool of one.
    credentials = expand_db_url(database_url)["credentials"]
    connection = await asyncpg.connect(
        **{
            key: credentials[key]
            for key in ("host", "port", "user", "password", "database", "ssl")
            if key in credentials
        }
    )
    try:
        if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK):
            log.info("another process is migrating the store; waiting for it to finish")
            await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        await executor.migrate()
    finally:
        # Ending the session releases the lock; a failure to close must not hide the migration's own error.
        with contextlib.suppress(Exception):
            await connection.close()


async def ping(ctx: TortoiseContext) -> bool:
    """Whether the store answers a trivial query."""
    try:
        await ctx.db("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True
