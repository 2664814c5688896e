"""Query limits: a document that asks too much is refused before it runs, with QUERY_TOO_COMPLEX, the limit and
the actual value; a refused mutation document changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import get_introspection_query

from tests.conftest import Caller, make_settings, running_app, served_app
from tests.helpers import create
from tests.subscriptions.wsclient import connect
from ticketdesk.models.enums import Role


def _nested(levels: int) -> str:
    """The issue's attack: a page of tickets, each with its timeline, each event with its ticket, and again."""
    inner = "id"
    for _ in range(levels):
        inner = f"timeline(first: 100) {{ nodes {{ ticket {{ {inner} }} }} }}"
    return "{ tickets(first: 100) { nodes { " + inner + " } } }"


def _refusal(body: dict[str, Any]) -> dict[str, Any]:
    (error,) = body["errors"]
    assert body.get("data") is None, body
    extensions: dict[str, Any] = error["extensions"]
    assert extensions["code"] == "QUERY_TOO_COMPLEX", body
    assert extensions["actual"] > extensions["limit"]
    assert "too complex" in error["message"] or "tokens" in error["message"]
    return extensions


CASES = {
    # The attack: 1.5 KB that kept a server busy for minutes.
    "nested lists": (_nested(5), 10_000),
    "aliases": ("{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }", 30),
    "aliases through fragments": (
        "{ ...F ...F ...F ...F } fragment F on Query { " + " ".join(f"a{i}: __typename" for i in range(8)) + " }",
        30,
    ),
    "directives": ("{ __typename @include(if: true) " + "@skip(if: false) " * 5 + "}", 5),
    "tokens": ("{ " + "__typename " * 5001 + "}", 5000),
    "one wide selection set": ("{ " + "viewer { id } " * 101 + "}", 100),
    "a fragment spread twice, 25 times over": (
        "{ ...F0 } "
        + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(25))
        + " fragment F25 on Query { viewer { id } }",
        100,
    ),
    "lists multiply through variables": (
        "query($n: Int) { tickets(first: $n) { nodes { messages { attachments { url } } } } }",
        10_000,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_query_limits_refuse_before_running(agent: Caller, case: str) -> None:
    query, limit = CASES[case]
    body = await agent.post(query, {"n": 100})
    extensions = _refusal(body)
    assert extensions["limit"] == limit


async def test_query_limits_depth(agent: Caller) -> None:
    inner = "id"
    for _ in range(7):
        inner = f"ticket {{ customer {{ id }} timeline(first: 1) {{ nodes {{ {inner} }} }} }}"
    query = '{ ticket(id: "TCK-000001") { timeline(first: 1) { nodes { ' + inner + " } } } }"
    extensions = _refusal(await agent.post(query))
    assert extensions["limit"] == 12


async def test_query_limits_root_mutation_fields_change_nothing(customer: Caller, agent: Caller) -> None:
    creates = " ".join(
        f'c{i}: createTicket(input: {{subject: "s", description: "d", category: OTHER}}) {{ errors {{ code }} }}'
        for i in range(11)
    )
    extensions = _refusal(await customer.post(f"mutation {{ {creates} }}"))
    assert (extensions["limit"], extensions["actual"]) == (10, 11)
    assert (await agent.data("{ tickets { totalCount } }"))["tickets"]["totalCount"] == 0


async def test_query_limits_let_real_screens_through(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    # The admin portal's list page and the mobile app's ticket screen.
    portal = """{ tickets(first: 50) { totalCount pageInfo { hasNextPage endCursor }
        nodes { id reference subject status priority customer { name } assignee { name } updatedAt } } }"""
    screen = """query($id: ID!) { ticket(id: $id) { subject status messages { body senderType attachments { url } }
        timeline(first: 50) { nodes { type toStatus message { body } } }
        escalations { status } feedback { rating } } }"""
    assert (await agent.data(portal))["tickets"]["totalCount"] == 1
    assert (await customer.data(screen, {"id": ticket["id"]}))["ticket"]["subject"] == ticket["subject"]


async def test_query_limits_are_settings(database_url: str) -> None:
    settings = make_settings(database_url, max_query_aliases=2, max_query_cost=50)
    async with running_app(settings) as clients:
        agent = clients.as_role(Role.AGENT)
        assert _refusal(await agent.post("{ a: __typename b: __typename c: __typename }"))["limit"] == 2
        assert _refusal(await agent.post("{ tickets(first: 60) { nodes { id } } }"))["limit"] == 50
        assert (await agent.data("{ a: __typename b: __typename }")) == {"a": "Query", "b": "Query"}


async def test_query_limits_let_graphiql_introspect(agent: Caller) -> None:
    data = await agent.data(get_introspection_query(descriptions=True, input_value_deprecation=True))
    assert any(kind["name"] == "Ticket" for kind in data["__schema"]["types"])


async def test_query_limits_cost_is_what_the_readme_says(database_url: str) -> None:
    query = "{ tickets(first: 100) { nodes { messages { body } } } }"
    for limit, refused in ((2101, True), (2102, False)):
        async with running_app(make_settings(database_url, max_query_cost=limit)) as clients:
            body = await clients.as_role(Role.AGENT).post(query)
        if refused:
            assert _refusal(body) == {"code": "QUERY_TOO_COMPLEX", "limit": 2101, "actual": 2102}
        else:
            assert body["data"] == {"tickets": {"nodes": []}}
            assert body["extensions"]["rateLimit"]["cost"] == 2102


@pytest.mark.parametrize(
    ("variables", "definitions"),
    [({"n": 100.0, "m": 100.0}, "$n: Int, $m: Int"), ({}, "$n: Int = 100, $m: Int = 100")],
    ids=["floats", "defaults"],
)
async def test_query_limits_count_page_sizes_as_execution_reads_them(
    agent: Caller, variables: dict[str, Any], definitions: str
) -> None:
    query = (
        f"query({definitions}) {{ tickets(first: $n) {{ nodes {{ timeline(first: $m) {{ nodes {{ type }} }} }} }} }}"
    )
    assert _refusal(await agent.post(query, variables))["limit"] == 10_000


async def test_query_limits_count_a_timeline_without_first_as_its_page_of_50(database_url: str) -> None:
    query = "{ tickets(first: 10) { nodes { timeline { nodes { type } } } } }"  # 1 + 1 + 10 + 10 + 500 = 522
    async with running_app(make_settings(database_url, max_query_cost=521)) as clients:
        assert _refusal(await clients.as_role(Role.AGENT).post(query))["actual"] == 522


@pytest.mark.parametrize("argument", ["first", "offset"])
async def test_query_limits_an_int_literal_no_int_holds_is_invalid(agent: Caller, argument: str) -> None:
    body = await agent.post(f"{{ tickets({argument}: {'9' * 5000}) {{ totalCount }} }}")
    assert body["data"] is None
    assert body["errors"][0]["message"].startswith("Int cannot represent non 32-bit signed integer value")


async def test_query_limits_subscriptions_ask_less_per_event(database_url: str) -> None:
    settings = make_settings(database_url)
    async with served_app(settings) as clients:
        agent = clients.as_role(Role.AGENT)
        # Per event: ticketEvents, ticket, timeline, nodes 1 each; message 100; attachments 100; url 2,000.
        timeline = "timeline(first: 100) { nodes { message { attachments { url } } } }"
        query = f"subscription {{ ticketEvents {{ ticket {{ {timeline} }} }} }}"
        async with connect(clients) as socket:
            await socket.init({"Authorization": f"Bearer {agent.token}"})
            await socket.subscribe("1", query)
            refused = await socket.receive()
    extensions = refused["payload"][0]["extensions"]
    assert (extensions["code"], extensions["limit"]) == ("QUERY_TOO_COMPLEX", 1000) and extensions["actual"] > 1000


async def test_query_limits_refusals_still_show_the_budget(agent: Caller) -> None:
    body = await agent.post("{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }")
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert body["extensions"]["rateLimit"]["cost"] == 0


async def test_query_limits_hold_for_a_document_seen_before(agent: Caller) -> None:
    """Parsing and validation are cached per text; the limits, which depend on the variables, are not."""
    query = "query($n: Int) { tickets(first: $n) { nodes { messages { attachments { url } } } } }"
    for _ in range(2):
        assert (await agent.data(query, {"n": 1}))["tickets"]["nodes"] == []
        assert _refusal(await agent.post(query, {"n": 100}))["limit"] == 10_000
    invalid = "{ tickets { nodes { nosuchfield } } }"
    first, again = await agent.post(invalid), await agent.post(invalid)
    assert first["errors"] == again["errors"] and "nosuchfield" in first["errors"][0]["message"]
