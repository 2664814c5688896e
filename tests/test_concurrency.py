"""Races that only PostgreSQL shows (SQLite serializes every write): numbering, idempotency, the event log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.conftest import Clients, make_settings, running_app
from tests.helpers import create
from tests.operations import ADD_MESSAGE, AI_TRANSFER, CREATE_TICKET, ticket_input
from ticketdesk.models.enums import Role

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg_clients(postgres_url: str) -> AsyncIterator[Clients]:
    async with running_app(make_settings(postgres_url)) as clients:
        yield clients


async def _scalar(url: str, sql: str) -> object:
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def test_concurrent_creates_get_distinct_sequential_numbers(pg_clients: Clients) -> None:
    customers = [pg_clients.as_role(Role.CUSTOMER) for _ in range(4)]
    results = await asyncio.gather(
        *(customers[i % 4].data(CREATE_TICKET, {"input": ticket_input(subject=f"t{i}")}) for i in range(20))
    )
    numbers = sorted(r["createTicket"]["ticket"]["number"] for r in results)
    assert numbers == list(range(1, 21))


async def test_concurrent_identical_ai_transfers_make_one_ticket(pg_clients: Clients, postgres_url: str) -> None:
    customer = pg_clients.as_role(Role.CUSTOMER)
    await customer.data("{ viewer { id } }")
    variables = {
        "input": {
            "conversationId": "retrying-phone",
            "summaryOfIssue": "My transfer didn't go through",
            "conversationHistory": [{"role": "CUSTOMER", "content": "My transfer didn't go through"}],
        }
    }
    results = await asyncio.gather(*(customer.data(AI_TRANSFER, variables) for _ in range(20)))
    ids = {r["createFromAITransfer"]["ticket"]["id"] for r in results}
    assert len(ids) == 1
    assert all(r["createFromAITransfer"]["errors"] == [] for r in results)
    assert await _scalar(postgres_url, "SELECT count(*) FROM tickets") == 1
    assert await _scalar(postgres_url, "SELECT count(*) FROM messages") == 1
    assert await _scalar(postgres_url, "SELECT count(*) FROM ticket_events") == 1
    # The losers rolled back their numbers: the next ticket is number 2, no hole.
    assert (await create(customer))["number"] == 2


async def test_concurrent_idempotency_keys_make_one_ticket(pg_clients: Clients, postgres_url: str) -> None:
    customer = pg_clients.as_role(Role.CUSTOMER)
    await customer.data("{ viewer { id } }")
    variables = {"input": ticket_input(idempotencyKey="double-tap")}
    results = await asyncio.gather(*(customer.data(CREATE_TICKET, variables) for _ in range(20)))
    assert len({r["createTicket"]["ticket"]["id"] for r in results}) == 1
    assert await _scalar(postgres_url, "SELECT count(*) FROM tickets") == 1


async def test_concurrent_writes_to_one_ticket_all_survive_in_a_gap_free_log(
    pg_clients: Clients, postgres_url: str
) -> None:
    customer = pg_clients.as_role(Role.CUSTOMER)
    agent = pg_clients.as_role(Role.AGENT)
    ticket = await create(customer)
    await asyncio.gather(
        *(
            (customer if i % 2 else agent).data(ADD_MESSAGE, {"ticketId": ticket["id"], "body": f"m{i}"})
            for i in range(20)
        )
    )
    assert await _scalar(postgres_url, "SELECT count(*) FROM messages") == 20
    seqs = await _scalar(postgres_url, "SELECT array_agg(seq ORDER BY seq) FROM ticket_events")
    assert list(seqs) == list(range(1, 22))  # type: ignore[call-overload]
