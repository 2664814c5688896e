"""The WebSocket protocol handlers ticketdesk serves, where strawberry's need more."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from starlette.websockets import WebSocketDisconnected as StarletteWebSocketDisconnected
from strawberry.http.exceptions import WebSocketDisconnected

from ticketdesk.context import Context, WebSocketOperation, serve_websocket_operation
from ticketdesk.internals.strawberry import (
    BaseGraphQLTransportWSHandler,
    BaseGraphQLWSHandler,
    ConnectionInitMessage,
    Operation,
    send_text,
)

log = logging.getLogger("ticketdesk.websocket")

# A send on a socket the client closed: strawberry's error for a disconnect, Starlette's for a send after the
# close, and the transport's own.
GONE: tuple[type[Exception], ...] = (WebSocketDisconnected, StarletteWebSocketDisconnected, OSError)
PING_BACKOFF_MAX = 600.0


class PingingTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with server pings, which strawberry does not send, and subscriptions that send their
    own messages (see ticketdesk.schema.subscription).

    Proxies and mobile networks cut sockets that stay silent, and a client can only tell a quiet
    queue from a dead server if the server speaks now and then.
    """

    _pinger: asyncio.Task[None] | None = None

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        head = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'

        async def send(payload: str) -> None:
            await send_text(self.websocket, head + payload + "}")

        serve_websocket_operation(
            WebSocketOperation(operation.query, operation.variables, operation.operation_name, send)
        )
        await super().run_operation(operation)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._pinger is None:
            self._pinger = asyncio.create_task(self._ping(self.context.settings.keepalive_seconds))

    async def _ping(self, interval: float) -> None:
        wait = interval
        while True:
            await asyncio.sleep(wait)
            try:
                await self.send_message({"type": "ping"})
            except GONE:
                return  # the client went away; the handler's shutdown follows
            except Exception:
                # Not the socket going away: a bug. Logged; the next ping waits twice as long, up to 10 minutes.
                wait = min(wait * 2, PING_BACKOFF_MAX)
                log.exception("pinging a WebSocket failed; next try in %.0fs", wait)
            else:
                wait = interval

    async def shutdown(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
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
