"""Subscriptions that would receive the same messages share one feed; nobody receives what their own would not."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

from graphql import Executor

from tests.conftest import Caller, Clients
from tests.helpers import create, set_status
from tests.operations import ADD_MESSAGE, ADD_NOTE
from tests.subscriptions.wsclient import LEGACY_WS, raw_subscriber, subscribed, wait_subscriptions

ASSIGN = "mutation($id: ID!, $agentId: ID) { assignTicket(id: $id, agentId: $agentId) { errors { code } } }"
SCOPED = """
subscription Scoped($since: String) {
  ticketEvents(since: $since) {
    type ticketId message { body internal } ticket { reference assignee { name email } }
  }
}"""


async def _readiness(clients: Clients) -> dict[str, Any]:
    body: dict[str, Any] = (await clients.http.get("/readyz")).json()
    return body


async def test_identical_subscriptions_share_one_feed_and_each_gets_every_event(
    live: Clients, customer: Caller, agent: Caller, admin: Caller
) -> None:
    ticket = await create(customer)
    first = await set_status(agent, ticket["id"], "IN_PROGRESS")
    assert first["errors"] == []
    async with (
        subscribed(live, agent.token or "") as one,
        subscribed(live, admin.token or "") as two,
        subscribed(live, agent.token or "", protocol=LEGACY_WS) as legacy,
        # Resuming from the creation: a `since` variable says where to start, not what the messages say.
        subscribed(live, agent.token or "", variables={"since": await _cursor_of_creation(agent, ticket)}) as resumed,
    ):
        assert (await _readiness(live))["feeds"] == 1
        await set_status(agent, ticket["id"], "RESOLVED")
        await agent.data(ADD_NOTE, {"ticketId": ticket["id"], "body": "refund sent"})
        live_events = [await socket.events("1", 2) for socket in (one, two, legacy)]
        replayed_then_live = await resumed.events("1", 3)
        readiness = await _readiness(live)
    assert live_events[0] == live_events[1] == live_events[2]
    assert [event["type"] for event in live_events[0]] == ["STATUS_CHANGED", "NOTE_ADDED"]
    assert [event["toStatus"] for event in replayed_then_live] == ["IN_PROGRESS", "RESOLVED", None]
    assert replayed_then_live[1:] == live_events[0]
    assert (readiness["feeds"], readiness["subscriptions"]) == (1, 4)
    await wait_subscriptions(live, lambda count: count == 0)
    assert (await _readiness(live))["feeds"] == 0


async def _cursor_of_creation(agent: Caller, ticket: dict[str, Any]) -> str:
    data = await agent.data(
        "query($id: ID!) { ticket(id: $id) { timeline(first: 1) { nodes { cursor } } } }", {"id": ticket["id"]}
    )
    cursor: str = data["ticket"]["timeline"]["nodes"][0]["cursor"]
    return cursor


async def test_feeds_are_per_scope_and_each_scope_sees_only_its_own(
    live: Clients, customer: Caller, other_customer: Caller, agent: Caller
) -> None:
    mine = await create(customer, subject="Mine")
    theirs = await create(other_customer, subject="Theirs")
    for ticket in (mine, theirs):
        assigned = await agent.data(ASSIGN, {"id": ticket["id"], "agentId": str(agent.id)})
        assert assigned["assignTicket"]["errors"] == []
    async with (
        subscribed(live, customer.token or "", SCOPED) as ann,
        subscribed(live, other_customer.token or "", SCOPED) as ben,
        subscribed(live, agent.token or "", SCOPED) as staff,
    ):
        assert (await _readiness(live))["feeds"] == 3
        await agent.data(ADD_NOTE, {"ticketId": mine["id"], "body": "customer seems upset"})
        await agent.data(ADD_MESSAGE, {"ticketId": mine["id"], "body": "We are on it."})
        await agent.data(ADD_MESSAGE, {"ticketId": theirs["id"], "body": "Card reissued."})
        seen_by_staff = await staff.events("1", 3)
        seen_by_ann = await ann.event("1")
        seen_by_ben = await ben.event("1")
        assert await ann.silence() is None and await ben.silence() is None
    assert [event["type"] for event in seen_by_staff] == ["NOTE_ADDED", "MESSAGE_ADDED", "MESSAGE_ADDED"]
    assert seen_by_staff[0]["message"] == {"body": "customer seems upset", "internal": True}
    assert seen_by_staff[1]["ticket"]["assignee"]["email"] is not None
    assert (seen_by_ann["ticketId"], seen_by_ann["message"]) == (
        mine["id"],
        {"body": "We are on it.", "internal": False},
    )
    # Staff e-mail addresses are internal content: the customers' feed renders them as null.
    assert seen_by_ann["ticket"]["assignee"] == {"name": seen_by_staff[1]["ticket"]["assignee"]["name"], "email": None}
    assert (seen_by_ben["ticketId"], seen_by_ben["message"]["body"]) == (theirs["id"], "Card reissued.")


async def test_live_objects_stay_flat_over_a_thousand_events_to_a_hundred_subscribers(
    live: Clients, customer: Caller, agent: Caller
) -> None:
    """A long-lived subscription holds nothing per event it has delivered (graphql-core 3.3's own per-event
    executors keep a memo that grows with every event; ticketdesk does not use them)."""
    ticket = await create(customer)
    url = str(live.http.base_url.copy_with(scheme="ws").join("/graphql"))
    sockets = [await raw_subscriber(url, agent.token or "") for _ in range(100)]
    await wait_subscriptions(live, lambda count: count == 100)
    received = [0] * len(sockets)

    async def read(index: int) -> None:
        async for frame in sockets[index]:
            if json.loads(frame)["type"] == "next":
                received[index] += 1

    readers = [asyncio.create_task(read(index)) for index in range(len(sockets))]

    # Ten changes per request (the most one document may make), alternating the status.
    changes = " ".join(
        f"m{i}: changeTicketStatus(id: $id, status: {'IN_PROGRESS' if i % 2 == 0 else 'OPEN'}) {{ errors {{ code }} }}"
        for i in range(10)
    )

    async def events(count: int) -> None:
        expected = min(received) + count
        for _ in range(count // 10):
            await agent.data(f"mutation($id: ID!) {{ {changes} }}", {"id": ticket["id"]})
        deadline = asyncio.get_running_loop().time() + 120
        while min(received) < expected and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        assert received == [expected] * len(received)

    await events(100)  # warm-up: every lazily built cache, pool and buffer exists now
    gc.collect()
    before = len(gc.get_objects())
    await events(1000)
    gc.collect()
    grown = len(gc.get_objects()) - before
    for socket in sockets:
        await socket.close()
    await asyncio.gather(*readers)
    # The graphql-core memo alone would add about 36 objects per subscriber and event: 3.6 million here.
    print(f"live objects grew by {grown}")
    assert grown < 5_000, f"{grown} more live objects after 1,000 events to 100 subscribers"


async def test_an_admitted_subscription_keeps_no_execution_state(live: Clients, agent: Caller) -> None:
    """Once admitted (parsed, validated, limited, authorized, its arguments checked), a graphql-transport-ws
    subscription is delivered outside strawberry's per-operation pipeline: an idle subscriber holds its socket,
    its place in a feed and its delivery, not a GraphQL executor and the extensions of its start."""
    url = str(live.http.base_url.copy_with(scheme="ws").join("/graphql"))
    sockets = [await raw_subscriber(url, agent.token or "") for _ in range(50)]
    await wait_subscriptions(live, lambda count: count == 50)
    gc.collect()
    executors = sum(isinstance(thing, Executor) for thing in gc.get_objects())
    for socket in sockets:
        await socket.close()
    assert executors < 5, f"{executors} graphql-core executors alive for 50 idle subscriptions"
