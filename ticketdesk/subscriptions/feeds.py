"""Shared delivery: subscriptions that would receive the same messages share one feed.

A feed is keyed by everything its messages depend on: the events selected (the viewer's scope, a
ticket, event types) and how each is rendered (the document, operation and variables). It reads the
selected events once, renders each once, and hands the rendered text to every member; what a member
costs per event is a check and a socket write, however many share the feed.

Hand-over for a member: it joins at the feed's position (`after`, the newest event the feed has handed
out), so everything above that reaches it through the feed; anything it needs at or below (`since`)
it replays from the log and renders itself. A member that falls more than `limit` messages behind
leaves, replays the gap and joins again, so a slow socket never holds up the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections import Counter
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable, Iterator
from dataclasses import dataclass

from ticketdesk.auth import Viewer
from ticketdesk.errors import RateLimited, Unauthenticated
from ticketdesk.models.events import LoggedEvent, latest_seq
from ticketdesk.subscriptions.hub import EventHub, Tap
from ticketdesk.subscriptions.stream import TOKEN_EXPIRED, EventSelection, read_selected, selected_events

log = logging.getLogger("ticketdesk.subscriptions")

Render = Callable[[LoggedEvent], Awaitable[str]]
"""One event as the text of a message's payload, as one feed's members see it."""


@dataclass(frozen=True)
class Rendered:
    """One event's message payload, rendered once for every member of a feed."""

    seq: int
    text: str


class FeedFailed(RuntimeError):
    """A feed stopped on an unexpected error (logged with its traceback); its members' subscriptions end."""


class Feed:
    """One selection rendered one way: a reader of the hub and the members it hands messages to."""

    def __init__(self, key: Hashable, selection: EventSelection, render: Render) -> None:
        self.key = key
        self.selection = selection
        self.render = render
        # The newest event handed to the members (or the feed's start): a joining member gets all above it.
        self.position = 0
        self.members: set[Tap[Rendered]] = set()
        self.failure: BaseException | None = None
        self.closed = False
        self.started = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, hub: EventHub) -> None:
        """Begin after the newest committed event (the hub may not have read it yet)."""
        self.position = max(await latest_seq(), hub.tail)
        self._task = asyncio.create_task(self._run(hub), name="ticketdesk-feed")
        self.started.set()

    def close(self, failure: BaseException | None = None) -> None:
        """End the feed and stop its reader: its members' subscriptions end too (with `failure`, if any)."""
        self.closed = True
        self.failure = self.failure or failure
        self.started.set()  # members waiting for a start that failed move on
        for member in self.members:
            member.close()
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()

    async def stop(self) -> None:
        """Close the feed and wait until its reader has let go of its tap."""
        self.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, hub: EventHub) -> None:
        failure: BaseException | None = None
        try:
            async with contextlib.aclosing(selected_events(hub, self.selection, after=self.position)) as events:
                async for event in events:
                    rendered = Rendered(event.seq, await self.render(event))
                    for member in self.members:
                        member.push((rendered,))
                    self.position = event.seq
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A bug (rendering turns field errors into messages); the members' subscriptions end with an error.
            log.exception("a subscription feed of %d subscribers failed", len(self.members))
            failure = exc
        finally:
            self.close(failure)


class Feeds:
    """This process's feeds by key, and the subscriptions each principal holds (at most `max_held`)."""

    def __init__(self, hub: EventHub, *, limit: int, max_held: int) -> None:
        self.hub = hub
        self._limit = limit
        self._max_held = max_held
        self._feeds: dict[Hashable, Feed] = {}
        self._held: Counter[uuid.UUID] = Counter()

    @property
    def subscribers(self) -> int:
        """How many subscriptions are members of a feed now."""
        return sum(len(feed.members) for feed in self._feeds.values())

    @property
    def count(self) -> int:
        """How many feeds are running."""
        return len(self._feeds)

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

    async def join(self, key: Hashable, selection: EventSelection, render: Callable[[], Render]) -> Member:
        """Become a member of the feed for `key`, starting it (with `render()`) if none runs."""
        while True:
            feed = self._feeds.get(key)
            if feed is None:
                feed = self._feeds[key] = Feed(key, selection, render())
                try:
                    await feed.start(self.hub)
                except BaseException as exc:
                    self._forget(feed)
                    feed.close(exc)
                    raise
            await feed.started.wait()
            if not feed.closed:
                break
            self._forget(feed)  # it ended (failed, or lost its last member) while this one waited: start anew
        tap: Tap[Rendered] = Tap(feed.position, self._limit)
        feed.members.add(tap)
        return Member(feed, tap)

    def leave(self, member: Member) -> None:
        """Drop `member`; a feed without members stops."""
        feed = member.feed
        feed.members.discard(member.tap)
        if not feed.members:
            self._forget(feed)
            feed.close()

    async def stop(self) -> None:
        """Stop every feed: the subscriptions complete."""
        feeds = list(self._feeds.values())
        self._feeds.clear()
        for feed in feeds:
            await feed.stop()

    def _forget(self, feed: Feed) -> None:
        if self._feeds.get(feed.key) is feed:
            del self._feeds[feed.key]


@dataclass(frozen=True)
class Member:
    """One subscription's place in a feed: the messages handed to it wait in `tap`."""

    feed: Feed
    tap: Tap[Rendered]


async def shared_stream(
    feeds: Feeds,
    viewer: Viewer,
    key: Hashable,
    selection: EventSelection,
    render: Callable[[], Render],
    *,
    since: int | None,
) -> AsyncGenerator[Rendered, None]:
    """The messages of one subscription after `since`, or from now on, in log order, until the viewer's token
    expires or the server stops; live ones rendered once per feed, replayed ones by this subscription."""
    loop = asyncio.get_running_loop()
    member: Member | None = None
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        if member is not None:
            member.tap.close()

    # One timer for the subscription's life, not a timeout around every wait for the next message.
    seconds = (viewer.expires_at - dt.datetime.now(dt.UTC)).total_seconds()
    expiry = loop.call_later(max(seconds, 0), expire)
    with feeds.holding(viewer.id):
        last = since
        try:
            while True:
                member = await feeds.join(key, selection, render)
                feed, tap = member.feed, member.tap
                if expired:
                    tap.close()
                try:
                    if last is None:
                        # "From now on" means after the newest committed event, which the feed may not have
                        # handed out yet: anything up to it is older than the subscription and is skipped.
                        last = max(await latest_seq(), tap.after)
                    async for event in read_selected(selection, last, tap.after):
                        last = event.seq
                        yield Rendered(event.seq, await feed.render(event))
                    last = max(last, tap.after)
                    while not (tap.closed or tap.overflowed):
                        for rendered in await tap.take():
                            if rendered.seq > last:
                                last = rendered.seq
                                yield rendered
                    if feed.failure is not None:
                        raise FeedFailed("delivering this subscription failed; subscribe again") from feed.failure
                    if expired:
                        break
                    if tap.closed:
                        return
                    # Overflowed: this subscriber fell too far behind; join again and replay the gap.
                    log.info("a subscriber of %s fell behind at event %d; catching it up from the log", viewer.id, last)
                finally:
                    feeds.leave(member)
        finally:
            expiry.cancel()
    raise Unauthenticated(TOKEN_EXPIRED)
