"""Every reach into a library's private or undocumented internals, in one place, each with why and its canary.

Nothing else in ticketdesk imports a library's private module or leans on an undocumented member. A library
upgrade that moves one of these fails its canary in tests/test_internals.py, which names what to fix here.

broadcaster 0.3.1
    Exports `Broadcast` and `BroadcastBackend`, but not its in-memory backend, nor the subscriber type and
    end-of-stream exception that `Broadcast.subscribe()` hands out (ticketdesk.subscriptions.broker).
tortoise-orm 1.1
    `TortoiseContext.init(_enable_global_fallback=True)`: Tortoise 1.x keeps its connections in a context
    variable; a store opened in the ASGI lifespan task must also be found by request tasks that uvicorn starts
    from other contexts. `EXECUTOR_CACHE`: per-model INSERT/UPDATE/DELETE SQL, cached process-wide by
    connection name and table but not by dialect, so it is cleared whenever a store is opened
    (ticketdesk.models.store).
strawberry-graphql 0.341
    The graphql-transport-ws handler class a view uses (`graphql_transport_ws_handler_class`), subclassed to
    send server pings (ticketdesk.websocket); `execute_single` and its `request_data` keyword, overridden to
    refuse subscriptions over HTTP, and `cross_web.HTTPException` (strawberry's own HTTP error, from its
    dependency cross-web), raised there (ticketdesk.app); `StrawberryField.extensions`, appended to after
    declaration so every root field gets the policy's gate (ticketdesk.schema.gate).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from broadcaster._backends.memory import MemoryBackend as MemoryBackend
from broadcaster._base import Subscriber as Subscriber
from broadcaster._base import Unsubscribed as Unsubscribed
from cross_web import HTTPException as HTTPException
from strawberry.extensions.field_extension import FieldExtension
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler as BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage as ConnectionInitMessage,
)
from strawberry.types.field import StrawberryField
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext

__all__ = [
    "BaseGraphQLTransportWSHandler",
    "ConnectionInitMessage",
    "HTTPException",
    "MemoryBackend",
    "Subscriber",
    "Unsubscribed",
    "add_field_extension",
    "init_store_for_every_task",
    "request_data_of",
]


async def init_store_for_every_task(ctx: TortoiseContext, config: dict[str, Any]) -> None:
    """Initialise `ctx` from `config` and make it the store every task finds, whatever context it runs in.

    Clears Tortoise's process-wide statement cache first: a process that opened SQLite before would
    otherwise send its `?` placeholders to PostgreSQL.
    """
    EXECUTOR_CACHE.clear()
    await ctx.init(config=config, _enable_global_fallback=True)


def request_data_of(execute_single_kwargs: Mapping[str, Any]) -> GraphQLRequestData:
    """The parsed request that strawberry's `execute_single` receives."""
    data: GraphQLRequestData = execute_single_kwargs["request_data"]
    return data


def add_field_extension(field: StrawberryField, extension: FieldExtension) -> None:
    """Give an already declared field one more extension (read when the schema is built)."""
    field.extensions.append(extension)
