"""The event feed `events(after, first, filter)`: the whole log in order for staff and services, paged by the
cursors subscriptions resume from, so a backend that polls with its last cursor misses nothing and sees nothing
twice."""

from __future__ import annotations

from typing import Any

from tests.conftest import Caller
from tests.helpers import create, walk
from tests.operations import ADD_NOTE

FEED = """query($after: String, $first: Int, $filter: EventFilter) {
  events(after: $after, first: $first, filter: $filter) {
    edges { cursor node { type ticketId ticket { reference } message { internal } } }
    pageInfo { hasNextPage hasPreviousPage endCursor } } }"""


async def _page(caller: Caller, **variables: Any) -> dict[str, Any]:
    page: dict[str, Any] = (await caller.data(FEED, variables))["events"]
    return page


async def poll(
    caller: Caller, after: str | None = None, first: int = 2, **filters: Any
) -> tuple[list[Any], str | None]:
    """Every event after `after`, page by page as a polling backend reads them; and the last cursor."""
    seen: list[Any] = []
    while True:
        page = await _page(caller, after=after, first=first, filter=filters or None)
        seen += page["edges"]
        after = page["pageInfo"]["endCursor"] or after
        if not page["pageInfo"]["hasNextPage"]:
            return seen, after


async def test_polling_the_feed_misses_nothing_and_repeats_nothing(customer: Caller, agent: Caller) -> None:
    first = await create(customer, subject="One")
    await walk(agent, first["id"], "IN_PROGRESS", "RESOLVED")
    edges, cursor = await poll(agent)
    assert [(e["node"]["type"], e["node"]["ticket"]["reference"]) for e in edges] == [
        ("CREATED", first["reference"]),
        ("STATUS_CHANGED", first["reference"]),
        ("STATUS_CHANGED", first["reference"]),
    ]
    assert len({e["cursor"] for e in edges}) == 3
    empty = await _page(agent, after=cursor)
    assert empty["edges"] == [] and empty["pageInfo"]["hasNextPage"] is False

    second = await create(customer, subject="Two")
    later, _ = await poll(agent, after=cursor)
    assert [(e["node"]["type"], e["node"]["ticketId"]) for e in later] == [("CREATED", second["id"])]


async def test_services_see_no_internal_content_and_customers_may_not_read_the_feed(
    customer: Caller, agent: Caller, service: Caller
) -> None:
    ticket = await create(customer)
    await agent.data(ADD_NOTE, {"ticketId": ticket["id"], "body": "fraud team is looking"})
    staff, _ = await poll(agent)
    integration, _ = await poll(service)
    assert [e["node"]["type"] for e in staff] == ["CREATED", "NOTE_ADDED"]
    assert [e["node"]["type"] for e in integration] == ["CREATED"]
    refused = await customer.post(FEED, {})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_feed_filters_by_type_and_ticket(customer: Caller, agent: Caller) -> None:
    one, two = await create(customer, subject="One"), await create(customer, subject="Two")
    await walk(agent, one["id"], "IN_PROGRESS")
    await walk(agent, two["id"], "IN_PROGRESS")
    moved, _ = await poll(agent, types=["STATUS_CHANGED"])
    assert [e["node"]["ticketId"] for e in moved] == [one["id"], two["id"]]
    of_two, _ = await poll(agent, ticketId=two["reference"])
    assert [e["node"]["type"] for e in of_two] == ["CREATED", "STATUS_CHANGED"]
    nobody, _ = await poll(agent, ticketId="TCK-999999")
    assert nobody == []


async def test_the_feed_refuses_malformed_paging(agent: Caller) -> None:
    for variables in ({"first": 0}, {"first": 101}, {"after": "not-a-cursor"}, {"filter": {"ticketId": "TCK-"}}):
        body = await agent.post(FEED, variables)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", variables
