"""The append-only ticket event log: one row per change, numbered in commit order.

Each event's `seq` comes from the `event` counter row, which the writing transaction locks as its
last step; transactions that record events therefore commit in `seq` order and the log has no
holes. Subscribers can resume from a `seq` knowing that nothing below it can still appear.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from ticketdesk.models.enums import EventType, Role, Status
from ticketdesk.models.tickets import next_values

if TYPE_CHECKING:
    from ticketdesk.models.escalations import EscalationRequest
    from ticketdesk.models.messages import Message
    from ticketdesk.models.people import Principal
    from ticketdesk.models.tickets import Ticket

EVENT_COUNTER = "event"


class TicketEvent(Model):
    """One recorded change of a ticket."""

    seq = fields.BigIntField(primary_key=True, generated=False)
    type = fields.CharEnumField(EventType, max_length=32)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="events", on_delete=fields.CASCADE
    )
    actor_id = fields.UUIDField(null=True)
    # Tortoise 1.1.9 types nullable CharEnumFields as non-null; the casts only restore `| None` for mypy.
    actor_role = cast("fields.Field[Role | None]", fields.CharEnumField(Role, max_length=16, null=True))
    occurred_at = fields.DatetimeField()
    from_status = cast("fields.Field[Status | None]", fields.CharEnumField(Status, max_length=16, null=True))
    to_status = cast("fields.Field[Status | None]", fields.CharEnumField(Status, max_length=16, null=True))
    message: fields.ForeignKeyNullableRelation[Message] = fields.ForeignKeyField(
        "models.Message", related_name="events", null=True, on_delete=fields.CASCADE
    )
    escalation: fields.ForeignKeyNullableRelation[EscalationRequest] = fields.ForeignKeyField(
        "models.EscalationRequest", related_name="events", null=True, on_delete=fields.CASCADE
    )
    assignee: fields.ForeignKeyNullableRelation[Principal] = fields.ForeignKeyField(
        "models.Principal", related_name="assignment_events", null=True, on_delete=fields.SET_NULL
    )
    # UPDATED: {field: {"from": before, "to": after}}; null for other events.
    changes: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)

    ticket_id: UUID
    message_id: UUID | None
    escalation_id: UUID | None
    assignee_id: UUID | None

    class Meta:
        table = "ticket_events"
        ordering = ("seq",)


@dataclass(frozen=True)
class Change:
    """One event a mutation records; `record` turns a list of them into rows."""

    type: EventType
    from_status: Status | None = None
    to_status: Status | None = None
    message_id: UUID | None = None
    escalation_id: UUID | None = None
    assignee_id: UUID | None = None
    changes: dict[str, Any] | None = field(default=None)


async def record(
    ticket: Ticket, actor_id: UUID | None, actor_role: Role | None, changes: list[Change]
) -> list[TicketEvent]:
    """Append `changes` to the log inside the caller's transaction; call it as the transaction's last write."""
    last = await next_values(EVENT_COUNTER, len(changes))
    now = dt.datetime.now(dt.UTC)
    events = [
        TicketEvent(
            seq=last - len(changes) + 1 + i,
            type=change.type,
            ticket_id=ticket.id,
            actor_id=actor_id,
            actor_role=actor_role,
            occurred_at=now,
            from_status=change.from_status,
            to_status=change.to_status,
            message_id=change.message_id,
            escalation_id=change.escalation_id,
            assignee_id=change.assignee_id,
            changes=change.changes,
        )
        for i, change in enumerate(changes)
    ]
    await TicketEvent.bulk_create(events)
    return events
