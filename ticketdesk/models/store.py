"""Opening, migrating and closing the store (Tortoise on SQLite or PostgreSQL)."""

from __future__ import annotations

from typing import Any

from tortoise.context import TortoiseContext
from tortoise.migrations.executor import MigrationExecutor

from ticketdesk.internals import init_store_for_every_task
from ticketdesk.models import MODEL_MODULES

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
                await apply_migrations(ctx)
        except BaseException:
            await ctx.close_connections()
            raise
    return ctx


# pg_advisory_lock key held while migrating: "tdmg" in ASCII.
MIGRATION_LOCK = 0x74646D67


async def apply_migrations(ctx: TortoiseContext) -> None:
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
    async with db.acquire_connection() as connection:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        try:
            await executor.migrate()
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)


async def ping(ctx: TortoiseContext) -> bool:
    """Whether the store answers a trivial query."""
    try:
        await ctx.db("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True
