"""Writes on PostgreSQL: createTicket against the same transaction written by hand."""

from __future__ import annotations

import json
import uuid

from bench.config import Sizes, Store, token
from bench.load import Call, closed_loop, graphql_call, p50
from bench.report import Row
from bench.servers import product_env, running
from ticketdesk.models.enums import Role

CREATE = """mutation Create($input: CreateTicketInput!) {
  createTicket(input: $input) { ticket { id } errors { code message } }
}"""
TICKET = {
    "subject": "Card declined at the supermarket",
    "description": "It was declined twice.",
    "category": "BANKING_ISSUE",
}


def _calls(customers: list[uuid.UUID]) -> tuple[list[Call], list[Call]]:
    ours = [
        graphql_call(CREATE, {"input": TICKET}, token(Role.CUSTOMER, customer), b'"errors":[]')
        for customer in customers
    ]
    headers = {"content-type": "application/json"}
    base = [
        Call("POST", "/tickets", json.dumps({**TICKET, "customerId": str(c)}).encode(), headers, b'"errors":[]')
        for c in customers
    ]
    return ours, base


async def measure(store: Store, sizes: Sizes) -> list[Row]:
    customers = [uuid.uuid4() for _ in range(32)]
    calls = _calls(customers)
    rows = []
    async with running("ticketdesk", product_env(store.database_url, store.broadcast_url)) as ours:
        async with running("baseline", product_env(store.database_url, store.broadcast_url)) as base:
            servers = (ours, base)
            for clients in (1, 32):
                rates: list[list[float]] = [[], []]
                for _ in range(sizes.rounds):
                    for i in range(2):
                        rate = await closed_loop(servers[i].port, calls[i].__getitem__, clients, sizes.seconds)
                        rates[i].append(rate)
                rows.append(
                    Row(
                        "writes/postgres",
                        f"createTicket, {clients} client(s)",
                        p50(rates[0]),
                        p50(rates[1]),
                        "tickets/s",
                    )
                )
    return rows
