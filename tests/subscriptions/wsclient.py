"""A test client for GraphQL over WebSocket, speaking either protocol, frame by frame."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Subprotocol

from tests.conftest import Clients

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
PROTOCOLS = (TRANSPORT_WS, LEGACY_WS)

EVENT_FIELDS = "id cursor type ticketId actorId actorRole fromStatus toStatus ticket { id reference status }"
TICKET_EVENTS = f"""
subscription Events($ticketId: ID, $since: String) {{
  ticketEvents(ticketId: $ticketId, since: $since) {{ {EVENT_FIELDS} message {{ body internal }} }}
}}"""
STATUS_CHANGED = f"""
subscription Status($ticketId: ID, $since: String) {{
  ticketStatusChanged(ticketId: $ticketId, since: $since) {{ {EVENT_FIELDS} }}
}}"""
# Every subscription operation with a sample call (the authorization tests require one per operation).
SUBSCRIPTIONS = {"ticketEvents": TICKET_EVENTS, "ticketStatusChanged": STATUS_CHANGED}


class Socket:
    """One GraphQL WebSocket: init, subscribe, read messages; hides keep-alives unless asked."""

    def __init__(self, ws: AsyncWebSocketSession, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self.keepalives = 0

    async def init(self, payload: dict[str, Any] | None) -> dict[str, Any]:
        """Send connection_init and return the server's answer (ack or error)."""
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await self.ws.send_json(message)
        return await self.receive()

    async def subscribe(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        """Start an operation under `op_id`."""
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        await self.ws.send_json({"id": op_id, "type": kind, "payload": {"query": query, "variables": variables or {}}})

    async def stop(self, op_id: str) -> None:
        """Stop the operation `op_id`."""
        await self.ws.send_json({"id": op_id, "type": "complete" if self.protocol == TRANSPORT_WS else "stop"})

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        """The next message that is not a keep-alive (a server ping is answered with a pong)."""
        deadline = time.monotonic() + timeout
        while True:
            message: dict[str, Any] = await self.ws.receive_json(timeout=max(deadline - time.monotonic(), 0.01))
            if message.get("type") == "ping" and self.protocol == TRANSPORT_WS:
                self.keepalives += 1
                await self.ws.send_json({"type": "pong"})
            elif message.get("type") == "ka":
                self.keepalives += 1
            else:
                return message

    async def event(self, op_id: str, timeout: float = 10) -> dict[str, Any]:
        """The next event of `op_id` (its payload's single root field); fails on anything else."""
        message = await self.receive(timeout)
        assert message.get("id") == op_id and message["type"] in ("next", "data"), message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        (event,) = data.values()
        assert isinstance(event, dict)
        return event

    async def events(self, op_id: str, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        """The next `count` events of `op_id`."""
        return [await self.event(op_id, timeout) for _ in range(count)]

    async def silence(self, seconds: float = 0.5) -> dict[str, Any] | None:
        """None if nothing but keep-alives arrives for `seconds`, else the message that did."""
        try:
            return await self.receive(seconds)
        except TimeoutError:
            return None

    async def closed(self, timeout: float = 10) -> WebSocketDisconnect:
        """Wait for the server to close the socket and return the close (code, reason)."""
        try:
            while True:
                await self.receive(timeout)
        except WebSocketDisconnect as close:
            return close


@asynccontextmanager
async def connect(clients: Clients, protocol: str = TRANSPORT_WS) -> AsyncIterator[Socket]:
    """A WebSocket to the served app's /graphql, not yet initialised."""
    async with aconnect_ws(str(clients.http.base_url.join("/graphql")), clients.http, subprotocols=[protocol]) as ws:
        yield Socket(ws, protocol)


@asynccontextmanager
async def subscribed(
    clients: Clients,
    token: str,
    query: str = TICKET_EVENTS,
    variables: dict[str, Any] | None = None,
    *,
    protocol: str = TRANSPORT_WS,
    op_id: str = "1",
) -> AsyncIterator[Socket]:
    """An authenticated socket with one subscription running (fed by the server) under `op_id`."""
    async with connect(clients, protocol) as socket:
        ack = await socket.init({"Authorization": f"Bearer {token}"})
        assert ack["type"] == "connection_ack", ack
        before = await subscriptions(clients)
        await socket.subscribe(op_id, query, variables)
        await wait_subscriptions(clients, lambda count: count > before)
        yield socket


async def subscriptions(clients: Clients) -> int:
    """How many subscriptions the server is feeding, per /readyz."""
    count: int = (await clients.http.get("/readyz")).json()["subscriptions"]
    return count


async def wait_subscriptions(clients: Clients, done: Callable[[int], bool], timeout: float = 5) -> int:
    """Poll /readyz until the subscription count satisfies `done`; returns the last count."""
    deadline = time.monotonic() + timeout
    while not done(count := await subscriptions(clients)) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return count


async def raw_subscriber(url: str, token: str, query: str = TICKET_EVENTS, **options: Any) -> ClientConnection:
    """A graphql-transport-ws subscriber (id "1") on the `websockets` library, as a Python service connects."""
    ws = await ws_connect(url, subprotocols=[Subprotocol(TRANSPORT_WS)], **options)
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
    return ws
