"""The policy's scopes: what each role may see, and its two renderings (store filters, live predicates) agreeing."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import pytest

from ticketdesk.auth import Viewer, authenticated
from ticketdesk.models import Message, Principal, Ticket, TicketEvent
from ticketdesk.models.enums import Category, EventType, Priority, Role, SenderType, Source
from ticketdesk.models.store import open_store
from ticketdesk.policy import Scope, scope_of, stand_in

OWNER = uuid.uuid4()
STRANGER = uuid.uuid4()


def _viewer(role: Role, subject: uuid.UUID | None = None) -> Viewer:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    return Viewer(id=subject or uuid.uuid4(), role=role, name=None, email=None, expires_at=later)


SCOPES = {
    "customer": scope_of(_viewer(Role.CUSTOMER, OWNER)),
    "agent": scope_of(_viewer(Role.AGENT)),
    "admin": scope_of(_viewer(Role.ADMIN)),
    "service": scope_of(_viewer(Role.SERVICE)),
}


def test_policy_scopes_of_each_role() -> None:
    assert SCOPES["customer"] == Scope(customer_id=OWNER, internal=False)
    assert SCOPES["agent"] == SCOPES["admin"] == Scope(customer_id=None, internal=True)
    assert SCOPES["service"] == Scope(customer_id=None, internal=False)


@pytest.fixture
async def log(database_url: str) -> AsyncIterator[list[TicketEvent]]:
    """A ticket of OWNER and one of STRANGER, each with one event of every type (a note's with its message)."""
    store = await open_store(database_url, migrate=True)
    try:
        events: list[TicketEvent] = []
        seq = 0
        for number, customer in enumerate((OWNER, STRANGER), start=1):
            await Principal.create(id=customer, role=Role.CUSTOMER)
            ticket = await Ticket.create(
                number=number,
                reference=f"TCK-{number:06d}",
                customer_id=customer,
                subject="s",
                description="d",
                category=Category.OTHER,
                priority=Priority.LOW,
                source=Source.MOBILE,
            )
            for internal in (False, True):
                await Message.create(ticket_id=ticket.id, sender_type=SenderType.AGENT, body="b", internal=internal)
            # Every type, carrying internal content (a note, an internal file) and not.
            for event_type in EventType:
                for internal in (False, True):
                    seq += 1
                    events.append(
                        await TicketEvent.create(
                            seq=seq,
                            type=event_type,
                            ticket_id=ticket.id,
                            occurred_at=dt.datetime.now(dt.UTC),
                            internal=internal,
                        )
                    )
        yield events
    finally:
        await store.close_connections()


@pytest.mark.parametrize("who", list(SCOPES))
async def test_policy_store_filters_and_live_predicates_agree(log: list[TicketEvent], who: str) -> None:
    scope = SCOPES[who]
    tickets = {ticket.id: ticket for ticket in await Ticket.all()}
    by_filter = {ticket.id for ticket in await Ticket.filter(scope.tickets())}
    assert by_filter == {t.id for t in tickets.values() if scope.sees_ticket(t.customer_id)}
    events = {event.seq for event in await TicketEvent.filter(scope.events())}
    assert events == {e.seq for e in log if scope.sees_event(tickets[e.ticket_id].customer_id, e.internal)}
    messages = {message.id for message in await Message.filter(scope.messages())}
    assert messages == {m.id for m in await Message.all() if scope.sees_message(m.internal)}


async def test_policy_customers_see_their_own_tickets_without_internal_content(log: list[TicketEvent]) -> None:
    scope = SCOPES["customer"]
    seen = await TicketEvent.filter(scope.events()).prefetch_related("ticket")
    assert {event.ticket.customer_id for event in seen} == {OWNER}
    assert sorted(event.type for event in seen) == sorted(EventType)  # of each type, the one without internal content
    assert not any(event.internal for event in seen)
    assert not await Message.filter(scope.messages(), internal=True).exists()


@pytest.mark.parametrize("name", SCOPES)
def test_policy_stand_in_sees_exactly_the_scope_it_stands_in_for(name: str) -> None:
    stand = stand_in(SCOPES[name])
    assert scope_of(stand) == SCOPES[name]
    assert authenticated(stand, None) is stand  # a shared feed's viewer never expires


def test_policy_no_one_stands_in_for_an_impossible_scope() -> None:
    with pytest.raises(ValueError, match="no viewer"):
        stand_in(Scope(customer_id=OWNER, internal=True))
