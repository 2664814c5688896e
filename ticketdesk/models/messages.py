"""Messages on a ticket: the customer's, agents', AI lines and internal notes."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from ticketdesk.models.enums import SenderType

if TYPE_CHECKING:
    from ticketdesk.models.tickets import Ticket

BODY_MAX = 10_000


class Message(Model):
    """One line of a ticket's conversation. `internal` ones are agents' notes, never shown to customers."""

    id = fields.UUIDField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="messages", on_delete=fields.CASCADE
    )
    sender_id = fields.UUIDField(null=True)
    sender_type = fields.CharEnumField(SenderType, max_length=16)
    body = fields.TextField()
    internal = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Keeps the order of lines stored in one transaction (an AI conversation) stable.
    position = fields.IntField(default=0)

    ticket_id: UUID

    class Meta:
        table = "messages"
        ordering = ("created_at", "position")
