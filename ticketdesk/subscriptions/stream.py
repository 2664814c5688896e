"""One subscription's events: replay from the log after `since`, then live from the hub, without gap or repeat.

Hand-over: the stream taps the hub first and only then replays the log up to the tap's start
(`tap.after`). Everything at or below that number comes from the replay, everything above it from the
tap; `last` (the newest event delivered) drops anything seen twice. Events committed while the replay
is read land above `tap.after` and therefore in the tap.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import AsyncGenerator, Collection
from dataclasses import dataclass

from tortoise.expressions import Q

from ticketdesk.auth import Viewer
from ticketdesk.errors import CursorExpired, Unauthenticated
from ticketdesk.models.enums import EventType
from ticketdesk.models.events import LoggedEvent, latest_seq, occurred_at, read_log
from ticketdesk.policy import Scope
from ticketdesk.subscriptions.hub import BATCH, EventHub, Tap

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
            self.scope.sees_event(event.customer_id, row.type)
            and (self.ticket_id is None or row.ticket_id == self.ticket_id)
            and (self.types is None or row.type in self.types)
        )


async def event_stream(
    hub: EventHub, viewer: Viewer, selection: EventSelection, *, since: int | None
) -> AsyncGenerator[LoggedEvent, None]:
    """The selected events after `since`, or from now on, in log order, until the viewer's token expires."""
    with hub.holding(viewer.id):
        where = selection.where()
        last = since
        while True:
            tap = hub.tap()
            try:
                if last is None:
                    # "From now on" means after the newest committed event, which the hub may not have
                    # read yet: anything up to it is older than the subscription and is skipped.
                    last = max(await latest_seq(), tap.after)
                while last < tap.after:
                    replayed = await read_log(last, limit=BATCH, upto=tap.after, where=where)
                    for event in replayed:
                        last = event.seq
                        yield event
                    if len(replayed) < BATCH:
                        last = tap.after
                while not (tap.closed or tap.overflowed):
                    for event in await _take(tap, viewer):
                        if event.seq > last:
                            last = event.seq
                            if selection.matches(event):
                                yield event
                if tap.closed:
                    return
                # Overflowed: this subscriber fell too far behind; take a new tap and replay the gap.
                log.info("a subscriber of %s fell behind at event %d; catching it up from the log", viewer.id, last)
            finally:
                hub.untap(tap)


async def _take(tap: Tap, viewer: Viewer) -> list[LoggedEvent]:
    """The tap's next events, or Unauthenticated once the viewer's token expires while waiting."""
    seconds = (viewer.expires_at - dt.datetime.now(dt.UTC)).total_seconds()
    try:
        async with asyncio.timeout(max(seconds, 0)):
            return await tap.take()
    except TimeoutError:
        raise Unauthenticated(TOKEN_EXPIRED) from None
