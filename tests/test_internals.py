"""Canaries for ticketdesk.internals: each private or undocumented library member ticketdesk leans on still
exists and still behaves as relied on. A failure here after an upgrade names the reach to fix."""

from __future__ import annotations

import asyncio
import contextvars
import json
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from broadcaster import Broadcast
from httpx_ws import aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.extensions import FieldExtension
from strawberry.types.base import get_object_definition
from tortoise.backends.base.executor import EXECUTOR_CACHE

from ticketdesk.internals import broadcaster as broadcaster_internals
from ticketdesk.internals import strawberry as strawberry_internals
from ticketdesk.models import Counter
from ticketdesk.models.store import open_store


async def test_internals_broadcaster_memory_backend_delivers() -> None:
    broadcast = Broadcast(backend=broadcaster_internals.MemoryBackend("memory://"))
    await broadcast.connect()
    try:
        async with broadcast.subscribe("canary") as subscriber:
            assert isinstance(subscriber, broadcaster_internals.Subscriber)
            await broadcast.publish("canary", "42")
            event = await asyncio.wait_for(subscriber.get(), timeout=5)
            assert (event.channel, event.message) == ("canary", "42")
    finally:
        await broadcast.disconnect()


async def test_internals_broadcaster_subscriber_ends_with_unsubscribed() -> None:
    # The broker's `tails` ends when the subscriber it holds raises Unsubscribed at disconnect.
    broadcast = Broadcast(backend=broadcaster_internals.MemoryBackend("memory://"))
    await broadcast.connect()
    try:
        async with broadcast.subscribe("canary") as subscriber:
            pass
        try:
            await asyncio.wait_for(subscriber.get(), timeout=5)
        except broadcaster_internals.Unsubscribed:
            return
        raise AssertionError("a subscriber whose subscription ended did not raise Unsubscribed")
    finally:
        await broadcast.disconnect()


async def test_internals_tortoise_store_is_found_by_tasks_of_any_context(tmp_path: Path) -> None:
    store = await open_store(f"sqlite://{tmp_path / 'canary.db'}", migrate=True)
    try:

        async def count() -> int:
            return await Counter.all().count()

        # uvicorn starts request tasks from contexts that never saw the lifespan's context variable.
        task = asyncio.get_running_loop().create_task(count(), context=contextvars.Context())
        assert await task >= 2  # the migrations' counter rows
    finally:
        await store.close_connections()


async def test_internals_tortoise_statement_cache_is_filled_by_writes_and_cleared_on_open(tmp_path: Path) -> None:
    store = await open_store(f"sqlite://{tmp_path / 'first.db'}", migrate=True)
    try:
        await Counter.create(name="canary", value=1)
        assert EXECUTOR_CACHE, "Tortoise no longer caches statements here: drop the clearing in internals"
    finally:
        await store.close_connections()
    store = await open_store(f"sqlite://{tmp_path / 'second.db'}", migrate=False)
    try:
        assert not EXECUTOR_CACHE
    finally:
        await store.close_connections()


@strawberry.type(description="probe")
class ProbeQuery:
    @strawberry.field(description="probe")
    def value(self) -> str:
        return "from the resolver"


class PingOnAck(strawberry_internals.BaseGraphQLTransportWSHandler[None, None]):
    """What ticketdesk.websocket does with the handler: act once acknowledged, send, clean up on shutdown."""

    shut_down = False

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged:
            await self.send_message({"type": "ping"})

    async def shutdown(self) -> None:
        PingOnAck.shut_down = True
        await super().shutdown()


class RefusingView(GraphQL[None, None]):
    """What ticketdesk.app does with execute_single: read the request, refuse with strawberry's HTTP error."""

    graphql_transport_ws_handler_class = PingOnAck

    async def execute_single(self, *args: Any, **kwargs: Any) -> Any:
        if "refuse" in (strawberry_internals.request_data_of(kwargs).query or ""):
            raise strawberry_internals.HTTPException(400, "refused here")
        return await super().execute_single(*args, **kwargs)


def _probe_app() -> Starlette:
    view = RefusingView(strawberry.Schema(query=ProbeQuery))
    return Starlette(routes=[Route("/graphql", view, methods=["POST"]), WebSocketRoute("/graphql", view)])


async def test_internals_strawberry_transport_ws_handler_subclass_is_used_and_can_send() -> None:
    transport = ASGIWebSocketTransport(app=_probe_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        async with aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send_json({"type": "connection_init"})
            assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
            assert await ws.receive_json(timeout=5) == {"type": "ping"}
    assert PingOnAck.shut_down


async def test_internals_strawberry_execute_single_can_refuse_with_an_http_error() -> None:
    transport = httpx.ASGITransport(app=_probe_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        refused = await client.post("/graphql", json={"query": "query refuse { value }"})
        served = await client.post("/graphql", json={"query": "{ value }"})
    assert (refused.status_code, refused.text) == (400, "refused here")
    assert served.json() == {"data": {"value": "from the resolver"}}


def test_internals_strawberry_field_extensions_are_a_list_read_at_schema_build() -> None:
    class Probe(FieldExtension):
        def resolve(self, next_, source, info, **kwargs):  # type: ignore[no-untyped-def]
            return "from the extension"

    @strawberry.type(description="probe")
    class Query:
        @strawberry.field(description="probe")
        def value(self) -> str:
            return "from the resolver"

    (field,) = get_object_definition(Query, strict=True).fields
    strawberry_internals.add_field_extension(field, Probe())
    result = strawberry.Schema(query=Query).execute_sync("{ value }")
    assert result.data == {"value": "from the extension"}


def test_internals_graphql_core_token_limit_error_is_recognised() -> None:
    from graphql import GraphQLError, parse

    from ticketdesk.internals.graphql import is_token_limit_error

    for options in ({"max_lexical_tokens": 3}, {"max_comments": 1}):
        try:
            parse("# one\n# two\n{ a b c d }", **options)  # type: ignore[arg-type]
        except GraphQLError as error:
            assert is_token_limit_error(error), error.message
        else:
            raise AssertionError(f"graphql-core no longer stops at {options}")
    try:
        parse("{ a b")
    except GraphQLError as error:
        assert not is_token_limit_error(error)


def test_internals_strawberry_schema_exposes_its_graphql_core_schema() -> None:
    from graphql import GraphQLSchema

    from ticketdesk.internals.strawberry import graphql_schema_of

    schema = graphql_schema_of(strawberry.Schema(query=ProbeQuery))
    assert isinstance(schema, GraphQLSchema)
    assert schema.query_type is not None and "value" in schema.query_type.fields


@strawberry.type(description="probe")
class ProbeSubscription:
    @strawberry.subscription(description="probe")
    async def ticks(self) -> AsyncGenerator[int, None]:
        yield 1

    @strawberry.subscription(description="probe: ends without a result, as a subscription that hands off does")
    async def quiet(self) -> AsyncGenerator[int, None]:
        return
        yield  # a generator


class TextBeforeEachOperation(strawberry_internals.BaseGraphQLTransportWSHandler[None, None]):
    """What ticketdesk.websocket does: run code in each operation's task, send a frame of its own text."""

    async def run_operation(self, operation: strawberry_internals.Operation[None, None]) -> None:
        await strawberry_internals.send_text(
            self.websocket, json.dumps({"type": "next", "id": operation.id, "payload": {}})
        )
        await super().run_operation(operation)


class LegacyTextBeforeEachOperation(strawberry_internals.BaseGraphQLWSHandler[None, None]):
    async def handle_async_results(
        self, operation_id: str, query: str, operation_name: str | None, variables: dict[str, object] | None
    ) -> None:
        await strawberry_internals.send_text(
            self.websocket, json.dumps({"type": "data", "id": operation_id, "payload": {}})
        )
        await super().handle_async_results(operation_id, query, operation_name, variables)


class OperationView(GraphQL[None, None]):
    graphql_transport_ws_handler_class = TextBeforeEachOperation
    graphql_ws_handler_class = LegacyTextBeforeEachOperation


@pytest.mark.parametrize(
    ("protocol", "start", "result"), [("graphql-transport-ws", "subscribe", "next"), ("graphql-ws", "start", "data")]
)
async def test_internals_strawberry_operations_run_in_an_overridable_task_that_can_send_text(
    protocol: str, start: str, result: str
) -> None:
    view = OperationView(strawberry.Schema(query=ProbeQuery, subscription=ProbeSubscription))
    app = Starlette(routes=[WebSocketRoute("/graphql", view)])
    async with httpx.AsyncClient(transport=ASGIWebSocketTransport(app=app), base_url="http://probe") as client:
        async with aconnect_ws("/graphql", client, subprotocols=[protocol]) as ws:
            await ws.send_json({"type": "connection_init"})
            assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
            await ws.send_json({"id": "7", "type": start, "payload": {"query": "subscription { ticks }"}})
            assert await ws.receive_json(timeout=5) == {"type": result, "id": "7", "payload": {}}
            assert await ws.receive_json(timeout=5) == {"type": result, "id": "7", "payload": {"data": {"ticks": 1}}}


class HeldCompletion(strawberry_internals.BaseGraphQLTransportWSHandler[None, None]):
    """What ticketdesk.websocket does for a subscription that hands off its delivery: strawberry's pipeline ends
    without `complete`, the operation stays registered, and the handler completes it later itself."""

    async def run_operation(self, operation: strawberry_internals.Operation[None, None]) -> None:
        strawberry_internals.hold_completion(operation, True)
        await super().run_operation(operation)
        registered = operation.id in self.operations
        strawberry_internals.hold_completion(operation, False)
        await strawberry_internals.send_text(
            self.websocket, json.dumps({"type": "next", "id": operation.id, "payload": {"registered": registered}})
        )
        await operation.send_operation_message({"id": operation.id, "type": "complete"})


class HeldCompletionView(GraphQL[None, None]):
    graphql_transport_ws_handler_class = HeldCompletion


async def test_internals_strawberry_completion_can_be_held_past_the_pipeline() -> None:
    view = HeldCompletionView(strawberry.Schema(query=ProbeQuery, subscription=ProbeSubscription))
    app = Starlette(routes=[WebSocketRoute("/graphql", view)])
    async with httpx.AsyncClient(transport=ASGIWebSocketTransport(app=app), base_url="http://probe") as client:
        async with aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send_json({"type": "connection_init"})
            assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
            await ws.send_json({"id": "7", "type": "subscribe", "payload": {"query": "subscription { quiet }"}})
            assert await ws.receive_json(timeout=5) == {"type": "next", "id": "7", "payload": {"registered": True}}
            assert await ws.receive_json(timeout=5) == {"type": "complete", "id": "7"}
