"""Connection hygiene: authentication at connection_init, the close codes, keep-alives, limits, expiry."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import jwt
import pytest

from tests.conftest import Caller, Clients, make_settings, served_app
from tests.helpers import create, set_status
from tests.operations import ADD_MESSAGE
from tests.subscriptions.wsclient import (
    LEGACY_WS,
    PROTOCOLS,
    SUBSCRIPTIONS,
    TICKET_EVENTS,
    TRANSPORT_WS,
    connect,
    subscribed,
    wait_subscriptions,
)
from ticketdesk.auth import mint_token
from ticketdesk.models.enums import Role
from ticketdesk.policy import PERMISSIONS


def _expired(clients: Clients) -> str:
    return mint_token(clients.settings, Role.AGENT, uuid.uuid4(), lifetime=dt.timedelta(seconds=-5))


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        "expired",
        "far-future",
    ],
    ids=["no-payload", "no-token", "bad-token", "wrong-scheme", "expired-token", "exp-10**12"],
)
async def test_connection_init_without_a_valid_token_closes_4403(live: Clients, payload: Any) -> None:
    if payload == "expired":
        payload = {"Authorization": f"Bearer {_expired(live)}"}
    if payload == "far-future":  # correctly signed, but it would live for 30,000 years
        claims = {"sub": str(uuid.uuid4()), "role": "agent", "exp": 10**12}
        payload = {"Authorization": f"Bearer {jwt.encode(claims, live.settings.jwt_secret, algorithm='HS256')}"}
    async with connect(live, TRANSPORT_WS) as socket:
        await socket.ws.send_json({"type": "connection_init", **({"payload": payload} if payload is not None else {})})
        close = await socket.closed()
    assert close.code == 4403


async def test_legacy_protocol_answers_a_bad_token_with_connection_error(live: Clients) -> None:
    async with connect(live, LEGACY_WS) as socket:
        answer = await socket.init({"Authorization": "Bearer not-a-jwt"})
        close = await socket.closed()
    assert answer["type"] == "connection_error"
    assert answer["payload"]["code"] == "UNAUTHENTICATED"
    assert close.code != 1000


@pytest.mark.parametrize("key", ["Authorization", "authorization", "authToken"])
async def test_connection_init_accepts_the_token_under_each_documented_key(
    live: Clients, agent: Caller, key: str
) -> None:
    value = agent.token if key == "authToken" else f"Bearer {agent.token}"
    async with connect(live) as socket:
        assert (await socket.init({key: value}))["type"] == "connection_ack"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscribe_before_connection_init_closes_4401(live: Clients, protocol: str) -> None:
    async with connect(live, protocol) as socket:
        await socket.subscribe("1", TICKET_EVENTS)
        close = await socket.closed()
    assert close.code == 4401


async def test_second_connection_init_closes_4429(live: Clients, agent: Caller) -> None:
    async with connect(live) as socket:
        await socket.init({"Authorization": f"Bearer {agent.token}"})
        await socket.ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {agent.token}"}})
        close = await socket.closed()
    assert close.code == 4429


async def test_duplicate_subscription_id_closes_4409(live: Clients, agent: Caller) -> None:
    async with subscribed(live, agent.token or "") as socket:
        await socket.subscribe("1", TICKET_EVENTS)
        close = await socket.closed()
    assert close.code == 4409


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_no_connection_init_closes_4408(database_url: str, protocol: str) -> None:
    settings = make_settings(database_url, connection_init_timeout_seconds=0.3)
    async with served_app(settings) as clients, connect(clients, protocol) as socket:
        close = await socket.closed(timeout=5)
    assert close.code == 4408


async def test_legacy_protocol_initialised_in_time_stays_open(database_url: str) -> None:
    settings = make_settings(database_url, connection_init_timeout_seconds=0.3)
    async with served_app(settings) as clients, connect(clients, LEGACY_WS) as socket:
        agent = clients.as_role(Role.AGENT)
        assert (await socket.init({"Authorization": f"Bearer {agent.token}"}))["type"] == "connection_ack"
        assert await socket.silence(0.6) is None


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_server_sends_keepalives_on_both_protocols(database_url: str, protocol: str) -> None:
    settings = make_settings(database_url, keepalive_seconds=0.1)
    async with served_app(settings) as clients:
        token = clients.as_role(Role.AGENT).token or ""
        async with subscribed(clients, token, protocol=protocol) as socket:
            assert await socket.silence(0.6) is None
            assert socket.keepalives >= 2


async def test_subscriptions_per_connection_are_capped(database_url: str) -> None:
    settings = make_settings(database_url, max_subscriptions_per_connection=2)
    async with served_app(settings) as clients:
        token = clients.as_role(Role.AGENT).token or ""
        async with subscribed(clients, token) as socket:
            await socket.subscribe("2", TICKET_EVENTS)
            await socket.subscribe("3", TICKET_EVENTS)
            refused = await socket.receive()
    assert (refused["type"], refused["id"]) == ("error", "3")
    assert "limit" in refused["payload"][0]["message"].lower()


async def test_token_expiry_ends_the_subscription(live: Clients, customer: Caller) -> None:
    token = mint_token(live.settings, Role.AGENT, uuid.uuid4(), lifetime=dt.timedelta(seconds=2))
    async with subscribed(live, token) as socket:
        await create(customer)
        assert (await socket.event("1"))["type"] == "CREATED"
        ended = await socket.receive(timeout=10)
        assert ended["type"] == "next" and ended["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert (await socket.receive())["type"] == "complete"
        # The connection's token is spent: new operations on it are refused too.
        await socket.subscribe("2", TICKET_EVENTS)
        refused = await socket.receive()
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


SUBSCRIPTION_MATRIX = [(operation, role) for operation in SUBSCRIPTIONS for role in Role]


@pytest.mark.parametrize(
    ("operation", "role"), SUBSCRIPTION_MATRIX, ids=[f"{o}-{r.value}" for o, r in SUBSCRIPTION_MATRIX]
)
async def test_subscription_roles_follow_the_policy(live: Clients, agent: Caller, operation: str, role: Role) -> None:
    query = SUBSCRIPTIONS[operation]
    caller = live.as_role(role)
    # A ticket whose status change every permitted role may see: the customer's own, or any for staff.
    ticket = await create(caller if role is Role.CUSTOMER else live.as_role(Role.CUSTOMER))
    async with connect(live) as socket:
        await socket.init({"Authorization": f"Bearer {caller.token}"})
        await socket.subscribe("1", query, {"ticketId": ticket["id"]})
        if role not in PERMISSIONS[operation]:
            refused, done = await socket.receive(), await socket.receive()
            assert refused["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused
            assert done == {"id": "1", "type": "complete"}
            return
        await wait_subscriptions(live, lambda count: count > 0)
        await set_status(agent, ticket["id"], "IN_PROGRESS")
        event = await socket.event("1")
    assert (event["type"], event["ticketId"], event["toStatus"]) == ("STATUS_CHANGED", ticket["id"], "IN_PROGRESS")


async def test_stranger_ticket_subscription_is_not_found(
    live: Clients, customer: Caller, other_customer: Caller
) -> None:
    theirs = await create(other_customer)
    async with connect(live) as socket:
        await socket.init({"Authorization": f"Bearer {customer.token}"})
        for op_id, ticket_id in (("1", theirs["id"]), ("2", str(uuid.uuid4()))):
            await socket.subscribe(op_id, TICKET_EVENTS, {"ticketId": ticket_id})
            refused, done = await socket.receive(), await socket.receive()
            assert refused["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND", refused
            assert refused["payload"]["errors"][0]["message"] == "No ticket with that id exists."
            assert done == {"id": op_id, "type": "complete"}


@pytest.mark.parametrize("ticket_id", ["garbage", "TCK-", "TCK-99999999999999999999"])
async def test_malformed_ticket_id_subscription_is_bad_user_input(
    live: Clients, customer: Caller, ticket_id: str
) -> None:
    async with connect(live) as socket:
        await socket.init({"Authorization": f"Bearer {customer.token}"})
        await socket.subscribe("1", TICKET_EVENTS, {"ticketId": ticket_id})
        refused, done = await socket.receive(), await socket.receive()
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", refused
    assert "TCK-000042" in refused["payload"]["errors"][0]["message"]
    assert done == {"id": "1", "type": "complete"}


async def test_subscription_over_the_query_limits_is_refused(live: Clients, agent: Caller) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(31))
    async with connect(live) as socket:
        await socket.init({"Authorization": f"Bearer {agent.token}"})
        await socket.subscribe("1", f"subscription {{ ticketEvents {{ id {aliases} }} }}")
        refused = await socket.receive()
    assert refused["type"] == "error", refused
    assert refused["payload"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": 30, "actual": 31}


async def test_queries_over_a_websocket_see_fresh_data(live: Clients, customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    query = "query($id: ID!) { ticket(id: $id) { messages { body } } }"
    async with connect(live) as socket:
        await socket.init({"Authorization": f"Bearer {customer.token}"})
        await socket.subscribe("q1", query, {"id": ticket["id"]})
        first = await socket.event("q1")
        assert (await socket.receive())["type"] == "complete"
        await agent.data(ADD_MESSAGE, {"ticketId": ticket["id"], "body": "We are on it"})
        await socket.subscribe("q2", query, {"id": ticket["id"]})
        second = await socket.event("q2")
    assert first["messages"] == []
    assert second["messages"] == [{"body": "We are on it"}]


async def test_subscriptions_stopped_while_being_admitted_end_with_their_socket(database_url: str) -> None:
    # A socket closed while its subscriptions are still being admitted: each must end with it (a delivery
    # that started anyway would hold the server's shutdown forever, which the timeout would report).
    async with asyncio.timeout(60), served_app(make_settings(database_url)) as clients:
        token = clients.as_role(Role.AGENT).token or ""
        for _ in range(20):
            async with connect(clients) as socket:
                await socket.init({"Authorization": f"Bearer {token}"})
                for op_id in ("1", "2", "3"):
                    await socket.subscribe(op_id, TICKET_EVENTS)
        assert await wait_subscriptions(clients, lambda count: count == 0) == 0
