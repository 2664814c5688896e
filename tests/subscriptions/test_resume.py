"""Resuming with `since`: replay from the log, hand over to live, no gap and no repeat; expired cursors."""

from __future__ import annotations

import asyncio
import base64

import pytest

from tests.conftest import Caller, Clients, make_settings, served_app
from tests.helpers import create, set_status, walk
from tests.operations import ADD_MESSAGE, ADD_NOTE
from tests.subscriptions.wsclient import TICKET_EVENTS, connect, subscribed
from tests.test_event_feed import poll
from ticketdesk.models.enums import Role


def _seq(event: dict[str, object]) -> int:
    return int(str(event["id"]))


async def test_resume_after_a_disconnect_delivers_exactly_the_missed_events(
    live: Clients, customer: Caller, agent: Caller
) -> None:
    ticket = await create(customer)
    async with subscribed(live, agent.token or "") as socket:
        await set_status(agent, ticket["id"], "IN_PROGRESS")
        last_seen = await socket.event("1")
    # Offline: three changes happen.
    await agent.data(ADD_MESSAGE, {"ticketId": ticket["id"], "body": "Card unblocked"})
    await agent.data(ADD_NOTE, {"ticketId": ticket["id"], "body": "done via processor"})
    await set_status(agent, ticket["id"], "RESOLVED")
    async with subscribed(live, agent.token or "", TICKET_EVENTS, {"since": last_seen["cursor"]}) as socket:
        missed = await socket.events("1", 3)
        await set_status(agent, ticket["id"], "CLOSED")
        live_event = await socket.event("1")
        assert await socket.silence() is None
    assert [e["type"] for e in missed] == ["MESSAGE_ADDED", "NOTE_ADDED", "STATUS_CHANGED"]
    assert [_seq(e) for e in [*missed, live_event]] == list(range(_seq(last_seen) + 1, _seq(last_seen) + 5))


async def test_resume_under_concurrent_writes_has_no_gap_and_no_repeat(
    live: Clients, customer: Caller, agent: Caller
) -> None:
    tickets = [await create(customer, subject=f"Ticket {i}") for i in range(3)]
    async with subscribed(live, agent.token or "") as socket:
        await agent.data(ADD_MESSAGE, {"ticketId": tickets[0]["id"], "body": "first"})
        start = await socket.event("1")
    writes = 60

    async def writer() -> None:
        for i in range(writes):
            body = {"ticketId": tickets[i % 3]["id"], "body": f"message {i}"}
            await (customer if i % 2 else agent).data(ADD_MESSAGE, body)

    writing = asyncio.create_task(writer())
    await asyncio.sleep(0.05)  # the replay starts while the log is growing
    async with connect(live) as socket:
        await socket.init({"Authorization": f"Bearer {agent.token}"})
        await socket.subscribe("1", TICKET_EVENTS, {"since": start["cursor"]})
        await writing
        events = await socket.events("1", writes)
        assert await socket.silence() is None
    assert [_seq(e) for e in events] == list(range(_seq(start) + 1, _seq(start) + writes + 1))
    assert sorted(e["ticketId"] for e in events) == sorted(tickets[i % 3]["id"] for i in range(writes))


async def test_customer_resume_replays_only_what_the_customer_may_see(
    live: Clients, customer: Caller, other_customer: Caller, agent: Caller
) -> None:
    mine = await create(customer)
    async with subscribed(live, customer.token or "") as socket:
        await set_status(agent, mine["id"], "IN_PROGRESS")
        last_seen = await socket.event("1")
    theirs = await create(other_customer)
    await agent.data(ADD_NOTE, {"ticketId": mine["id"], "body": "internal"})
    await set_status(agent, theirs["id"], "IN_PROGRESS")
    await agent.data(ADD_MESSAGE, {"ticketId": mine["id"], "body": "Fixed it"})
    async with subscribed(live, customer.token or "", TICKET_EVENTS, {"since": last_seen["cursor"]}) as socket:
        replayed = await socket.event("1")
        assert await socket.silence() is None
    assert (replayed["type"], replayed["ticketId"], replayed["message"]["body"]) == (
        "MESSAGE_ADDED",
        mine["id"],
        "Fixed it",
    )


@pytest.mark.parametrize(
    "since",
    [
        "not-a-cursor",
        base64.urlsafe_b64encode(b"ev:999999").decode(),
        base64.urlsafe_b64encode(b"xx:1").decode(),
        base64.urlsafe_b64encode(b"ev:" + b"9" * 30).decode(),
    ],
    ids=["garbage", "beyond-the-log", "foreign", "30-digits"],
)
async def test_unknown_cursor_is_cursor_expired(live: Clients, customer: Caller, agent: Caller, since: str) -> None:
    await create(customer)
    async with connect(live) as socket:
        await socket.init({"Authorization": f"Bearer {agent.token}"})
        await socket.subscribe("1", TICKET_EVENTS, {"since": since})
        refused = await socket.receive()
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "CURSOR_EXPIRED", refused


async def test_cursor_older_than_the_resume_window_is_cursor_expired(database_url: str) -> None:
    settings = make_settings(database_url, resume_window_hours=0.5 / 3600)  # half a second
    async with served_app(settings) as clients:
        customer, agent = clients.as_role(Role.CUSTOMER), clients.as_role(Role.AGENT)
        ticket = await create(customer)
        async with subscribed(clients, agent.token or "") as socket:
            await set_status(agent, ticket["id"], "IN_PROGRESS")
            seen = await socket.event("1")
        await asyncio.sleep(1)
        async with connect(clients) as socket:
            await socket.init({"Authorization": f"Bearer {agent.token}"})
            await socket.subscribe("1", TICKET_EVENTS, {"since": seen["cursor"]})
            refused = await socket.receive()
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "CURSOR_EXPIRED"
    assert "reload with queries" in refused["payload"]["errors"][0]["message"]


async def test_the_feed_takes_the_cursors_subscriptions_resume_from(
    live: Clients, customer: Caller, agent: Caller
) -> None:
    ticket = await create(customer)
    async with subscribed(live, agent.token or "") as socket:
        await walk(agent, ticket["id"], "IN_PROGRESS")
        live = await socket.event("1")
    await walk(agent, ticket["id"], "RESOLVED")
    after_live, _ = await poll(agent, after=live["cursor"])
    assert [e["node"]["type"] for e in after_live] == ["STATUS_CHANGED"]
