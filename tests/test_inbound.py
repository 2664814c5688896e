"""Tickets from other systems: an admin creates an inbound source and gets its secret once; requests signed with
it per Standard Webhooks (with the `standardwebhooks` library, as a sending system would) open tickets with
source WEBHOOK, idempotent on externalId; bad, stale and foreign signatures are refused and change nothing."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from tests.conftest import Caller, Clients, make_settings, running_app
from ticketdesk.models.enums import Role

CREATE_SOURCE = (
    """mutation($name: String!) { createInboundSource(name: $name) { name secret errors { code field } } }"""
)
TICKETS = """{ tickets { totalCount nodes { reference source category priority subject customer { id } } } }"""


def _signed(
    secret: str, body: dict[str, Any], *, at: dt.datetime | None = None, msg_id: str = "msg_1"
) -> dict[str, Any]:
    """The request a sending system makes: JSON body and Standard Webhooks headers made with its secret."""
    data = json.dumps(body)
    timestamp = at or dt.datetime.now(dt.UTC)
    signature = Webhook(secret).sign(msg_id, timestamp, data)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
    return {"content": data, "headers": headers}


async def _source(admin: Caller, name: str = "crm") -> str:
    payload = (await admin.data(CREATE_SOURCE, {"name": name}))["createInboundSource"]
    assert payload["errors"] == [] and payload["name"] == name and payload["secret"].startswith("whsec_")
    secret: str = payload["secret"]
    return secret


def _ticket_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "customerId": str(uuid.UUID(int=7)),
        "subject": "Card blocked abroad",
        "description": "Reported through the CRM",
        "category": "BANKING_ISSUE",
        "externalId": "crm-4711",
    }
    body.update(overrides)
    return body


async def _post(http: httpx.AsyncClient, source: str, request: dict[str, Any]) -> httpx.Response:
    return await http.post(f"/webhooks/inbound/{source}", **request)


async def test_a_signed_request_opens_a_webhook_ticket_once(app_clients: Clients, admin: Caller, agent: Caller) -> None:
    secret = await _source(admin)
    created = await _post(app_clients.http, "crm", _signed(secret, _ticket_body()))
    assert created.status_code == 201, created.text
    assert created.json()["reference"] == "TCK-000001"
    again = await _post(app_clients.http, "crm", _signed(secret, _ticket_body(), msg_id="msg_2"))
    assert (again.status_code, again.json()) == (200, created.json())
    other = await _post(app_clients.http, "crm", _signed(secret, _ticket_body(externalId="crm-4712")))
    assert other.status_code == 201
    tickets = (await agent.data(TICKETS))["tickets"]
    assert tickets["totalCount"] == 2
    assert {(t["source"], t["category"], t["priority"], t["customer"]["id"]) for t in tickets["nodes"]} == {
        ("WEBHOOK", "BANKING_ISSUE", "HIGH", str(uuid.UUID(int=7)))
    }


async def test_unsigned_stale_and_foreign_requests_are_refused_and_change_nothing(
    app_clients: Clients, admin: Caller, agent: Caller
) -> None:
    secret = await _source(admin)
    other_secret = await _source(admin, "billing")
    good = _signed(secret, _ticket_body())
    tampered = {**good, "content": good["content"].replace("Card blocked", "Card unblocked")}
    attempts = [
        ("crm", _signed(other_secret, _ticket_body())),  # another source's secret
        ("crm", _signed(secret, _ticket_body(), at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10))),
        ("crm", _signed(secret, _ticket_body(), at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10))),
        ("crm", tampered),
        ("crm", {"content": good["content"], "headers": {"content-type": "application/json"}}),
        ("crm", {**good, "headers": {**good["headers"], "webhook-signature": "v1,not base64!"}}),
        ("nobody", good),
    ]
    for source, request in attempts:
        answer = await _post(app_clients.http, source, request)
        assert answer.status_code == 401, (source, request, answer.text)
        assert "Standard Webhooks" in answer.json()["errors"][0]["message"]
    assert (await agent.data(TICKETS))["tickets"]["totalCount"] == 0


async def test_a_body_ticketdesk_cannot_take_is_422_with_the_field(app_clients: Clients, admin: Caller) -> None:
    secret = await _source(admin)
    cases = [
        (_ticket_body(subject=""), "subject"),
        (_ticket_body(customerId="not-a-uuid"), "customerId"),
        (_ticket_body(category="PIZZA"), "category"),
        (_ticket_body(externalId=None), "externalId"),
        (_ticket_body(description="x" * 20_000), "description"),
    ]
    for body, field in cases:
        answer = await _post(app_clients.http, "crm", _signed(secret, body))
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == field
    not_json = _signed(secret, {})
    not_json["content"] = "{not json"
    not_json["headers"]["webhook-signature"] = Webhook(secret).sign(
        "msg_1", dt.datetime.fromtimestamp(int(not_json["headers"]["webhook-timestamp"]), dt.UTC), "{not json"
    )
    answer = await _post(app_clients.http, "crm", not_json)
    assert (answer.status_code, answer.json()["errors"][0]["field"]) == (422, "body")


async def test_only_admins_create_sources_with_names_that_fit_a_url(app_clients: Clients, admin: Caller) -> None:
    await _source(admin)
    again = (await admin.data(CREATE_SOURCE, {"name": "crm"}))["createInboundSource"]
    assert (again["errors"][0]["code"], again["secret"]) == ("CONFLICT", None)
    bad = (await admin.data(CREATE_SOURCE, {"name": "../Crm"}))["createInboundSource"]
    assert bad["errors"][0] == {"code": "VALIDATION", "field": ["name"]}
    agent = app_clients.as_role(Role.AGENT)
    refused = await agent.post(CREATE_SOURCE, {"name": "mine"})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_each_source_is_rate_limited_like_a_service(database_url: str) -> None:
    async with running_app(make_settings(database_url, rate_limit_service_mutations="2/minute")) as clients:
        secret = await _source(clients.as_role(Role.ADMIN))
        answers = [
            await _post(clients.http, "crm", _signed(secret, _ticket_body(externalId=f"e{i}"))) for i in range(3)
        ]
    assert [answer.status_code for answer in answers] == [201, 201, 429]
    assert int(answers[2].headers["retry-after"]) > 0
