"""graphql-cop's checks against a production-mode server: none may find anything.

The checks of graphql-cop (https://github.com/dolevf/graphql-cop, MIT licence, (c) 2022 Dolev Farhi), written as
tests: each sends what the tool sends, anonymously as the tool does, and fails on what the tool reports. The
tool itself no longer runs its field-duplication check (graphql-cop#43); nor does this file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import make_settings, running_app

HEADERS = {"User-Agent": "graphql-cop/1.14"}


@pytest.fixture
async def cop(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(database_url, env="production", jwt_secret="a-production-secret-of-at-least-32-bytes!")
    async with running_app(settings) as clients:
        yield clients.http


async def _query(cop: httpx.AsyncClient, query: str) -> Any:
    """graph_query(): a JSON POST with operationName "cop"."""
    response = await cop.post("/graphql", json={"query": query, "operationName": "cop"}, headers=HEADERS)
    return response.json()


async def test_graphql_cop_sees_a_graphql_endpoint(cop: httpx.AsyncClient) -> None:
    # is_graphql(): the precondition of every other check, so the checks below are not passing by accident.
    assert (await _query(cop, "query cop { __typename }"))["data"] == {"__typename": "Query"}


async def test_graphql_cop_field_suggestions(cop: httpx.AsyncClient) -> None:
    body = await _query(cop, "query cop { __schema { directive } }")
    assert "Did you mean" not in body["errors"][0]["message"]


async def test_graphql_cop_introspection(cop: httpx.AsyncClient) -> None:
    body = await _query(cop, "query cop { __schema { types { name fields { name } } } }")
    assert not (body.get("data") or {}).get("__schema")


async def test_graphql_cop_detect_graphiql(cop: httpx.AsyncClient) -> None:
    response = await cop.get("/graphql", headers={**HEADERS, "Accept": "text/html"})
    assert not any(word in response.text for word in ("graphiql.min.css", "GraphQL Playground", "GraphiQL"))


async def test_graphql_cop_get_method_support(cop: httpx.AsyncClient) -> None:
    response = await cop.get("/graphql", params={"query": "query cop {__typename}"}, headers=HEADERS)
    assert "__typename" not in response.text


async def test_graphql_cop_alias_overloading(cop: httpx.AsyncClient) -> None:
    aliases = "".join(f"alias{i}:__typename \n" for i in range(101))
    body = await _query(cop, "query cop { " + aliases + " }")
    assert not (body.get("data") or {}).get("alias100")


async def test_graphql_cop_batch_query(cop: httpx.AsyncClient) -> None:
    response = await cop.post("/graphql", json=[{"query": "query cop { __typename }"}] * 10, headers=HEADERS)
    assert response.status_code == 400, response.text  # refused whole: ten answers never come back


async def test_graphql_cop_trace_mode(cop: httpx.AsyncClient) -> None:
    body = await _query(cop, "query cop { __typename }")
    assert "'extensions': {'tracing':" not in str(body).lower()


async def test_graphql_cop_directive_overloading(cop: httpx.AsyncClient) -> None:
    body = await _query(cop, "query cop { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }")
    assert len(body["errors"]) != 10


async def test_graphql_cop_circular_query_introspection(cop: httpx.AsyncClient) -> None:
    query = "query cop { __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } }"  # noqa: E501
    body = await _query(cop, query)
    assert not (body.get("data") or {}).get("__schema")


async def test_graphql_cop_get_based_mutation(cop: httpx.AsyncClient) -> None:
    response = await cop.get("/graphql", params={"query": "mutation cop {__typename}"}, headers=HEADERS)
    assert "__typename" not in response.text


async def test_graphql_cop_post_based_csrf(cop: httpx.AsyncClient) -> None:
    response = await cop.post("/graphql", data={"query": "query cop { __typename }"}, headers=HEADERS)
    assert "__typename" not in response.text


async def test_graphql_cop_unhandled_error_detection(cop: httpx.AsyncClient) -> None:
    body = await _query(cop, "qwerty cop { abc }")
    assert "exception" not in str(body["errors"][0].get("extensions", {})).lower()
