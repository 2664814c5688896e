"""The store: one process may open SQLite and then PostgreSQL (tests and tools do) without mixing dialects."""

from __future__ import annotations

import os
import subprocess
import sys
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


@pytest.mark.postgres
def test_store_processes_migrating_at_once_take_turns(postgres_url: str) -> None:
    # Workers and replicas start together, each applying migrations: on a fresh database they must not race.
    env = {**os.environ, "TICKETDESK_DATABASE_URL": postgres_url}
    command = [sys.executable, "-m", "ticketdesk.cli", "migrate"]
    processes = [subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = [process.communicate(timeout=60)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0, 0], errors
