"""Inbound sources (ticketdesk.models.inbound): the systems that open tickets through POST /webhooks/inbound/{name}."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_attachment_files')]

    initial = False

    operations = [
        ops.CreateModel(
            name='InboundSource',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=63)),
                ('secret', fields.CharField(max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'inbound_sources', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A system allowed to send tickets in, and its signing secret (`whsec_...`, kept to verify signatures).'},
            bases=['Model'],
        ),
    ]
