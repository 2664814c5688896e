"""The event feed: the whole event log, in log order, as far as the viewer may see it, paged by the cursors
subscriptions resume from (`since`), so a backend that cannot hold a socket or receive webhooks catches up by
polling with the last cursor it saw."""

from __future__ import annotations

from collections.abc import Collection

from tortoise.expressions import Q

from ticketdesk.auth import Viewer
from ticketdesk.errors import BadUserInput
from ticketdesk.models import TicketEvent
from ticketdesk.models.enums import EventType
from ticketdesk.parsing import parse_event_cursor
from ticketdesk.policy import scope_of
from ticketdesk.resolvers.lookup import visible_ticket
from ticketdesk.resolvers.timeline import EventPage

FEED_PAGE = 20


async def event_feed(
    viewer: Viewer,
    after: str | None,
    first: int | None,
    types: Collection[EventType] | None,
    ticket_ref: str | None,
    max_page: int,
) -> EventPage:
    """`events`: up to `first` (default 20, at most `max_page`) events after the cursor `after`, oldest first.

    The log is numbered in commit order without holes (ticketdesk.models.events), so a page never skips an
    event that commits later: polling with the last cursor seen misses nothing and repeats nothing.
    """
    size = FEED_PAGE if first is None else first
    if not 1 <= size <= max_page:
        raise BadUserInput(f"`first` must be between 1 and {max_page}.")
    start = parse_event_cursor(after, "after") if after is not None else 0
    scope = scope_of(viewer)
    where = scope.events()
    if types:
        where &= Q(type__in=list(types))
    if ticket_ref is not None:
        ticket = await visible_ticket(scope, ticket_ref, "filter.ticketId")
        if ticket is None:
            return EventPage(events=[], has_next=False, has_previous=after is not None)
        where &= Q(ticket_id=ticket.id)
    rows = list(await TicketEvent.filter(where, seq__gt=start).order_by("seq").limit(size + 1))
    return EventPage(events=rows[:size], has_next=len(rows) > size, has_previous=after is not None)
