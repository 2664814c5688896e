"""tickets(filter: {search}): the search documents kept up to date by every write, the capped totalCount,
the migration that fills documents for existing tickets, and (PostgreSQL) the trigram indexes serving it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import pytest
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from tests.conftest import Caller, Clients, make_settings, running_app
from tests.helpers import create, set_status
from tests.operations import ADD_MESSAGE, ADD_NOTE, AI_TRANSFER, LIST_TICKETS, UPDATE_TICKET
from ticketdesk.auth import Viewer
from ticketdesk.models import Message, Principal, Ticket, TicketSearch
from ticketdesk.models.enums import Category, Priority, Role, SenderType, Source
from ticketdesk.models.search import rebuild_search_documents
from ticketdesk.models.store import open_store, tortoise_config
from ticketdesk.resolvers.listing import TicketQuery, visible_tickets

ASC = {"field": "NUMBER", "direction": "ASC"}


async def found(caller: Caller, search: str) -> list[int]:
    data = await caller.data(LIST_TICKETS, {"filter": {"search": search}, "orderBy": ASC})
    return [edge["node"]["number"] for edge in data["tickets"]["edges"]]


async def test_search_internal_notes_match_for_staff_never_for_customers(
    customer: Caller, agent: Caller, admin: Caller
) -> None:
    ticket = await create(customer, subject="Card declined", description="at the grocery store")
    await agent.data(ADD_NOTE, {"ticketId": ticket["id"], "body": "suspected skimmer device"})
    await set_status(agent, ticket["id"], "IN_PROGRESS", note="escalated to fraudteam")
    for term in ("skimmer", "fraudteam", "declined skimmer"):
        assert await found(agent, term) == [1]
        assert await found(admin, term) == [1]
        assert await found(customer, term) == []
    assert await found(customer, "declined") == [1]


async def test_search_finds_words_of_messages_added_after_creation(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    assert await found(agent, "chargeback") == []
    await customer.data(ADD_MESSAGE, {"ticketId": ticket["id"], "body": "I want a chargeback"})
    await agent.data(ADD_MESSAGE, {"ticketId": ticket["id"], "body": "Opened dispute D-77"})
    assert await found(agent, "chargeback") == [1]
    assert await found(customer, "CHARGEBACK d-77") == [1]


async def test_search_finds_an_ai_transfers_conversation(customer: Caller, agent: Caller) -> None:
    variables = {
        "input": {
            "conversationId": "c-1",
            "summaryOfIssue": "Transfer did not arrive",
            "conversationHistory": [
                {"role": "CUSTOMER", "content": "I sent money to my landlord"},
                {"role": "AI", "content": "Let me hand you to a colleague"},
            ],
        }
    }
    await customer.data(AI_TRANSFER, variables)
    assert await found(agent, "landlord colleague") == [1]
    assert await found(customer, "landlord") == [1]


async def test_search_follows_edits_of_subject_and_description(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer, subject="Old words", description="nothing special")
    await agent.data(UPDATE_TICKET, {"id": ticket["id"], "input": {"subject": "Fresh title"}})
    assert await found(agent, "old") == []
    assert await found(agent, "fresh") == [1]
    await agent.data(UPDATE_TICKET, {"id": ticket["id"], "input": {"description": "rewritten entirely"}})
    assert await found(customer, "special") == []
    assert await found(customer, "fresh rewritten") == [1]
    assert await found(customer, "TCK-000001 rewritten") == [1]


async def test_search_terms_may_match_different_fields(customer: Caller, agent: Caller) -> None:
    first = await create(customer, subject="Card declined", description="at the grocery store")
    await create(customer, subject="Card stolen", description="on the train")
    await customer.data(ADD_MESSAGE, {"ticketId": first["id"], "body": "The terminal showed an error"})
    assert await found(agent, "card terminal") == [1]
    assert await found(agent, "card grocery terminal") == [1]
    assert await found(agent, "card train") == [2]
    assert await found(agent, "card") == [1, 2]
    assert await found(agent, "stolen terminal") == []
    # Parts of a document are joined by whitespace, which no term holds: no match across two of them.
    assert await found(agent, "declinedat") == []
    assert await found(agent, "storethe") == []


async def test_search_wildcards_and_backslashes_match_literally(customer: Caller, agent: Caller) -> None:
    await create(customer, subject="Fee of 100% charged", description="path C:\\temp\\file_1")
    await create(customer, subject="Fee of 1000 charged", description="path C:/temp/fileX1")
    assert await found(agent, "100%") == [1]
    assert await found(agent, "%") == [1]
    assert await found(agent, "file_1") == [1]
    assert await found(agent, "_") == [1]
    assert await found(agent, "c:\\temp") == [1]
    assert await found(agent, "\\") == [1]
    assert await found(agent, "1%0") == []


async def test_search_total_count_stops_at_the_limit(database_url: str) -> None:
    async with running_app(make_settings(database_url, search_count_limit=3)) as clients:
        customer, agent = clients.as_role(Role.CUSTOMER), clients.as_role(Role.AGENT)
        for word in ("alpha", "beta", "gamma", "delta"):
            await create(customer, subject=f"Crash {word}")
        await create(customer, subject="Something else")

        async def total(**filter: Any) -> int:
            data = await agent.data(LIST_TICKETS, {"filter": filter, "first": 2})
            count: int = data["tickets"]["totalCount"]
            return count

        assert await total(search="crash") == 3  # four match: the limit, meaning "3 or more"
        assert await total(search="crash gamma") == 1
        assert await total(search="nothing-matches") == 0
        assert await total() == 5  # without a search term nothing is capped
        assert await total(search="   ") == 5
        data = await agent.data(LIST_TICKETS, {"filter": {"search": "crash"}, "first": 10})
        assert len(data["tickets"]["edges"]) == 4  # the cap is on the count, never on the tickets listed


async def test_search_keeps_a_bounded_part_of_each_conversation(database_url: str) -> None:
    # A ticket fed message after message must not make every append costlier than the last: each kind of text
    # (public, internal) keeps TICKETDESK_SEARCH_TEXT_LIMIT characters, and search looks no further.
    async with running_app(make_settings(database_url, search_text_limit=40)) as clients:
        customer, agent = clients.as_role(Role.CUSTOMER), clients.as_role(Role.AGENT)
        ticket = await create(customer, subject="Long story")
        for body in ("early words here", "middle part", "tail beyondlimit words"):
            await customer.data(ADD_MESSAGE, {"ticketId": ticket["id"], "body": body})
        await agent.data(ADD_NOTE, {"ticketId": ticket["id"], "body": "a note within the limit"})
        assert await found(agent, "early") == await found(agent, "middle") == [1]
        assert await found(agent, "beyondlimit") == []  # past the 40 characters kept
        assert await found(agent, "within") == [1]  # internal notes have their own 40
        kept = await TicketSearch.get(ticket_id=ticket["id"])
        assert kept.public_text == "early words here middle part tail beyondlimit words"[:40]
        # Rebuilding from the rows gives the same document.
        assert await rebuild_search_documents(limit=40) == 1
        assert (await TicketSearch.get(ticket_id=ticket["id"])).public_text == kept.public_text


def _viewer(role: Role, subject: uuid.UUID | None = None) -> Viewer:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    return Viewer(id=subject or uuid.uuid4(), role=role, name=None, email=None, expires_at=later)


async def test_search_migration_fills_documents_of_existing_tickets(database_url: str) -> None:
    store = await open_store(database_url, migrate=False)
    try:
        executor = MigrationExecutor(store.db("default"), tortoise_config("sqlite://:memory:")["apps"])
        await executor.migrate([MigrationTarget("models", "0003_counter_rows")])
        owner = uuid.uuid4()
        await Principal.create(id=owner, role=Role.CUSTOMER)
        for number, subject in enumerate(("Card declined", "Login fails"), start=1):
            ticket = await Ticket.create(
                number=number,
                reference=f"TCK-{number:06d}",
                customer_id=owner,
                subject=subject,
                description="before the migration",
                category=Category.OTHER,
                priority=Priority.LOW,
                source=Source.MOBILE,
            )
            for i, (body, internal) in enumerate(((f"reply {number}", False), (f"note{number}", True))):
                await Message.create(
                    ticket_id=ticket.id, sender_type=SenderType.AGENT, body=body, internal=internal, position=i
                )
        await executor.migrate()
        assert await TicketSearch.all().count() == 2
        document = await TicketSearch.get(ticket_id=ticket.id)
        assert (document.head, document.public_text, document.internal_text) == (
            "TCK-000002 Login fails before the migration",
            "reply 2",
            "note2",
        )

        async def numbers(viewer: Viewer, search: str) -> list[int]:
            query = visible_tickets(viewer, TicketQuery(search=search)).order_by("number")
            return [t.number for t in await query]

        agent, customer = _viewer(Role.AGENT), _viewer(Role.CUSTOMER, owner)
        # Only the listing's own ORDER BY: none copied from a model's Meta.ordering into the subquery.
        sql = visible_tickets(agent, TicketQuery(search="a b")).order_by("number").sql()
        assert sql.count("ORDER BY") == 1, sql
        assert await numbers(agent, "migration") == [1, 2]
        assert await numbers(agent, "declined reply") == [1]
        assert await numbers(agent, "note2") == [2]
        assert await numbers(customer, "note2") == []
        # A service token sees every ticket but no internal content (it cannot call `tickets` today).
        assert await numbers(_viewer(Role.SERVICE), "note2") == []
        assert await numbers(_viewer(Role.SERVICE), "reply") == [1, 2]
        # Rebuilding writes the same documents again, and the migration can be undone and redone.
        assert await rebuild_search_documents() == 2
        assert (await TicketSearch.get(ticket_id=ticket.id)).public_text == "reply 2"
        await executor.migrate([MigrationTarget("models", "0003_counter_rows")])
        await executor.migrate()
        assert await numbers(agent, "fails note2") == [2]
    finally:
        await store.close_connections()


SEED_TICKETS = 5000
# Descriptions of a realistic length: on a table of a few pages a sequential scan is rightly cheaper.
FILLER = "the app shows an error when I open my account and try to pay " * 8


async def _seed(url: str) -> None:
    """SEED_TICKETS tickets with a message each, written with raw SQL as a bulk load would be."""
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        owner = uuid.uuid4()
        await conn.execute(
            "INSERT INTO principals (id, role, created_at, updated_at) VALUES ($1, 'CUSTOMER', now(), now())", owner
        )
        tickets = [
            (uuid.uuid4(), n, f"TCK-{n:06d}", owner, f"Subject {n} about card {n * 7919 % 10007}", f"word{n} {FILLER}")
            for n in range(1, SEED_TICKETS + 1)
        ]
        await conn.executemany(
            "INSERT INTO tickets (id, number, reference, customer_id, subject, description, status, priority, "
            "category, source, created_at, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, 'OPEN', 'LOW', 'OTHER', 'MOBILE', now(), now())",
            tickets,
        )
        await conn.executemany(
            "INSERT INTO messages (id, ticket_id, sender_type, body, internal, created_at, position) "
            "VALUES ($1, $2, 'AGENT', $3, $4, now(), 0)",
            [(uuid.uuid4(), t[0], f"reply{t[1]} text", t[1] % 2 == 0) for t in tickets],
        )
    finally:
        await conn.close()


@pytest.mark.postgres
async def test_search_is_served_by_the_trigram_indexes(postgres_url: str) -> None:
    async with running_app(make_settings(postgres_url)) as clients:
        await _seed(postgres_url)
        assert await rebuild_search_documents() == SEED_TICKETS
        await _check_plans(clients, postgres_url)


async def _check_plans(clients: Clients, url: str) -> None:
    agent = clients.as_role(Role.AGENT)
    data = await agent.data(LIST_TICKETS, {"filter": {"search": "word1234 reply1234"}})
    assert [e["node"]["number"] for e in data["tickets"]["edges"]] == [1234]
    assert data["tickets"]["totalCount"] == 1
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        # As autovacuum would: statistics, and the GIN pending list (the documents were written after the
        # indexes) merged into the indexes.
        await conn.execute("VACUUM ANALYZE ticket_search")
        indexes = {
            r["indexname"] for r in await conn.fetch("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'trgm_%'")
        }
        assert indexes == {
            "trgm_ticket_search_head",
            "trgm_ticket_search_public_text",
            "trgm_ticket_search_internal_text",
        }
        # The statement the listing sends for a rare term, newest first, planned with its parameters.
        query = visible_tickets(_viewer(Role.AGENT), TicketQuery(search="word1234"))
        page = query.order_by("-created_at", "-number").limit(21)
        page.sql()  # builds page.query
        sql, parameters = page.query.get_parameterized_sql()
        plan = "\n".join(row[0] for row in await conn.fetch("EXPLAIN " + sql, *parameters))
    finally:
        await conn.close()
    assert "trgm_ticket_search_head" in plan, plan
    assert "Seq Scan on ticket_search" not in plan, plan
