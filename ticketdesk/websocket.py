"""The WebSocket protocol handlers ticketdesk serves, where strawberry's need more."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from strawberry.http.exceptions import WebSocketDisconnected

from ticketdesk.context import Context
from ticketdesk.internals import BaseGraphQLTransportWSHandler, ConnectionInitMessage

log = logging.getLogger("ticketdesk.websocket")


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
        while True:
            await asyncio.sleep(interval)
            try:
                await self.send_message({"type": "ping"})
            except (WebSocketDisconnected, OSError):
                return  # the client went away; the handler's shutdown follows
            except RuntimeError as exc:
                # Starlette's answer to a send after the close: the socket is done as well.
                log.debug("stopped pinging a closed WebSocket: %s", exc)
                return
            except Exception:
                # Not the socket going away: a bug. Logged, and the next interval tries again.
                log.exception("pinging a WebSocket failed; trying again in %.0fs", interval)

    async def shutdown(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
        await super().shutdown()
