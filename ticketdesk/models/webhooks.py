"""Outbound webhooks: each one's position in the event log and state of retry, and the deliveries it made.

A webhook's `position` is the last event it is done with (delivered, or not one it asked for). Its worker reads
the next event after it, and only a 2xx answer moves it on: events go out in log order, at least once, and a
failing event holds back those after it. The row is the lease: a worker holds it (SELECT ... FOR UPDATE SKIP
LOCKED on PostgreSQL) for the whole attempt, so one process at a time delivers a webhook, and one that dies
mid-attempt releases it with its transaction, the position unmoved.
"""

from __future__ import annotations

from typing import cast
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from ticketdesk.models.enums import DeliveryStatus, EventType

URL_MAX = 2048


class Webhook(Model):
    """An admin's subscription of an https endpoint to ticket events."""

    id = fields.UUIDField(primary_key=True)
    url = fields.CharField(max_length=URL_MAX)
    # Event type names; empty: every type.
    events: fields.JSONField[list[str]] = fields.JSONField(default=list)
    include_internal = fields.BooleanField(default=False)
    enabled = fields.BooleanField(default=True)
    description = fields.CharField(max_length=500, null=True)
    secret = fields.CharField(max_length=100)  # whsec_..., kept to sign
    created_at = fields.DatetimeField(auto_now_add=True)
    position = fields.BigIntField(default=0)
    attempt = fields.IntField(default=0)  # failed attempts at the event after `position`
    next_attempt_at = fields.DatetimeField(null=True)
    last_delivery_at = fields.DatetimeField(null=True)
    failing_since = fields.DatetimeField(null=True)

    class Meta:
        table = "webhooks"
        ordering = ("created_at",)

    def event_types(self) -> list[EventType]:
        """The event types this webhook asked for (every type when it named none)."""
        return [EventType(name) for name in self.events or []] or list(EventType)


class WebhookDelivery(Model):
    """One attempt to deliver one event (kept for the admin's view, the newest per webhook)."""

    id = fields.UUIDField(primary_key=True)
    webhook: fields.ForeignKeyRelation[Webhook] = fields.ForeignKeyField(
        "models.Webhook", related_name="deliveries", on_delete=fields.CASCADE
    )
    event_seq = fields.BigIntField()
    event_type = fields.CharEnumField(EventType, max_length=32)
    attempt = fields.IntField()
    status = fields.CharEnumField(DeliveryStatus, max_length=16)
    response_code = cast("fields.Field[int | None]", fields.IntField(null=True))
    error = fields.CharField(max_length=500, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    next_attempt_at = fields.DatetimeField(null=True)

    webhook_id: UUID

    class Meta:
        table = "webhook_deliveries"
        ordering = ("-created_at",)
