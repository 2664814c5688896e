"""Minimal reproduction: graphql-core 3.3's subscriptions keep memory for every event they deliver.

`map_source_to_response_event` runs each event on `Executor.build_per_event_executor`, a shallow `copy()` of
the subscription's executor. The copy shares `_relevant_sub_fields`, the memo of `collect_subfields`, which
is keyed on `id()` of a field-details list that each event's root collection builds afresh, and keeps that
list alive beside the value. So every event of a subscription with a nested selection adds entries that are
never read again and never removed, for as long as the subscription lives.

    python bench/upstream/graphql_core_subscription_memo.py [--fixed]

prints the live-object and traced-memory growth after 1,000 / 2,000 / 4,000 events; with the memo shared
it grows linearly (about 36 objects and 3.7 KB per event in ticketdesk's subscription), where a fix (a
fresh memo per event executor, or keys that do not depend on per-event lists) keeps it flat. Only
graphql-core is needed. `--fixed` gives each per-event executor its own memo (the fix proposed upstream)
and shows the growth gone. This is the text of the report for graphql-python/graphql-core; it could not be
filed from the machine where it was written (no internet access there).
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import sys
import tracemalloc
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import graphql
from graphql import build_schema, parse, subscribe
from graphql.execution import Executor

SCHEMA = build_schema(
    """
    type Query { noop: String }
    type Ticket { id: ID!  status: String! }
    type Event { seq: Int!  ticket: Ticket! }
    type Subscription { events: Event! }
    """
)
DOCUMENT = parse("subscription { events { seq ticket { id status } } }")
CHECKPOINTS = (1_000, 2_000, 4_000)


async def events(_info: Any) -> AsyncIterator[dict[str, Any]]:
    seq = 0
    while True:
        seq += 1
        yield {"events": {"seq": seq, "ticket": {"id": str(seq), "status": "OPEN"}}}


def give_each_event_its_own_memo() -> None:
    build = Executor.build_per_event_executor

    def build_per_event_executor(self: Executor[Any], payload: Any) -> Executor[Any]:
        executor = build(self, payload)
        executor._relevant_sub_fields = {}  # the proposed fix
        return executor

    Executor.build_per_event_executor = build_per_event_executor  # type: ignore[method-assign]


async def main() -> None:
    if "--fixed" in sys.argv:
        give_each_event_its_own_memo()
    stream = subscribe(SCHEMA, DOCUMENT, root_value={"events": events})
    if inspect.isawaitable(stream):
        stream = await stream
    assert isinstance(stream, AsyncGenerator), stream
    # Let the first events warm every cache that is meant to fill once.
    for _ in range(10):
        await anext(stream)
    gc.collect()
    tracemalloc.start()
    objects_before, traced_before = len(gc.get_objects()), tracemalloc.get_traced_memory()[0]
    delivered = 10
    fixed = " (per-event memo)" if "--fixed" in sys.argv else ""
    print(f"graphql-core {graphql.__version__}{fixed}, Python {sys.version.split()[0]}")
    for checkpoint in CHECKPOINTS:
        while delivered < checkpoint:
            result = await anext(stream)
            assert not result.errors, result.errors
            delivered += 1
        gc.collect()
        grown = len(gc.get_objects()) - objects_before
        traced = tracemalloc.get_traced_memory()[0] - traced_before
        print(f"after {delivered:>5} events: +{grown:>7} live objects, +{traced / 1024:8.1f} KiB traced")
    await stream.aclose()


if __name__ == "__main__":
    asyncio.run(main())
