"""What the AI concierge handed over with a ticket."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from ticketdesk.models.people import Principal
    from ticketdesk.models.tickets import Ticket


class AITransfer(Model):
    """The AI hand-off record. (customer, conversation id) is unique, which makes the transfer idempotent."""

    id = fields.UUIDField(primary_key=True)
    ticket: fields.OneToOneRelation[Ticket] = fields.OneToOneField(
        "models.Ticket", related_name="ai_transfer", on_delete=fields.CASCADE
    )
    customer: fields.ForeignKeyRelation[Principal] = fields.ForeignKeyField(
        "models.Principal", related_name="ai_transfers", on_delete=fields.RESTRICT
    )
    conversation_id = fields.CharField(max_length=255)
    summary_of_issue = fields.TextField()
    # Tortoise 1.1.9 types nullable TextFields as non-null; the cast only restores `| None` for mypy.
    suggested_resolution = cast("fields.Field[str | None]", fields.TextField(null=True))
    customer_context: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    # One {"role", "content", "timestamp"} object per line; timestamp is ISO 8601 or null.
    conversation_history: fields.JSONField[list[dict[str, str | None]]] = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    ticket_id: UUID

    class Meta:
        table = "ai_transfers"
        unique_together = (("customer", "conversation_id"),)
