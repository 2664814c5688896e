"""The status workflow, messages and notes, and what each records."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import Caller
from tests.helpers import create, event_types, set_status, walk
from tests.operations import ADD_MESSAGE, ADD_NOTE, GET_TICKET

STATUSES = ["OPEN", "IN_PROGRESS", "RESOLVED", "CLOSED", "REOPENED"]
STAFF_ALLOWED = {
    "OPEN": {"IN_PROGRESS", "RESOLVED", "CLOSED"},
    "IN_PROGRESS": {"OPEN", "RESOLVED", "CLOSED"},
    "RESOLVED": {"CLOSED", "REOPENED"},
    "CLOSED": {"REOPENED"},
    "REOPENED": {"IN_PROGRESS", "RESOLVED", "CLOSED"},
}
CUSTOMER_ALLOWED = {"RESOLVED": {"CLOSED", "REOPENED"}}
# How the staff get a fresh ticket to each status.
PATH = {
    "OPEN": [],
    "IN_PROGRESS": ["IN_PROGRESS"],
    "RESOLVED": ["RESOLVED"],
    "CLOSED": ["CLOSED"],
    "REOPENED": ["RESOLVED", "REOPENED"],
}
PAIRS = [(a, b) for a in STATUSES for b in STATUSES if a != b]


@pytest.mark.parametrize(("start", "target"), PAIRS)
async def test_change_status_staff_follows_table(customer: Caller, agent: Caller, start: str, target: str) -> None:
    ticket = await create(customer)
    await walk(agent, ticket["id"], *PATH[start])
    before = await event_types(agent, ticket["id"])
    payload = await set_status(agent, ticket["id"], target)
    if target in STAFF_ALLOWED[start]:
        assert payload["errors"] == []
        assert payload["ticket"]["status"] == target
        assert await event_types(agent, ticket["id"]) == [*before, "STATUS_CHANGED"]
    else:
        assert payload["ticket"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_TRANSITION", ["status"])]
        assert await event_types(agent, ticket["id"]) == before
        current = await agent.data(GET_TICKET, {"id": ticket["id"]})
        assert current["ticket"]["status"] == start


@pytest.mark.parametrize(("start", "target"), PAIRS)
async def test_change_status_customer_follows_table(customer: Caller, agent: Caller, start: str, target: str) -> None:
    ticket = await create(customer)
    await walk(agent, ticket["id"], *PATH[start])
    payload = await set_status(customer, ticket["id"], target)
    if target in CUSTOMER_ALLOWED.get(start, set()):
        assert payload["errors"] == []
        assert payload["ticket"]["status"] == target
    else:
        assert [e["code"] for e in payload["errors"]] == ["INVALID_TRANSITION"]


async def test_change_status_to_same_status_is_silent_noop(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    await walk(agent, ticket["id"], "IN_PROGRESS")
    payload = await set_status(agent, ticket["id"], "IN_PROGRESS")
    assert payload["errors"] == []
    assert payload["ticket"]["status"] == "IN_PROGRESS"
    assert await event_types(agent, ticket["id"]) == ["CREATED", "STATUS_CHANGED"]


async def test_resolved_at_set_on_resolve_and_cleared_on_reopen(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    resolved = await set_status(agent, ticket["id"], "RESOLVED")
    assert resolved["ticket"]["resolvedAt"] is not None
    reopened = await set_status(customer, ticket["id"], "REOPENED")
    assert reopened["ticket"]["resolvedAt"] is None


async def test_change_status_note_is_internal_and_recorded_after(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    payload = await set_status(agent, ticket["id"], "IN_PROGRESS", note="Investigating device logs")
    assert payload["errors"] == []
    staff_view = await agent.data(GET_TICKET, {"id": ticket["id"]})
    assert [e["node"]["type"] for e in staff_view["ticket"]["timeline"]["edges"]] == [
        "CREATED",
        "STATUS_CHANGED",
        "NOTE_ADDED",
    ]
    assert staff_view["ticket"]["messages"] == [
        {"body": "Investigating device logs", "internal": True, "senderType": "AGENT"}
    ]
    customer_view = await customer.data(GET_TICKET, {"id": ticket["id"]})
    assert customer_view["ticket"]["messages"] == []
    assert [e["node"]["type"] for e in customer_view["ticket"]["timeline"]["edges"]] == ["CREATED", "STATUS_CHANGED"]


async def test_change_status_refused_transition_keeps_note_out(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    await walk(agent, ticket["id"], "CLOSED")
    payload = await set_status(agent, ticket["id"], "IN_PROGRESS", note="should not be stored")
    assert [e["code"] for e in payload["errors"]] == ["INVALID_TRANSITION"]
    view = await agent.data(GET_TICKET, {"id": ticket["id"]})
    assert view["ticket"]["messages"] == []


async def test_change_status_customer_cannot_add_note(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    await walk(agent, ticket["id"], "RESOLVED")
    payload = await set_status(customer, ticket["id"], "CLOSED", note="thanks")
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("FORBIDDEN", ["note"])]


async def test_change_status_stranger_gets_not_found(customer: Caller, other_customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    await walk(agent, ticket["id"], "RESOLVED")
    payload = await set_status(other_customer, ticket["id"], "CLOSED")
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", ["id"])]


async def test_add_message_between_customer_and_agent(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    url = "https://files.example.com/screen.png"
    mine = await customer.data(ADD_MESSAGE, {"ticketId": ticket["id"], "body": "Still broken", "urls": [url]})
    reply = await agent.data(ADD_MESSAGE, {"ticketId": ticket["id"], "body": "Looking into it"})
    message = mine["addMessage"]["message"]
    assert (message["senderType"], message["senderId"], message["internal"]) == ("CUSTOMER", str(customer.id), False)
    assert message["attachments"] == [{"url": url, "filename": "screen.png"}]
    assert reply["addMessage"]["message"]["senderType"] == "AGENT"
    view = await customer.data(GET_TICKET, {"id": ticket["id"]})
    assert [m["body"] for m in view["ticket"]["messages"]] == ["Still broken", "Looking into it"]
    assert await event_types(customer, ticket["id"]) == ["CREATED", "MESSAGE_ADDED", "MESSAGE_ADDED"]


async def test_add_message_customer_reply_reopens_resolved_ticket(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    await walk(agent, ticket["id"], "RESOLVED")
    data = await customer.data(ADD_MESSAGE, {"ticketId": ticket["id"], "body": "It happened again"})
    assert data["addMessage"]["ticket"]["status"] == "REOPENED"
    assert data["addMessage"]["ticket"]["resolvedAt"] is None
    view = await agent.data(GET_TICKET, {"id": ticket["id"]})
    edges = [e["node"] for e in view["ticket"]["timeline"]["edges"]]
    assert [e["type"] for e in edges] == ["CREATED", "STATUS_CHANGED", "MESSAGE_ADDED", "STATUS_CHANGED"]
    assert (edges[-1]["fromStatus"], edges[-1]["toStatus"], edges[-1]["actorRole"]) == (
        "RESOLVED",
        "REOPENED",
        "CUSTOMER",
    )


async def test_add_message_agent_reply_keeps_resolved(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    await walk(agent, ticket["id"], "RESOLVED")
    data = await agent.data(ADD_MESSAGE, {"ticketId": ticket["id"], "body": "Anything else?"})
    assert data["addMessage"]["ticket"]["status"] == "RESOLVED"


async def test_add_message_customer_refused_on_closed_ticket(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    await walk(agent, ticket["id"], "CLOSED")
    data = await customer.data(ADD_MESSAGE, {"ticketId": ticket["id"], "body": "Hello?"})
    assert data["addMessage"]["message"] is None
    assert [(e["code"], e["field"]) for e in data["addMessage"]["errors"]] == [("INVALID_TRANSITION", ["ticketId"])]
    assert await event_types(agent, ticket["id"]) == ["CREATED", "STATUS_CHANGED"]


@pytest.mark.parametrize(("body", "field"), [("  ", ["body"]), ("b" * 10_001, ["body"])])
async def test_add_message_bad_body_is_validation(customer: Caller, body: str, field: list[str]) -> None:
    ticket = await create(customer)
    data = await customer.data(ADD_MESSAGE, {"ticketId": ticket["id"], "body": body})
    assert [(e["code"], e["field"]) for e in data["addMessage"]["errors"]] == [("VALIDATION", field)]


async def test_add_message_stranger_gets_not_found(customer: Caller, other_customer: Caller) -> None:
    ticket = await create(customer)
    data = await other_customer.data(ADD_MESSAGE, {"ticketId": ticket["id"], "body": "hi"})
    assert [(e["code"], e["field"]) for e in data["addMessage"]["errors"]] == [("NOT_FOUND", ["ticketId"])]


async def test_internal_note_hidden_from_customer(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    data = await agent.data(ADD_NOTE, {"ticketId": ticket["id"], "body": "Customer seems legit"})
    assert data["addInternalNote"]["message"]["internal"] is True
    staff = await agent.data(GET_TICKET, {"id": ticket["id"]})
    mine = await customer.data(GET_TICKET, {"id": ticket["id"]})
    assert [m["body"] for m in staff["ticket"]["messages"]] == ["Customer seems legit"]
    assert mine["ticket"]["messages"] == []
    assert await event_types(customer, ticket["id"]) == ["CREATED"]
    assert await event_types(agent, ticket["id"]) == ["CREATED", "NOTE_ADDED"]


async def test_timeline_pages_with_cursor(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    for n in range(4):
        await agent.data(ADD_MESSAGE, {"ticketId": ticket["id"], "body": f"m{n}"})
    query = """query($id: ID!, $after: String) { ticket(id: $id) { timeline(first: 2, after: $after) {
        nodes { type message { body } } pageInfo { hasNextPage endCursor } } } }"""
    seen: list[str | None] = []
    after = None
    while True:
        page = (await agent.data(query, {"id": ticket["id"], "after": after}))["ticket"]["timeline"]
        seen += [n["message"]["body"] if n["message"] else n["type"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["CREATED", "m0", "m1", "m2", "m3"]


@pytest.mark.parametrize(
    "after",
    [
        "garbage",
        base64.urlsafe_b64encode(b"ev:" + b"9" * 30).decode(),
        base64.urlsafe_b64encode(b"ev:-1").decode(),
        base64.urlsafe_b64encode("ev:\u00b2".encode()).decode(),
        base64.urlsafe_b64encode(b"xx:1").decode(),
    ],
)
async def test_timeline_malformed_cursor_is_bad_user_input(customer: Caller, after: str) -> None:
    ticket = await create(customer)
    query = """query($id: ID!, $after: String) { ticket(id: $id) { timeline(after: $after) { nodes { type } } } }"""
    body = await customer.post(query, {"id": ticket["id"], "after": after})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["message"] == "`after` is not an event cursor."
