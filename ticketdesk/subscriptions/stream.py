"""The events a subscription selects, and reading them without gap or repeat: from the log, then live.

Hand-over: the reader taps the hub first and only then replays the log up to the tap's start
(`tap.after`). Everything at or below that number comes from the replay, everything above it from the
tap; `last` (the newest event passed on) drops anything seen twice. Events committed while the replay
is read land above `tap.after` and therefore in the tap.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Collection
from dataclasses import dataclass

from tortoise.expressions import Q

from ticketdesk.errors import CursorExpired
from ticketdesk.models.enums import EventType
from ticketdesk.models.events import LoggedEvent, occurred_at, read_log
from ticketdesk.policy import Scope
from ticketdesk.subscriptions.hub import BATCH, EventHub

log = logging.getLogger("ticketdesk.subscriptions")

TOKEN_EXPIRED = "The token has expired; reconnect with a fresh token and pass the last cursor you received as `since`."
CURSOR_EXPIRED = (
    "This cursor is unknown or older than the resume window; reload with queries, then subscribe without `since`."
)


async def resume_point(since: int, window: dt.timedelta) -> int:
    """Check a `since` event number: it must name a kept event no older than `window`."""
    when = await occurred_at(since)
    if when is None or when < dt.datetime.now(dt.UTC) - window:
        raise CursorExpired(CURSOR_EXPIRED)
    return since


@dataclass(frozen=True)
class EventSelection:
    """The events one subscription delivers: those in the viewer's scope, of one ticket and some types if given.

    `where` reads them from the log (replay), `matches` picks them from the hub's batches (live); both
    take visibility from the same ticketdesk.policy scope.
    """

    scope: Scope
    ticket_id: uuid.UUID | None = None
    types: Collection[EventType] | None = None

    def where(self) -> Q:
        """The selection as a filter on the event log."""
        where = self.scope.events()
        if self.ticket_id is not None:
            where &= Q(ticket_id=self.ticket_id)
        if self.types is not None:
            where &= Q(type__in=list(self.types))
        return where

    def matches(self, event: LoggedEvent) -> bool:
        """Whether an event read by the hub belongs to the selection."""
        row = event.row
        return (
            self.scope.sees_event(event.customer_id, row.internal)
            and (self.ticket_id is None or row.ticket_id == self.ticket_id)
            and (self.types is None or row.type in self.types)
        )


async def read_selected(selection: EventSelection, after: int, upto: int) -> AsyncIterator[LoggedEvent]:
    """The selected events above `after` and at most `upto`, read from the log in batches."""
    where = selection.where()
    while after < upto:
        events = await read_log(after, limit=BATCH, upto=upto, where=where)
        for event in events:
            yield event
        if len(events) < BATCH:
            return
        after = events[-1].seq


async def selected_events(hub: EventHub, selection: EventSelection, *, after: int) -> AsyncGenerator[LoggedEvent, None]:
    """Every selected event above `after`, in log order, until the hub stops: replayed first, then live."""
    last = after
    while True:
        tap = hub.tap()
        try:
            async for event in read_selected(selection, last, tap.after):
                last = event.seq
                yield event
            last = max(last, tap.after)
            while not (tap.closed or tap.overflowed):
                for event in await tap.take():
                    if event.seq > last:
                        last = event.seq
                        if selection.matches(event):
                            yield event
            if tap.closed:
                return
            # Overflowed: the reader fell too far behind; take a new tap and replay the gap.
            log.info("a subscription feed fell behind at event %d; catching it up from the log", last)
        finally:
            hub.untap(tap)
