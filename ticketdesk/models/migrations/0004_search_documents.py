"""Search documents (ticketdesk.models.search): the table, filled from the existing rows, with trigram indexes.

The trigram indexes of 0002 on tickets and messages served `search` when it read those tables; it now reads
`ticket_search` only, so they are dropped (their upkeep slowed every write for nothing). The new indexes are
built on the expression Tortoise's `icontains` sends, `UPPER(CAST(col AS VARCHAR)) LIKE UPPER($1)`.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from ticketdesk.models.search import rebuild_search_documents

SEARCHED = ("head", "public_text", "internal_text")
STATISTICS_TARGET = 1000
OLD_TRIGRAM = [("tickets", "reference"), ("tickets", "subject"), ("tickets", "description"), ("messages", "body")]


def _trigram_index(table: str, column: str) -> str:
    return (
        f"CREATE INDEX IF NOT EXISTS trgm_{table}_{column} ON {table} "
        f"USING gin ((UPPER(CAST({column} AS VARCHAR))) gin_trgm_ops)"
    )


async def forward(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    await rebuild_search_documents(client)
    if schema_editor.DIALECT == "postgres":
        # Built after the backfill: one pass over the rows instead of an index update per row.
        for column in SEARCHED:
            await client.execute_script(_trigram_index("ticket_search", column))
            # The planner estimates a term's matches from a sample of documents; with the default 100 one
            # document holding a rare word makes it look like 1% of all, and the plan then walks the date
            # index through every ticket looking for 21 matches. A 1000-document sample keeps the estimate
            # of a rare word low enough for the index to be chosen.
            await client.execute_script(
                f"ALTER INDEX trgm_ticket_search_{column} ALTER COLUMN 1 SET STATISTICS {STATISTICS_TARGET}"
            )
        for table, column in OLD_TRIGRAM:
            await client.execute_script(f"DROP INDEX IF EXISTS trgm_{table}_{column}")
        # No ANALYZE here: inside the transaction that set them, ANALYZE ignores the new statistics targets
        # (PostgreSQL 15); 0005 analyzes once this has committed.


async def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.DIALECT == "postgres":
        for table, column in OLD_TRIGRAM:
            await schema_editor.client.execute_script(_trigram_index(table, column))
    # The table and its indexes go with the model (the CreateModel below, undone).


class Migration(migrations.Migration):
    dependencies = [("models", "0003_counter_rows")]

    initial = False

    operations = [
        ops.CreateModel(
            name='TicketSearch',
            fields=[
                ('ticket', fields.OneToOneField('models.Ticket', source_field='ticket_id', primary_key=True, db_index=True, db_constraint=True, to_field='id', related_name='search_document', on_delete=OnDelete.CASCADE)),
                ('head', fields.TextField(unique=False)),
                ('public_text', fields.TextField(default='', unique=False)),
                ('internal_text', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'ticket_search', 'app': 'models', 'pk_attr': 'ticket_id', 'table_description': "The text `search` matches for one ticket (see the module's docstring)."},
            bases=['Model'],
        ),
        ops.RunPython(forward, backward),
    ]
