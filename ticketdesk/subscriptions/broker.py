"""The broker: broadcaster behind the one message ticketdesk sends, "the event log grew to seq N"."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from broadcaster import Broadcast

from ticketdesk.internals.broadcaster import MemoryBackend, Subscriber, Unsubscribed

if TYPE_CHECKING:
    from ticketdesk.subscriptions.redis_backend import SupervisedRedisBackend

log = logging.getLogger("ticketdesk.broker")

CHANNEL = "ticketdesk.events"


class Broker:
    """One process's link to the other processes: `announce` a new log tail, iterate `tails`."""

    def __init__(self, url: str) -> None:
        scheme = urlsplit(url).scheme
        self._redis: SupervisedRedisBackend | None = None
        if scheme in ("redis", "rediss"):
            from ticketdesk.subscriptions.redis_backend import SupervisedRedisBackend

            self._redis = SupervisedRedisBackend(url)
            self._broadcast = Broadcast(backend=self._redis)
        elif scheme == "memory":
            self._broadcast = Broadcast(backend=MemoryBackend(url))
        else:
            raise ValueError(
                f"TICKETDESK_BROADCAST_URL must be memory:// (one process) or redis://host:port "
                f"(several processes); got {scheme}://"
            )
        self._announce_failing = False
        self._subscription = contextlib.AsyncExitStack()
        self._subscriber: Subscriber | None = None

    async def connect(self) -> None:
        """Start listening; with Redis down this still succeeds and the backend keeps retrying."""
        await self._broadcast.connect()
        # Subscribed here, once, rather than inside `tails`: broadcaster's subscribe() cannot be
        # cancelled half-way without corrupting its bookkeeping, and a stop may come at any moment.
        self._subscription = contextlib.AsyncExitStack()
        self._subscriber = await self._subscription.enter_async_context(self._broadcast.subscribe(CHANNEL))

    async def disconnect(self) -> None:
        """Stop listening and close the broker's connections."""
        await self._subscription.aclose()
        await self._broadcast.disconnect()

    @property
    def state(self) -> str:
        """`up` or `down` (Redis), or `memory` (in-process: always up)."""
        if self._redis is None:
            return "memory"
        return "up" if self._redis.up else "down"

    def on_reconnect(self, callback: Callable[[], None]) -> None:
        """Call `callback` each time the broker comes back after an outage."""
        if self._redis is not None:
            self._redis.on_reconnect = callback

    async def announce(self, seq: int) -> bool:
        """Tell every process the log now reaches `seq`; False (logged once per outage) when it cannot."""
        try:
            await self._broadcast.publish(CHANNEL, str(seq))
        except Exception as exc:
            # The event is committed and in the log: other processes read it at their next wake-up
            # (broker reconnect or poll), so a failed announcement delays delivery, it loses nothing.
            if not self._announce_failing:
                log.warning("broker unavailable, events reach other processes by polling: %s", exc)
            self._announce_failing = True
            return False
        if self._announce_failing:
            log.info("broker announcements work again")
        self._announce_failing = False
        return True

    async def tails(self) -> AsyncIterator[int]:
        """The log tails other processes (and this one) announce, as they arrive, until disconnect."""
        subscriber = self._subscriber
        if subscriber is None:
            raise RuntimeError("Broker.tails() before connect()")
        while True:
            try:
                event = await subscriber.get()
            except Unsubscribed:
                return
            try:
                yield int(event.message)
            except ValueError:
                log.warning("ignoring a broker message that is not an event number: %.80r", event.message)
