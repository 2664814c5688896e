"""The WebSocket protocol handlers ticketdesk serves, where strawberry's need more."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocketDisconnected as StarletteWebSocketDisconnected
from strawberry.http.exceptions import WebSocketDisconnected

from ticketdesk.context import Context
from ticketdesk.internals.strawberry import BaseGraphQLTransportWSHandler, ConnectionInitMessage

log = logging.getLogger("ticketdesk.websocket")

# A send on a socket the client closed: strawberry's error for a disconnect, Starlette's for a send after the
# close, and the transport's own.
GONE: tuple[type[Exception], ...] = (WebSocketDisconnected, StarletteWebSocketDisconnected, OSError)
PING_BACKOFF_MAX = 600.0


class PingingTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with server pings, which strawberry does not send.

    Proxies and mobile networks cut sockets that stay silent, and a client can only tell a quiet
    queue from a dead server if the server speaks now and then.
    """

    _pinger: asyncio.Task[None] | None = None

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
