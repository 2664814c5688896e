"""The per-process event hub: one reader of the event log fans new events out to this process's taps.

The hub keeps `tail`, the highest event number it has read. Whenever it is woken (a local commit, a
broker announcement, a broker reconnect, or the periodic poll) it reads every row above `tail` in
order and hands each batch to every tap. Event numbers are assigned under a lock held until commit
(see ticketdesk.models.events), so once seq N is visible every seq below it is too: reading "above
`tail`" can never skip an event that commits later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter, deque
from collections.abc import Iterator, Sequence

from ticketdesk.errors import RateLimited
from ticketdesk.models import TicketEvent
from ticketdesk.models.events import LoggedEvent, latest_seq, read_log
from ticketdesk.subscriptions.broker import Broker
from ticketdesk.supervisor import Supervisor

log = logging.getLogger("ticketdesk.hub")

BATCH = 500
# The hub's tasks are named with this prefix, so its background SQL can be told from a request's.
TASK_PREFIX = "ticketdesk-hub"


class Tap:
    """One subscriber's feed: every event above `after` the hub reads, in order, until closed.

    A tap never blocks the hub: a subscriber that falls more than `limit` events behind is marked
    `overflowed` and catches up from the log itself (see ticketdesk.subscriptions.stream).
    """

    def __init__(self, after: int, limit: int) -> None:
        self.after = after
        self.overflowed = False
        self.closed = False
        self._limit = limit
        self._events: deque[LoggedEvent] = deque()
        self._ready = asyncio.Event()

    def push(self, events: Sequence[LoggedEvent]) -> None:
        """Queue `events` (hub side); drops them and marks the tap overflowed when it is too far behind."""
        if self.overflowed or self.closed:
            return
        if len(self._events) + len(events) > self._limit:
            self.overflowed = True
            self._events.clear()
        else:
            self._events.extend(events)
        self._ready.set()

    def close(self) -> None:
        """End the tap (hub shutdown); the subscriber sees `closed` after draining nothing more."""
        self.closed = True
        self._ready.set()

    async def take(self) -> list[LoggedEvent]:
        """Wait for queued events and return them all; empty when the tap closed or overflowed."""
        await self._ready.wait()
        events = list(self._events)
        self._events.clear()
        self._ready.clear()
        if self.closed or self.overflowed:
            self._ready.set()  # stay ready: every later take returns at once
        return events


class EventHub:
    """Reads the event log once per wake-up for the whole process and fans the rows out to taps."""

    def __init__(self, broker: Broker, *, poll_seconds: float, tap_limit: int, max_held: int) -> None:
        self.broker = broker
        self.tail = 0
        self._poll_seconds = poll_seconds
        self._tap_limit = tap_limit
        self._taps: set[Tap] = set()
        # Open subscriptions by the principal who holds them, at most `max_held` each.
        self._held: Counter[uuid.UUID] = Counter()
        self._max_held = max_held
        self._wake = asyncio.Event()
        self._announce = 0
        self._announce_due = asyncio.Event()
        # The hub's three tasks, restarted should one fail (a bug: each handles the trouble it expects).
        self.tasks = Supervisor()

    @property
    def subscribers(self) -> int:
        """How many subscriptions this process is feeding."""
        return len(self._taps)

    async def start(self) -> None:
        """Start at the log's current end and begin listening to the broker."""
        self.tail = await latest_seq()
        self.broker.on_reconnect(self._wake.set)
        await self.broker.connect()
        self.tasks.start(f"{TASK_PREFIX}-listen", self._listen)
        self.tasks.start(f"{TASK_PREFIX}-read", self._read)
        self.tasks.start(f"{TASK_PREFIX}-announce", self._announcer)

    async def stop(self) -> None:
        """Close every tap (their subscriptions complete) and stop reading."""
        for tap in list(self._taps):
            tap.close()
        self._taps.clear()
        await self.tasks.stop()
        await self.broker.disconnect()

    def check_room(self, principal: uuid.UUID) -> None:
        """RATE_LIMITED if `principal` already holds as many subscriptions as one may on this process."""
        if self._held[principal] >= self._max_held:
            raise RateLimited(
                f"At most {self._max_held} open subscriptions per principal on one server: close one first "
                "(one subscription without ticketId follows every ticket you may see)."
            )

    @contextlib.contextmanager
    def holding(self, principal: uuid.UUID) -> Iterator[None]:
        """Count a subscription of `principal` as open for as long as the block runs; RATE_LIMITED past the cap
        (the query limits refuse most extra subscriptions before they start; this catches those that raced)."""
        self.check_room(principal)
        self._held[principal] += 1
        try:
            yield
        finally:
            self._held[principal] -= 1
            if not self._held[principal]:
                del self._held[principal]

    def tap(self) -> Tap:
        """A new tap fed with every event above the current `tail`."""
        tap = Tap(self.tail, self._tap_limit)
        self._taps.add(tap)
        return tap

    def untap(self, tap: Tap) -> None:
        """Stop feeding `tap` (its subscriber went away)."""
        self._taps.discard(tap)

    async def publish(self, events: Sequence[TicketEvent]) -> None:
        """After a commit: wake this hub at once and have the new tail announced to the other processes."""
        self._announce = max(self._announce, *(int(event.seq) for event in events))
        self._wake.set()
        self._announce_due.set()

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
            if not events:
                return
            self.tail = events[-1].seq
            for tap in list(self._taps):
                tap.push(events)
            if len(events) < BATCH:
                return
