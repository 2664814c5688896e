"""Databases for the benchmarks and the data in them: a small read set (through the product's models, on
SQLite or PostgreSQL) and the large search set (PostgreSQL, COPY), with varied, realistic text."""

from __future__ import annotations

import datetime as dt
import os
import random
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from ticketdesk.models import (
    AITransfer,
    Attachment,
    Counter,
    EscalationRequest,
    Feedback,
    Message,
    Principal,
    Ticket,
    TicketEvent,
)
from ticketdesk.models.enums import DEFAULT_PRIORITY, Category, Role, SenderType, Source, Status
from ticketdesk.models.store import open_store
from ticketdesk.models.tickets import reference_for

POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/5")
RARE_TERM = "chargeback"
COMMON_TERM = "card"
TWO_TERMS = "card declined"

MERCHANTS = ["Tesco", "Amazon", "Uber", "Netflix", "Shell", "IKEA", "Spotify", "Lidl", "Ryanair", "Zara", "Apple"]
NAMES = ["my landlord", "my sister", "a friend", "my employer", "the garage", "my savings account", "a supplier"]
SCREENS = ["the statements screen", "card settings", "the payments tab", "notifications", "the login page"]
COUNTRIES = ["Spain", "Portugal", "the US", "Japan", "Turkey", "Mexico", "Thailand"]
SUBJECTS = [
    "Card declined at {m}",
    "My card was declined twice at {m}",
    "Cannot log in after the latest update",
    "Transfer to {n} not received",
    "App crashes when opening {s}",
    "Question about savings interest",
    "Duplicate charge from {m}",
    "Password reset email never arrives",
    "Unexpected fee on my statement",
    "Card blocked while travelling in {c}",
    "Direct debit to {m} failed",
    "How do I raise my daily limit?",
    "Payment pending for three days",
    "Suspicious login from {c}",
    "Virtual card not working online",
]
OPENINGS = [
    "Hi, ",
    "Hello team, ",
    "",
    "Good morning, ",
    "Please help: ",
]
BODIES = [
    "I tried to pay {m} yesterday and it did not go through even though I have enough money.",
    "Since this morning the app shows an error and I cannot see my balance.",
    "I sent money to {n} on Monday and they still have not received it.",
    "There are two identical payments to {m} on my account and I only bought once.",
    "My card stopped working while I was in {c} and I am stuck without cash.",
    "I keep getting a code by SMS but the app says it is invalid.",
    "The payment to {m} shows as pending and the amount is gone from my balance.",
    "I do not recognise a login from {c} and I am worried someone has my details.",
    "When I open {s} the screen goes blank and the app closes.",
    "Could you explain the fee that appeared on my statement last week?",
]
CLOSINGS = [" Thanks.", " This is urgent.", " Please call me back.", "", " Kind regards.", " I need this fixed today."]
REPLIES = [
    "Thanks for reaching out, we are looking into this now.",
    "Could you send us the date and amount of the payment?",
    "I have reset your card limits, please try again.",
    "It still does not work, the card is declined again.",
    "We can see the transfer on our side, it should arrive within a day.",
    "I tried again and got the same error.",
    "Your account is safe; we have blocked the old card and ordered a new one.",
]


class Text:
    """Varied support-ticket text from a seeded generator; `rare` is how often RARE_TERM is mentioned."""

    def __init__(self, seed: int = 7, rare: float = 0.0005) -> None:
        self.random = random.Random(seed)
        self.rare = rare

    def _fill(self, template: str) -> str:
        pick = self.random.choice
        return template.format(m=pick(MERCHANTS), n=pick(NAMES), s=pick(SCREENS), c=pick(COUNTRIES))

    def subject(self) -> str:
        return self._fill(self.random.choice(SUBJECTS))

    def description(self) -> str:
        sentences = [self._fill(self.random.choice(BODIES)) for _ in range(self.random.randint(1, 3))]
        text = self.random.choice(OPENINGS) + " ".join(sentences) + self.random.choice(CLOSINGS)
        text += f" Reference {self.random.randint(100000, 999999)}."
        if self.random.random() < self.rare:
            text += f" Should I ask for a {RARE_TERM}?"
        return text

    def message(self) -> str:
        return self._fill(self.random.choice(REPLIES + BODIES))

    def messages_per_ticket(self) -> int:
        """0-3 messages, 1.5 on average."""
        return self.random.choice((0, 1, 2, 3))


def postgres_url(database: str) -> str:
    return f"{POSTGRES}/{database}"


async def ensure_database(database: str) -> str:
    """Create PostgreSQL database `database` unless it exists; its URL."""
    connection = await asyncpg.connect(postgres_url("postgres"))
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()
    return postgres_url(database)


async def migrate(database_url: str) -> None:
    """Apply the product's migrations (what `ticketdesk migrate` does)."""
    store = await open_store(database_url, migrate=True)
    await store.close_connections()


WIPE_ORDER = (TicketEvent, Attachment, Feedback, EscalationRequest, AITransfer, Message, Ticket, Principal)


def _people(count: int, role: Role, prefix: str) -> list[Principal]:
    return [
        Principal(id=uuid.uuid4(), role=role, name=f"{prefix} {i}", email=f"{prefix.lower()}{i}@bank.example")
        for i in range(count)
    ]


async def seed_read_set(database_url: str, tickets: int) -> None:
    """Replace the store's contents with `tickets` tickets (half assigned, 1.5 messages each on average)."""
    text = Text(seed=11)
    store = await open_store(database_url, migrate=True)
    try:
        with store:
            for model in WIPE_ORDER:
                await model.all().delete()
            customers, agents = (
                _people(max(1, tickets // 5), Role.CUSTOMER, "Customer"),
                _people(5, Role.AGENT, "Agent"),
            )
            await Principal.bulk_create(customers + agents)
            start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
            rows, messages = [], []
            for number in range(1, tickets + 1):
                category = text.random.choice(list(Category))
                ticket = Ticket(
                    id=uuid.uuid4(),
                    number=number,
                    reference=reference_for(number),
                    customer_id=customers[number % len(customers)].id,
                    assignee_id=agents[number % len(agents)].id if number % 2 else None,
                    subject=text.subject(),
                    description=text.description(),
                    status=Status.OPEN,
                    category=category,
                    priority=DEFAULT_PRIORITY[category],
                    source=Source.MOBILE,
                )
                rows.append(ticket)
                for position in range(text.messages_per_ticket()):
                    messages.append(
                        Message(
                            id=uuid.uuid4(),
                            ticket_id=ticket.id,
                            sender_id=ticket.customer_id,
                            sender_type=SenderType.CUSTOMER,
                            body=text.message(),
                            position=position,
                        )
                    )
            await Ticket.bulk_create(rows, batch_size=500)
            await Message.bulk_create(messages, batch_size=500)
            # bulk_create's auto_now_add gives one instant; spread creation times so the order is the number's.
            for ticket in rows:
                ticket.created_at = start + dt.timedelta(minutes=ticket.number)
            await Ticket.bulk_update(rows, fields=["created_at"], batch_size=500)
            await Counter.filter(name="ticket").update(value=tickets)
            await Counter.filter(name="event").update(value=0)
    finally:
        await store.close_connections()


def _search_rows(count: int) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    text = Text(seed=5)
    customers = [uuid.UUID(int=i + 1) for i in range(max(1, count // 20))]
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    categories = list(Category)
    for number in range(1, count + 1):
        ticket_id = uuid.uuid4()
        created = start + dt.timedelta(seconds=300 * number)
        category = text.random.choice(categories)
        ticket = (
            ticket_id, number, reference_for(number), customers[number % len(customers)], text.subject(),
            text.description(), Status.OPEN.value, DEFAULT_PRIORITY[category].value, category.value,
            Source.MOBILE.value, created, created,
        )  # fmt: skip
        messages = [
            (uuid.uuid4(), ticket_id, None, SenderType.CUSTOMER.value, text.message(), False, created, position)
            for position in range(text.messages_per_ticket())
        ]
        yield ticket, messages


TICKET_COLUMNS = [
    "id", "number", "reference", "customer_id", "subject", "description", "status", "priority", "category", "source",
    "created_at", "updated_at",
]  # fmt: skip
MESSAGE_COLUMNS = ["id", "ticket_id", "sender_id", "sender_type", "body", "internal", "created_at", "position"]


async def seed_search_set(count: int) -> str:
    """A PostgreSQL database holding `count` tickets for search, kept between runs (reseeded only when its
    ticket count differs); its URL."""
    url = await ensure_database(f"ticketdesk_bench_search_{count}")
    await migrate(url)
    connection = await asyncpg.connect(url)
    try:
        if await connection.fetchval("SELECT count(*) FROM tickets") != count:
            await connection.execute("TRUNCATE ticket_events, messages, attachments, tickets, principals CASCADE")
            customers = [uuid.UUID(int=i + 1) for i in range(max(1, count // 20))]
            await connection.copy_records_to_table(
                "principals",
                records=[
                    (c, Role.CUSTOMER.value, None, None, dt.datetime.now(dt.UTC), dt.datetime.now(dt.UTC))
                    for c in customers
                ],
                columns=["id", "role", "name", "email", "created_at", "updated_at"],
            )
            tickets, messages = [], []
            for ticket, lines in _search_rows(count):
                tickets.append(ticket)
                messages.extend(lines)
            await connection.copy_records_to_table("tickets", records=tickets, columns=TICKET_COLUMNS)
            await connection.copy_records_to_table("messages", records=messages, columns=MESSAGE_COLUMNS)
            await connection.execute("UPDATE counters SET value = $1 WHERE name = 'ticket'", count)
        # One search document per ticket (ticket_search, once that lands); a set seeded before it existed has
        # none yet, so backfill whenever they fall short of the tickets.
        documents = await connection.fetchval("SELECT to_regclass('ticket_search') IS NOT NULL")
        if documents and await connection.fetchval("SELECT count(*) FROM ticket_search") != count:
            await _rebuild_search_documents(url)
            await connection.execute("ANALYZE")
        if await connection.fetchval("SELECT count(*) FROM pg_stats WHERE tablename = 'tickets'") == 0:
            await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return url


async def _rebuild_search_documents(url: str) -> None:
    # The per-ticket search documents (ticketdesk.models.search, once it lands) are kept by the app's writes;
    # rows COPYed in behind its back need a backfill. Before that module exists there is nothing to rebuild.
    try:
        from ticketdesk.models.search import rebuild_search_documents  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return
    store = await open_store(url, migrate=True)
    try:
        with store:
            await rebuild_search_documents()
    finally:
        await store.close_connections()
