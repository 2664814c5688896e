"""The per-process event hub: one reader of the event log fans new events out to this process's taps.

The hub keeps `tail`, the highest event number it has read. Whenever it is woken (a local commit, a
broker announcement, a broker reconnect, or the periodic poll) it reads every row above `tail` in
order and hands each batch to every tap: one per subscription feed (ticketdesk.subscriptions.feeds),
however many subscribers share it. Event numbers are assigned under a lock held until commit (see
ticketdesk.models.events), so once seq N is visible every seq below it is too: reading "above `tail`"
can never skip an event that commits later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Generic, TypeVar

from ticketdesk.models.events import LoggedEvent, latest_seq, read_log
from ticketdesk.subscriptions.broker import Broker
from ticketdesk.supervisor import Supervisor

log = logging.getLogger("ticketdesk.hub")

BATCH = 500
# The hub's tasks are named with this prefix, so its background SQL can be told from a request's.
TASK_PREFIX = "ticketdesk-hub"

T = TypeVar("T")


class Tap(Generic[T]):
    """A bounded feed of items in order, pushed by one task and taken by another, until closed.

    The hub feeds one to each subscription feed (items: the events it reads), and a feed one to each of its
    members (items: rendered messages). A tap never blocks its producer: a consumer that falls more than
    `limit` items behind is marked `overflowed` and catches up from the log itself.
    """

    # One per subscriber: a list and a future made only while waiting weigh less than a deque and an Event.
    __slots__ = ("_items", "_limit", "_waiter", "after", "closed", "overflowed")

    def __init__(self, after: int, limit: int) -> None:
        # The producer's position when the tap started: the consumer gets every item above it.
        self.after = after
        self.overflowed = False
        self.closed = False
        self._limit = limit
        self._items: list[T] = []
        self._waiter: asyncio.Future[None] | None = None

    def push(self, items: Sequence[T]) -> None:
        """Queue `items` (producer side); drops them and marks the tap overflowed when it is too far behind."""
        if self.overflowed or self.closed:
            return
        if len(self._items) + len(items) > self._limit:
            self.overflowed = True
            self._items = []
        else:
            self._items.extend(items)
        self._wake()

    def close(self) -> None:
        """End the tap; the consumer sees `closed` once it has taken what was queued."""
        self.closed = True
        self._wake()

    async def take(self) -> list[T]:
        """Wait for queued items and return them all; empty when the tap closed or overflowed."""
        while not (self._items or self.closed or self.overflowed):
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        items, self._items = self._items, []
        return items

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class EventHub:
    """Reads the event log once per wake-up for the whole process and fans the rows out to taps."""

    def __init__(self, broker: Broker, *, poll_seconds: float, tap_limit: int) -> None:
        self.broker = broker
        self.tail = 0
        self._poll_seconds = poll_seconds
        self._tap_limit = tap_limit
        self._taps: set[Tap[LoggedEvent]] = set()
        self._wake = asyncio.Event()
        self._announce = 0
        self._announce_due = asyncio.Event()
        # The hub's three tasks, restarted should one fail (a bug: each handles the trouble it expects).
        self.tasks = Supervisor()

    async def start(self) -> None:
        """Start at the log's current end and begin listening to the broker."""
        self.tail = await latest_seq()
        self.broker.on_reconnect(self._wake.set)
        await self.broker.connect()
        self.tasks.start(f"{TASK_PREFIX}-listen", self._listen)
        self.tasks.start(f"{TASK_PREFIX}-read", self._read)
        self.tasks.start(f"{TASK_PREFIX}-announce", self._announcer)

    async def stop(self) -> None:
        """Close every tap (the feeds reading them end) and stop reading."""
        for tap in list(self._taps):
            tap.close()
        self._taps.clear()
        await self.tasks.stop()
        await self.broker.disconnect()

    def tap(self) -> Tap[LoggedEvent]:
        """A new tap fed with every event above the current `tail`."""
        tap: Tap[LoggedEvent] = Tap(self.tail, self._tap_limit)
        self._taps.add(tap)
        return tap

    def untap(self, tap: Tap[LoggedEvent]) -> None:
        """Stop feeding `tap` (its feed went away)."""
        self._taps.discard(tap)

    async def publish(self, events: Sequence[LoggedEvent]) -> None:
        """After a commit: hand its events to the taps and have the new tail announced to the other processes.

        Events that continue the tail go out as they are, without reading them back; any gap (a commit of
        another process, or a local one whose publish comes later) wakes the reader, which reads the log.
        """
        self._announce = max(self._announce, events[-1].seq)
        self._announce_due.set()
        if events[0].seq == self.tail + 1:
            self._advance(events)
        elif events[-1].seq > self.tail:
            self._wake.set()

    async def _announcer(self) -> None:
        # Announcing in the background keeps a slow or absent broker out of every mutation's response
        # time; announcements made while one is in flight collapse into the newest tail.
        while True:
            await self._announce_due.wait()
            self._announce_due.clear()
            await self.broker.announce(self._announce)

    async def _listen(self) -> None:
        # Broker trouble never ends this loop (the backend absorbs it); anything that does is a bug, which
        # the supervisor logs before it restarts the listener. Meanwhile the poll still delivers, slower.
        async for seq in self.broker.tails():
            if seq > self.tail:
                self._wake.set()

    async def _read(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that races a wake-up.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_seconds):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self._catch_up()
            except asyncio.CancelledError:
                raise
            except Exception:
                # Most likely the database is away; the next wake-up or poll tries again.
                log.exception("reading the event log failed")

    async def _catch_up(self) -> None:
        while True:
            events = await read_log(self.tail, limit=BATCH)
            # A local commit may have been handed out while the read was under way.
            self._advance([event for event in events if event.seq > self.tail])
            if len(events) < BATCH:
                return

    def _advance(self, events: Sequence[LoggedEvent]) -> None:
        """Hand `events`, the ones right after `tail` and in order, to every tap."""
        if events:
            self.tail = events[-1].seq
            for tap in list(self._taps):
                tap.push(events)
