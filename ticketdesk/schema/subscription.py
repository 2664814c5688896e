"""The Subscription root: ticket events over WebSocket, resumable with `since`."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncGenerator, Collection
from contextlib import aclosing
from typing import Annotated

import strawberry

from ticketdesk.context import Info, fresh_loaders
from ticketdesk.errors import BadUserInput, CursorExpired, NotFound
from ticketdesk.models.enums import EventType
from ticketdesk.parsing import parse_event_cursor
from ticketdesk.resolvers.tickets import get_ticket
from ticketdesk.schema.gate import gated
from ticketdesk.schema.types import TicketEvent
from ticketdesk.subscriptions.stream import CURSOR_EXPIRED, EventSelection, event_stream, resume_point

TicketIdArgument = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="Only this ticket's events (UUID or reference); all visible tickets if null."),
]
SinceArgument = Annotated[
    str | None,
    strawberry.argument(description="The cursor of the last event received: replay everything after it first."),
]


async def _events(
    info: Info, ticket_id: strawberry.ID | None, since: str | None, types: Collection[EventType] | None
) -> AsyncGenerator[TicketEvent, None]:
    context = info.context
    viewer = context.caller
    ticket: uuid.UUID | None = None
    if ticket_id is not None:
        row = await get_ticket(viewer, ticket_id, "ticketId")
        if row is None:
            raise NotFound("No ticket with that id exists.")
        ticket = row.id
    start: int | None = None
    if since is not None:
        try:
            start = parse_event_cursor(since, "since")
        except BadUserInput:
            raise CursorExpired(CURSOR_EXPIRED) from None
        start = await resume_point(start, dt.timedelta(hours=context.settings.resume_window_hours))
    selection = EventSelection(context.scope, ticket_id=ticket, types=types)
    # aclosing: a subscriber that leaves must release its tap now, not when the generator is collected.
    async with aclosing(event_stream(context.hub, viewer, selection, since=start)) as rows:
        async for event in rows:
            # Primed with the ticket the hub read once for all subscribers of this event.
            fresh_loaders().ticket_by_id.prime(event.ticket.id, event.ticket)
            yield TicketEvent.of(event.row)


@gated
@strawberry.type(description="Live ticket events (WebSocket: graphql-transport-ws or graphql-ws on /graphql).")
class Subscription:
    @strawberry.subscription(
        description="Every event the viewer may see, in cursor order; `since` resumes without gap or repeat."
    )
    async def ticket_events(
        self, info: Info, ticket_id: TicketIdArgument = None, since: SinceArgument = None
    ) -> AsyncGenerator[TicketEvent, None]:
        async with aclosing(_events(info, ticket_id, since, None)) as events:
            async for event in events:
                yield event

    @strawberry.subscription(description="Only STATUS_CHANGED events, otherwise like `ticketEvents`.")
    async def ticket_status_changed(
        self, info: Info, ticket_id: TicketIdArgument = None, since: SinceArgument = None
    ) -> AsyncGenerator[TicketEvent, None]:
        async with aclosing(_events(info, ticket_id, since, (EventType.STATUS_CHANGED,))) as events:
            async for event in events:
                yield event
