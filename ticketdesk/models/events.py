"""The append-only ticket event log: one row per change, numbered in commit order; writing and reading it.

Each event's `seq` comes from the `event` counter row, which the writing transaction locks as its
last step; transactions that record events therefore commit in `seq` order and the log has no
holes. Readers (timelines, the hub, subscription replay) can resume from a `seq` knowing that nothing
below it can still appear.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from tortoise import connections, fields
from tortoise.expressions import Q, RawSQL
from tortoise.models import Model

from ticketdesk.models.enums import EventType, Role, Status
from ticketdesk.models.tickets import Ticket, next_values

if TYPE_CHECKING:
    from ticketdesk.models.attachments import Attachment
    from ticketdesk.models.escalations import EscalationRequest
    from ticketdesk.models.messages import Message
    from ticketdesk.models.people import Principal

EVENT_COUNTER = "event"
IN_SLICE = 10_000


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
    attachment: fields.ForeignKeyNullableRelation[Attachment] = fields.ForeignKeyField(
        "models.Attachment", related_name="events", null=True, on_delete=fields.CASCADE
    )
    # UPDATED: {field: {"from": before, "to": after}}; null for other events.
    changes: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    # Whether the event carries internal content (an internal note, an internal file): staff see it, customers never.
    internal = fields.BooleanField(default=False, db_default=False)

    ticket_id: UUID
    message_id: UUID | None
    escalation_id: UUID | None
    assignee_id: UUID | None
    attachment_id: UUID | None

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
    attachment_id: UUID | None = None
    changes: dict[str, Any] | None = field(default=None)
    internal: bool = False


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
            attachment_id=change.attachment_id,
            changes=change.changes,
            internal=change.internal,
        )
        for i, change in enumerate(changes)
    ]
    await TicketEvent.bulk_create(events)
    return events


@dataclass(frozen=True)
class LoggedEvent:
    """An event row with its ticket as read right after the event (for visibility and `ticket`)."""

    row: TicketEvent
    ticket: Ticket

    @property
    def customer_id(self) -> UUID:
        """The customer whose ticket changed."""
        return self.ticket.customer_id

    @property
    def seq(self) -> int:
        """The event's position in the log."""
        return int(self.row.seq)


async def latest_seq() -> int:
    """The newest event number in the log (0 when it is empty)."""
    last = await TicketEvent.all().order_by("-seq").first()
    return int(last.seq) if last is not None else 0


async def read_log(after: int, *, limit: int, upto: int | None = None, where: Q | None = None) -> list[LoggedEvent]:
    """Up to `limit` events above `after` (and at most `upto`) matching `where`, in log order, with their tickets."""
    query = TicketEvent.filter(seq__gt=after)
    if where is not None:
        query = query.filter(where)
    if upto is not None:
        query = query.filter(seq__lte=upto)
    rows = list(await query.order_by("seq").limit(limit))
    if not rows:
        return []
    # One read of the tickets per batch, shared by every reader of it: visibility needs their customer,
    # and most subscriptions select `ticket`, which would otherwise cost a query per subscriber.
    tickets = {ticket.id: ticket for ticket in await Ticket.filter(id__in={row.ticket_id for row in rows})}
    return [LoggedEvent(row, tickets[row.ticket_id]) for row in rows]


async def read_timelines(
    ticket_ids: Collection[UUID], *, after: int, limit: int, where: Q
) -> dict[UUID, list[TicketEvent]]:
    """For each ticket, up to `limit` of its events above `after` that match `where`, oldest first.

    Two statements whatever the number of tickets (one more per 10,000 events read): the first numbers each
    ticket's matching events with a window function and keeps the seqs of the first `limit`, the second reads
    those rows.
    """
    if not ticket_ids:
        return {}
    # ROW_NUMBER() is not something Tortoise builds, so the numbered query is Tortoise's own, its values
    # inlined (and quoted) by its query builder, wrapped in one outer SELECT; `limit` is an int.
    numbered = (
        TicketEvent.filter(where, ticket_id__in=list(ticket_ids), seq__gt=after)
        .annotate(position=RawSQL('ROW_NUMBER() OVER (PARTITION BY "ticket_id" ORDER BY "seq")'))
        .values("seq", "position")
    )
    sql = f"SELECT seq FROM ({numbered.sql(params_inline=True)}) AS numbered WHERE position <= {int(limit)}"
    seqs = sorted(row["seq"] for row in await connections.get("default").execute_query_dict(sql))
    timelines: dict[UUID, list[TicketEvent]] = {ticket_id: [] for ticket_id in ticket_ids}
    # In slices: PostgreSQL takes at most 32,767 parameters in one statement.
    for start in range(0, len(seqs), IN_SLICE):
        for row in await TicketEvent.filter(seq__in=seqs[start : start + IN_SLICE]).order_by("seq"):
            timelines[row.ticket_id].append(row)
    return timelines


async def occurred_at(seq: int) -> dt.datetime | None:
    """When event `seq` was committed; None when the log holds no such event."""
    row = await TicketEvent.filter(seq=seq).first()
    return row.occurred_at if row is not None else None
