"""A ticket's timeline: its event log, oldest first, as far as the viewer may see it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ticketdesk.auth import Viewer
from ticketdesk.errors import BadUserInput
from ticketdesk.ids import parse_event_cursor
from ticketdesk.models import TicketEvent
from ticketdesk.models.events import read_timeline
from ticketdesk.policy import scope_of

TIMELINE_PAGE = 50
TIMELINE_MAX = 100


@dataclass(frozen=True)
class EventPage:
    """One page of a ticket's events."""

    events: list[TicketEvent]
    has_next: bool
    has_previous: bool


async def timeline(viewer: Viewer, ticket_id: uuid.UUID, first: int | None, after: str | None) -> EventPage:
    """Ticket.timeline: up to `first` (default 50, at most 100) events after the cursor `after`."""
    size = TIMELINE_PAGE if first is None else first
    if not 1 <= size <= TIMELINE_MAX:
        raise BadUserInput(f"`first` must be between 1 and {TIMELINE_MAX}.")
    start = parse_event_cursor(after, "after") if after is not None else 0
    rows = await read_timeline(ticket_id, after=start, limit=size + 1, where=scope_of(viewer).events())
    return EventPage(events=rows[:size], has_next=len(rows) > size, has_previous=after is not None)
