"""The counter rows exist from the start, so the first writers only ever UPDATE them (and queue on the lock)."""

from __future__ import annotations

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

COUNTERS = ("ticket", "event")


async def forward(apps: Any, schema_editor: Any) -> None:
    for name in COUNTERS:
        await schema_editor.client.execute_script(
            f"INSERT INTO counters (name, value) SELECT '{name}', 0 "
            f"WHERE NOT EXISTS (SELECT 1 FROM counters WHERE name = '{name}')"
        )


async def backward(apps: Any, schema_editor: Any) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [("models", "0002_search_indexes")]

    operations = [ops.RunPython(forward, backward)]
