"""Customer feedback on a resolved or closed ticket: one per ticket."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from ticketdesk.models.tickets import Ticket


class Feedback(Model):
    """A 1-5 rating and an optional comment."""

    id = fields.UUIDField(primary_key=True)
    ticket: fields.OneToOneRelation[Ticket] = fields.OneToOneField(
        "models.Ticket", related_name="feedback", on_delete=fields.CASCADE
    )
    rating = fields.SmallIntField()
    # Tortoise 1.1.9 types nullable TextFields as non-null; the cast only restores `| None` for mypy.
    comment = cast("fields.Field[str | None]", fields.TextField(null=True))
    created_at = fields.DatetimeField(auto_now_add=True)

    ticket_id: UUID

    class Meta:
        table = "feedback"
