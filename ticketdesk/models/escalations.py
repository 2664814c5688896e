"""Escalation requests and their decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from ticketdesk.models.enums import EscalationStatus, Priority

if TYPE_CHECKING:
    from ticketdesk.models.people import Principal
    from ticketdesk.models.tickets import Ticket


class EscalationRequest(Model):
    """A request to raise a ticket's priority, decided by an admin."""

    id = fields.UUIDField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="escalations", on_delete=fields.CASCADE
    )
    reason = fields.TextField()
    target_priority = fields.CharEnumField(Priority, max_length=16)
    status = fields.CharEnumField(EscalationStatus, max_length=16, default=EscalationStatus.PENDING)
    requested_by = fields.UUIDField()
    decided_by: fields.ForeignKeyNullableRelation[Principal] = fields.ForeignKeyField(
        "models.Principal", related_name="decided_escalations", null=True, on_delete=fields.SET_NULL
    )
    # Tortoise 1.1.9 types nullable TextFields as non-null; the cast only restores `| None` for mypy.
    decision_note = cast("fields.Field[str | None]", fields.TextField(null=True))
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)

    ticket_id: UUID
    decided_by_id: UUID | None

    class Meta:
        table = "escalation_requests"
        ordering = ("created_at",)
