"""createTicket, ticket lookup, updateTicket, assignTicket."""

from __future__ import annotations

import pytest

from tests.conftest import Caller
from tests.helpers import create, event_types
from tests.operations import ADD_MESSAGE, ADD_NOTE, ASSIGN, CREATE_TICKET, GET_TICKET, UPDATE_TICKET, ticket_input


async def test_create_ticket_by_customer_opens_numbered_mobile_ticket(customer: Caller) -> None:
    ticket = await create(customer)
    assert ticket["reference"] == "TCK-000001"
    assert ticket["number"] == 1
    assert ticket["customerId"] == str(customer.id)
    assert (ticket["status"], ticket["priority"], ticket["source"]) == ("OPEN", "MEDIUM", "MOBILE")
    assert ticket["resolvedAt"] is None
    assert await event_types(customer, ticket["id"]) == ["CREATED"]


async def test_create_ticket_numbers_are_sequential(customer: Caller, agent: Caller) -> None:
    numbers = [(await create(customer))["number"] for _ in range(3)]
    numbers.append((await create(agent, customerId=str(customer.id)))["number"])
    assert numbers == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("category", "priority"),
    [
        ("SECURITY_CONCERN", "CRITICAL"),
        ("BANKING_ISSUE", "HIGH"),
        ("ACCOUNT_ACCESS", "HIGH"),
        ("TRANSACTION_ERROR", "HIGH"),
        ("APP_ERROR", "MEDIUM"),
        ("FEATURE_QUESTION", "LOW"),
        ("OTHER", "LOW"),
    ],
)
async def test_create_ticket_priority_defaults_by_category(customer: Caller, category: str, priority: str) -> None:
    ticket = await create(customer, category=category)
    assert ticket["priority"] == priority


async def test_create_ticket_explicit_priority_wins(customer: Caller) -> None:
    ticket = await create(customer, category="OTHER", priority="HIGH")
    assert ticket["priority"] == "HIGH"


SERVICE_VIEW = """
mutation Create($input: CreateTicketInput!) {
  createTicket(input: $input) {
    ticket { messages { body internal } timeline { nodes { type } } }
    errors { code }
  }
}"""


async def test_create_ticket_service_sees_the_ticket_without_internal_content(
    customer: Caller, agent: Caller, service: Caller
) -> None:
    filed = {"customerId": str(customer.id), "idempotencyKey": "crm-1"}
    ticket = await create(service, **filed)
    await agent.data(ADD_NOTE, {"ticketId": ticket["id"], "body": "Staff only"})
    await agent.data(ADD_MESSAGE, {"ticketId": ticket["id"], "body": "We are on it"})
    # The integration's retry answers with the ticket as it stands now, seen as a customer-facing system may.
    replay = await service.data(SERVICE_VIEW, {"input": ticket_input(**filed)})
    seen = replay["createTicket"]["ticket"]
    assert seen["messages"] == [{"body": "We are on it", "internal": False}]
    assert [node["type"] for node in seen["timeline"]["nodes"]] == ["CREATED", "MESSAGE_ADDED"]


async def test_create_ticket_source_follows_role(customer: Caller, agent: Caller, service: Caller) -> None:
    by_agent = await create(agent, customerId=str(customer.id))
    by_service = await create(service, customerId=str(customer.id))
    assert (by_agent["source"], by_service["source"]) == ("ADMIN", "WEBHOOK")
    assert by_agent["customerId"] == by_service["customerId"] == str(customer.id)


async def test_create_ticket_stores_attachments_and_error_details(customer: Caller) -> None:
    urls = ["https://files.example.com/logs/error_log.txt", "https://files.example.com/s.png?sig=1"]
    ticket = await create(customer, attachmentUrls=urls, errorDetails={"code": "E42"})
    data = await customer.data(
        "query($id: ID!) { ticket(id: $id) { attachments { url filename messageId } } }", {"id": ticket["id"]}
    )
    assert data["ticket"]["attachments"] == [
        {"url": urls[0], "filename": "error_log.txt", "messageId": None},
        {"url": urls[1], "filename": "s.png", "messageId": None},
    ]
    assert await event_types(customer, ticket["id"]) == ["CREATED"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject": "   "}, ["subject"]),
        ({"subject": "x" * 256}, ["subject"]),
        ({"description": ""}, ["description"]),
        ({"description": "x" * 10_001}, ["description"]),
        ({"attachmentUrls": ["http://files.example.com/a.txt"]}, ["attachmentUrls", "0"]),
        ({"attachmentUrls": ["https://ok.example.com/a", "javascript:alert(1)"]}, ["attachmentUrls", "1"]),
        ({"attachmentUrls": ["https://x.example.com/" + "a" * 2100]}, ["attachmentUrls", "0"]),
    ],
)
async def test_create_ticket_bad_input_is_validation_error(
    customer: Caller, overrides: dict[str, object], field: list[str]
) -> None:
    data = await customer.data(CREATE_TICKET, {"input": ticket_input(**overrides)})
    payload = data["createTicket"]
    assert payload["ticket"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("VALIDATION", field)]
    listed = await customer.data("{ tickets { totalCount } }")
    assert listed["tickets"]["totalCount"] == 0


async def test_create_ticket_limits_are_inclusive(customer: Caller) -> None:
    ticket = await create(customer, subject="s" * 255, description="d" * 10_000)
    assert len(ticket["subject"]) == 255


async def test_create_ticket_subject_is_trimmed(customer: Caller) -> None:
    ticket = await create(customer, subject="  Card declined  ")
    assert ticket["subject"] == "Card declined"


async def test_create_ticket_idempotency_key_returns_same_ticket(customer: Caller, other_customer: Caller) -> None:
    first = await create(customer, idempotencyKey="form-123")
    again = await create(customer, idempotencyKey="form-123", subject="A retry")
    theirs = await create(other_customer, idempotencyKey="form-123")
    assert again["id"] == first["id"]
    assert again["subject"] == first["subject"]
    assert theirs["id"] != first["id"]
    assert await event_types(customer, first["id"]) == ["CREATED"]
    assert (await customer.data("{ tickets { totalCount } }"))["tickets"]["totalCount"] == 1


async def test_create_ticket_customer_cannot_file_for_someone_else(customer: Caller, other_customer: Caller) -> None:
    data = await customer.data(CREATE_TICKET, {"input": ticket_input(customerId=str(other_customer.id))})
    assert [(e["code"], e["field"]) for e in data["createTicket"]["errors"]] == [("FORBIDDEN", ["customerId"])]


async def test_create_ticket_staff_must_name_a_customer(agent: Caller, admin: Caller) -> None:
    data = await agent.data(CREATE_TICKET, {"input": ticket_input()})
    assert [(e["code"], e["field"]) for e in data["createTicket"]["errors"]] == [("VALIDATION", ["customerId"])]
    await agent.data("{ viewer { id } }")
    data = await admin.data(CREATE_TICKET, {"input": ticket_input(customerId=str(agent.id))})
    assert [(e["code"], e["field"]) for e in data["createTicket"]["errors"]] == [("VALIDATION", ["customerId"])]


async def test_create_ticket_malformed_customer_id_is_bad_user_input(agent: Caller) -> None:
    body = await agent.post(CREATE_TICKET, {"input": ticket_input(customerId="not-a-uuid")})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_ticket_by_reference_and_uuid(customer: Caller) -> None:
    ticket = await create(customer)
    by_ref = await customer.data(GET_TICKET, {"id": "TCK-000001"})
    by_lower_ref = await customer.data(GET_TICKET, {"id": "tck-000001"})
    by_id = await customer.data(GET_TICKET, {"id": ticket["id"]})
    assert by_ref["ticket"]["id"] == by_lower_ref["ticket"]["id"] == by_id["ticket"]["id"] == ticket["id"]


async def test_ticket_of_stranger_is_null_like_missing(customer: Caller, other_customer: Caller) -> None:
    ticket = await create(customer)
    assert (await other_customer.data(GET_TICKET, {"id": ticket["id"]}))["ticket"] is None
    assert (await other_customer.data(GET_TICKET, {"id": "TCK-000001"}))["ticket"] is None
    assert (await other_customer.data(GET_TICKET, {"id": "TCK-000099"}))["ticket"] is None


@pytest.mark.parametrize(
    "ticket_id",
    ["garbage", "TCK-", "TCK-0", "TCK-99999999999999999999", "TCK-\u00b2", "TCK-\u2460", "TCK-" + "9" * 5000],
)
async def test_ticket_malformed_id_is_bad_user_input(customer: Caller, ticket_id: str) -> None:
    body = await customer.post(GET_TICKET, {"id": ticket_id})
    assert body["data"] == {"ticket": None}
    assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"]
    assert "TCK-000042" in body["errors"][0]["message"]


async def test_ticket_customer_and_viewer_come_from_token_claims(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    data = await agent.data(
        "query($id: ID!) { ticket(id: $id) { customer { id name email } } viewer { id role name } }",
        {"id": ticket["id"]},
    )
    assert data["ticket"]["customer"] == {"id": str(customer.id), "name": "Ann Customer", "email": "ann@example.com"}
    assert data["viewer"] == {"id": str(agent.id), "role": "AGENT", "name": "Bob Agent"}


async def test_update_ticket_changes_fields_and_records_updated(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    data = await agent.data(
        UPDATE_TICKET, {"id": ticket["id"], "input": {"subject": "Crash on transfer", "priority": "HIGH"}}
    )
    updated = data["updateTicket"]["ticket"]
    assert (updated["subject"], updated["priority"], updated["category"]) == ("Crash on transfer", "HIGH", "APP_ERROR")
    timeline = await agent.data(
        "query($id: ID!) { ticket(id: $id) { timeline { nodes { type changes } } } }", {"id": ticket["id"]}
    )
    assert timeline["ticket"]["timeline"]["nodes"][-1] == {
        "type": "UPDATED",
        "changes": {
            "subject": {"from": "App keeps crashing", "to": "Crash on transfer"},
            "priority": {"from": "MEDIUM", "to": "HIGH"},
        },
    }


async def test_update_ticket_without_change_records_nothing(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    data = await agent.data(UPDATE_TICKET, {"id": ticket["id"], "input": {"category": "APP_ERROR"}})
    assert data["updateTicket"]["errors"] == []
    assert await event_types(agent, ticket["id"]) == ["CREATED"]


async def test_update_ticket_validation_and_not_found(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    data = await agent.data(UPDATE_TICKET, {"id": ticket["id"], "input": {"subject": "y" * 300}})
    assert [(e["code"], e["field"]) for e in data["updateTicket"]["errors"]] == [("VALIDATION", ["subject"])]
    data = await agent.data(UPDATE_TICKET, {"id": "TCK-000404", "input": {"subject": "x"}})
    assert [e["code"] for e in data["updateTicket"]["errors"]] == ["NOT_FOUND"]
    data = await agent.data(UPDATE_TICKET, {"id": ticket["id"], "input": {}})
    assert [e["code"] for e in data["updateTicket"]["errors"]] == ["VALIDATION"]


async def test_assign_ticket_to_agent_and_back(customer: Caller, agent: Caller, admin: Caller) -> None:
    ticket = await create(customer)
    await admin.data("{ viewer { id } }")
    data = await agent.data(ASSIGN, {"id": ticket["id"], "agentId": str(admin.id)})
    assert data["assignTicket"]["ticket"]["assignee"] == {"id": str(admin.id), "name": "Ada Admin"}
    data = await agent.data(ASSIGN, {"id": ticket["id"], "agentId": None})
    assert data["assignTicket"]["ticket"]["assignee"] is None
    events = await agent.data(
        "query($id: ID!) { ticket(id: $id) { timeline { nodes { type assignee { id } } } } }", {"id": ticket["id"]}
    )
    assert events["ticket"]["timeline"]["nodes"][1:] == [
        {"type": "ASSIGNED", "assignee": {"id": str(admin.id)}},
        {"type": "ASSIGNED", "assignee": None},
    ]


async def test_assign_ticket_refuses_non_agents(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    data = await agent.data(ASSIGN, {"id": ticket["id"], "agentId": str(customer.id)})
    assert [(e["code"], e["field"]) for e in data["assignTicket"]["errors"]] == [("NOT_FOUND", ["agentId"])]
    assert await event_types(agent, ticket["id"]) == ["CREATED"]


async def test_agents_lists_staff_only(customer: Caller, agent: Caller, admin: Caller) -> None:
    await customer.data("{ viewer { id } }")
    await admin.data("{ viewer { id } }")
    data = await agent.data("{ agents { id name email } }")
    assert sorted(a["id"] for a in data["agents"]) == sorted([str(agent.id), str(admin.id)])
