"""Several real server processes sharing PostgreSQL and Redis: cross-process delivery, a Redis restart."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from websockets.asyncio.client import ClientConnection

from tests.conftest import make_settings
from tests.operations import CHANGE_STATUS, CREATE_TICKET, ticket_input
from tests.redisserver import RedisServer
from tests.servers import ServerProcess, running_server
from tests.subscriptions.wsclient import TRANSPORT_WS, raw_subscriber
from ticketdesk.auth import mint_token
from ticketdesk.models.enums import Role

pytestmark = pytest.mark.postgres


def _post(server: ServerProcess, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]


class Actors:
    """Tokens of one customer and one agent, valid on every process (they share the secret)."""

    def __init__(self, database_url: str) -> None:
        settings = make_settings(database_url)
        self.customer = mint_token(settings, Role.CUSTOMER, uuid.uuid4(), name="Ann")
        self.agent = mint_token(settings, Role.AGENT, uuid.uuid4(), name="Bob")

    def create(self, server: ServerProcess) -> dict[str, Any]:
        """A new ticket, created through `server`."""
        data = _post(server, self.customer, CREATE_TICKET, {"input": ticket_input()})
        ticket: dict[str, Any] = data["createTicket"]["ticket"]
        return ticket

    def move(self, server: ServerProcess, ticket_id: str, status: str) -> None:
        """Change a ticket's status through `server`; it must succeed."""
        data = _post(server, self.agent, CHANGE_STATUS, {"id": ticket_id, "status": status})
        assert data["changeTicketStatus"]["errors"] == []


@pytest.fixture
def two_servers(postgres_url: str, redis_url: str) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = {"TICKETDESK_DATABASE_URL": postgres_url, "TICKETDESK_BROADCAST_URL": redis_url}
    with running_server(env) as first, running_server({**env, "TICKETDESK_MIGRATE_ON_START": "false"}) as second:
        yield first, second


async def _wait_feeding(server: ServerProcess, count: int = 1) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(200):
            if (await http.get(f"{server.url}/readyz")).json()["subscriptions"] >= count:
                return
            await asyncio.sleep(0.02)
    raise AssertionError(f"{server.url} never fed {count} subscription(s)")


async def test_gql_client_on_one_process_receives_a_mutation_made_on_the_other(
    two_servers: tuple[ServerProcess, ServerProcess], postgres_url: str
) -> None:
    first, second = two_servers
    actors = Actors(postgres_url)
    transport = WebsocketsTransport(
        url=first.ws_url, init_payload={"Authorization": f"Bearer {actors.agent}"}, subprotocols=[TRANSPORT_WS]
    )
    subscription = gql("subscription { ticketEvents { type toStatus ticket { reference status } } }")
    async with Client(transport=transport) as session:
        events = session.subscribe(subscription)
        first_event = asyncio.ensure_future(anext(events))
        await _wait_feeding(first)
        ticket = await asyncio.to_thread(actors.create, second)
        await asyncio.to_thread(actors.move, second, ticket["id"], "IN_PROGRESS")
        received = [await asyncio.wait_for(first_event, 10), await asyncio.wait_for(anext(events), 10)]
        await events.aclose()
    events = [r["ticketEvents"] for r in received]
    assert [(e["type"], e["toStatus"], e["ticket"]["reference"]) for e in events] == [
        ("CREATED", None, ticket["reference"]),
        ("STATUS_CHANGED", "IN_PROGRESS", ticket["reference"]),
    ]
    assert events[1]["ticket"]["status"] == "IN_PROGRESS"


async def _subscribe(server: ServerProcess, token: str) -> ClientConnection:
    ws = await raw_subscriber(server.ws_url, token)
    await _wait_feeding(server)
    return ws


async def _next_event(ws: ClientConnection, timeout: float) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] == "ping":
            await ws.send(json.dumps({"type": "pong"}))
            continue
        assert message["type"] == "next", message
        event: dict[str, Any] = message["payload"]["data"]["ticketEvents"]
        return event


def _readyz(server: ServerProcess) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{server.url}/readyz", timeout=5)
    return response.status_code, response.json()


async def _until(check: Any, what: str, timeout: float = 15) -> None:
    for _ in range(int(timeout / 0.1)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_redis_restart_mid_stream_loses_nothing_and_repeats_nothing(
    postgres_url: str, redis_server: RedisServer
) -> None:
    # Polling is slowed right down, so the events made during the outage can only come back through
    # the reconnect: the subscriber's process re-reads the log when the broker returns.
    env = {
        "TICKETDESK_DATABASE_URL": postgres_url,
        "TICKETDESK_BROADCAST_URL": redis_server.url,
        "TICKETDESK_EVENT_POLL_SECONDS": "600",
    }
    actors = Actors(postgres_url)
    with running_server(env) as watcher, running_server({**env, "TICKETDESK_MIGRATE_ON_START": "false"}) as writer:
        ws = await _subscribe(watcher, actors.agent)
        try:
            ticket = await asyncio.to_thread(actors.create, writer)
            before = await _next_event(ws, 10)

            redis_server.stop()
            await _until(lambda: _readyz(writer)[1]["broker"] == "down", "the writer to see the broker down")
            status, body = _readyz(writer)
            assert (status, body["database"]) == (200, "up")
            # Mutations go on while the broker is away.
            await asyncio.to_thread(actors.move, writer, ticket["id"], "IN_PROGRESS")
            await asyncio.to_thread(actors.move, writer, ticket["id"], "RESOLVED")

            redis_server.start()
            during = [await _next_event(ws, 20), await _next_event(ws, 20)]
            await _until(lambda: _readyz(writer)[1]["broker"] == "up", "the writer to see the broker up")
            await asyncio.to_thread(actors.move, writer, ticket["id"], "CLOSED")
            after = await _next_event(ws, 10)
            with pytest.raises(TimeoutError):
                await _next_event(ws, 1)
        finally:
            await ws.close()
    events = [before, *during, after]
    assert [(e["type"], e["toStatus"]) for e in events] == [
        ("CREATED", None),
        ("STATUS_CHANGED", "IN_PROGRESS"),
        ("STATUS_CHANGED", "RESOLVED"),
        ("STATUS_CHANGED", "CLOSED"),
    ]
    ids = [int(e["id"]) for e in events]
    assert ids == list(range(ids[0], ids[0] + 4))
