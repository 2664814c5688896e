"""Subscriptions over both protocols: what arrives, for whom, and with the ticket's current state."""

from __future__ import annotations

import pytest

from tests.conftest import Caller, Clients
from tests.helpers import create, set_status, walk
from tests.operations import ADD_MESSAGE, ADD_NOTE
from tests.subscriptions.wsclient import PROTOCOLS, STATUS_CHANGED, TICKET_EVENTS, subscribed
from tests.uploads import PNG, upload


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscription_delivers_a_new_ticket_and_its_status_change(
    live: Clients, customer: Caller, agent: Caller, protocol: str
) -> None:
    async with subscribed(live, agent.token or "", protocol=protocol) as socket:
        ticket = await create(customer, subject="Card blocked")
        created = await socket.event("1")
        await walk(agent, ticket["id"], "IN_PROGRESS")
        moved = await socket.event("1")
    assert (created["type"], created["ticketId"], created["actorRole"]) == ("CREATED", ticket["id"], "CUSTOMER")
    assert created["ticket"] == {"id": ticket["id"], "reference": ticket["reference"], "status": "OPEN"}
    assert (moved["type"], moved["fromStatus"], moved["toStatus"]) == ("STATUS_CHANGED", "OPEN", "IN_PROGRESS")
    assert created["cursor"] < moved["cursor"] or len(created["cursor"]) < len(moved["cursor"])


async def test_subscription_ticket_field_shows_the_state_at_each_event(
    live: Clients, customer: Caller, agent: Caller
) -> None:
    ticket = await create(customer)
    async with subscribed(live, agent.token or "", STATUS_CHANGED, {"ticketId": ticket["id"]}) as socket:
        first = await set_status(agent, ticket["id"], "IN_PROGRESS")
        seen_first = await socket.event("1")
        await set_status(agent, ticket["id"], "RESOLVED")
        seen_second = await socket.event("1")
    assert first["errors"] == []
    # A DataLoader kept for the connection would show IN_PROGRESS twice.
    assert [seen_first["ticket"]["status"], seen_second["ticket"]["status"]] == ["IN_PROGRESS", "RESOLVED"]


async def test_customer_receives_own_events_but_no_notes_and_no_other_customers(
    live: Clients, customer: Caller, other_customer: Caller, agent: Caller
) -> None:
    mine = await create(customer, subject="Mine")
    async with subscribed(live, customer.token or "") as socket:
        theirs = await create(other_customer, subject="Theirs")
        await agent.data(ADD_NOTE, {"ticketId": mine["id"], "body": "customer seems upset"})
        await set_status(agent, theirs["id"], "IN_PROGRESS")
        await agent.data(ADD_MESSAGE, {"ticketId": mine["id"], "body": "We are on it."})
        event = await socket.event("1")
        assert await socket.silence() is None
    assert (event["type"], event["ticketId"]) == ("MESSAGE_ADDED", mine["id"])
    assert event["message"] == {"body": "We are on it.", "internal": False}


@pytest.mark.parametrize("role", ["agent", "admin"])
async def test_staff_receive_every_ticket_and_notes(
    live: Clients, customer: Caller, other_customer: Caller, role: str, request: pytest.FixtureRequest
) -> None:
    staff: Caller = request.getfixturevalue(role)
    async with subscribed(live, staff.token or "") as socket:
        first = await create(customer)
        second = await create(other_customer)
        await staff.data(ADD_NOTE, {"ticketId": first["id"], "body": "check the card processor"})
        events = await socket.events("1", 3)
    assert [(e["type"], e["ticketId"]) for e in events] == [
        ("CREATED", first["id"]),
        ("CREATED", second["id"]),
        ("NOTE_ADDED", first["id"]),
    ]
    assert events[2]["message"] == {"body": "check the card processor", "internal": True}


async def test_ticket_filter_and_status_only_subscription(live: Clients, customer: Caller, agent: Caller) -> None:
    watched = await create(customer, subject="Watched")
    other = await create(customer, subject="Other")
    async with subscribed(live, agent.token or "", STATUS_CHANGED, {"ticketId": watched["reference"]}) as socket:
        await agent.data(ADD_MESSAGE, {"ticketId": watched["id"], "body": "Looking"})
        await set_status(agent, other["id"], "IN_PROGRESS")
        await set_status(agent, watched["id"], "IN_PROGRESS")
        event = await socket.event("1")
        assert await socket.silence() is None
    assert (event["type"], event["ticketId"], event["toStatus"]) == ("STATUS_CHANGED", watched["id"], "IN_PROGRESS")


async def test_failed_mutation_publishes_nothing(live: Clients, customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    async with subscribed(live, agent.token or "", TICKET_EVENTS, {"ticketId": ticket["id"]}) as socket:
        refused = await set_status(agent, ticket["id"], "REOPENED")  # an OPEN ticket cannot be reopened
        assert refused["errors"][0]["code"] == "INVALID_TRANSITION"
        assert await socket.silence() is None
        await set_status(agent, ticket["id"], "IN_PROGRESS")
        event = await socket.event("1")
    assert event["toStatus"] == "IN_PROGRESS"


ATTACHMENT_EVENTS = """subscription { ticketEvents { type ticketId attachment { filename internal url } } }"""


async def test_attachment_added_reaches_subscribers_and_internal_files_only_staff(
    live: Clients, customer: Caller, agent: Caller
) -> None:
    ticket = await create(customer)
    async with (
        subscribed(live, customer.token or "", ATTACHMENT_EVENTS) as for_customer,
        subscribed(live, agent.token or "", ATTACHMENT_EVENTS) as for_agent,
    ):
        await upload(agent, PNG, "internal.png", ticket_id=ticket["id"], internal=True)
        await upload(customer, PNG, "receipt.png", ticket_id=ticket["id"])
        customer_sees = await for_customer.event("1")
        assert await for_customer.silence() is None
        agent_sees = [await for_agent.event("1"), await for_agent.event("1")]
    assert (customer_sees["type"], customer_sees["attachment"]["filename"]) == ("ATTACHMENT_ADDED", "receipt.png")
    assert [event["attachment"]["internal"] for event in agent_sees] == [True, False]
    # The link in the event downloads the file for the subscriber.
    downloaded = await customer.http.get(customer_sees["attachment"]["url"])
    assert downloaded.status_code == 200 and downloaded.content == PNG
