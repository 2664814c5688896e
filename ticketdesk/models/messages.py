"""Messages on a ticket (customer, agent, AI and internal notes) and attached files."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from ticketdesk.models.enums import SenderType

if TYPE_CHECKING:
    from ticketdesk.models.tickets import Ticket

BODY_MAX = 10_000
URL_MAX = 2048


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


class Attachment(Model):
    """A file attached to a ticket (and to one of its messages), stored by URL."""

    id = fields.UUIDField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="attachments", on_delete=fields.CASCADE
    )
    message: fields.ForeignKeyNullableRelation[Message] = fields.ForeignKeyField(
        "models.Message", related_name="attachments", null=True, on_delete=fields.CASCADE
    )
    url = fields.CharField(max_length=URL_MAX)
    filename = fields.CharField(max_length=255, null=True)
    content_type = fields.CharField(max_length=255, null=True)
    size = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    ticket_id: UUID
    message_id: UUID | None

    class Meta:
        table = "attachments"
        ordering = ("created_at",)
