"""Memory per idle subscriber: server RSS (after a full collection) with 0 and N idle subscribers, after a warm-up."""

from __future__ import annotations

from bench.config import Sizes, Store
from bench.fanout import SUBSCRIBE, subscribed
from bench.report import Row
from bench.servers import Server, product_env, running

WARM_UP = 20


async def _per_subscriber(server: Server, count: int, processes: int, query: str | None) -> float:
    # The marginal cost: a few subscribers first, so that what the first one allocates once (imports, caches,
    # the shared feed) is not spread over the N.
    async with subscribed([server], WARM_UP, processes, query):
        pass
    before = (await server.get_json("/__bench__/collect"))["rss_kib"]
    async with subscribed([server], count, processes, query):
        import asyncio

        await asyncio.sleep(3)
        after = (await server.get_json("/__bench__/collect"))["rss_kib"]
    return float(after - before) / count


async def measure(store: Store, sizes: Sizes) -> list[Row]:
    env = product_env(store.database_url, store.broadcast_url)
    count = sizes.idle_subscribers
    async with running("ticketdesk", env) as ours:
        mine = await _per_subscriber(ours, count, sizes.subscriber_processes, SUBSCRIBE)
    async with running("baseline", env) as base:
        theirs = await _per_subscriber(base, count, sizes.subscriber_processes, None)
    return [Row(f"memory/{store.backend}", f"RSS per idle subscriber (N={count})", mine, theirs, "KiB")]
