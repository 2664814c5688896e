"""Opening a Tortoise store that every task finds, with a statement cache that cannot mix dialects."""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext


async def init_store_for_every_task(ctx: TortoiseContext, config: dict[str, Any]) -> None:
    """Initialise `ctx` from `config` and make it the store every task finds, whatever context it runs in.

    Clears Tortoise's process-wide statement cache first: a process that opened SQLite before would
    otherwise send its `?` placeholders to PostgreSQL.
    """
    EXECUTOR_CACHE.clear()
    await ctx.init(config=config, _enable_global_fallback=True)
