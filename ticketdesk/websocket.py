"""The WebSocket protocol handlers ticketdesk serves, where strawberry's need more."""

from __future__ import annotations

import asyncio
import contextlib

from ticketdesk.context import Context
from ticketdesk.internals import BaseGraphQLTransportWSHandler, ConnectionInitMessage


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
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(interval)
                await self.send_message({"type": "ping"})

    async def shutdown(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
        await super().shutdown()
