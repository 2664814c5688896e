"""A broadcaster backend for Redis that survives the broker going away, which broadcaster's own does not.

broadcaster 0.3.1's RedisBackend has two defects that matter to a long-running server (redis-py 8):

1. A fresh subscriber hears nothing. `subscribe` sets the listener's "ready" flag before it sends
   SUBSCRIBE, and redis-py records the channel only after the send. The listener wakes in between,
   finds no channel, leaves `pubsub.listen()` at once and clears the flag again, so it sleeps until
   some later `subscribe` sets it; until then messages wait unread in the socket.
2. One broker outage kills the listener for good. redis-py tries a single reconnect while Redis is
   still down, the ConnectionError escapes the listener task, and nothing restarts it: once Redis is
   back `publish` works again (issue #144) but subscribers hang forever. broadcaster's own
   `Broadcast._listener` dies the same way if `next_published` raises, so ours never does.

SupervisedRedisBackend keeps one reader task alive from `connect` to `disconnect`, and only that task
touches the pub/sub connection: redis-py's PubSub reconnects by itself when a command fails, and two
tasks doing so at once leak a socket. The reader subscribes to what `subscribe`/`unsubscribe` ask for,
confirms it with a PING, reads messages into a queue, PINGs when the line is quiet (a half-dead
connection says nothing, it does not fail) and, on any trouble, drops the connection and tries again
with exponential backoff. Each time it comes back after an outage it calls `on_reconnect`, because
whatever was published meanwhile is gone: Redis pub/sub keeps nothing for absent subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from broadcaster import BroadcastBackend, Event
from redis import asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.maint_notifications import MaintNotificationsConfig

log = logging.getLogger("ticketdesk.redis")

# Broker trouble as opposed to a bug: these mark the broker down and are retried without a traceback.
# OSError covers the builtin ConnectionError and TimeoutError (asyncio's included).
BROKER_ERRORS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError, OSError)

# Short enough that a publish fails fast while Redis is away instead of holding up the mutation.
SOCKET_TIMEOUT = 2.0
# How long one read blocks before the reader looks for new (un)subscriptions: a subscribe's latency.
POLL = 0.05


class BrokerUnavailable(Exception):
    """Redis did not take a publish: the message reached no subscriber."""


class SupervisedRedisBackend(BroadcastBackend):
    """broadcaster's Redis pub/sub, with a reader that reconnects and resubscribes after every outage.

    `up` tells operators whether subscribers are currently being fed, `reconnects` how often the
    reader came back after an outage, and `on_reconnect` (if set) is called each time it does,
    including after an outage that was already under way at `connect`: messages published (or failed
    to publish) while the broker was away are lost, so the caller must catch up from its own record.
    A failed `publish` counts as an outage too, for the same reason.
    """

    def __init__(
        self,
        url: str,
        *,
        reconnect_delay: float = 0.1,
        max_reconnect_delay: float = 2.0,
        health_check_interval: float = 5.0,
    ) -> None:
        # BroadcastBackend.__init__ only raises NotImplementedError, so it is not called.
        self._client = aioredis.Redis.from_url(
            url,
            socket_connect_timeout=SOCKET_TIMEOUT,
            socket_timeout=SOCKET_TIMEOUT,
            # The reader is the one place that retries: redis-py retrying inside a pub/sub read would
            # reconnect behind our back and hide the outage, messages lost and on_reconnect not called.
            retry=Retry(NoBackoff(), 0),
            # With maintenance notifications on ("auto", redis-py 8's default) the pool skips its check
            # for connections the server closed, so the first publish after a Redis restart would fail.
            maint_notifications_config=MaintNotificationsConfig(enabled=False),
        )
        settings = self._client.connection_pool.connection_kwargs
        self._where = settings.get("path") or f"{settings.get('host')}:{settings.get('port')}"
        self._reconnect_delay = reconnect_delay
        self._max_reconnect_delay = max_reconnect_delay
        self._health_check_interval = health_check_interval
        self._channels: set[str] = set()
        self._waiting: list[asyncio.Future[None]] = []
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self._first_attempt = asyncio.Event()
        self._stopping = False
        self._up = False
        self._publish_failed = False
        self._down_since: float | None = None
        self._attempts = 0
        self._reconnects = 0
        self.on_reconnect: Callable[[], None] | None = None

    @property
    def up(self) -> bool:
        """True while the pub/sub connection is established and subscribed to every channel."""
        return self._up

    @property
    def reconnects(self) -> int:
        """How many times the reader re-established the subscriptions after an outage."""
        return self._reconnects

    async def connect(self) -> None:
        """Start the reader; returns after its first attempt, which may fail (it keeps retrying)."""
        self._reader = asyncio.create_task(self._read_forever(), name=f"redis reader ({self._where})")
        await self._first_attempt.wait()

    async def disconnect(self) -> None:
        if self._reader is not None:
            # The flag as well as the cancel: Python 3.11's wait_for, which redis-py sends through, can
            # turn a cancellation into the send's own error, and the reader would take it for an outage.
            self._stopping = True
            self._reader.cancel()
            await asyncio.wait([self._reader])
            self._reader = None
        await self._client.aclose()

    async def subscribe(self, channel: str) -> None:
        """Add `channel`; once this returns with the broker up, a message published to it is delivered."""
        self._channels.add(channel)
        await self._confirmed()

    async def unsubscribe(self, channel: str) -> None:
        """Drop `channel`; once this returns with the broker up, Redis no longer sends it to us."""
        self._channels.discard(channel)
        await self._confirmed()

    async def publish(self, channel: str, message: Any) -> None:
        try:
            await self._client.publish(channel, message)
        except BROKER_ERRORS as exc:
            self._up = False
            # Tell the reader, which then reconnects and calls on_reconnect: this message is lost.
            self._publish_failed = True
            raise BrokerUnavailable(f"Redis at {self._where} did not take a message for {channel!r}: {exc}") from exc

    async def next_published(self) -> Event:
        # Only ever waits: broadcaster's listener task would die for good if this raised.
        return await self._queue.get()

    async def _confirmed(self) -> None:
        """Wait until the reader has told Redis about the channel set and Redis has confirmed it."""
        if not self._up:
            return  # the reader subscribes to every channel in the set once it (re)connects
        confirmed = asyncio.get_running_loop().create_future()
        self._waiting.append(confirmed)
        # SUBSCRIBE and a later PUBLISH travel on different connections, hence the wait. asyncio.timeout,
        # not wait_for: Python 3.11's wait_for can swallow the caller's cancellation.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SOCKET_TIMEOUT):
                await confirmed

    async def _read_forever(self) -> None:
        """The reader task: one connection after another until `disconnect`."""
        delay = self._reconnect_delay
        while not self._stopping:
            pubsub = self._client.pubsub()
            try:
                await self._session(pubsub)
            except BROKER_ERRORS as exc:
                if self._down_since is None:
                    log.warning("Redis broker at %s unavailable, retrying: %s", self._where, exc)
                else:
                    log.debug("Redis broker at %s still unavailable: %s", self._where, exc)
            except Exception:
                log.exception("Redis reader for %s failed; reconnecting", self._where)
            finally:
                if self._down_since is None:
                    delay = self._reconnect_delay  # this connection had been up: a fresh outage
                self._up = False
                self._release_waiting(self._waiting)
                self._waiting = []
                await self._close(pubsub)
            if self._stopping:
                break
            # A failed first attempt starts an outage too: publishes fail meanwhile, so on_reconnect is due.
            if self._down_since is None:
                self._down_since = asyncio.get_running_loop().time()
            self._attempts += 1
            self._first_attempt.set()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_reconnect_delay)

    async def _session(self, pubsub: PubSub) -> None:
        """Subscribe on a fresh connection and read from it; returns only when stopping, else raises."""
        loop = asyncio.get_running_loop()
        self._publish_failed = False
        await pubsub.connect()  # type: ignore[no-untyped-call]  # unannotated in redis-py 8.1
        subscribed: set[str] = set()
        # PINGs in flight, by token: when they were sent and the subscribe() calls their PONG confirms.
        pings: dict[bytes, tuple[float, list[asyncio.Future[None]]]] = {}
        sent = 0
        heard = loop.time()
        try:
            while not self._stopping:
                if self._publish_failed:
                    raise RedisConnectionError("a publish failed; resubscribing to start from a known state")
                wanted = set(self._channels)
                if new := wanted - subscribed:
                    await pubsub.subscribe(*new)
                if gone := subscribed - wanted:
                    await pubsub.unsubscribe(*gone)
                subscribed = wanted
                handshake = not self._up and not pings
                health_check = not pings and loop.time() - heard > self._health_check_interval
                if handshake or health_check or self._waiting:
                    # Redis answers in order: the reply to this PING means every command above is in
                    # effect, so from then on nothing published to those channels can miss us.
                    sent += 1
                    token = str(sent).encode()
                    pings[token] = (loop.time(), self._waiting)
                    self._waiting = []
                    await pubsub.ping(token)
                # Subscribe confirmations are not ignored: any reply at all proves the line alive.
                message = await pubsub.get_message(timeout=POLL)
                if message is None:
                    if pings and loop.time() - next(iter(pings.values()))[0] > self._health_check_interval:
                        raise RedisTimeoutError(f"no reply to PING within {self._health_check_interval}s")
                    continue
                heard = loop.time()
                if message["type"] == "message":
                    self._queue.put_nowait(Event(message["channel"].decode(), message["data"].decode()))
                elif message["type"] == "pong" and message["data"] in pings:
                    self._release_waiting(pings.pop(message["data"])[1])
                    if not self._up:
                        self._established()
        finally:
            for _, waiting in pings.values():
                self._release_waiting(waiting)

    def _established(self) -> None:
        self._up = True
        self._first_attempt.set()
        if self._down_since is None:
            return
        self._reconnects += 1
        log.info(
            "Redis broker at %s is back after %.1fs (%d attempts); %d channels resubscribed",
            self._where,
            asyncio.get_running_loop().time() - self._down_since,
            self._attempts,
            len(self._channels),
        )
        self._down_since, self._attempts = None, 0
        if self.on_reconnect is not None:
            try:
                self.on_reconnect()
            except Exception:
                log.exception("on_reconnect callback failed")

    @staticmethod
    def _release_waiting(waiting: list[asyncio.Future[None]]) -> None:
        for confirmed in waiting:
            if not confirmed.done():
                confirmed.set_result(None)

    async def _close(self, pubsub: PubSub) -> None:
        try:
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py 8.1
        except BROKER_ERRORS as exc:
            log.debug("closing a broken Redis pub/sub connection: %s", exc)
