"""Uploaded files (ticketdesk.models.attachments): attachments become links or files, pending uploads have no
ticket yet, content is kept by SHA-256; events say whether they carry internal content (internal notes did
before, by their type, and are marked so here).
"""

from __future__ import annotations

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from ticketdesk.models.enums import AttachmentKind
from tortoise.fields.base import OnDelete
from tortoise import fields



# Tortoise declares no index for a field added to an existing table, and on SQLite changing a column's
# nullability rebuilds the table without the indexes 0002 made: (re)create them all here.
INDEXES = [
    ("attachments", "ticket_id"),
    ("attachments", "message_id"),
    ("attachments", "uploader_id"),
    ("attachments", "sha256"),
    ("attachments", "created_at"),
    ("ticket_events", "attachment_id"),
]


async def forward(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    await client.execute_script("UPDATE ticket_events SET internal = TRUE WHERE type = 'NOTE_ADDED'")
    for table, column in INDEXES:
        await client.execute_script(f"CREATE INDEX IF NOT EXISTS idx_{table}_{column} ON {table} ({column})")


async def nothing(apps: Any, schema_editor: Any) -> None:
    pass


async def drop_leftover_attachment_column(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    if schema_editor.DIALECT == "sqlite":
        columns = await client.execute_query_dict("PRAGMA table_info(ticket_events)")
        if any(column["name"] == "attachment_id" for column in columns):
            await client.execute_script("ALTER TABLE ticket_events DROP COLUMN attachment_id")
    else:
        await client.execute_script("ALTER TABLE ticket_events DROP COLUMN IF EXISTS attachment_id")


async def backward(apps: Any, schema_editor: Any) -> None:
    for table, column in INDEXES:
        await schema_editor.client.execute_script(f"DROP INDEX IF EXISTS idx_{table}_{column}")


class Migration(migrations.Migration):
    dependencies = [('models', '0006_priority_order_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ContentChunk',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sha256', fields.CharField(max_length=64)),
                ('position', fields.IntField()),
                ('data', fields.BinaryField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'attachment_chunks', 'app': 'models', 'unique_together': (('sha256', 'position'),), 'pk_attr': 'id', 'table_description': "A slice of some content's bytes, for the `database` content store."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FileContent',
            fields=[
                ('sha256', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('size', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('touched_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'attachment_contents', 'app': 'models', 'pk_attr': 'sha256', 'table_description': 'Content some upload stored, by SHA-256.'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='Attachment',
            options={'table': 'attachments', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A link or an uploaded file; a file without a ticket is a pending upload of `uploader_id`.'},
        ),
        ops.AlterField(
            model_name='Attachment',
            name='created_at',
            field=fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True),
        ),
        ops.AlterField(
            model_name='Attachment',
            name='ticket',
            field=fields.ForeignKeyField('models.Ticket', source_field='ticket_id', null=True, db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE),
        ),
        ops.AlterField(
            model_name='Attachment',
            name='url',
            field=fields.CharField(null=True, max_length=2048),
        ),
        ops.AddField(
            model_name='Attachment',
            name='internal',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Attachment',
            name='kind',
            field=fields.CharEnumField(default=AttachmentKind.LINK, db_default=AttachmentKind.LINK, description='LINK: LINK\nFILE: FILE', enum_type=AttachmentKind, max_length=8),
        ),
        ops.AddField(
            model_name='Attachment',
            name='redacted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Attachment',
            name='sha256',
            field=fields.CharField(null=True, db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='Attachment',
            name='uploader_id',
            field=fields.UUIDField(null=True, db_index=True),
        ),
        # Undone after the AddField below is: Tortoise 1.1's SQLite editor removes a foreign key's constraint
        # but keeps its column, which redoing the migration would then add twice.
        ops.RunPython(nothing, drop_leftover_attachment_column),
        ops.AddField(
            model_name='TicketEvent',
            name='attachment',
            field=fields.ForeignKeyField('models.Attachment', source_field='attachment_id', null=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='TicketEvent',
            name='internal',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.RunPython(forward, backward),
    ]
