"""Statistics for the search documents' trigram indexes, gathered once 0004 has committed.

The planner chooses between walking the tickets newest first (right for a common word) and asking the trigram
indexes (right for a rare one) from these statistics; until they exist it guesses. Not atomic: ANALYZE in the
transaction that set the indexes' statistics targets would sample with the default instead.
"""

from __future__ import annotations

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops


async def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.DIALECT == "postgres":
        await schema_editor.client.execute_script("ANALYZE ticket_search")


async def backward(apps: Any, schema_editor: Any) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [("models", "0004_search_documents")]

    atomic = False

    operations = [ops.RunPython(forward, backward)]
