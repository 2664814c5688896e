"""Outbound webhooks (ticketdesk.models.webhooks): the endpoints admins subscribe, and their deliveries."""

from __future__ import annotations

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from ticketdesk.models.enums import DeliveryStatus, EventType
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields



async def forward(apps: Any, schema_editor: Any) -> None:
    await schema_editor.client.execute_script(
        "CREATE INDEX IF NOT EXISTS idx_webhook_deliveries_webhook_id ON webhook_deliveries (webhook_id, created_at)"
    )


async def backward(apps: Any, schema_editor: Any) -> None:
    await schema_editor.client.execute_script("DROP INDEX IF EXISTS idx_webhook_deliveries_webhook_id")


class Migration(migrations.Migration):
    dependencies = [('models', '0008_inbound_sources')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Webhook',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('url', fields.CharField(max_length=2048)),
                ('events', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('include_internal', fields.BooleanField(default=False)),
                ('enabled', fields.BooleanField(default=True)),
                ('description', fields.CharField(null=True, max_length=500)),
                ('secret', fields.CharField(max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('position', fields.BigIntField(default=0)),
                ('attempt', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_delivery_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('failing_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhooks', 'app': 'models', 'pk_attr': 'id', 'table_description': "An admin's subscription of an https endpoint to ticket events."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('webhook', fields.ForeignKeyField('models.Webhook', source_field='webhook_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('event_seq', fields.BigIntField()),
                ('event_type', fields.CharEnumField(description='CREATED: CREATED\nUPDATED: UPDATED\nSTATUS_CHANGED: STATUS_CHANGED\nASSIGNED: ASSIGNED\nMESSAGE_ADDED: MESSAGE_ADDED\nNOTE_ADDED: NOTE_ADDED\nESCALATION_REQUESTED: ESCALATION_REQUESTED\nESCALATION_DECIDED: ESCALATION_DECIDED\nFEEDBACK_SUBMITTED: FEEDBACK_SUBMITTED\nATTACHMENT_ADDED: ATTACHMENT_ADDED', enum_type=EventType, max_length=32)),
                ('attempt', fields.IntField()),
                ('status', fields.CharEnumField(description='PENDING: PENDING\nSUCCEEDED: SUCCEEDED\nFAILED: FAILED', enum_type=DeliveryStatus, max_length=16)),
                ('response_code', fields.IntField(null=True)),
                ('error', fields.CharField(null=True, max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_deliveries', 'app': 'models', 'pk_attr': 'id', 'table_description': "One attempt to deliver one event (kept for the admin's view, the newest per webhook)."},
            bases=['Model'],
        ),
        ops.RunPython(forward, backward),
    ]
