"""The Subscription root: ticket events over WebSocket, resumable with `since`, rendered once per feed.

strawberry would execute a subscription's selection once per subscriber and event. Here the resolver
checks the request (ticket, `since`), joins the feed of every subscription that would receive the same
messages (ticketdesk.subscriptions.feeds) and sends the feed's rendered messages down its own socket;
graphql-core never sees an event, so the resolver is an async generator that yields nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncGenerator, Collection, Hashable
from contextlib import aclosing
from inspect import isawaitable
from typing import Annotated

import strawberry
from graphql import (
    ArgumentNode,
    DocumentNode,
    ExecutionResult,
    Executor,
    VariableNode,
    execute_subscription_event,
    located_error,
)

from ticketdesk.context import Context, Info, WebSocketOperation, fresh_loaders, websocket_operation
from ticketdesk.errors import BadUserInput, CursorExpired, NotFound
from ticketdesk.internals.strawberry import GONE, graphql_schema_of
from ticketdesk.models.enums import EventType
from ticketdesk.models.events import LoggedEvent
from ticketdesk.parsing import parse_event_cursor
from ticketdesk.policy import stand_in
from ticketdesk.resolvers.tickets import get_ticket
from ticketdesk.schema.documents import all_nodes, parse_document
from ticketdesk.schema.gate import gated
from ticketdesk.schema.masking import client_errors
from ticketdesk.schema.types import TicketEvent
from ticketdesk.subscriptions.feeds import Render, shared_stream
from ticketdesk.subscriptions.stream import CURSOR_EXPIRED, EventSelection, resume_point

TicketIdArgument = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="Only this ticket's events (UUID or reference); all visible tickets if null."),
]
SinceArgument = Annotated[
    str | None,
    strawberry.argument(description="The cursor of the last event received: replay everything after it first."),
]


class EventRenderer:
    """One subscription document run for one scope: each event as the JSON text of a result payload."""

    def __init__(
        self, schema: strawberry.Schema, document: DocumentNode, operation: WebSocketOperation, scope_context: Context
    ):
        self._strawberry_schema = schema
        self._schema = graphql_schema_of(schema)
        self._document = document
        self._variables = dict(operation.variables or {})
        self._operation_name = operation.operation_name
        self._context = scope_context

    async def __call__(self, event: LoggedEvent) -> str:
        # Primed with the ticket the hub read once for every feed of this event.
        fresh_loaders().ticket_by_id.prime(event.ticket.id, event.ticket)
        # A new executor per event: graphql-core 3.3's per-event copies (build_per_event_executor) share one
        # memo of collected fields that gains entries with every event and is never cleared.
        executor = Executor.build(
            self._schema,
            self._document,
            root_value=TicketEvent.of(event.row),
            context_value=self._context,
            raw_variable_values=self._variables,
            operation_name=self._operation_name,
        )
        if isinstance(executor, list):  # strawberry coerced these very variables when the subscription started
            raise RuntimeError(f"a validated subscription no longer executes: {executor}")
        result = execute_subscription_event(executor)
        if isawaitable(result):
            result = await result
        return self._payload(result)

    def _payload(self, result: ExecutionResult) -> str:
        return _result_payload(self._strawberry_schema, result, self._context.settings.development)


def feed_key(
    operation: WebSocketOperation, document: DocumentNode, selection: EventSelection, base_url: str
) -> Hashable:
    """What a subscription's messages depend on: two subscriptions with equal keys receive the same text.

    A variable used only as the root field's `since` is left out: it says where a subscriber resumes, not
    what its messages say, so resuming subscribers share the feed of those already live. The base URL is in:
    download links are built on it.
    """
    resume_only = _resume_only_variables(document)
    variables = {name: value for name, value in (operation.variables or {}).items() if name not in resume_only}
    return (operation.query, operation.operation_name, json.dumps(variables, sort_keys=True), selection, base_url)


def _resume_only_variables(document: DocumentNode) -> set[str]:
    nodes = list(all_nodes(document))
    since = {
        node.value.name.value
        for node in nodes
        if isinstance(node, ArgumentNode) and node.name.value == "since" and isinstance(node.value, VariableNode)
    }
    uses = [node.name.value for node in nodes if isinstance(node, VariableNode)]
    # Two uses: the declaration and the `since` argument.
    return {name for name in since if uses.count(name) == 2}


async def _deliver(
    info: Info, ticket_id: strawberry.ID | None, since: str | None, types: Collection[EventType] | None
) -> None:
    operation = websocket_operation()
    if operation is None:
        raise RuntimeError("ticketdesk serves subscriptions through its WebSocket handlers (ticketdesk.websocket)")
    context = info.context
    viewer = context.caller
    ticket: uuid.UUID | None = None
    if ticket_id is not None:
        row = await get_ticket(viewer, ticket_id, "ticketId")
        if row is None:
            raise NotFound("No ticket with that id exists.")
        ticket = row.id
    start: int | None = None
    if since is not None:
        try:
            start = parse_event_cursor(since, "since")
        except BadUserInput:
            raise CursorExpired(CURSOR_EXPIRED) from None
        start = await resume_point(start, dt.timedelta(hours=context.settings.resume_window_hours))
    selection = EventSelection(context.scope, ticket_id=ticket, types=types)
    document = parse_document(operation.query, context.settings.max_query_tokens)
    # What the delivery keeps: not `info`, whose execution state (graphql-core's executor, strawberry's
    # extensions) would otherwise live as long as the subscription.
    strawberry_schema, send, key = (
        info.schema,
        operation.send,
        feed_key(operation, document, selection, context.base_url),
    )

    def render() -> Render:
        scope_context = Context(
            settings=context.settings,
            hub=context.hub,
            feeds=context.feeds,
            files=context.files,
            viewer=stand_in(selection.scope),
            base_url=context.base_url,
        )
        return EventRenderer(strawberry_schema, document, operation, scope_context)

    async def deliver() -> None:
        # aclosing: a subscriber that leaves must release its place in the feed now, not when collected.
        async with aclosing(shared_stream(context.feeds, viewer, key, selection, render, since=start)) as messages:
            async for message in messages:
                await send(message.text)

    if operation.hand_off is None:
        await deliver()
        return
    response_key = info.path.key

    async def deliver_to_the_end() -> None:
        try:
            await deliver()
        except GONE:
            raise
        except Exception as error:
            # As strawberry reports a resolver's error: a last result with it at the root field (an unexpected
            # one logged, and masked outside development).
            failed = ExecutionResult(data=None, errors=[located_error(error, None, [response_key])])
            await send(_result_payload(strawberry_schema, failed, context.settings.development))

    operation.hand_off(deliver_to_the_end)


def _result_payload(schema: strawberry.Schema, result: ExecutionResult, development: bool) -> str:
    """A result as the JSON text of a message's payload, its errors as strawberry would send them."""
    payload: dict[str, object] = {"data": result.data}
    if result.errors:
        payload["errors"] = client_errors(schema, result.errors, development=development)
    return json.dumps(payload, separators=(",", ":"))


@gated
@strawberry.type(description="Live ticket events (WebSocket: graphql-transport-ws or graphql-ws on /graphql).")
class Subscription:
    @strawberry.subscription(
        description="Every event the viewer may see, in cursor order; `since` resumes without gap or repeat."
    )
    async def ticket_events(
        self, info: Info, ticket_id: TicketIdArgument = None, since: SinceArgument = None
    ) -> AsyncGenerator[TicketEvent, None]:
        await _deliver(info, ticket_id, since, None)
        return
        yield  # never reached: the messages went out in _deliver; this makes the resolver a generator

    @strawberry.subscription(description="Only STATUS_CHANGED events, otherwise like `ticketEvents`.")
    async def ticket_status_changed(
        self, info: Info, ticket_id: TicketIdArgument = None, since: SinceArgument = None
    ) -> AsyncGenerator[TicketEvent, None]:
        await _deliver(info, ticket_id, since, (EventType.STATUS_CHANGED,))
        return
        yield  # never reached: the messages went out in _deliver; this makes the resolver a generator
