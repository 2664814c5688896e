"""Rate limits per principal: query cost and mutations per minute, kept with the `limits` library.

With `memory://` broadcast the counters live in the process; with `redis://` every process shares them through
that Redis. Should Redis stop answering, each process keeps counting on its own (and says so once in the log)
until it answers again: a broker outage must not turn the limits off, nor refuse every request.

A principal is the token's `sub`; a request without a valid token is counted by its client address.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from urllib.parse import urlsplit

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool

from ticketdesk.errors import RateLimited
from ticketdesk.models.enums import Role
from ticketdesk.settings import Settings

log = logging.getLogger("ticketdesk.ratelimit")

# Short, so a Redis that stopped answering costs a request little before the process counts on its own.
REDIS_TIMEOUT = 0.5


@dataclass(frozen=True)
class Budget:
    """Where a principal stands against the query-cost limit after a request (`extensions.rateLimit`)."""

    limit: int
    remaining: int
    reset_at: dt.datetime
    cost: int

    def report(self) -> dict[str, object]:
        """The form clients see in `extensions.rateLimit`."""
        return {
            "limit": self.limit,
            "remaining": self.remaining,
            "resetAt": self.reset_at.isoformat(),
            "cost": self.cost,
        }


class RateLimits:
    """The query-cost and mutation limits, charged per principal before an operation runs."""

    def __init__(self, settings: Settings) -> None:
        self.query_cost = parse(settings.rate_limit_query_cost)
        self.mutations = parse(settings.rate_limit_mutations)
        self.service_mutations = parse(settings.rate_limit_service_mutations)
        self._local = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._shared: SlidingWindowCounterRateLimiter | None = None
        # Our own pool, handed to `limits`, so that closing the app closes its connections (`limits` has no close).
        self._pool: ConnectionPool | None = None
        scheme = urlsplit(settings.broadcast_url).scheme
        if scheme in ("redis", "rediss"):
            self._pool = ConnectionPool.from_url(
                settings.broadcast_url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
            )
            storage: Storage = RedisStorage(
                f"async+{settings.broadcast_url}",
                implementation="redispy",
                wrap_exceptions=True,
                key_prefix="ticketdesk",
                connection_pool=self._pool,  # type: ignore[arg-type]  # passed through to redis-py
            )
            self._shared = SlidingWindowCounterRateLimiter(storage)
        self._shared_failing = False

    async def close(self) -> None:
        """Close the connections to Redis, if any."""
        if self._pool is not None:
            await self._pool.aclose()

    @property
    def shared(self) -> bool:
        """Whether the counters are shared between processes (through Redis)."""
        return self._shared is not None

    async def charge(self, principal: str, role: Role | None, *, cost: int, mutations: int) -> Budget:
        """Charge one operation's cost (and its root mutation fields); RATE_LIMITED, charging nothing, when either
        would go over its limit."""
        item = self.service_mutations if role is Role.SERVICE else self.mutations
        # Both tested before either is charged: a refusal must leave both budgets as they were.
        if mutations and not await self._allows(item, principal, "mutations", mutations):
            raise RateLimited(
                f"Too many changes: at most {item.amount} mutations per {_window(item)} for this principal.",
                await self._retry_after(item, principal, "mutations"),
            )
        if not await self._allows(self.query_cost, principal, "cost", cost):
            raise RateLimited(
                f"Too much asked at once: at most {self.query_cost.amount} of query cost per {_window(self.query_cost)}"
                f" for this principal (this query costs {cost}).",
                await self._retry_after(self.query_cost, principal, "cost"),
            )
        if mutations:
            await self._hit(item, principal, "mutations", mutations)
        await self._hit(self.query_cost, principal, "cost", cost)
        return await self.budget(principal, cost)

    async def allows_mutations(self, principal: str, role: Role | None, mutations: int) -> bool:
        """Whether `mutations` more root mutation fields are within the principal's limit now, charging nothing
        (an upload asks before its file is read; the operation is charged when it runs)."""
        item = self.service_mutations if role is Role.SERVICE else self.mutations
        return await self._allows(item, principal, "mutations", mutations)

    async def budget(self, principal: str, cost: int = 0) -> Budget:
        """Where `principal` stands against the query-cost limit, charging nothing."""
        reset, remaining = await self._stats(self.query_cost, principal, "cost")
        return Budget(self.query_cost.amount, remaining, reset, cost)

    async def _allows(self, item: RateLimitItem, principal: str, kind: str, cost: int) -> bool:
        if self._shared is not None:
            try:
                allowed = await self._shared.test(item, principal, kind, cost=cost)
            except StorageError as exc:
                self._shared_down(exc)
            else:
                self._shared_up()
                return allowed
        return await self._local.test(item, principal, kind, cost=cost)

    async def _hit(self, item: RateLimitItem, principal: str, kind: str, cost: int) -> None:
        if self._shared is not None and not self._shared_failing:
            try:
                await self._shared.hit(item, principal, kind, cost=cost)
                return
            except StorageError as exc:
                self._shared_down(exc)
        await self._local.hit(item, principal, kind, cost=cost)

    async def _stats(self, item: RateLimitItem, principal: str, kind: str) -> tuple[dt.datetime, int]:
        limiter = self._local if self._shared is None or self._shared_failing else self._shared
        try:
            stats = await limiter.get_window_stats(item, principal, kind)
        except StorageError as exc:
            self._shared_down(exc)
            stats = await self._local.get_window_stats(item, principal, kind)
        return dt.datetime.fromtimestamp(stats.reset_time, dt.UTC), max(int(stats.remaining), 0)

    async def _retry_after(self, item: RateLimitItem, principal: str, kind: str) -> int:
        reset, _ = await self._stats(item, principal, kind)
        return max(1, math.ceil((reset - dt.datetime.now(dt.UTC)).total_seconds()))

    def _shared_down(self, exc: Exception) -> None:
        if not self._shared_failing:
            log.warning("rate-limit counters unavailable in Redis, each process counts on its own: %s", exc)
        self._shared_failing = True

    def _shared_up(self) -> None:
        if self._shared_failing:
            log.info("rate-limit counters are shared through Redis again")
        self._shared_failing = False


def subject_key(viewer_id: object) -> str:
    """The principal a token's subject is counted as."""
    return f"sub:{viewer_id}"


def _window(item: RateLimitItem) -> str:
    seconds = item.get_expiry()
    return "minute" if seconds == 60 else f"{seconds} seconds"
