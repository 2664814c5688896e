"""Baselines: what the same work costs without GraphQL. Hand-written Starlette apps over the product's own
Tortoise models (ticketdesk.models), and the product's search as plain SQL.

- GET /tickets?first=N: the read benchmark's page, the same JSON shape as the GraphQL answer, with the same
  statements (tickets, then principals and messages each batched in one query);
- POST /tickets: createTicket's writes (counter row locks, ticket row, its search document, CREATED event) in one
  transaction;
- /ws and POST /broadcast?size=S: a WebSocket fan-out of an S-character message to every connected client;
- /readyz: {"status": "ok", "subscriptions": connected clients}.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from tortoise.transactions import in_transaction

from ticketdesk.models import Message, Principal, Ticket, TicketEvent
from ticketdesk.models.enums import DEFAULT_PRIORITY, Category, EventType, Role, Source
from ticketdesk.models.events import EVENT_COUNTER
from ticketdesk.models.search import index_ticket
from ticketdesk.models.store import open_store
from ticketdesk.models.tickets import next_values, reference_for


def _person(row: Principal | None) -> dict[str, Any] | None:
    return None if row is None else {"id": str(row.id), "name": row.name, "email": row.email}


def _message(row: Message) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "senderType": row.sender_type.value,
        "body": row.body,
        "internal": row.internal,
        "createdAt": row.created_at.isoformat(),
    }


def _ticket(row: Ticket, people: dict[uuid.UUID, Principal], messages: list[Message]) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "reference": row.reference,
        "number": row.number,
        "subject": row.subject,
        "status": row.status.value,
        "priority": row.priority.value,
        "category": row.category.value,
        "createdAt": row.created_at.isoformat(),
        "updatedAt": row.updated_at.isoformat(),
        "customer": _person(people.get(row.customer_id)),
        "assignee": _person(people.get(row.assignee_id)) if row.assignee_id else None,
        "messages": [_message(m) for m in sorted(messages, key=lambda m: (m.created_at, m.position))],
    }


async def page(request: Request) -> Response:
    size = int(request.query_params.get("first", "20"))
    rows = list(await Ticket.all().order_by("-created_at", "-number").limit(size + 1))[:size]
    ids = {row.customer_id for row in rows} | {row.assignee_id for row in rows if row.assignee_id}
    people = {row.id: row for row in await Principal.filter(id__in=list(ids))}
    messages: dict[uuid.UUID, list[Message]] = defaultdict(list)
    for message in await Message.filter(ticket_id__in=[row.id for row in rows]):
        messages[message.ticket_id].append(message)
    edges = [{"node": _ticket(row, people, messages[row.id])} for row in rows]
    return JSONResponse({"data": {"tickets": {"edges": edges}}})


KNOWN: set[uuid.UUID] = set()


async def create(request: Request) -> Response:
    body = await request.json()
    customer = uuid.UUID(body["customerId"])
    if customer not in KNOWN:  # as the product does: upsert a principal on first sight, remember it
        await Principal.bulk_create(
            [Principal(id=customer, role=Role.CUSTOMER)], on_conflict=["id"], update_fields=["role"]
        )
        KNOWN.add(customer)
    category = Category(body["category"])
    async with in_transaction():
        number = await next_values("ticket")
        ticket = await Ticket.create(
            number=number,
            reference=reference_for(number),
            customer_id=customer,
            subject=body["subject"],
            description=body["description"],
            category=category,
            priority=DEFAULT_PRIORITY[category],
            source=Source.MOBILE,
        )
        await index_ticket(ticket)  # its search document, as the product writes it
        seq = await next_values(EVENT_COUNTER)
        event = TicketEvent(
            seq=seq,
            type=EventType.CREATED,
            ticket_id=ticket.id,
            actor_id=customer,
            actor_role=Role.CUSTOMER,
            occurred_at=dt.datetime.now(dt.UTC),
        )
        await TicketEvent.bulk_create([event])
    return JSONResponse({"data": {"createTicket": {"ticket": {"id": str(ticket.id)}, "errors": []}}})


CLIENTS: set[WebSocket] = set()


async def sockets(websocket: WebSocket) -> None:
    await websocket.accept()
    CLIENTS.add(websocket)
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        CLIENTS.discard(websocket)


async def broadcast(request: Request) -> Response:
    size = int(request.query_params.get("size", "200"))
    envelope = json.dumps({"type": "next", "id": "1", "payload": ""})
    message = json.dumps({"type": "next", "id": "1", "payload": "x" * max(0, size - len(envelope))})
    for client in list(CLIENTS):
        await client.send_text(message)
    return JSONResponse({"sent": len(CLIENTS)})


async def readyz(request: Request) -> Response:
    return JSONResponse({"status": "ok", "subscriptions": len(CLIENTS)})


def baseline_app() -> Starlette:
    """The baseline app over the store at TICKETDESK_DATABASE_URL."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = await open_store(os.environ["TICKETDESK_DATABASE_URL"], migrate=False)
        try:
            yield
        finally:
            await store.close_connections()

    return Starlette(
        routes=[
            Route("/readyz", readyz),
            Route("/tickets", page, methods=["GET"]),
            Route("/tickets", create, methods=["POST"]),
            Route("/broadcast", broadcast, methods=["POST"]),
            WebSocketRoute("/ws", sockets),
        ],
        lifespan=lifespan,
    )


def bare_app() -> Starlette:
    """The least a Starlette app can be: the start-up baseline."""
    return Starlette(routes=[Route("/readyz", readyz)])


# The SQL ticketdesk.resolvers.listing issues for an agent's `search` over the search documents
# (ticketdesk.models.search: one block per term, ANDed), as Tortoise renders it for PostgreSQL, and the capped
# count of totalCount; update it when the product's search changes. Each runs with custom plans, as the product's.
SEARCH_TERM = """(UPPER(CAST("head" AS VARCHAR)) LIKE UPPER(${0}) ESCAPE '\\'
 OR UPPER(CAST("public_text" AS VARCHAR)) LIKE UPPER(${0}) ESCAPE '\\'
 OR UPPER(CAST("internal_text" AS VARCHAR)) LIKE UPPER(${0}) ESCAPE '\\')"""
SEARCH_COLUMNS = (
    '"priority","status","idempotency_key","category","created_at","assignee_id","customer_id","id","subject",'
    '"updated_at","source","description","error_details","reference","number","resolved_at"'
)
SEARCH_COUNT_LIMIT = 1000  # TICKETDESK_SEARCH_COUNT_LIMIT's default
CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"


def search_sql(terms: list[str], page_size: int) -> tuple[str, str, list[str]]:
    """(page SQL, count SQL, parameters) for `terms`: what `tickets(first: page_size, filter: {search})` and its
    totalCount run (run each in a transaction after CUSTOM_PLANS)."""
    where = " AND ".join(SEARCH_TERM.format(i + 1) for i in range(len(terms)))
    params = [f"%{term}%" for term in terms]
    documents = f'SELECT "ticket_id" FROM "ticket_search" WHERE {where}'
    page_sql = (
        f'SELECT {SEARCH_COLUMNS} FROM "tickets" WHERE "id" IN ({documents}) '
        f'ORDER BY "created_at" DESC,"number" DESC LIMIT {page_size + 1}'
    )
    count_sql = (
        f'SELECT COUNT(*) FROM "tickets" WHERE "id" IN '
        f'(SELECT "id" FROM "tickets" WHERE "id" IN ({documents}) LIMIT {SEARCH_COUNT_LIMIT})'
    )
    return page_sql, count_sql, params
