"""Inputs an attacker sends: each gets a clear error and changes nothing; none reaches an internal error."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from typing import Any

import jwt
import pytest

from tests.conftest import Caller, Clients
from tests.helpers import create
from tests.operations import (
    ADD_MESSAGE,
    AI_TRANSFER,
    CREATE_TICKET,
    LIST_TICKETS,
    REQUEST_ESCALATION,
    UPDATE_TICKET,
    ticket_input,
)

HUGE_REFERENCE = "TCK-99999999999999999999"


async def _refusal(caller: Caller, query: str, variables: dict[str, Any], root: str) -> dict[str, Any]:
    """The single error of a mutation payload that must have been refused."""
    data = await caller.data(query, variables)
    payload = data[root]
    (error,) = payload["errors"]
    assert all(value is None for key, value in payload.items() if key != "errors"), payload
    result: dict[str, Any] = error
    return result


async def _tickets(agent: Caller) -> int:
    total: int = (await agent.data("{ tickets { totalCount } }"))["tickets"]["totalCount"]
    return total


@pytest.mark.parametrize(
    ("query", "variables", "root"),
    [
        (ADD_MESSAGE, {"ticketId": HUGE_REFERENCE, "body": "b"}, "addMessage"),
        (UPDATE_TICKET, {"id": HUGE_REFERENCE, "input": {"subject": "x"}}, "updateTicket"),
        (REQUEST_ESCALATION, {"ticketId": HUGE_REFERENCE, "reason": "r", "target": "HIGH"}, "requestEscalation"),
        (ADD_MESSAGE, {"ticketId": "TCK-\u2460", "body": "b"}, "addMessage"),
        (ADD_MESSAGE, {"ticketId": "TCK-" + "7" * 5000, "body": "b"}, "addMessage"),
    ],
)
async def test_hostile_mutation_target_is_not_found(
    agent: Caller, query: str, variables: dict[str, Any], root: str
) -> None:
    error = await _refusal(agent, query, variables, root)
    assert error["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"subject": "\ud800"}, ["subject"], "unpaired surrogates"),
        ({"subject": "Help\x00me"}, ["subject"], "NUL"),
        ({"description": "transfer \u202eevil"}, ["description"], "U+202E"),
        ({"attachmentUrls": ["https://[::1"]}, ["attachmentUrls", "0"], "absolute https"),
        ({"attachmentUrls": ["https://user:pw@files.example.com/x"]}, ["attachmentUrls", "0"], "user name"),
        ({"attachmentUrls": ["https://files.example.com:99999/x"]}, ["attachmentUrls", "0"], "absolute https"),
        ({"attachmentUrls": ["https://files.example.com/a\nb"]}, ["attachmentUrls", "0"], "control characters"),
        ({"attachmentUrls": [f"https://files.example.com/{n}" for n in range(11)]}, ["attachmentUrls"], "at most 10"),
        ({"errorDetails": {"log": "x" * 17_000}}, ["errorDetails"], "the limit is 16384"),
        ({"priority": "CRITICAL"}, ["priority"], "up to HIGH"),
    ],
)
async def test_hostile_create_ticket_input_is_refused(
    customer: Caller, agent: Caller, overrides: dict[str, Any], field: list[str], words: str
) -> None:
    error = await _refusal(customer, CREATE_TICKET, {"input": ticket_input(**overrides)}, "createTicket")
    assert (error["code"], error["field"]) == ("VALIDATION", field)
    assert words in error["message"]
    assert await _tickets(agent) == 0


async def test_hostile_text_loses_control_characters(customer: Caller) -> None:
    ticket = await create(customer, subject="App\x07 keeps\r crashing\x1b", description="line one\nline\ttwo\r\n")
    assert (ticket["subject"], ticket["description"]) == ("App keeps crashing", "line one\nline\ttwo")


async def test_hostile_error_details_take_any_json_value(customer: Caller) -> None:
    for details in ("x", 42, [1, {"a": None}], {"code": "E_TIMEOUT"}):
        await create(customer, errorDetails=details)


async def test_hostile_customer_may_not_set_critical_but_the_category_may(customer: Caller, agent: Caller) -> None:
    security = await create(customer, category="SECURITY_CONCERN")
    assert security["priority"] == "CRITICAL"
    by_staff = await create(agent, customerId=str(customer.id), priority="CRITICAL")
    assert by_staff["priority"] == "CRITICAL"


def _transfer(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "conversationId": f"conv-{uuid.uuid4()}",
        "summaryOfIssue": "The app crashes",
        "conversationHistory": [{"role": "CUSTOMER", "content": "The app crashes"}],
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        (
            {"conversationHistory": [{"role": "AGENT", "content": "I am an agent, give me your PIN"}]},
            ["conversationHistory.0.role"],
            "CUSTOMER or AI",
        ),
        ({"conversationHistory": [{"role": "SYSTEM", "content": "Verified."}]}, ["conversationHistory.0.role"], "AI"),
        (
            {"conversationHistory": [{"role": "CUSTOMER", "content": "hi", "timestamp": "0001-01-01T00:00:00+01:00"}]},
            ["conversationHistory.0.timestamp"],
            "out of range",
        ),
        ({"conversationHistory": [{"role": "CUSTOMER", "content": "hi"}] * 501}, ["conversationHistory"], "500"),
        ({"customerContext": {"accountStatus": "a" * 20_000}}, ["customerContext"], "the limit is 16384"),
        ({"priority": "CRITICAL"}, ["priority"], "up to HIGH"),
    ],
)
async def test_hostile_ai_transfer_is_refused(
    customer: Caller, agent: Caller, overrides: dict[str, Any], field: list[str], words: str
) -> None:
    error = await _refusal(customer, AI_TRANSFER, {"input": _transfer(**overrides)}, "createFromAITransfer")
    assert (error["code"], error["field"]) == ("VALIDATION", field)
    assert words in error["message"]
    assert await _tickets(agent) == 0


async def test_hostile_ai_transfer_timestamps_are_stored_in_utc(customer: Caller) -> None:
    line = {"role": "CUSTOMER", "content": "The app crashes", "timestamp": "2026-11-28T10:00:00+02:00"}
    data = await customer.data(AI_TRANSFER, {"input": _transfer(conversationHistory=[line])})
    ticket_id = data["createFromAITransfer"]["ticket"]["id"]
    query = "query($id: ID!) { ticket(id: $id) { messages { createdAt } } }"
    (message,) = (await customer.data(query, {"id": ticket_id}))["ticket"]["messages"]
    assert dt.datetime.fromisoformat(message["createdAt"]) == dt.datetime(2026, 11, 28, 8, tzinfo=dt.UTC)


ANALYZE = "query($messages: [ConversationMessageInput!]!) { analyzeConversation(messages: $messages) { category } }"


@pytest.mark.parametrize(
    "messages",
    [[{"role": "CUSTOMER", "content": "hi"}] * 501, [{"role": "CUSTOMER", "content": "x" * 10_001}]],
    ids=["501-lines", "long-line"],
)
async def test_hostile_analyze_conversation_is_bounded(customer: Caller, messages: list[dict[str, str]]) -> None:
    body = await customer.post(ANALYZE, {"messages": messages})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("search", ["x" * 100_000, "\ud800", "a\x00b"])
async def test_hostile_search_is_bad_user_input(agent: Caller, search: str) -> None:
    body = await agent.post(LIST_TICKETS, {"filter": {"search": search}})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_hostile_datetime_filters_with_offsets_mean_the_same_instant(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    created = dt.datetime.fromisoformat(ticket["createdAt"])
    for offset in (dt.timedelta(hours=2), dt.timedelta(hours=-5), dt.timedelta(0)):
        zone = dt.timezone(offset)
        just_before = (created - dt.timedelta(seconds=1)).astimezone(zone).isoformat()
        just_after = (created + dt.timedelta(seconds=1)).astimezone(zone).isoformat()
        found = await agent.data(LIST_TICKETS, {"filter": {"createdAfter": just_before}})
        assert found["tickets"]["totalCount"] == 1, (offset, just_before)
        later = await agent.data(LIST_TICKETS, {"filter": {"createdAfter": just_after}})
        assert later["tickets"]["totalCount"] == 0, (offset, just_after)
        before = await agent.data(LIST_TICKETS, {"filter": {"createdBefore": just_after}})
        assert before["tickets"]["totalCount"] == 1, (offset, just_after)


async def test_hostile_deeply_nested_json_body_is_a_400(app_clients: Clients, customer: Caller) -> None:
    body = '{"query": "{ viewer { id } }", "variables": {"x": ' + "[" * 5000 + "]" * 5000 + "}}"
    response = await app_clients.http.post(
        "/graphql",
        content=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {customer.token}"},
    )
    assert response.status_code == 400
    assert "parse" in response.text


async def test_hostile_body_over_the_limit_is_a_413(app_clients: Clients, customer: Caller, agent: Caller) -> None:
    headers = {"Authorization": f"Bearer {customer.token}"}
    big = json.dumps({"query": CREATE_TICKET, "variables": {"input": ticket_input(description="x" * 1_100_000)}})
    declared = await app_clients.http.post(
        "/graphql", content=big, headers={**headers, "Content-Type": "application/json"}
    )

    async def chunks() -> Any:  # streamed without a Content-Length
        for start in range(0, len(big), 65_536):
            yield big[start : start + 65_536].encode()

    streamed = await app_clients.http.post(
        "/graphql", content=chunks(), headers={**headers, "Content-Type": "application/json"}
    )
    for response in (declared, streamed):
        assert response.status_code == 413
        assert "TICKETDESK_MAX_BODY_BYTES" in response.json()["errors"][0]["message"]
    assert await _tickets(agent) == 0


def _token(clients: Clients, **claims: Any) -> str:
    values: dict[str, Any] = {"sub": str(uuid.uuid4()), "role": "customer", "exp": 10**12}
    values.update(claims)
    return jwt.encode(values, clients.settings.jwt_secret, algorithm="HS256")


@pytest.mark.parametrize(
    ("claims", "words"),
    [
        ({"exp": 10**12}, "more than 24 hours"),
        ({"exp_in_hours": 25}, "more than 24 hours"),
        ({"exp": 1e400}, "not valid"),  # JSON's Infinity
        ({"exp_in_hours": 1, "name": "\ud800"}, "unpaired surrogates"),
    ],
)
async def test_hostile_token_claims_are_unauthenticated(
    app_clients: Clients, claims: dict[str, Any], words: str
) -> None:
    claims = dict(claims)
    if (hours := claims.pop("exp_in_hours", None)) is not None:  # from now, not from collection time
        claims["exp"] = int(dt.datetime.now(dt.UTC).timestamp() + hours * 3600)
    body = await app_clients.anonymous(_token(app_clients, **claims)).post("{ viewer { id } }")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert words in body["errors"][0]["message"]


async def test_hostile_cursor_shapes_never_reach_the_store(agent: Caller) -> None:
    huge = base64.urlsafe_b64encode(b"ev:" + b"9" * 30).decode()
    ticket = await create(agent, customerId=str(uuid.uuid4()))
    query = "query($id: ID!, $after: String) { ticket(id: $id) { timeline(after: $after) { nodes { type } } } }"
    body = await agent.post(query, {"id": ticket["id"], "after": huge})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "body",
    ['{"query": "{ __typename }", "extensions": {"x": ' + "9" * 5000 + "}}", "null", "1", '"x"', "true"],
    ids=["5000-digit-int", "null", "number", "string", "boolean"],
)
async def test_hostile_json_bodies_are_a_400(app_clients: Clients, body: str) -> None:
    response = await app_clients.http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


async def test_hostile_subscription_word_does_not_buy_an_unbounded_parse(agent: Caller) -> None:
    body = await agent.post("#subscription\n{ " + "a " * 100_000 + "}")
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


@pytest.mark.parametrize("details", [{"a": "\x00"}, {"\x00": 1}, float("nan"), float("inf")])
async def test_hostile_error_details_refuse_nul_and_nan(customer: Caller, agent: Caller, details: Any) -> None:
    error = await _refusal(customer, CREATE_TICKET, {"input": ticket_input(errorDetails=details)}, "createTicket")
    assert (error["code"], error["field"]) == ("VALIDATION", ["errorDetails"])
    assert await _tickets(agent) == 0


async def test_hostile_token_with_a_string_exp_is_unauthenticated(app_clients: Clients) -> None:
    exp = str(int(dt.datetime.now(dt.UTC).timestamp()) + 600)
    body = await app_clients.anonymous(_token(app_clients, exp=exp)).post("{ viewer { id } }")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
