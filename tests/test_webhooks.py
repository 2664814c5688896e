"""Outbound webhooks against a real receiver on loopback: every event it asked for, once by webhook-id, in order,
signed; failures retried while later events wait; a receiver that goes away and comes back; disabling and
resuming; admins' management; and receivers on addresses a production server must not call."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import Caller, Clients, make_settings, running_app
from tests.helpers import create, walk
from tests.operations import ADD_NOTE, CREATE_TICKET, ticket_input
from tests.receiver import Receiver
from tests.servers import ServerProcess, running_server
from ticketdesk.auth import mint_token
from ticketdesk.models.enums import Role

CREATE = """mutation($input: CreateWebhookInput!) { createWebhook(input: $input) {
  webhook { id url events includeInternal enabled } secret errors { code message field } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) {
  webhook { id enabled failingSince } errors { code message field } } }"""
DELIVERIES = """query($id: ID!, $status: DeliveryStatus) {
  webhookDeliveries(webhookId: $id, status: $status, first: 100) {
    nodes { id eventCursor eventType attempt status responseCode error nextAttemptAt } } }"""
FAST = {"webhook_poll_seconds": 0.02, "webhook_retry_seconds": 0.05}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def clients(database_url: str) -> AsyncIterator[Clients]:
    async with running_app(make_settings(database_url, **FAST)) as running:
        yield running


async def _webhook(admin: Caller, receiver: Receiver, **input: Any) -> str:
    payload = (await admin.data(CREATE, {"input": {"url": receiver.url, **input}}))["createWebhook"]
    assert payload["errors"] == [], payload
    receiver.secret = payload["secret"]
    webhook_id: str = payload["webhook"]["id"]
    return webhook_id


async def _deliveries(
    admin: Caller, webhook_id: str, status: str | None = None, *, at_least: int = 0
) -> list[dict[str, Any]]:
    """The webhook's recorded deliveries, newest first, once there are `at_least` (a delivery is recorded just
    after its receiver answers)."""
    deadline = time.monotonic() + 10
    while True:
        data = await admin.data(DELIVERIES, {"id": webhook_id, "status": status})
        nodes: list[dict[str, Any]] = data["webhookDeliveries"]["nodes"]
        if len(nodes) >= at_least:
            return nodes
        assert time.monotonic() < deadline, f"{len(nodes)} of {at_least} deliveries recorded"
        await asyncio.sleep(0.02)


async def test_every_event_arrives_once_in_order_and_signed(clients: Clients, receiver: Receiver) -> None:
    admin, customer, agent = (clients.as_role(role) for role in (Role.ADMIN, Role.CUSTOMER, Role.AGENT))
    webhook_id = await _webhook(admin, receiver)
    ticket = await create(customer)
    await agent.data(ADD_NOTE, {"ticketId": ticket["id"], "body": "internal: fraud team"})
    await walk(agent, ticket["id"], "IN_PROGRESS", "RESOLVED")
    arrived = await receiver.wait_for(3)
    assert [d.body["type"] for d in arrived] == ["CREATED", "STATUS_CHANGED", "STATUS_CHANGED"]  # no note
    assert [d.body["data"]["event"]["toStatus"] for d in arrived] == [None, "IN_PROGRESS", "RESOLVED"]
    assert [d.id for d in arrived] == [d.body["data"]["cursor"] for d in arrived]
    assert arrived[-1].body["data"]["ticket"]["reference"] == ticket["reference"]
    assert receiver.bad_signatures == 0 and receiver.requests == 3
    recorded = await _deliveries(admin, webhook_id, at_least=3)
    assert [(d["status"], d["attempt"], d["responseCode"]) for d in recorded] == [("SUCCEEDED", 1, 200)] * 3


async def test_internal_content_only_for_webhooks_that_ask_and_types_filter(
    clients: Clients, receiver: Receiver
) -> None:
    admin, customer, agent = (clients.as_role(role) for role in (Role.ADMIN, Role.CUSTOMER, Role.AGENT))
    await _webhook(admin, receiver, includeInternal=True, events=["NOTE_ADDED", "STATUS_CHANGED"])
    ticket = await create(customer)
    await agent.data(ADD_NOTE, {"ticketId": ticket["id"], "body": "internal: fraud team"})
    await walk(agent, ticket["id"], "IN_PROGRESS")
    arrived = await receiver.wait_for(2)
    assert [d.body["type"] for d in arrived] == ["NOTE_ADDED", "STATUS_CHANGED"]
    assert arrived[0].body["data"]["event"]["message"]["body"] == "internal: fraud team"


async def test_failures_are_retried_while_later_events_wait(clients: Clients, receiver: Receiver) -> None:
    admin, customer, agent = (clients.as_role(role) for role in (Role.ADMIN, Role.CUSTOMER, Role.AGENT))
    receiver.fail = 3
    webhook_id = await _webhook(admin, receiver)
    ticket = await create(customer)
    await walk(agent, ticket["id"], "IN_PROGRESS", "RESOLVED")
    arrived = await receiver.wait_for(3)
    assert [d.body["type"] for d in arrived] == ["CREATED", "STATUS_CHANGED", "STATUS_CHANGED"]
    failed = await _deliveries(admin, webhook_id, "FAILED")
    assert [(d["eventType"], d["attempt"], d["responseCode"]) for d in reversed(failed)] == [
        ("CREATED", 1, 500),
        ("CREATED", 2, 500),
        ("CREATED", 3, 500),
    ]
    assert all(d["nextAttemptAt"] is not None and d["error"] == "HTTP 500" for d in failed)
    succeeded = await _deliveries(admin, webhook_id, "SUCCEEDED", at_least=3)
    assert [d["attempt"] for d in reversed(succeeded)] == [4, 1, 1]


async def test_a_receiver_that_goes_away_gets_everything_when_back(clients: Clients, receiver: Receiver) -> None:
    admin, customer, agent = (clients.as_role(role) for role in (Role.ADMIN, Role.CUSTOMER, Role.AGENT))
    webhook_id = await _webhook(admin, receiver)
    await receiver.stop()
    ticket = await create(customer)
    await walk(agent, ticket["id"], "IN_PROGRESS", "RESOLVED", "CLOSED")
    await _deliveries(admin, webhook_id, "FAILED", at_least=1)
    await receiver.start()
    arrived = await receiver.wait_for(4)
    assert [d.body["data"]["event"]["toStatus"] for d in arrived] == [None, "IN_PROGRESS", "RESOLVED", "CLOSED"]
    failed = await _deliveries(admin, webhook_id, "FAILED")
    assert failed[0]["responseCode"] is None and "Connect" in (failed[0]["error"] or "")


async def test_a_receiver_slower_than_the_timeout_is_retried(database_url: str, receiver: Receiver) -> None:
    async with running_app(make_settings(database_url, **FAST, webhook_timeout_seconds=0.3)) as clients:
        admin, customer = clients.as_role(Role.ADMIN), clients.as_role(Role.CUSTOMER)
        receiver.delay = 1.0
        webhook_id = await _webhook(admin, receiver)
        ticket = await create(customer)
        timed_out = (await _deliveries(admin, webhook_id, "FAILED", at_least=1))[-1]
        assert timed_out["responseCode"] is None and "Timeout" in (timed_out["error"] or "")
        receiver.delay = 0.0
        arrived = await receiver.wait_for(1)
    # The slow answer may have been accepted too: by webhook-id the event arrived once.
    assert [d.body["data"]["ticketId"] for d in arrived] == [ticket["id"]]


async def test_a_webhook_failing_too_long_is_disabled_and_resumes_where_it_stopped(
    database_url: str, receiver: Receiver
) -> None:
    settings = {**FAST, "webhook_disable_hours": 0.5 / 3600}  # half a second
    async with running_app(make_settings(database_url, **settings)) as clients:
        admin, customer = clients.as_role(Role.ADMIN), clients.as_role(Role.CUSTOMER)
        receiver.status = 503
        webhook_id = await _webhook(admin, receiver)
        ticket = await create(customer)
        deadline = time.monotonic() + 10
        while (await admin.data("{ webhooks { enabled } }"))["webhooks"][0]["enabled"]:
            assert time.monotonic() < deadline, "the webhook was not disabled"
            await asyncio.sleep(0.05)
        receiver.status = 200
        resumed = (await admin.data(UPDATE, {"id": webhook_id, "input": {"enabled": True}}))["updateWebhook"]
        assert resumed["webhook"] == {"id": webhook_id, "enabled": True, "failingSince": None}
        [created] = await receiver.wait_for(1)
        assert created.body["data"]["ticketId"] == ticket["id"]


async def test_admins_rotate_secrets_redeliver_and_delete(clients: Clients, receiver: Receiver) -> None:
    admin, customer = clients.as_role(Role.ADMIN), clients.as_role(Role.CUSTOMER)
    webhook_id = await _webhook(admin, receiver)
    await create(customer)
    [first] = await receiver.wait_for(1)
    rotated = (
        await admin.data(
            "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret errors { code } } }", {"id": webhook_id}
        )
    )["rotateWebhookSecret"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != receiver.secret
    receiver.secret = rotated["secret"]
    [delivery] = await _deliveries(admin, webhook_id, at_least=1)
    again = await admin.data(
        "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { webhook { id } errors { code } } }",
        {"id": delivery["id"]},
    )
    assert again["redeliverWebhook"]["errors"] == []
    assert [d.id for d in receiver.accepted] == [first.id, first.id]  # the same webhook-id: the receiver dedupes
    assert receiver.bad_signatures == 0
    deleted = await admin.data(
        "mutation($id: ID!) { deleteWebhook(id: $id) { webhook { id } errors { code } } }", {"id": webhook_id}
    )
    assert deleted["deleteWebhook"]["webhook"]["id"] == webhook_id
    assert (await admin.data("{ webhooks { id } }"))["webhooks"] == []
    missing = await admin.data(UPDATE, {"id": webhook_id, "input": {"enabled": False}})
    assert missing["updateWebhook"]["errors"][0]["code"] == "NOT_FOUND"


async def test_a_redirect_is_a_failure_not_followed(clients: Clients, receiver: Receiver) -> None:
    admin, customer = clients.as_role(Role.ADMIN), clients.as_role(Role.CUSTOMER)
    receiver.status = 302
    webhook_id = await _webhook(admin, receiver)
    await create(customer)
    failed = await _deliveries(admin, webhook_id, "FAILED", at_least=1)
    assert failed[0]["responseCode"] == 302 and receiver.accepted == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hooks",  # plain http outside development
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://[::ffff:192.168.0.1]/hooks",
        "https://user:secret@example.com/hooks",
        "ftp://example.com/hooks",
    ],
)
async def test_production_refuses_receivers_it_must_not_call(database_url: str, url: str) -> None:
    production = {"env": "production", "jwt_secret": "a-production-secret-of-at-least-32-bytes!"}
    async with running_app(make_settings(database_url, **production)) as clients:
        admin = clients.as_role(Role.ADMIN)
        payload = (await admin.data(CREATE, {"input": {"url": url}}))["createWebhook"]
    assert payload["webhook"] is None and payload["errors"][0]["field"] == ["url"], payload


SECRET = "two-processes-one-deployment-secret-0123456789"


def _process_env(postgres_url: str, redis_url: str) -> dict[str, str]:
    return {
        "TICKETDESK_DATABASE_URL": postgres_url,
        "TICKETDESK_BROADCAST_URL": redis_url,
        "TICKETDESK_JWT_SECRET": SECRET,
        "TICKETDESK_ENV": "development",
        "TICKETDESK_WEBHOOK_POLL_SECONDS": "0.05",
        "TICKETDESK_WEBHOOK_RETRY_SECONDS": "0.2",
    }


async def _call(server: ServerProcess, role: Role, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    token = mint_token(make_settings("sqlite://unused", jwt_secret=SECRET), role, uuid.uuid4())
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
        )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]


async def _tickets(server: ServerProcess, count: int) -> None:
    for n in range(count):
        created = await _call(server, Role.CUSTOMER, CREATE_TICKET, {"input": ticket_input(subject=f"Ticket {n}")})
        assert created["createTicket"]["errors"] == []


@pytest.mark.postgres
async def test_two_processes_deliver_each_event_once_between_them(
    postgres_url: str, redis_url: str, receiver: Receiver
) -> None:
    env = _process_env(postgres_url, redis_url)
    with running_server(env) as first, running_server({**env, "TICKETDESK_MIGRATE_ON_START": "false"}) as second:
        created = await _call(first, Role.ADMIN, CREATE, {"input": {"url": receiver.url}})
        receiver.secret = created["createWebhook"]["secret"]
        await _tickets(second, 6)
        arrived = await receiver.wait_for(6)
    assert [d.body["data"]["ticket"]["subject"] for d in arrived] == [f"Ticket {n}" for n in range(6)]
    assert len(receiver.accepted) == 6  # none twice: one process at a time holds the webhook


@pytest.mark.postgres
async def test_a_process_killed_mid_delivery_hands_over_without_losing_the_event(
    postgres_url: str, redis_url: str, receiver: Receiver
) -> None:
    env = _process_env(postgres_url, redis_url)
    receiver.delay = 3.0  # the first delivery is still waiting for its answer when its process dies
    with running_server(env) as first:
        created = await _call(first, Role.ADMIN, CREATE, {"input": {"url": receiver.url}})
        receiver.secret = created["createWebhook"]["secret"]
        await _tickets(first, 3)
        deadline = time.monotonic() + 10
        while receiver.requests == 0:
            assert time.monotonic() < deadline, "no delivery started"
            await asyncio.sleep(0.02)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
    receiver.delay = 0.0
    with running_server({**env, "TICKETDESK_MIGRATE_ON_START": "false"}):
        arrived = await receiver.wait_for(3, timeout=30)
    # At least once: the killed process's attempt may have reached the receiver too; by webhook-id, each once.
    assert [d.body["data"]["ticket"]["subject"] for d in arrived] == [f"Ticket {n}" for n in range(3)]
