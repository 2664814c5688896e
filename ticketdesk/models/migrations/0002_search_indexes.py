"""Indexes for listing and search: foreign keys everywhere; trigram indexes for `search` on PostgreSQL.

`search` filters with Tortoise's `icontains`, which PostgreSQL receives as
`UPPER(CAST(col AS VARCHAR)) LIKE UPPER('%term%')`; the trigram indexes are built on exactly that
expression so the planner can use them instead of scanning every row.
"""

from __future__ import annotations

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

FOREIGN_KEYS = [
    ("messages", "ticket_id"),
    ("attachments", "ticket_id"),
    ("attachments", "message_id"),
    ("escalation_requests", "ticket_id"),
    ("ticket_events", "ticket_id"),
    ("tickets", "customer_id"),
    ("tickets", "assignee_id"),
]
TRIGRAM = [
    ("tickets", "reference"),
    ("tickets", "subject"),
    ("tickets", "description"),
    ("messages", "body"),
]


async def forward(apps: Any, schema_editor: Any) -> None:
    statements = [f"CREATE INDEX IF NOT EXISTS idx_{t}_{c} ON {t} ({c})" for t, c in FOREIGN_KEYS]
    if schema_editor.DIALECT == "postgres":
        statements.insert(0, "CREATE EXTENSION IF NOT EXISTS pg_trgm")
        statements += [
            f"CREATE INDEX IF NOT EXISTS trgm_{t}_{c} ON {t} USING gin ((UPPER(CAST({c} AS VARCHAR))) gin_trgm_ops)"
            for t, c in TRIGRAM
        ]
    for statement in statements:
        await schema_editor.client.execute_script(statement)


async def backward(apps: Any, schema_editor: Any) -> None:
    names = [f"idx_{t}_{c}" for t, c in FOREIGN_KEYS]
    if schema_editor.DIALECT == "postgres":
        names += [f"trgm_{t}_{c}" for t, c in TRIGRAM]
    for name in names:
        await schema_editor.client.execute_script(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("models", "0001_baseline")]

    operations = [ops.RunPython(forward, backward)]
