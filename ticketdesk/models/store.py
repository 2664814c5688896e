"""Opening, migrating and closing the store (Tortoise on SQLite or PostgreSQL)."""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext
from tortoise.migrations.executor import MigrationExecutor

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
    # Tortoise caches each model's INSERT/UPDATE/DELETE SQL process-wide, keyed by connection name and
    # table but not by dialect: without this, a process that opened SQLite before would send its `?`
    # placeholders to PostgreSQL.
    EXECUTOR_CACHE.clear()
    ctx = TortoiseContext()
    with ctx:
        await ctx.init(config=tortoise_config(database_url), _enable_global_fallback=True)
        try:
            if migrate:
                await apply_migrations(ctx)
        except BaseException:
            await ctx.close_connections()
            raise
    return ctx


async def apply_migrations(ctx: TortoiseContext) -> None:
    """Bring the store's schema up to the latest migration."""
    config = tortoise_config("sqlite://:memory:")
    executor = MigrationExecutor(ctx.db("default"), config["apps"])
    await executor.migrate()


async def ping(ctx: TortoiseContext) -> bool:
    """Whether the store answers a trivial query."""
    try:
        await ctx.db("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True
