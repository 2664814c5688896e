"""The store: one process may open SQLite and then PostgreSQL (tests and tools do) without mixing dialects."""

from __future__ import annotations

from pathlib import Path

import pytest

from ticketdesk.models import Counter
from ticketdesk.models.store import open_store


@pytest.mark.postgres
async def test_store_opened_after_another_dialect_writes_with_its_own_sql(tmp_path: Path, postgres_url: str) -> None:
    for url in (f"sqlite://{tmp_path / 'first.db'}", postgres_url):
        ctx = await open_store(url, migrate=True)
        try:
            # create() and delete() use Tortoise's cached per-model statements.
            await Counter.create(name="probe", value=1)
            assert (await Counter.get(name="probe")).value == 1
            await (await Counter.get(name="probe")).delete()
        finally:
            await ctx.close_connections()
