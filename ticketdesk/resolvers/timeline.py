"""A ticket's timeline: its event log, oldest first, as far as the viewer may see it; batched for a page of tickets."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ticketdesk.auth import Viewer
from ticketdesk.errors import BadUserInput
from ticketdesk.models import TicketEvent
from ticketdesk.models.events import read_timelines
from ticketdesk.parsing import parse_event_cursor
from ticketdesk.policy import Scope, scope_of

TIMELINE_PAGE = 50
TIMELINE_MAX = 100


@dataclass(frozen=True)
class TimelineRequest:
    """One Ticket.timeline field: which ticket, after which event, how many, seen within which scope."""

    ticket_id: uuid.UUID
    after: int
    size: int
    scope: Scope


@dataclass(frozen=True)
class EventPage:
    """One page of a ticket's events."""

    events: list[TicketEvent]
    has_next: bool
    has_previous: bool


Load = Callable[[TimelineRequest], Awaitable[list[TicketEvent]]]


async def timeline(viewer: Viewer, ticket_id: uuid.UUID, first: int | None, after: str | None, load: Load) -> EventPage:
    """Ticket.timeline: up to `first` (default 50, at most 100) events after the cursor `after`, read through
    `load` (a DataLoader over `load_timelines`, so a page of tickets costs the same statements as one)."""
    size = TIMELINE_PAGE if first is None else first
    if not 1 <= size <= TIMELINE_MAX:
        raise BadUserInput(f"`first` must be between 1 and {TIMELINE_MAX}.")
    start = parse_event_cursor(after, "after") if after is not None else 0
    # One more than the page, to tell whether another page follows.
    rows = await load(TimelineRequest(ticket_id, start, size + 1, scope_of(viewer)))
    return EventPage(events=rows[:size], has_next=len(rows) > size, has_previous=after is not None)


async def load_timelines(requests: Sequence[TimelineRequest]) -> list[list[TicketEvent]]:
    """Batch load for TimelineRequests: those alike but for the ticket are read together, two statements each."""
    tickets: defaultdict[tuple[int, int, Scope], list[uuid.UUID]] = defaultdict(list)
    for request in requests:
        tickets[(request.after, request.size, request.scope)].append(request.ticket_id)
    found: dict[TimelineRequest, list[TicketEvent]] = {}
    for (after, size, scope), ticket_ids in tickets.items():
        for ticket_id, rows in (
            await read_timelines(ticket_ids, after=after, limit=size, where=scope.events())
        ).items():
            found[TimelineRequest(ticket_id, after, size, scope)] = rows
    return [found[request] for request in requests]
