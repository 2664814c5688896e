"""The WebSocket protocol handlers ticketdesk serves, where strawberry's need more."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from ticketdesk.context import Context, Delivery, WebSocketOperation, serve_websocket_operation
from ticketdesk.internals.strawberry import (
    GONE,
    BaseGraphQLTransportWSHandler,
    BaseGraphQLWSHandler,
    ConnectionInitMessage,
    Operation,
    hold_completion,
    send_text,
)

log = logging.getLogger("ticketdesk.websocket")

PING_BACKOFF_MAX = 600.0


class PingingTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with server pings, which strawberry does not send, and subscriptions that send their
    own messages (see ticketdesk.schema.subscription).

    Proxies and mobile networks cut sockets that stay silent, and a client can only tell a quiet
    queue from a dead server if the server speaks now and then.
    """

    _ping_timer: asyncio.TimerHandle | None = None
    _pinging: asyncio.Task[None] | None = None

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        head = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'
        deliveries: list[Delivery] = []

        async def send(payload: str) -> None:
            await send_text(self.websocket, head + payload + "}")

        def hand_off(delivery: Delivery) -> None:
            deliveries.append(delivery)
            hold_completion(operation, True)  # strawberry's pipeline ends now; the subscription does not

        serve_websocket_operation(
            WebSocketOperation(operation.query, operation.variables, operation.operation_name, send, hand_off)
        )
        await super().run_operation(operation)
        if deliveries:
            # Stopped while it was being admitted (the client completed it or closed the socket): strawberry has
            # dropped it, and its pipeline may have swallowed the task's cancellation on the way out.
            task = asyncio.current_task()
            if self.operations.get(operation.id) is not operation or (task is not None and task.cancelling()):
                return
            hold_completion(operation, False)
            try:
                await deliveries[0]()
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            except GONE:
                return  # the client went away; the handler's shutdown follows

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._ping_timer is None:
            self._ping_after(self.context.settings.keepalive_seconds)

    # A timer between pings and a task only while one is sent: a task per connection, sleeping in between,
    # would cost every idle subscriber about a kilobyte and a half.
    def _ping_after(self, wait: float) -> None:
        self._ping_timer = asyncio.get_running_loop().call_later(wait, self._ping_due, wait)

    def _ping_due(self, wait: float) -> None:
        self._pinging = asyncio.create_task(self._ping(wait))

    async def _ping(self, wait: float) -> None:
        interval = self.context.settings.keepalive_seconds
        try:
            await self.send_message({"type": "ping"})
        except GONE:
            return  # the client went away; the handler's shutdown follows
        except Exception:
            # Not the socket going away: a bug. Logged; the next ping waits twice as long, up to 10 minutes.
            interval = min(wait * 2, PING_BACKOFF_MAX)
            log.exception("pinging a WebSocket failed; next try in %.0fs", interval)
        self._ping_after(interval)

    async def shutdown(self) -> None:
        if self._ping_timer is not None:
            self._ping_timer.cancel()
        if self._pinging is not None:
            self._pinging.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinging
        await super().shutdown()


class InitDeadlineWSHandler(BaseGraphQLWSHandler[Context, None]):
    """The legacy graphql-ws protocol with the connection_init deadline strawberry only gives the current one,
    and subscriptions that send their own messages (see ticketdesk.schema.subscription).

    A socket that has not been acknowledged within the deadline is closed with 4408, as graphql-transport-ws
    does: without it, idle sockets opened by the thousand hold the server's memory for minutes.
    """

    async def handle_async_results(
        self, operation_id: str, query: str, operation_name: str | None, variables: dict[str, object] | None
    ) -> None:
        head = '{"type":"data","id":' + json.dumps(operation_id) + ',"payload":'

        async def send(payload: str) -> None:
            await send_text(self.websocket, head + payload + "}")

        serve_websocket_operation(WebSocketOperation(query, variables, operation_name, send))
        await super().handle_async_results(operation_id, query, operation_name, variables)

    async def handle(self) -> None:
        deadline = asyncio.create_task(
            self._close_unless_acknowledged(self.context.settings.connection_init_timeout_seconds)
        )
        try:
            await super().handle()
        finally:
            deadline.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await deadline

    async def _close_unless_acknowledged(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if not self.connection_acknowledged:
            with contextlib.suppress(*GONE):
                await self.websocket.close(code=4408, reason="Connection initialisation timeout")
