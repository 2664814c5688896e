"""GraphQL over HTTP as the spec and a careful operator want it: media types and status codes, GET only where
enabled, GraphiQL's security headers, /readyz's details for the host and operators only."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.conftest import Caller, Clients, make_settings, running_app
from ticketdesk.models.enums import Role

GRAPHQL_RESPONSE = "application/graphql-response+json"
PRODUCTION = {"env": "production", "jwt_secret": "a-production-secret-of-at-least-32-bytes!"}


async def _post(caller: Caller, query: str, accept: str, variables: dict[str, Any] | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {caller.token}", "Accept": accept}
    return await caller.http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ viewer { id", None),  # does not parse
        ("{ nope }", None),  # does not validate
        ("query($first: Int!) { tickets(first: $first) { totalCount } }", {"first": "ten"}),  # does not coerce
        ("{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }", None),  # over a query limit
    ],
    ids=["parse", "validation", "variables", "limit"],
)
async def test_transport_request_errors_are_400_without_data_in_graphql_response_json(
    agent: Caller, query: str, variables: dict[str, Any] | None
) -> None:
    response = await _post(agent, query, GRAPHQL_RESPONSE, variables)
    assert response.status_code == 400
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    body = response.json()
    assert "data" not in body and body["errors"]
    # The same in plain JSON stays a 200 with `data: null`, as the spec asks of application/json.
    legacy = await _post(agent, query, "application/json", variables)
    assert (legacy.status_code, legacy.headers["content-type"]) == (200, "application/json")
    assert legacy.json()["data"] is None


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        ("", "application/json"),
    ],
)
async def test_transport_media_type_follows_accept(agent: Caller, accept: str, media: str) -> None:
    response = await _post(agent, "{ viewer { id } }", accept)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media
    assert response.json()["data"]["viewer"]["id"] == str(agent.id)


async def test_transport_field_errors_keep_200_and_data(app_clients: Clients) -> None:
    response = await app_clients.http.post(
        "/graphql", json={"query": "{ viewer { id } }"}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 200
    assert response.json()["data"] is None
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def _get(settings_overrides: dict[str, Any], database_url: str, query: str) -> httpx.Response:
    async with running_app(make_settings(database_url, **settings_overrides)) as clients:
        token = clients.as_role(Role.AGENT).token
        return await clients.http.get("/graphql", params={"query": query}, headers={"Authorization": f"Bearer {token}"})


async def test_transport_get_queries_only_where_enabled(database_url: str) -> None:
    query = "{ viewer { role } }"
    assert (await _get({}, database_url, query)).json()["data"] == {"viewer": {"role": "AGENT"}}
    refused = await _get(PRODUCTION, database_url, query)
    assert refused.status_code == 400 and "GET" in refused.text
    allowed = await _get({**PRODUCTION, "allow_get_queries": True}, database_url, query)
    assert allowed.json()["data"] == {"viewer": {"role": "AGENT"}}
    mutation = await _get({"allow_get_queries": True}, database_url, "mutation { __typename }")
    assert mutation.status_code in (400, 405)


async def test_transport_graphiql_page_has_security_headers(app_clients: Clients) -> None:
    page = await app_clients.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert re.search(r"script-src 'self' 'sha256-[A-Za-z0-9+/=]+'", policy), policy
    assert (page.headers["x-frame-options"], page.headers["x-content-type-options"]) == ("DENY", "nosniff")
    assert page.headers["referrer-policy"] == "no-referrer"


async def test_transport_readyz_details_for_the_host_and_operators_only(
    app_clients: Clients, agent: Caller, customer: Caller
) -> None:
    local = (await app_clients.http.get("/readyz")).json()
    assert {"database", "broker", "subscriptions", "tasks"} <= set(local)
    remote = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app_clients.app, client=("203.0.113.9", 40000)), base_url="http://t"
    )
    async with remote:
        anonymous = await remote.get("/readyz")
        as_customer = await remote.get("/readyz", headers={"Authorization": f"Bearer {customer.token}"})
        as_agent = await remote.get("/readyz", headers={"Authorization": f"Bearer {agent.token}"})
    assert anonymous.status_code == 200 and anonymous.json() == {"status": "ok"}
    assert as_customer.json() == {"status": "ok"}
    assert set(as_agent.json()) == set(local)


@pytest.mark.parametrize(
    ("query", "answered"),
    [
        ('{ __type(name: "Ticket") { name kind } }', {"__type": {"name": "Ticket", "kind": "OBJECT"}}),
        ('{ __type(name: "Nothing") { name } }', {"__type": None}),
        ('{ __type(name: "Ticket") { fields { name } } }', None),
        ('{ __type(name: "Ticket") { ...F } } fragment F on __Type { fields { name } }', None),
        ("{ __schema { queryType { name } } }", None),
    ],
)
async def test_transport_introspection_off_answers_only_whether_a_type_exists(
    database_url: str, query: str, answered: dict[str, Any] | None
) -> None:
    async with running_app(make_settings(database_url, **PRODUCTION)) as clients:
        body = await clients.as_role(Role.AGENT).post(query)
    if answered is None:
        assert body["data"] is None and "introspection is off" in body["errors"][0]["message"], body
    else:
        assert body["data"] == answered and "errors" not in body
