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

from ticketdesk.auth import Viewer, event_scope, sees_event
from ticketdesk.errors import CursorExpired, Unauthenticated
from ticketdesk.models import TicketEvent
from ticketdesk.models.enums import EventType
from ticketdesk.subscriptions.hub import BATCH, EventHub, LoggedEvent, Tap, latest_seq, read_log

log = logging.getLogger("ticketdesk.subscriptions")

TOKEN_EXPIRED = "The token has expired; reconnect with a fresh token and pass the last cursor you received as `since`."


async def resume_point(since: int | None, window: dt.timedelta) -> int | None:
    """Check a `since` event number: it must name a kept event no older than `window`."""
    if since is None:
        return None
    row = await TicketEvent.filter(seq=since).first()
    if row is None or row.occurred_at < dt.datetime.now(dt.UTC) - window:
        raise CursorExpired(
            "This cursor is unknown or older than the resume window; reload with queries, then subscribe "
            "without `since`."
        )
    return since


async def event_stream(
    hub: EventHub,
    viewer: Viewer,
    *,
    since: int | None,
    ticket_id: uuid.UUID | None = None,
    types: Collection[EventType] | None = None,
) -> AsyncGenerator[LoggedEvent, None]:
    """The events `viewer` may see (of one ticket, of some types), after `since` or from now on."""
    filters: dict[str, object] = event_scope(viewer)
    if ticket_id is not None:
        filters["ticket_id"] = ticket_id
    if types is not None:
        filters["type__in"] = list(types)

    def wanted(event: LoggedEvent) -> bool:
        row = event.row
        return (
            sees_event(viewer, event.customer_id, row.type)
            and (ticket_id is None or row.ticket_id == ticket_id)
            and (types is None or row.type in types)
        )

    last = since
    while True:
        tap = hub.tap()
        try:
            if last is None:
                # "From now on" means after the newest committed event, which the hub may not have
                # read yet: anything up to it is older than the subscription and is skipped.
                last = max(await latest_seq(), tap.after)
            while last < tap.after:
                replayed = await read_log(last, limit=BATCH, upto=tap.after, **filters)
                for event in replayed:
                    last = event.seq
                    yield event
                if len(replayed) < BATCH:
                    last = tap.after
            while not (tap.closed or tap.overflowed):
                for event in await _take(tap, viewer):
                    if event.seq > last:
                        last = event.seq
                        if wanted(event):
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
