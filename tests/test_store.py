"""The store: one process may open SQLite and then PostgreSQL (tests and tools do) without mixing dialects."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from ticketdesk.models import Attachment, Counter, TicketEvent
from ticketdesk.models.enums import AttachmentKind, EventType
from ticketdesk.models.store import open_store, tortoise_config


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


async def test_store_upgrade_to_files_keeps_links_and_marks_notes_internal(database_url: str) -> None:
    """Migration 0007 on a store that holds rows: links stay links, notes' events become internal ones."""
    store = await open_store(database_url, migrate=False)
    try:
        executor = MigrationExecutor(store.db("default"), tortoise_config("sqlite://:memory:")["apps"])
        await executor.migrate([MigrationTarget("models", "0006_priority_order_index")])
        db = store.db("default")
        owner, ticket, link = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        now = "CURRENT_TIMESTAMP"
        for statement in (
            f"INSERT INTO principals (id, role, created_at, updated_at) VALUES ('{owner}', 'CUSTOMER', {now}, {now})",
            "INSERT INTO tickets (id, number, reference, subject, description, status, priority, category, source, "
            f"created_at, updated_at, customer_id) VALUES ('{ticket}', 1, 'TCK-000001', 's', 'd', 'OPEN', 'LOW', "
            f"'OTHER', 'MOBILE', {now}, {now}, '{owner}')",
            f"INSERT INTO ticket_events (seq, type, ticket_id, occurred_at) VALUES (1, 'CREATED', '{ticket}', {now}), "
            f"(2, 'NOTE_ADDED', '{ticket}', {now})",
            "INSERT INTO attachments (id, ticket_id, url, created_at) "
            f"VALUES ('{link}', '{ticket}', 'https://x/y', {now})",
        ):
            await db.execute_script(statement)
        await executor.migrate()
        events = await TicketEvent.all().order_by("seq").values_list("type", "internal")
        assert [(EventType(kind).value, bool(internal)) for kind, internal in events] == [
            ("CREATED", False),
            ("NOTE_ADDED", True),
        ]
        row = await Attachment.get(id=link)
        assert (row.kind, row.internal, row.url, row.ticket_id) == (AttachmentKind.LINK, False, "https://x/y", ticket)
    finally:
        await store.close_connections()
