"""Rate limits per principal: mutations and query cost per minute, RATE_LIMITED with retryAfter (HTTP 429 and
Retry-After), the budget on every authenticated answer, shared through Redis, and a cap on open subscriptions."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import Caller, Clients, make_settings, running_app, served_app
from tests.operations import CREATE_TICKET, ticket_input
from tests.redisserver import RedisServer
from tests.servers import running_server
from tests.subscriptions.wsclient import TICKET_EVENTS, connect, raw_subscriber, wait_subscriptions
from ticketdesk.auth import mint_token
from ticketdesk.models.enums import Role

CHEAP = "{ viewer { id } }"  # costs 2


def _settings(database_url: str, **overrides: Any) -> Any:
    return make_settings(database_url, **{"rate_limit_mutations": "100000/minute", **overrides})


async def _create(caller: Caller) -> httpx.Response:
    return await caller.http.post(
        "/graphql",
        json={"query": CREATE_TICKET, "variables": {"input": ticket_input()}},
        headers={"Authorization": f"Bearer {caller.token}"},
    )


def _rate_limited(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 429, response.text
    body = response.json()
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    retry_after = error["extensions"]["retryAfter"]
    assert 1 <= retry_after <= 60
    assert response.headers["retry-after"] == str(retry_after)
    assert body.get("data") is None
    extensions: dict[str, Any] = error["extensions"]
    return extensions


async def test_rate_limits_mutations_per_principal(database_url: str) -> None:
    async with running_app(_settings(database_url, rate_limit_mutations="3/minute")) as clients:
        customer, other, agent = (clients.as_role(role) for role in (Role.CUSTOMER, Role.CUSTOMER, Role.AGENT))
        for _ in range(3):
            assert (await _create(customer)).json()["data"]["createTicket"]["errors"] == []
        _rate_limited(await _create(customer))
        # Another principal has a budget of their own.
        assert (await _create(other)).json()["data"]["createTicket"]["errors"] == []
        total = await agent.data("{ tickets { totalCount } }")
        assert total["tickets"]["totalCount"] == 4


async def test_rate_limits_count_every_root_mutation_field(database_url: str) -> None:
    async with running_app(_settings(database_url, rate_limit_mutations="3/minute")) as clients:
        customer, agent = clients.as_role(Role.CUSTOMER), clients.as_role(Role.AGENT)
        four = " ".join(
            f'c{i}: createTicket(input: {{subject: "s", description: "d", category: OTHER}}) {{ errors {{ code }} }}'
            for i in range(4)
        )
        response = await customer.http.post(
            "/graphql", json={"query": f"mutation {{ {four} }}"}, headers={"Authorization": f"Bearer {customer.token}"}
        )
        _rate_limited(response)
        assert (await agent.data("{ tickets { totalCount } }"))["tickets"]["totalCount"] == 0


async def test_rate_limits_service_has_its_own_mutation_limit(database_url: str) -> None:
    settings = _settings(database_url, rate_limit_mutations="1/minute", rate_limit_service_mutations="5/minute")
    async with running_app(settings) as clients:
        service = clients.as_role(Role.SERVICE)
        for n in range(5):
            variables = {"input": ticket_input(customerId=str(clients.as_role(Role.CUSTOMER).id))}
            data = await service.data(CREATE_TICKET, variables)
            assert data["createTicket"]["errors"] == [], n


async def test_rate_limits_query_cost_and_the_budget_in_every_answer(database_url: str) -> None:
    async with running_app(_settings(database_url, rate_limit_query_cost="5/minute")) as clients:
        agent = clients.as_role(Role.AGENT)
        first, second = await agent.post(CHEAP), await agent.post(CHEAP)
        assert [first["extensions"]["rateLimit"]["remaining"], second["extensions"]["rateLimit"]["remaining"]] == [3, 1]
        budget = second["extensions"]["rateLimit"]
        assert (budget["limit"], budget["cost"]) == (5, 2)
        reset = dt.datetime.fromisoformat(budget["resetAt"])
        assert dt.timedelta(0) < reset - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=1, seconds=1)
        refused = await agent.http.post(
            "/graphql", json={"query": CHEAP}, headers={"Authorization": f"Bearer {agent.token}"}
        )
        _rate_limited(refused)
        assert "query cost per minute" in refused.json()["errors"][0]["message"]
        assert "this query costs 2" in refused.json()["errors"][0]["message"]


async def test_rate_limits_anonymous_callers_are_counted_by_address(database_url: str) -> None:
    async with running_app(_settings(database_url, rate_limit_query_cost="2/minute")) as clients:

        async def typename(address: str) -> httpx.Response:
            transport = httpx.ASGITransport(app=clients.app, client=(address, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                return await http.post("/graphql", json={"query": "{ __typename }"})

        assert [(await typename("203.0.113.1")).status_code for _ in range(2)] == [200, 200]
        assert "extensions" not in (await typename("203.0.113.2")).json()  # no budget shown without a token
        _rate_limited(await typename("203.0.113.1"))


@pytest.mark.postgres
@pytest.mark.redis
def test_rate_limits_are_shared_between_processes_through_redis(postgres_url: str, redis_url: str) -> None:
    env = {
        "TICKETDESK_DATABASE_URL": postgres_url,
        "TICKETDESK_BROADCAST_URL": redis_url,
        "TICKETDESK_RATE_LIMIT_MUTATIONS": "3/minute",
    }
    with running_server(env) as one, running_server({**env, "TICKETDESK_MIGRATE_ON_START": "false"}) as two:
        token = mint_token(make_settings(postgres_url), Role.CUSTOMER, uuid.uuid4())
        statuses = [
            httpx.post(
                f"{server.url}/graphql",
                json={"query": CREATE_TICKET, "variables": {"input": ticket_input()}},
                headers={"Authorization": f"Bearer {token}"},
            ).status_code
            for server in (one, two, one, two)
        ]
    assert statuses == [200, 200, 200, 429]


async def test_rate_limits_hold_when_redis_goes_away(database_url: str, redis_server: RedisServer) -> None:
    settings = _settings(database_url, broadcast_url=redis_server.url, rate_limit_mutations="2/minute")
    async with running_app(settings) as clients:
        customer = clients.as_role(Role.CUSTOMER)
        assert (await _create(customer)).status_code == 200
        redis_server.stop()
        # Each process counts on its own now: the limit still holds.
        assert [(await _create(customer)).status_code for _ in range(3)] == [200, 200, 429]


async def test_rate_limits_cap_open_subscriptions_per_principal(database_url: str) -> None:
    async with served_app(_settings(database_url, max_subscriptions_per_principal=2)) as clients:
        agent = clients.as_role(Role.AGENT)
        async with connect(clients) as socket:
            await socket.init({"Authorization": f"Bearer {agent.token}"})
            for op_id in ("1", "2"):
                await socket.subscribe(op_id, TICKET_EVENTS)
            await _until_held(clients, 2)
            await socket.subscribe("3", TICKET_EVENTS)
            refused = await socket.receive()
            assert refused["type"] == "error" and refused["id"] == "3", refused
            assert refused["payload"][0]["extensions"] == {"code": "RATE_LIMITED"}
            assert "At most 2 open subscriptions" in refused["payload"][0]["message"]
            await socket.stop("1")
            await _until_held(clients, 1)
            await socket.subscribe("4", TICKET_EVENTS)
            assert await socket.silence(0.5) is None  # accepted: nothing to say until an event comes


async def _until_held(clients: Clients, count: int) -> None:
    assert await wait_subscriptions(clients, lambda held: held == count) == count


async def test_rate_limits_a_refusal_charges_nothing(database_url: str) -> None:
    settings = _settings(database_url, rate_limit_mutations="3/minute", rate_limit_query_cost="2/minute")
    async with running_app(settings) as clients:
        customer = clients.as_role(Role.CUSTOMER)
        for _ in range(5):
            refused = await _create(customer)  # each costs more than 2: refused for cost, every time
            _rate_limited(refused)
            assert "query cost" in refused.json()["errors"][0]["message"]


async def test_rate_limits_the_subscription_cap_holds_against_a_rush(database_url: str) -> None:
    async with served_app(_settings(database_url, max_subscriptions_per_principal=2)) as clients:
        token = clients.as_role(Role.AGENT).token or ""
        url = str(clients.http.base_url.join("/graphql").copy_with(scheme="ws"))
        sockets = await asyncio.gather(*(raw_subscriber(url, token) for _ in range(10)))
        refusals = 0
        for ws in sockets:
            try:
                async with asyncio.timeout(1):
                    message = json.loads(await ws.recv())
            except TimeoutError:
                continue  # held: a subscription says nothing until an event comes
            errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            assert errors[0]["extensions"]["code"] == "RATE_LIMITED", message
            refusals += 1
        assert refusals == 8
        assert (await clients.http.get("/readyz")).json()["subscriptions"] == 2
        for ws in sockets:
            await ws.close()
