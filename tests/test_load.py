"""A load of concurrent writes from many principals across two server processes sharing PostgreSQL and Redis:
every acknowledged write is stored, numbers and events are gap-free, and every subscriber gets every event it
should see, once and in order."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import ClientConnection

from tests.conftest import make_settings
from tests.operations import ADD_MESSAGE, CREATE_TICKET, ticket_input
from tests.servers import ServerProcess, running_server
from tests.subscriptions.wsclient import raw_subscriber
from ticketdesk.auth import mint_token
from ticketdesk.models.enums import Role

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CUSTOMERS = 30
TICKETS_EACH = 4
MESSAGES_EACH = 5  # per ticket: 30 x 4 x (1 + 5) = 720 mutations
EVENTS = "subscription { ticketEvents { cursor type ticketId } }"


@pytest.fixture
def servers(postgres_url: str, redis_url: str) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = {
        "TICKETDESK_DATABASE_URL": postgres_url,
        "TICKETDESK_BROADCAST_URL": redis_url,
        # Many principals at once, each well within a person's pace: the limits are not what is tested here.
        "TICKETDESK_RATE_LIMIT_MUTATIONS": "10000/minute",
    }
    with running_server(env) as one, running_server({**env, "TICKETDESK_MIGRATE_ON_START": "false"}) as two:
        yield one, two


async def _post(http: httpx.AsyncClient, server: ServerProcess, token: str, query: str, variables: Any) -> Any:
    response = await http.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


async def _customer(
    http: httpx.AsyncClient, servers: tuple[ServerProcess, ServerProcess], token: str, index: int
) -> list[tuple[str, int]]:
    """One customer's tickets and messages, alternating between the processes; the acknowledged ticket ids."""
    acknowledged: list[tuple[str, int]] = []
    for t in range(TICKETS_EACH):
        server = servers[(index + t) % 2]
        created = await _post(http, server, token, CREATE_TICKET, {"input": ticket_input(subject=f"c{index} t{t}")})
        ticket = created["createTicket"]["ticket"]
        acknowledged.append((ticket["id"], ticket["number"]))
        for m in range(MESSAGES_EACH):
            variables = {"ticketId": ticket["id"], "body": f"message {m}"}
            data = await _post(http, servers[(index + m) % 2], token, ADD_MESSAGE, variables)
            assert data["addMessage"]["errors"] == []
    return acknowledged


async def _collect(ws: ClientConnection, expected: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(120):
        while len(events) < expected:
            message = json.loads(await ws.recv())
            if message["type"] == "next":
                events.append(message["payload"]["data"]["ticketEvents"])
            elif message["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            else:
                raise AssertionError(message)
    return events


async def test_load_every_write_is_stored_once_and_every_event_delivered(
    servers: tuple[ServerProcess, ServerProcess], postgres_url: str
) -> None:
    settings = make_settings(postgres_url)
    agent = mint_token(settings, Role.AGENT, uuid.uuid4())
    customers = [(uuid.uuid4(), f"c{i}") for i in range(CUSTOMERS)]
    tokens = [mint_token(settings, Role.CUSTOMER, who) for who, _ in customers]
    # An agent watching everything on each process, and three customers each watching their own.
    watchers = [await raw_subscriber(server.ws_url, agent, EVENTS) for server in servers]
    watched = [await raw_subscriber(servers[i % 2].ws_url, tokens[i], EVENTS) for i in range(3)]
    async with httpx.AsyncClient() as http:
        for server, count in zip(servers, (3, 2), strict=True):  # subscriptions each process feeds
            for _ in range(200):
                if (await http.get(f"{server.url}/readyz")).json()["subscriptions"] >= count:
                    break
                await asyncio.sleep(0.02)
        results = await asyncio.gather(*(_customer(http, servers, tokens[i], i) for i in range(CUSTOMERS)))

    per_ticket = 1 + MESSAGES_EACH
    total_events = CUSTOMERS * TICKETS_EACH * per_ticket
    acknowledged = [pair for result in results for pair in result]
    assert len(acknowledged) == CUSTOMERS * TICKETS_EACH

    conn = await asyncpg.connect(postgres_url.replace("postgres://", "postgresql://", 1))
    try:
        stored = {str(row["id"]): row["number"] for row in await conn.fetch("SELECT id, number FROM tickets")}
        messages = await conn.fetchval("SELECT count(*) FROM messages")
        seqs = [row["seq"] for row in await conn.fetch("SELECT seq FROM ticket_events ORDER BY seq")]
    finally:
        await conn.close()
    assert stored == dict(acknowledged)
    assert sorted(stored.values()) == list(range(1, len(acknowledged) + 1))  # gap-free numbers
    assert messages == CUSTOMERS * TICKETS_EACH * MESSAGES_EACH
    assert seqs == list(range(1, total_events + 1))  # gap-free event log

    for ws in watchers:
        events = await _collect(ws, total_events)
        cursors = [event["cursor"] for event in events]
        assert len(set(cursors)) == total_events  # each once
        assert [_seq(cursor) for cursor in cursors] == seqs  # every one, in log order
    for i, ws in enumerate(watched):
        mine = {ticket_id for ticket_id, _ in results[i]}
        events = await _collect(ws, TICKETS_EACH * per_ticket)
        assert {event["ticketId"] for event in events} == mine
        assert [_seq(e["cursor"]) for e in events] == sorted(_seq(e["cursor"]) for e in events)
    for ws in [*watchers, *watched]:
        await ws.close()


def _seq(cursor: str) -> int:
    return int(base64.urlsafe_b64decode(cursor).decode().removeprefix("ev:"))
