"""tickets: filters, search, ordering, paging; ticketCounts; relations load in a fixed number of queries."""

from __future__ import annotations

import base64
import importlib
import json
import logging
from typing import Any

import pytest

from tests.conftest import Caller, make_settings, running_app
from tests.helpers import create, walk
from tests.operations import ADD_MESSAGE, ADD_NOTE, ASSIGN, LIST_TICKETS
from ticketdesk.models.enums import Role
from ticketdesk.resolvers.listing import SEVERITY
from ticketdesk.supervisor import background_task


async def numbers(caller: Caller, **variables: Any) -> list[int]:
    data = await caller.data(LIST_TICKETS, variables)
    return [edge["node"]["number"] for edge in data["tickets"]["edges"]]


async def test_tickets_default_order_is_newest_first(customer: Caller, agent: Caller) -> None:
    for _ in range(3):
        await create(customer)
    assert await numbers(agent) == [3, 2, 1]
    assert await numbers(agent, orderBy={"field": "NUMBER", "direction": "ASC"}) == [1, 2, 3]


async def test_tickets_customer_sees_only_own_whatever_the_filter(
    customer: Caller, other_customer: Caller, agent: Caller
) -> None:
    await create(customer)
    await create(other_customer)
    assert await numbers(customer) == [1]
    assert await numbers(customer, filter={"customerId": str(other_customer.id)}) == []
    counts = await customer.data("{ ticketCounts { total } }")
    assert counts["ticketCounts"]["total"] == 1
    assert await numbers(agent, filter={"customerId": str(other_customer.id)}) == [2]


async def test_tickets_filters_and_across_or_within(customer: Caller, agent: Caller) -> None:
    await create(customer, category="APP_ERROR")  # 1 MEDIUM
    await create(customer, category="SECURITY_CONCERN")  # 2 CRITICAL
    t3 = await create(customer, category="BANKING_ISSUE")  # 3 HIGH
    await create(agent, category="OTHER", customerId=str(customer.id))  # 4 LOW, ADMIN
    await walk(agent, t3["id"], "IN_PROGRESS")
    asc = {"field": "NUMBER", "direction": "ASC"}
    assert await numbers(agent, filter={"priority": ["HIGH", "CRITICAL"]}, orderBy=asc) == [2, 3]
    assert await numbers(agent, filter={"priority": ["HIGH", "CRITICAL"], "status": ["OPEN"]}, orderBy=asc) == [2]
    assert await numbers(agent, filter={"source": ["ADMIN"]}) == [4]
    assert await numbers(agent, filter={"category": ["APP_ERROR", "OTHER"]}, orderBy=asc) == [1, 4]
    await agent.data(ASSIGN, {"id": t3["id"], "agentId": str(agent.id)})
    assert await numbers(agent, filter={"assigneeId": str(agent.id)}) == [3]
    assert await numbers(agent, filter={"unassigned": True}, orderBy=asc) == [1, 2, 4]
    assert await numbers(agent, filter={"unassigned": False}) == [3]


async def test_tickets_date_filters(customer: Caller, agent: Caller) -> None:
    first = await create(customer)
    second = await create(customer)
    assert await numbers(agent, filter={"createdAfter": second["createdAt"]}) == [2]
    assert await numbers(agent, filter={"createdBefore": second["createdAt"]}) == [1]
    await agent.data(ADD_MESSAGE, {"ticketId": first["id"], "body": "news"})
    assert await numbers(agent, filter={"updatedSince": second["updatedAt"]}, orderBy={"field": "UPDATED_AT"}) == [1, 2]


async def test_tickets_order_by_priority_is_by_severity(customer: Caller, agent: Caller) -> None:
    for category in ["OTHER", "SECURITY_CONCERN", "APP_ERROR", "BANKING_ISSUE", "SECURITY_CONCERN"]:
        await create(customer, category=category)
    order = {"field": "PRIORITY", "direction": "DESC"}
    assert await numbers(agent, orderBy=order) == [5, 2, 4, 3, 1]
    assert await numbers(agent, orderBy={"field": "PRIORITY", "direction": "ASC"}) == [1, 3, 4, 2, 5]


@pytest.mark.parametrize(
    "order",
    [
        {"field": "CREATED_AT", "direction": "DESC"},
        {"field": "UPDATED_AT", "direction": "ASC"},
        {"field": "PRIORITY", "direction": "DESC"},
        {"field": "NUMBER", "direction": "ASC"},
    ],
)
async def test_tickets_cursor_paging_visits_each_once(customer: Caller, agent: Caller, order: dict[str, str]) -> None:
    for i in range(7):
        await create(customer, category=["OTHER", "APP_ERROR", "SECURITY_CONCERN"][i % 3])
    everything = await numbers(agent, orderBy=order, first=100)
    seen: list[int] = []
    after = None
    pages = 0
    while True:
        data = (await agent.data(LIST_TICKETS, {"orderBy": order, "first": 3, "after": after}))["tickets"]
        pages += 1
        seen += [edge["node"]["number"] for edge in data["edges"]]
        assert data["totalCount"] == 7
        assert data["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert (seen, pages) == (everything, 3)
    # And backwards from the end with last/before.
    back = (await agent.data(LIST_TICKETS, {"orderBy": order, "last": 2, "before": after}))["tickets"]
    index = everything.index(seen[5])  # `after` is the cursor of the 6th ticket
    assert [e["node"]["number"] for e in back["edges"]] == everything[index - 2 : index]
    assert back["pageInfo"]["hasNextPage"] is True


async def test_tickets_offset_pages_for_page_numbers(customer: Caller, agent: Caller) -> None:
    for _ in range(5):
        await create(customer)
    data = (await agent.data(LIST_TICKETS, {"first": 2, "offset": 2}))["tickets"]
    assert [e["node"]["number"] for e in data["edges"]] == [3, 2]
    assert (data["pageInfo"]["hasPreviousPage"], data["pageInfo"]["hasNextPage"], data["totalCount"]) == (True, True, 5)


@pytest.mark.parametrize(
    "variables",
    [
        {"first": 101},
        {"first": 0},
        {"last": 5},
        {"first": 5, "last": 5, "before": "x"},
        {"first": 2, "offset": -1},
        {"after": "bm90LWEtY3Vyc29y"},
        {"last": 101, "before": "x"},
    ],
)
async def test_tickets_malformed_paging_is_bad_user_input(agent: Caller, variables: dict[str, Any]) -> None:
    body = await agent.post(LIST_TICKETS, variables)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


def _cursor(*parts: object) -> str:
    """A ticket-list cursor as a client could forge one."""
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("order", "after"),
    [
        ("CREATED_AT", _cursor("CREATED_AT", "2026-01-01T00:00:00+00:00", 10**30)),
        ("CREATED_AT", _cursor("CREATED_AT", "2026-01-01T00:00:00", 1)),  # no UTC offset
        ("CREATED_AT", _cursor("CREATED_AT", "0001-01-01T00:00:00+01:00", 1)),  # before year 1 in UTC
        ("PRIORITY", _cursor("PRIORITY", 10**30, 1)),
        ("PRIORITY", _cursor("PRIORITY", 1.5, 1)),
        ("NUMBER", _cursor("NUMBER", 5, 6)),
        ("NUMBER", _cursor("NUMBER", True, True)),
        ("NUMBER", "eyJ" + "W" * 300),
        ("NUMBER", _cursor("NUMBER", 5, 5) + "!!"),
    ],
)
async def test_tickets_forged_cursor_is_bad_user_input(customer: Caller, agent: Caller, order: str, after: str) -> None:
    await create(customer)
    body = await agent.post(LIST_TICKETS, {"first": 1, "after": after, "orderBy": {"field": order}})
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body


async def test_tickets_cursor_of_another_order_is_refused(customer: Caller, agent: Caller) -> None:
    await create(customer)
    await create(customer)
    page = (await agent.data(LIST_TICKETS, {"first": 1}))["tickets"]
    body = await agent.post(
        LIST_TICKETS, {"first": 1, "after": page["pageInfo"]["endCursor"], "orderBy": {"field": "PRIORITY"}}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_tickets_first_100_is_allowed(agent: Caller) -> None:
    data = await agent.data(LIST_TICKETS, {"first": 100})
    assert data["tickets"]["totalCount"] == 0


async def test_search_matches_every_term_in_subject_description_reference_messages(
    customer: Caller, agent: Caller
) -> None:
    await create(customer, subject="App keeps crashing", description="on the transfer screen")
    second = await create(customer, subject="Card declined", description="at the grocery store")
    await create(customer, subject="Question", description="How do I export statements?")
    await customer.data(ADD_MESSAGE, {"ticketId": second["id"], "body": "The terminal said CRASHED too"})
    await agent.data(ADD_NOTE, {"ticketId": second["id"], "body": "suspected skimmer device"})
    asc = {"field": "NUMBER", "direction": "ASC"}
    assert await numbers(agent, filter={"search": "crash"}, orderBy=asc) == [1, 2]
    assert await numbers(agent, filter={"search": "CRASH transfer"}) == [1]
    assert await numbers(agent, filter={"search": "000002"}) == [2]
    assert await numbers(agent, filter={"search": "tck-000003"}) == [3]
    assert await numbers(agent, filter={"search": "skimmer"}) == [2]
    assert await numbers(customer, filter={"search": "skimmer"}) == []
    assert await numbers(agent, filter={"search": "100%"}) == []
    assert await numbers(agent, filter={"search": "   "}, orderBy=asc) == [1, 2, 3]


async def test_ticket_counts_by_status_and_priority(customer: Caller, agent: Caller) -> None:
    await create(customer, category="SECURITY_CONCERN")
    t2 = await create(customer, category="APP_ERROR")
    await create(customer, category="APP_ERROR")
    await walk(agent, t2["id"], "RESOLVED")
    data = await agent.data(
        "query($f: TicketFilter) { ticketCounts(filter: $f) { total byStatus { status count } "
        "byPriority { priority count } } }"
    )
    counts = data["ticketCounts"]
    assert counts["total"] == 3
    assert {r["status"]: r["count"] for r in counts["byStatus"]} == {
        "OPEN": 2,
        "IN_PROGRESS": 0,
        "RESOLVED": 1,
        "CLOSED": 0,
        "REOPENED": 0,
    }
    assert {r["priority"]: r["count"] for r in counts["byPriority"]} == {
        "LOW": 0,
        "MEDIUM": 2,
        "HIGH": 0,
        "CRITICAL": 1,
    }
    filtered = await agent.data("{ ticketCounts(filter: {status: [OPEN]}) { total } }")
    assert filtered["ticketCounts"]["total"] == 2


FULL_PAGE = """query($first: Int) { tickets(first: $first) { totalCount nodes {
  id customer { name } assignee { name } attachments { url }
  messages { body attachments { url } } escalations { status decidedBy { name } } feedback { rating }
  aiTransfer { conversationId } timeline(first: 3) { nodes { type message { body } } } } } }"""


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        # Background tasks (the event hub reading the log, the webhook worker, the sweep) are not the request's cost.
        if background_task() is None:
            self.count += 1


async def _statements(caller: Caller, first: int) -> int:
    logger = logging.getLogger("tortoise.db_client")
    handler = _Counter()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        data = await caller.data(FULL_PAGE, {"first": first})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert len(data["tickets"]["nodes"]) == first
    return handler.count


async def test_tickets_relations_cost_the_same_for_5_and_100(database_url: str) -> None:
    # Every relation at once, 100 tickets deep, is over the default query cost: this test is about statements.
    async with running_app(make_settings(database_url, max_query_cost=100_000)) as clients:
        customer, agent = clients.as_role(Role.CUSTOMER), clients.as_role(Role.AGENT)
        await _relations_cost_the_same(customer, agent)


async def _relations_cost_the_same(customer: Caller, agent: Caller) -> None:
    await agent.data("{ viewer { id } }")
    for i in range(100):
        ticket = await create(customer, attachmentUrls=["https://files.example.com/a.txt"])
        await customer.data(ADD_MESSAGE, {"ticketId": ticket["id"], "body": f"hello {i}"})
        if i % 10 == 0:
            await agent.data(ASSIGN, {"id": ticket["id"], "agentId": str(agent.id)})
    small = await _statements(agent, 5)
    large = await _statements(agent, 100)
    assert small == large
    assert small <= 13


PAGE_SHAPES = """
fragment People on Ticket { customer { id } who: assignee { id } }
query Shapes {
  viaEdges: tickets(first: 10) { edges { node { id ...People messages { body internal } } } }
  viaNodes: tickets(first: 10) { nodes { id ... on Ticket { ...People talk: messages { body internal } } } }
}"""


async def test_tickets_page_relations_are_right_however_the_query_reaches_them(customer: Caller, agent: Caller) -> None:
    # The list preloads what its items select (ticketdesk.schema.loading): through edges or nodes, fragments
    # and aliases, with the viewer's visibility applied to the preloaded rows too.
    assigned, unassigned = await create(customer), await create(customer)
    await agent.data(ASSIGN, {"id": assigned["id"], "agentId": str(agent.id)})
    for ticket in (assigned, unassigned):
        await customer.data(ADD_MESSAGE, {"ticketId": ticket["id"], "body": f"about {ticket['id']}"})
        await agent.data(ADD_NOTE, {"ticketId": ticket["id"], "body": "between us"})
    for caller, notes in ((agent, 1), (customer, 0)):
        data = await caller.data(PAGE_SHAPES)
        pages = [
            [edge["node"] for edge in data["viaEdges"]["edges"]],
            [{**node, "messages": node["talk"]} for node in data["viaNodes"]["nodes"]],
        ]
        for nodes in pages:
            by_id = {node["id"]: node for node in nodes}
            assert set(by_id) == {assigned["id"], unassigned["id"]}
            for node in nodes:
                assert node["customer"] == {"id": str(customer.id)}
                assert [m["body"] for m in node["messages"] if not m["internal"]] == [f"about {node['id']}"]
                assert sum(m["internal"] for m in node["messages"]) == notes
            assert by_id[assigned["id"]]["who"] == {"id": str(agent.id)}
            assert by_id[unassigned["id"]]["who"] is None


def test_tickets_priority_order_index_is_on_the_listings_expression() -> None:
    # PostgreSQL uses the index only for exactly this expression: a change to one must change the other.
    migration = importlib.import_module("ticketdesk.models.migrations.0006_priority_order_index")
    assert migration.SEVERITY == SEVERITY.sql
