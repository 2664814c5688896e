"""What the AI concierge handed over with a ticket."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    suggested_resolution = fields.TextField(null=True)
    customer_context = fields.JSONField(null=True)
    conversation_history = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    ticket_id: object

    class Meta:
        table = "ai_transfers"
        unique_together = (("customer", "conversation_id"),)
