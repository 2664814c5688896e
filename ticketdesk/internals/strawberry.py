"""strawberry's WebSocket protocol handlers, the graphql-transport-ws connection_init message and operation, a
text frame sent through its ASGI WebSocket adapter, `execute_single`'s request data, its HTTP error (from its
dependency cross-web), extending a field after it is declared, and the graphql-core schema behind a strawberry
Schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cross_web import HTTPException as HTTPException
from graphql import GraphQLSchema
from starlette.websockets import WebSocketDisconnect
from starlette.websockets import WebSocketDisconnected as StarletteWebSocketDisconnected
from strawberry import Schema
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.extensions.field_extension import FieldExtension
from strawberry.http import GraphQLRequestData
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler as BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation as Operation
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage as ConnectionInitMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler as BaseGraphQLWSHandler
from strawberry.types.field import StrawberryField

__all__ = [
    "GONE",
    "BaseGraphQLTransportWSHandler",
    "BaseGraphQLWSHandler",
    "ConnectionInitMessage",
    "HTTPException",
    "Operation",
    "add_field_extension",
    "graphql_schema_of",
    "hold_completion",
    "request_data_of",
    "send_text",
]


# A send on a socket the client closed: strawberry's error for a disconnect, Starlette's for a send after the
# close, and the transport's own.
GONE: tuple[type[Exception], ...] = (WebSocketDisconnected, StarletteWebSocketDisconnected, OSError)


def request_data_of(execute_single_kwargs: Mapping[str, Any]) -> GraphQLRequestData:
    """The parsed request that strawberry's `execute_single` receives."""
    data: GraphQLRequestData = execute_single_kwargs["request_data"]
    return data


def add_field_extension(field: StrawberryField, extension: FieldExtension) -> None:
    """Give an already declared field one more extension (read when the schema is built)."""
    field.extensions.append(extension)


def graphql_schema_of(schema: Schema) -> GraphQLSchema:
    """The graphql-core schema strawberry built (strawberry keeps it in `_schema`)."""
    return schema._schema


def hold_completion(operation: Operation[Any, Any], held: bool) -> None:
    """Keep strawberry from sending `complete` for `operation` when its pipeline ends (`held`), or let it again.

    strawberry's run_operation sends `complete` through `send_operation_message`, which sends nothing at all
    for an operation marked `completed` (hold only once the pipeline has nothing more to send) and, not having
    sent it, leaves the operation registered: a client's own `complete` still cancels its task.
    """
    operation.completed = held


async def send_text(websocket: AsyncWebSocketAdapter, text: str) -> None:
    """Send `text` as one frame (strawberry's adapter only sends JSON it encodes itself); a client that went away
    raises strawberry's WebSocketDisconnected, as its own sends do."""
    if not isinstance(websocket, ASGIWebSocketAdapter):
        raise TypeError(f"ticketdesk serves WebSockets through strawberry's ASGI view, not {type(websocket)}")
    try:
        await websocket.ws.send_text(text)
    except WebSocketDisconnect as exc:
        raise WebSocketDisconnected from exc
